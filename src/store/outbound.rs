//! Outbound rows: the durable mail queue (exactly once per dedup key, retries with backoff,
//! permanent failures kept for `docket check`), planner cursors, digest bookkeeping, mutes, and
//! the reads the outbound planners need. A claim names its owner (node id) and a lease; only the
//! owner of a claim records its result, so two nodes sharing PostgreSQL never both own a row.

use super::items::{PROPOSAL_COLUMNS, ProposalRow};
use super::messages::Tx;
use super::{Store, StoreError};

/// A mail ready for the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutbound {
    pub dedup_key: String,
    pub kind: String,
    pub space_id: Option<i64>,
    pub recipient: String,
    pub mail_from: String,
    pub raw: Vec<u8>,
}

/// A queued mail claimed for sending (its bytes are read one at a time with `outbound_raw`,
/// so a batch of large fan-out copies is never all in memory).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: i64,
    pub dedup_key: String,
    pub kind: String,
    pub recipient: String,
    pub mail_from: String,
    pub attempts: i64,
}

/// A mail that will not be sent, for `docket check`.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct FailedMail {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Raw bytes and visible text read per page of messages to plan (as `ingest::recover` pages them).
const PLAN_PAGE_BYTES: u64 = 16 * 1024 * 1024;

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

/// An open task with a due time, for reminders and digests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueTask {
    pub id: i64,
    pub space_id: i64,
    pub thread_id: i64,
    pub title: String,
    pub owner: Option<String>,
    pub created_by: Option<String>,
    pub due: Option<i64>,
    pub created_at: i64,
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

/// A decision row (for loop resets and digests).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DecisionOut {
    pub id: i64,
    pub space_id: i64,
    pub thread_id: i64,
    pub text: String,
    pub author: Option<String>,
    pub decided_at: i64,
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
}

/// One row of `item_history` for a message: kind, item id, field, old, new, and the task's title.
type HistoryRow = (String, i64, String, Option<String>, Option<String>, Option<String>);
impl ItemTable {
    fn as_str(self) -> &'static str {
        match self {
            ItemTable::Tasks => "tasks",
            ItemTable::Proposals => "proposals",
        }
    }
}

/// A thread that had messages since some time, for digests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActiveThread {
    pub id: i64,
    pub subject: String,
    pub new_messages: i64,
}

