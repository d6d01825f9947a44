//! The reads the outbound planners need: unplanned messages (fan-out, receipts), what a message
//! recorded, due tasks (reminders), closing proposals and their objections, active threads and
//! their decisions (loop alerts), and the references of a mail about an item.

use crate::store::items::{PROPOSAL_COLUMNS, ProposalRow, TASK_COLUMNS, TaskRow};
use crate::store::{Store, StoreError};
use std::collections::{HashMap, HashSet};

/// Raw bytes and visible text read per page of messages to plan (as `ingest::recover` pages them).
const PLAN_PAGE_BYTES: u64 = 16 * 1024 * 1024;

/// Values per `IN (…)` list of the batched reads.
const IN_CHUNK: usize = 500;

/// `$from, …` for `n` parameters numbered from `from`.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A stored message as the fan-out and receipt planners see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageOut {
    pub id: i64,
    pub space_id: i64,
    pub thread_id: i64,
    pub message_id: Option<String>,
    pub from_addr: Option<String>,
    pub from_name: Option<String>,
    pub subject: String,
    pub date: i64,
    pub visible_text: String,
    pub raw: Vec<u8>,
    pub source: String,
}

/// One message of a recently active thread, for loop alerts and digests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ThreadMessage {
    /// The message row (arrival order within one second).
    pub id: i64,
    /// When it arrived here (its Date header is the sender's claim).
    pub arrived: i64,
    pub thread_id: i64,
    pub space_id: i64,
    pub subject: String,
    pub message_id: Option<String>,
    pub from_addr: Option<String>,
    pub date: i64,
    pub visible_text: String,
}

/// Where a decision sits in its thread's arrival order (loop alerts count rounds after it): a
/// tagged decision right after its message; an adopted proposal at its closing time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoopDecision {
    pub id: i64,
    pub thread_id: i64,
    /// The message row that made it (None for an adopted proposal).
    pub message: Option<i64>,
    /// Its message's arrival, or the closing time of an adopted proposal.
    pub known_at: i64,
}

/// What a message recorded, read back for its receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageItems {
    pub decisions: Vec<(i64, String)>,
    /// (id, title, owner, due)
    pub tasks: Vec<(i64, String, Option<String>, Option<i64>)>,
    /// (id, text, closes_at)
    pub proposals: Vec<(i64, String, Option<i64>)>,
    /// Changes made by the message, in order.
    pub changes: Vec<ItemChange>,
    /// Proposals the message objected to.
    pub objections: Vec<i64>,
    pub warnings: Vec<String>,
    /// (task id, watchers) of the message's tasks.
    pub watchers: Vec<(i64, Vec<String>)>,
    /// (slug, title) of the goals the message's items were linked to (`#goal`).
    pub goals: Vec<(String, Option<String>)>,
    pub asks: Vec<RecordedAsk>,
    /// (id, title) of the meeting notes the message is.
    pub notes: Vec<(i64, String)>,
    /// The parts the message lacks if it started a thread (`parse::nudges` codes), in order.
    pub nudges: Vec<String>,
}

/// An ask a message made, for its receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedAsk {
    pub id: i64,
    pub text: String,
    pub closes_at: Option<i64>,
    pub asked_of: Vec<String>,
    pub default: Option<String>,
}

/// One field of an item changed by a message, with the item's title (tasks) for the receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemChange {
    pub label: String,
    pub title: Option<String>,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// The item tables a generated mail can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemTable {
    Tasks,
    Proposals,
    Asks,
}

/// One row of `item_history` for a message: kind, item id, field, old, new, and the task's title.
type HistoryRow = (String, i64, String, Option<String>, Option<String>, Option<String>);
impl ItemTable {
    fn as_str(self) -> &'static str {
        match self {
            ItemTable::Tasks => "tasks",
            ItemTable::Proposals => "proposals",
            ItemTable::Asks => "asks",
        }
    }
}

impl Store {
    /// Stored messages above the floor whose outbound mail is not planned yet, oldest first, with
    /// their raw bytes and door: at most `limit`, and no more raw bytes and text than
    /// `PLAN_PAGE_BYTES` (always at least one message), so a page of large messages is
    /// as small in memory as a page of small ones.
    pub async fn messages_unplanned(&self, floor: i64, limit: i64) -> Result<Vec<MessageOut>, StoreError> {
        const UNPLANNED: &str = "FROM messages m JOIN inbound i ON i.id = m.inbound_id \
             WHERE m.id > $1 AND NOT EXISTS (SELECT 1 FROM outbound_messages o WHERE o.message_id = m.id)";
        let sql = format!("SELECT m.id, CAST(LENGTH(i.raw) + LENGTH(m.visible_text) AS BIGINT) {UNPLANNED} ORDER BY m.id LIMIT $2");
        let sizes: Vec<(i64, i64)> = sqlx::query_as(&sql).bind(floor).bind(limit).fetch_all(&self.pool).await?;
        let Some(last) = crate::store::messages::page_end(&sizes, PLAN_PAGE_BYTES) else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT m.id, m.space_id, m.thread_id, m.message_id, m.from_addr, m.from_name, m.subject, m.date, m.visible_text, \
             i.raw, i.source {UNPLANNED} AND m.id <= $2 ORDER BY m.id"
        );
        Ok(sqlx::query_as(&sql).bind(floor).bind(last).fetch_all(&self.pool).await?)
    }

    /// What one message recorded: items it created, changes it made, its warnings.
    pub async fn message_items(&self, message_id: i64) -> Result<MessageItems, StoreError> {
        let decisions: Vec<(i64, String)> = sqlx::query_as("SELECT id, text FROM decisions WHERE message_id = $1 ORDER BY id")
            .bind(message_id)
            .fetch_all(&self.pool)
            .await?;
        let tasks: Vec<(i64, String, Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT id, title, owner, due FROM tasks WHERE message_id = $1 ORDER BY id")
                .bind(message_id)
                .fetch_all(&self.pool)
                .await?;
        let proposals: Vec<(i64, String, Option<i64>)> =
            sqlx::query_as("SELECT id, text, closes_at FROM proposals WHERE message_id = $1 ORDER BY id")
                .bind(message_id)
                .fetch_all(&self.pool)
                .await?;
        let history: Vec<HistoryRow> = sqlx::query_as(
            "SELECT h.kind, h.item_id, h.field, h.old_value, h.new_value, COALESCE(t.title, a.text, p.text, d.text) FROM item_history h \
             LEFT JOIN tasks t ON h.kind = 'T' AND t.id = h.item_id LEFT JOIN asks a ON h.kind = 'A' AND a.id = h.item_id \
             LEFT JOIN proposals p ON h.kind = 'P' AND p.id = h.item_id LEFT JOIN decisions d ON h.kind = 'D' AND d.id = h.item_id \
             WHERE h.message_id = $1 ORDER BY h.id",
        )
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?;
        let objections: Vec<(i64,)> = sqlx::query_as("SELECT proposal_id FROM objections WHERE message_id = $1 ORDER BY id")
            .bind(message_id)
            .fetch_all(&self.pool)
            .await?;
        let warnings: Vec<(String,)> = sqlx::query_as("SELECT text FROM message_warnings WHERE message_id = $1 ORDER BY position")
            .bind(message_id)
            .fetch_all(&self.pool)
            .await?;
        let watchers: Vec<(i64, String)> = sqlx::query_as("SELECT id, watchers FROM tasks WHERE message_id = $1 ORDER BY id")
            .bind(message_id)
            .fetch_all(&self.pool)
            .await?;
        let goals: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT slug, title FROM goals WHERE id IN (SELECT goal_id FROM decisions WHERE message_id = $1 \
             UNION SELECT goal_id FROM tasks WHERE message_id = $1 UNION SELECT goal_id FROM proposals WHERE message_id = $1 \
             UNION SELECT goal_id FROM asks WHERE message_id = $1) \
             ORDER BY slug",
        )
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?;
        let ask_rows: Vec<(i64, String, Option<i64>, Option<String>)> =
            sqlx::query_as("SELECT id, text, closes_at, default_action FROM asks WHERE message_id = $1 ORDER BY id")
                .bind(message_id)
                .fetch_all(&self.pool)
                .await?;
        let mut asks = Vec::with_capacity(ask_rows.len());
        for (id, text, closes_at, default) in ask_rows {
            asks.push(RecordedAsk { id, text, closes_at, asked_of: self.ask_members(id).await?, default });
        }
        let notes: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, title FROM notes WHERE message_id = $1 ORDER BY id").bind(message_id).fetch_all(&self.pool).await?;
        let nudges: Vec<(String,)> = sqlx::query_as("SELECT code FROM message_nudges WHERE message_id = $1 ORDER BY position")
            .bind(message_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(MessageItems {
            nudges: nudges.into_iter().map(|(c,)| c).collect(),
            asks,
            notes,
            watchers: watchers.into_iter().map(|(id, w)| (id, serde_json::from_str(&w).unwrap_or_default())).collect(),
            goals,
            decisions,
            tasks,
            proposals,
            changes: history
                .into_iter()
                .map(|(k, id, field, old, new, title)| ItemChange { label: format!("{k}-{id}"), title, field, old, new })
                .collect(),
            objections: objections.into_iter().map(|(p,)| p).collect(),
            warnings: warnings.into_iter().map(|(w,)| w).collect(),
        })
    }

    /// Open tasks with a due time in `[from, to]`.
    pub async fn open_tasks_due_between(&self, from: i64, to: i64) -> Result<Vec<TaskRow>, StoreError> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE status = 'open' AND due IS NOT NULL AND due >= $1 AND due <= $2 ORDER BY due, id"
        );
        Ok(sqlx::query_as(&sql).bind(from).bind(to).fetch_all(&self.pool).await?)
    }

    /// Open tasks of one owner in one space, soonest due first (no due time last).
    pub async fn open_tasks_of_owner(&self, space_id: i64, owner: &str) -> Result<Vec<TaskRow>, StoreError> {
        let key = (space_id, owner.to_string());
        Ok(self.open_tasks_of_owners(std::slice::from_ref(&key)).await?.remove(&key).unwrap_or_default())
    }

    /// [`Store::open_tasks_of_owner`] for many `(space, owner)` pairs at once (one query per
    /// [`IN_CHUNK`] pairs), by pair; a pair without open tasks is absent.
    pub async fn open_tasks_of_owners(&self, owners: &[(i64, String)]) -> Result<HashMap<(i64, String), Vec<TaskRow>>, StoreError> {
        let wanted: HashSet<&(i64, String)> = owners.iter().collect();
        // Each pair in one chunk only: its tasks come in one query's order.
        let unique: Vec<&(i64, String)> = wanted.iter().copied().collect();
        let mut out: HashMap<(i64, String), Vec<TaskRow>> = HashMap::new();
        for chunk in unique.chunks(IN_CHUNK) {
            let emails: Vec<&str> = chunk.iter().map(|(_, o)| o.as_str()).collect::<HashSet<_>>().into_iter().collect();
            let spaces: Vec<i64> = chunk.iter().map(|(s, _)| *s).collect::<HashSet<_>>().into_iter().collect();
            let sql = format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE owner IN ({}) AND status = 'open' AND space_id IN ({}) \
                 ORDER BY CASE WHEN due IS NULL THEN 1 ELSE 0 END, due, id",
                placeholders(1, emails.len()),
                placeholders(1 + emails.len(), spaces.len())
            );
            let mut q = sqlx::query_as::<_, TaskRow>(&sql);
            for e in &emails {
                q = q.bind(*e);
            }
            for s in &spaces {
                q = q.bind(*s);
            }
            for t in q.fetch_all(&self.pool).await? {
                let Some(owner) = t.owner.clone() else { continue };
                let key = (t.space_id, owner);
                if wanted.contains(&key) {
                    out.entry(key).or_default().push(t);
                }
            }
        }
        Ok(out)
    }

    /// Proposals open and closing in `(from, to]`, or closed with a closing time in it.
    pub async fn proposals_closing_between(&self, from: i64, to: i64) -> Result<Vec<ProposalRow>, StoreError> {
        let sql = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE closes_at IS NOT NULL AND closes_at > $1 AND closes_at <= $2 ORDER BY closes_at, id"
        );
        Ok(sqlx::query_as(&sql).bind(from).bind(to).fetch_all(&self.pool).await?)
    }

    /// Who objected to a proposal, in order.
    pub async fn objectors(&self, proposal_id: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(Option<String>,)> = sqlx::query_as("SELECT by_addr FROM objections WHERE proposal_id = $1 ORDER BY at, id")
            .bind(proposal_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().filter_map(|(b,)| b).collect())
    }

    /// Message-IDs a mail about an item refers to (RFC 5322 §3.6.4): the thread's first message
    /// and the item's own message, oldest first, without repeats. `table` is `tasks` or `proposals`.
    pub async fn item_references(&self, table: ItemTable, item_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(self.items_references(table, &[item_id]).await?.remove(&item_id).unwrap_or_default())
    }

    /// [`Store::item_references`] of many items of one table at once (one query per
    /// [`IN_CHUNK`] items), by item id; an item that is not there is absent.
    pub async fn items_references(&self, table: ItemTable, item_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, StoreError> {
        let t = table.as_str();
        let mut out = HashMap::new();
        for chunk in item_ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT x.id, \
                   (SELECT m.message_id FROM messages m WHERE m.thread_id = x.thread_id AND m.message_id IS NOT NULL ORDER BY m.id LIMIT 1), \
                   (SELECT m.message_id FROM messages m WHERE m.id = x.message_id) \
                 FROM {t} x WHERE x.id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (i64, Option<String>, Option<String>)>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for (id, root, own) in q.fetch_all(&self.pool).await? {
                let mut refs: Vec<String> = root.into_iter().collect();
                if let Some(own) = own.filter(|o| !refs.contains(o)) {
                    refs.push(own);
                }
                out.insert(id, refs);
            }
        }
        Ok(out)
    }

    /// A proposal's objections, in order: (who, what they wrote).
    pub async fn objections(&self, proposal_id: i64) -> Result<Vec<(Option<String>, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT by_addr, text FROM objections WHERE proposal_id = $1 ORDER BY at, id")
            .bind(proposal_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Messages of threads active since `since`, by thread then arrival. Of a long visible text
    /// only its last 64 Ki characters are read (the loop check looks for the last question), so
    /// every tick holds little of a thread of huge messages.
    pub async fn messages_of_active_threads(&self, since: i64) -> Result<Vec<ThreadMessage>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT m.id, i.received_at AS arrived, m.thread_id, m.space_id, t.subject, m.message_id, m.from_addr, m.date, \
             CASE WHEN LENGTH(m.visible_text) > 65536 THEN SUBSTR(m.visible_text, LENGTH(m.visible_text) - 65535) \
             ELSE m.visible_text END AS visible_text \
             FROM messages m JOIN threads t ON t.id = m.thread_id JOIN inbound i ON i.id = m.inbound_id \
             WHERE t.last_activity_at >= $1 ORDER BY m.thread_id, i.received_at, m.id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The decisions of threads active since `since`, placed in arrival order.
    pub async fn decisions_of_active_threads(&self, since: i64) -> Result<Vec<LoopDecision>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT d.id, d.thread_id, \
               CASE WHEN d.source = 'proposal' THEN NULL ELSE d.message_id END AS message, \
               CASE WHEN d.source = 'proposal' OR i.received_at IS NULL THEN d.decided_at ELSE i.received_at END AS known_at \
             FROM decisions d JOIN threads t ON t.id = d.thread_id \
             LEFT JOIN messages m ON m.id = d.message_id LEFT JOIN inbound i ON i.id = m.inbound_id \
             WHERE t.last_activity_at >= $1 ORDER BY d.thread_id, d.id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The space of a thread, when it exists.
    pub async fn thread_space(&self, thread_id: i64) -> Result<Option<(i64, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT space_id, subject FROM threads WHERE id = $1").bind(thread_id).fetch_optional(&self.pool).await?)
    }
}