impl Tx {
    /// Queues a mail unless one with the same key was queued before (whatever its state); true
    /// when queued now.
    pub async fn enqueue(&mut self, m: &NewOutbound, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO outbound (dedup_key, kind, space_id, recipient, mail_from, raw, state, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $7) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(&m.dedup_key)
        .bind(&m.kind)
        .bind(m.space_id)
        .bind(&m.recipient)
        .bind(&m.mail_from)
        .bind(&m.raw)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_cursor(&mut self, name: &str, value: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO outbound_cursors (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2")
            .bind(name)
            .bind(value)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records that a message's fan-out and receipt are planned (queued in this transaction).
    pub async fn mark_message_planned(&mut self, message_id: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO outbound_messages (message_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(message_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records the digest slot considered for a member and when (`at`) its digest was built.
    pub async fn set_digest_slot(&mut self, member_id: i64, slot: i64, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO digest_state (member_id, last_slot, last_at) VALUES ($1, $2, $3) \
             ON CONFLICT (member_id) DO UPDATE SET last_slot = $2, last_at = $3",
        )
        .bind(member_id)
        .bind(slot)
        .bind(at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// A digest sent on demand (`digest` to the commands address) counts as built at `at`: the
    /// next scheduled one tells only what is newer; the last considered slot stays.
    pub async fn set_digest_built(&mut self, member_id: i64, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO digest_state (member_id, last_slot, last_at) VALUES ($1, 0, $2) \
             ON CONFLICT (member_id) DO UPDATE SET last_at = $2",
        )
        .bind(member_id)
        .bind(at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Marks sender notices as handed to the queue.
    pub async fn mark_notice_sent(&mut self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE notices SET sent_at = $1 WHERE id = $2").bind(now).bind(id).execute(self.conn()).await?;
        Ok(())
    }

    /// Marks mail to the commands address as answered (or ignored, with why).
    pub async fn mark_command(&mut self, id: i64, state: &str, error: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE command_mail SET state = $1, error = $2 WHERE id = $3")
            .bind(state)
            .bind(error)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Mutes (or with `on = false` unmutes) a thread (> 0), the space (0) or all mail (-1).
    pub async fn set_mute(&mut self, member_id: i64, thread_id: i64, on: bool, now: i64) -> Result<bool, StoreError> {
        let done = if on {
            sqlx::query("INSERT INTO mutes (member_id, thread_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(member_id)
                .bind(thread_id)
                .bind(now)
                .execute(self.conn())
                .await?
        } else {
            sqlx::query("DELETE FROM mutes WHERE member_id = $1 AND thread_id = $2")
                .bind(member_id)
                .bind(thread_id)
                .execute(self.conn())
                .await?
        };
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// Due mail claimed by `node` until `lease_until` (at most `limit` rows, in one statement):
    /// queued rows whose time has come, and rows another sender claimed whose lease ran out (it
    /// died). On PostgreSQL rows another node is claiming right now are skipped, not waited for.
    pub async fn claim_outbound(&self, node: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<QueuedMail>, StoreError> {
        let lock = if self.backend == super::Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE outbound SET state = 'sending', claimed_by = $1, claimed_at = $2, lease_until = $3 WHERE id IN \
             (SELECT id FROM outbound WHERE (state = 'queued' AND next_attempt_at <= $2) \
                OR (state = 'sending' AND COALESCE(lease_until, 0) < $2) \
              ORDER BY next_attempt_at, id LIMIT $4{lock}) \
             RETURNING id, dedup_key, kind, recipient, mail_from, attempts"
        );
        let mut claimed: Vec<QueuedMail> =
            sqlx::query_as(&sql).bind(node).bind(now).bind(lease_until).bind(limit).fetch_all(&self.pool).await?;
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    }

    /// A restarted node's claims go back to the queue at once: whatever it was sending died with
    /// the process. Returns how many.
    pub async fn reclaim_own_outbound(&self, node: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE outbound SET state = 'queued', claimed_by = NULL, lease_until = NULL WHERE state = 'sending' AND claimed_by = $1",
        )
        .bind(node)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The bytes of a queued mail.
    pub async fn outbound_raw(&self, id: i64) -> Result<Vec<u8>, StoreError> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT raw FROM outbound WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.map(|(raw,)| raw).ok_or_else(|| StoreError::NotFound(format!("no outbound mail {id}")))
    }

    /// Handed over: the row stays (its key keeps the mail from being queued again), its bytes go,
    /// so the table does not grow by every copy ever sent. Like every result, written only while
    /// `node` still holds the claim; false (nothing written) when it lost it.
    pub async fn outbound_sent(&self, node: &str, id: i64, now: i64) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "UPDATE outbound SET state = 'sent', sent_at = $1, attempts = attempts + 1, last_error = NULL, raw = $2, lease_until = NULL \
             WHERE id = $3 AND state = 'sending' AND claimed_by = $4",
        );
        self.owner_update(q.bind(now).bind(Vec::<u8>::new()), id, node).await
    }

    /// A temporary failure: back in the queue at `next_at` (false when `node` lost the claim).
    pub async fn outbound_retry(&self, node: &str, id: i64, next_at: i64, error: &str) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "UPDATE outbound SET state = 'queued', attempts = attempts + 1, next_attempt_at = $1, last_error = $2, lease_until = NULL \
             WHERE id = $3 AND state = 'sending' AND claimed_by = $4",
        );
        self.owner_update(q.bind(next_at).bind(error), id, node).await
    }

    /// A permanent failure (or too many temporary ones): never retried, shown by `docket check`
    /// (false when `node` lost the claim).
    pub async fn outbound_failed(&self, node: &str, id: i64, error: &str) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "UPDATE outbound SET state = 'failed', attempts = attempts + 1, last_error = $1, lease_until = NULL \
             WHERE id = $2 AND state = 'sending' AND claimed_by = $3",
        );
        self.owner_update(q.bind(error), id, node).await
    }

    /// Runs a result update whose last two parameters are the row id and the owner
    /// (`WHERE id = … AND state = 'sending' AND claimed_by = …`); true when the owner still held
    /// the claim and the row was written.
    async fn owner_update<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        id: i64,
        node: &'q str,
    ) -> Result<bool, StoreError> {
        let done = q.bind(id).bind(node).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Mail handed over since `since` (the `outbound.max_per_minute` window).
    pub async fn outbound_sent_since(&self, since: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbound WHERE sent_at >= $1").bind(since).fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Whether anything waits for the outbound run right now: a message not planned yet, due
    /// queued mail, unanswered mail to the commands address, an unsent sender notice.
    pub async fn outbound_work(&self, now: i64) -> Result<bool, StoreError> {
        let floor = self.cursor("messages").await?;
        let (n,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM messages m WHERE m.id > $1 AND NOT EXISTS \
               (SELECT 1 FROM outbound_messages o WHERE o.message_id = m.id) LIMIT 1) a) \
             + (SELECT COUNT(*) FROM (SELECT 1 FROM outbound WHERE state = 'queued' AND next_attempt_at <= $2 LIMIT 1) b) \
             + (SELECT COUNT(*) FROM (SELECT 1 FROM command_mail WHERE state = 'pending' LIMIT 1) c) \
             + (SELECT COUNT(*) FROM (SELECT 1 FROM notices WHERE sent_at IS NULL LIMIT 1) d)",
        )
        .bind(floor)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Queued mail whose time has come.
    pub async fn outbound_waiting(&self, now: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbound WHERE state = 'queued' AND next_attempt_at <= $1")
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Queue rows per state.
    pub async fn outbound_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT state, COUNT(*) FROM outbound GROUP BY state ORDER BY state").fetch_all(&self.pool).await?)
    }

    /// Queued mail that failed at least `attempts` times and waits for another try.
    pub async fn outbound_retrying(&self, attempts: i64, limit: i64) -> Result<Vec<FailedMail>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, kind, recipient, attempts, last_error FROM outbound WHERE state = 'queued' AND attempts >= $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(attempts)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn outbound_failures(&self, limit: i64) -> Result<Vec<FailedMail>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, kind, recipient, attempts, last_error FROM outbound WHERE state = 'failed' ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every queue row for a recipient, oldest first: (dedup_key, kind, state).
    pub async fn outbound_for(&self, recipient: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT dedup_key, kind, state FROM outbound WHERE recipient = $1 ORDER BY id")
            .bind(recipient)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Which of `keys` are queued already (in any state) or kept unrendered (rendered again by
    /// every run), so planners skip rendering them.
    pub async fn known_keys(&self, keys: &[String]) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut out = std::collections::HashSet::new();
        for chunk in keys.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let list = placeholders.join(", ");
            let sql = format!(
                "SELECT dedup_key FROM outbound WHERE dedup_key IN ({list}) UNION SELECT dedup_key FROM unrendered WHERE dedup_key IN ({list})"
            );
            let mut q = sqlx::query_as::<_, (String,)>(&sql);
            for k in chunk {
                q = q.bind(k);
            }
            out.extend(q.fetch_all(&self.pool).await?.into_iter().map(|(k,)| k));
        }
        Ok(out)
    }

    pub async fn cursor(&self, name: &str) -> Result<i64, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT value FROM outbound_cursors WHERE name = $1").bind(name).fetch_optional(&self.pool).await?;
        Ok(row.map(|(v,)| v).unwrap_or(0))
    }

    /// Stored messages above the floor whose outbound mail is not planned yet, oldest first, with
    /// their raw bytes and door: at most `limit`, and no more raw bytes and text than
    /// `PLAN_PAGE_BYTES` (always at least one message), so a page of large messages is
    /// as small in memory as a page of small ones.
    pub async fn messages_unplanned(&self, floor: i64, limit: i64) -> Result<Vec<MessageOut>, StoreError> {
        const UNPLANNED: &str = "FROM messages m JOIN inbound i ON i.id = m.inbound_id \
             WHERE m.id > $1 AND NOT EXISTS (SELECT 1 FROM outbound_messages o WHERE o.message_id = m.id)";
        let sql = format!("SELECT m.id, CAST(LENGTH(i.raw) + LENGTH(m.visible_text) AS BIGINT) {UNPLANNED} ORDER BY m.id LIMIT $2");
        let sizes: Vec<(i64, i64)> = sqlx::query_as(&sql).bind(floor).bind(limit).fetch_all(&self.pool).await?;
        let Some(last) = super::messages::page_end(&sizes, PLAN_PAGE_BYTES) else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT m.id, m.space_id, m.thread_id, m.message_id, m.from_addr, m.from_name, m.subject, m.date, m.visible_text, \
             i.raw, i.source {UNPLANNED} AND m.id <= $2 ORDER BY m.id"
        );
        Ok(sqlx::query_as(&sql).bind(floor).bind(last).fetch_all(&self.pool).await?)
    }

    /// Moves the message floor up past messages that are planned and were received before
    /// `settled_before`, never past one that is not planned yet.
    pub async fn advance_message_floor(&self, floor: i64, settled_before: i64) -> Result<i64, StoreError> {
        let (first_open,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(m.id) FROM messages m WHERE m.id > $1 AND NOT EXISTS (SELECT 1 FROM outbound_messages o WHERE o.message_id = m.id)",
        )
        .bind(floor)
        .fetch_one(&self.pool)
        .await?;
        let (settled,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(m.id) FROM messages m JOIN inbound i ON i.id = m.inbound_id WHERE m.id > $1 AND i.received_at < $2")
                .bind(floor)
                .bind(settled_before)
                .fetch_one(&self.pool)
                .await?;
        let Some(mut to) = settled else { return Ok(floor) };
        if let Some(open) = first_open {
            to = to.min(open - 1);
        }
        if to <= floor {
            return Ok(floor);
        }
        let mut tx = self.begin().await?;
        tx.set_cursor("messages", to).await?;
        sqlx::query("DELETE FROM outbound_messages WHERE message_id <= $1").bind(to).execute(tx.conn()).await?;
        tx.commit().await?;
        Ok(to)
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
            "SELECT h.kind, h.item_id, h.field, h.old_value, h.new_value, t.title FROM item_history h \
             LEFT JOIN tasks t ON h.kind = 'T' AND t.id = h.item_id WHERE h.message_id = $1 ORDER BY h.id",
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
             UNION SELECT goal_id FROM tasks WHERE message_id = $1 UNION SELECT goal_id FROM proposals WHERE message_id = $1) \
             ORDER BY slug",
        )
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(MessageItems {
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

    /// (member id, thread id) mutes of a space's members; see `Tx::set_mute` for the codes.
    pub async fn mutes(&self, space_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT u.member_id, u.thread_id FROM mutes u JOIN members m ON m.id = u.member_id WHERE m.space_id = $1")
            .bind(space_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Open tasks with a due time in `[from, to]`.
    pub async fn open_tasks_due_between(&self, from: i64, to: i64) -> Result<Vec<DueTask>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, space_id, thread_id, title, owner, created_by, due, created_at FROM tasks \
             WHERE status = 'open' AND due IS NOT NULL AND due >= $1 AND due <= $2 ORDER BY due, id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Open tasks of one owner in one space, soonest due first (no due time last).
    pub async fn open_tasks_of_owner(&self, space_id: i64, owner: &str) -> Result<Vec<DueTask>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, space_id, thread_id, title, owner, created_by, due, created_at FROM tasks \
             WHERE owner = $1 AND status = 'open' AND space_id = $2 ORDER BY CASE WHEN due IS NULL THEN 1 ELSE 0 END, due, id",
        )
        .bind(owner)
        .bind(space_id)
        .fetch_all(&self.pool)
        .await?)
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
        let t = table.as_str();
        let root: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT m.message_id FROM messages m JOIN {t} x ON x.thread_id = m.thread_id \
             WHERE x.id = $1 AND m.message_id IS NOT NULL ORDER BY m.id LIMIT 1"
        ))
        .bind(item_id)
        .fetch_optional(&self.pool)
        .await?;
        let own: Option<(Option<String>,)> =
            sqlx::query_as(&format!("SELECT m.message_id FROM {t} x JOIN messages m ON m.id = x.message_id WHERE x.id = $1"))
                .bind(item_id)
                .fetch_optional(&self.pool)
                .await?;
        let mut out: Vec<String> = root.map(|(r,)| r).into_iter().collect();
        if let Some(own) = own.and_then(|(o,)| o).filter(|o| !out.contains(o)) {
            out.push(own);
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

    /// Decisions of a space that became known in `(since, until]`, oldest first. Known = when it
    /// was made or, for a message that arrived later than its Date says, when it arrived.
    pub async fn decisions_since(&self, space_id: i64, since: i64, until: i64) -> Result<Vec<DecisionOut>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, space_id, thread_id, text, author, decided_at FROM (\
               SELECT d.id, d.space_id, d.thread_id, d.text, d.author, d.decided_at, \
                 CASE WHEN i.received_at IS NOT NULL AND i.received_at > d.decided_at THEN i.received_at ELSE d.decided_at END AS known \
               FROM decisions d LEFT JOIN messages m ON m.id = d.message_id LEFT JOIN inbound i ON i.id = m.inbound_id \
               WHERE d.space_id = $1) k \
             WHERE known > $2 AND known <= $3 ORDER BY decided_at, id",
        )
        .bind(space_id)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Threads of a space with messages that arrived in `(since, until]`, busiest first.
    pub async fn active_threads(&self, space_id: i64, since: i64, until: i64) -> Result<Vec<ActiveThread>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT t.id, t.subject, COUNT(m.id) AS new_messages FROM threads t JOIN messages m ON m.thread_id = t.id \
             JOIN inbound i ON i.id = m.inbound_id \
             WHERE t.space_id = $1 AND i.received_at > $2 AND i.received_at <= $3 GROUP BY t.id, t.subject ORDER BY COUNT(m.id) DESC, t.id",
        )
        .bind(space_id)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every member of every space (for the digest planner), in id order, from `after`.
    pub async fn members_after(&self, after: i64, limit: i64) -> Result<Vec<super::spaces::Member>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, space_id, email, handle, tz, delivery, digest_time, digest_days, role, created_at FROM members \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// (member id, last slot, built at) for the members in `[from, to]`.
    pub async fn digest_slots(&self, from: i64, to: i64) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT member_id, last_slot, last_at FROM digest_state WHERE member_id >= $1 AND member_id <= $2")
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every membership of an address: (member, space slug).
    pub async fn memberships(&self, email: &str) -> Result<Vec<(super::spaces::Member, String)>, StoreError> {
        let members: Vec<super::spaces::Member> = sqlx::query_as(
            "SELECT id, space_id, email, handle, tz, delivery, digest_time, digest_days, role, created_at FROM members \
             WHERE email = $1 ORDER BY space_id",
        )
        .bind(email)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let space = self.space_by_id(m.space_id).await?;
            out.push((m, space.slug));
        }
        Ok(out)
    }

    /// The space of a thread, when it exists.
    pub async fn thread_space(&self, thread_id: i64) -> Result<Option<(i64, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT space_id, subject FROM threads WHERE id = $1").bind(thread_id).fetch_optional(&self.pool).await?)
    }
}
