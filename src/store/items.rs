//! Item rows: goals, decisions, tasks, proposals, objections, their links and change history
//! (written inside a message's transaction by `record`), and the docs/cli.md JSON views read back.

use super::messages::Tx;
use super::read::to_utc;
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// An item reference like `T-4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Decision,
    Task,
    Proposal,
}

impl ItemKind {
    pub fn prefix(self) -> &'static str {
        match self {
            ItemKind::Decision => "D",
            ItemKind::Task => "T",
            ItemKind::Proposal => "P",
        }
    }

    pub fn table(self) -> &'static str {
        match self {
            ItemKind::Decision => "decisions",
            ItemKind::Task => "tasks",
            ItemKind::Proposal => "proposals",
        }
    }

    /// `T-4` → (Task, 4). Case-insensitive.
    pub fn parse_ref(s: &str) -> Option<(ItemKind, i64)> {
        let (prefix, n) = s.trim().split_once('-')?;
        let kind = match prefix.to_ascii_uppercase().as_str() {
            "D" => ItemKind::Decision,
            "T" => ItemKind::Task,
            "P" => ItemKind::Proposal,
            _ => return None,
        };
        n.parse::<i64>().ok().filter(|n| *n > 0).map(|n| (kind, n))
    }

    pub fn label(self, id: i64) -> String {
        format!("{}-{id}", self.prefix())
    }
}

/// Who changed what, from which message.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub by: Option<&'a str>,
    pub message_id: i64,
    pub at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub id: i64,
    pub space_id: i64,
    pub thread_id: i64,
    pub title: String,
    pub owner: Option<String>,
    pub due: Option<i64>,
    pub status: String,
}

/// A proposal row, for lazy consensus and for the notice planner.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProposalRow {
    pub id: i64,
    pub space_id: i64,
    pub thread_id: i64,
    pub text: String,
    pub author: Option<String>,
    pub closes_at: Option<i64>,
    pub status: String,
    pub goal_id: Option<i64>,
    pub message_id: Option<i64>,
    pub decision_id: Option<i64>,
}

/// Where a new item lives.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub space_id: i64,
    pub thread_id: i64,
    pub message_id: Option<i64>,
    pub author: Option<&'a str>,
    pub at: i64,
    pub goal_id: Option<i64>,
}

const TASK_COLUMNS: &str = "id, space_id, thread_id, title, owner, due, status";
pub(crate) const PROPOSAL_COLUMNS: &str = "id, space_id, thread_id, text, author, closes_at, status, goal_id, message_id, decision_id";

impl Tx {
    pub async fn upsert_goal(&mut self, space_id: i64, slug: &str, title: Option<&str>, now: i64) -> Result<i64, StoreError> {
        sqlx::query(
            "INSERT INTO goals (space_id, slug, title, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (space_id, slug) DO NOTHING",
        )
        .bind(space_id)
        .bind(slug)
        .bind(title)
        .bind(now)
        .execute(self.conn())
        .await?;
        if let Some(title) = title {
            sqlx::query("UPDATE goals SET title = $1 WHERE space_id = $2 AND slug = $3 AND title IS NULL")
                .bind(title)
                .bind(space_id)
                .bind(slug)
                .execute(self.conn())
                .await?;
        }
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM goals WHERE space_id = $1 AND slug = $2")
            .bind(space_id)
            .bind(slug)
            .fetch_one(self.conn())
            .await?;
        Ok(id)
    }

    pub async fn insert_decision(&mut self, o: &Origin<'_>, text: &str, source: &str, proposal_id: Option<i64>) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO decisions (space_id, thread_id, message_id, text, author, decided_at, goal_id, source, proposal_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(o.space_id)
        .bind(o.thread_id)
        .bind(o.message_id)
        .bind(text)
        .bind(o.author)
        .bind(o.at)
        .bind(o.goal_id)
        .bind(source)
        .bind(proposal_id)
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_task(
        &mut self,
        o: &Origin<'_>,
        title: &str,
        owner: Option<&str>,
        watchers: &[String],
        due: Option<i64>,
        due_text: Option<&str>,
    ) -> Result<i64, StoreError> {
        let watchers = serde_json::to_string(watchers).unwrap_or_else(|_| "[]".into());
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO tasks (space_id, thread_id, message_id, title, owner, watchers, due, due_text, status, created_by, created_at, goal_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11) RETURNING id",
        )
        .bind(o.space_id)
        .bind(o.thread_id)
        .bind(o.message_id)
        .bind(title)
        .bind(owner)
        .bind(watchers)
        .bind(due)
        .bind(due_text)
        .bind(o.author)
        .bind(o.at)
        .bind(o.goal_id)
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    pub async fn insert_proposal(&mut self, o: &Origin<'_>, text: &str, closes_at: Option<i64>) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO proposals (space_id, thread_id, message_id, text, author, created_at, closes_at, status, goal_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8) RETURNING id",
        )
        .bind(o.space_id)
        .bind(o.thread_id)
        .bind(o.message_id)
        .bind(text)
        .bind(o.author)
        .bind(o.at)
        .bind(closes_at)
        .bind(o.goal_id)
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    pub async fn insert_objection(
        &mut self,
        proposal_id: i64,
        by: Option<&str>,
        at: i64,
        text: &str,
        message_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO objections (proposal_id, by_addr, at, text, message_id) VALUES ($1, $2, $3, $4, $5)")
            .bind(proposal_id)
            .bind(by)
            .bind(at)
            .bind(text)
            .bind(message_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Links two items (both directions are found by the views).
    pub async fn link(&mut self, a: (ItemKind, i64), b: (ItemKind, i64)) -> Result<(), StoreError> {
        if a == b {
            return Ok(());
        }
        sqlx::query("INSERT INTO item_links (a_kind, a_id, b_kind, b_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(a.0.prefix())
            .bind(a.1)
            .bind(b.0.prefix())
            .bind(b.1)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn record_history(
        &mut self,
        item: (ItemKind, i64),
        field: &str,
        old: Option<&str>,
        new: Option<&str>,
        change: &Change<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO item_history (kind, item_id, field, old_value, new_value, by_addr, message_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(item.0.prefix())
        .bind(item.1)
        .bind(field)
        .bind(old)
        .bind(new)
        .bind(change.by)
        .bind(change.message_id)
        .bind(change.at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The space an item belongs to, if it exists.
    pub async fn item_space(&mut self, kind: ItemKind, id: i64) -> Result<Option<i64>, StoreError> {
        let sql = format!("SELECT space_id FROM {} WHERE id = $1", kind.table());
        let row: Option<(i64,)> = sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?;
        Ok(row.map(|(s,)| s))
    }

    pub async fn task(&mut self, id: i64) -> Result<Option<TaskRow>, StoreError> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
        Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?)
    }

    /// The open tasks of `owner` in a thread (for a bare `#done`).
    pub async fn open_tasks_of(&mut self, thread_id: i64, owner: &str) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM tasks WHERE thread_id = $1 AND owner = $2 AND status = 'open' ORDER BY id")
            .bind(thread_id)
            .bind(owner)
            .fetch_all(self.conn())
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Sets one task column and records the change.
    pub async fn update_task(
        &mut self,
        id: i64,
        field: TaskField,
        value: Option<String>,
        old: Option<String>,
        change: &Change<'_>,
    ) -> Result<(), StoreError> {
        let column = field.column();
        let sql = format!("UPDATE tasks SET {column} = $1 WHERE id = $2");
        match field {
            TaskField::Due | TaskField::DoneAt => {
                let n = value.as_deref().and_then(|v| v.parse::<i64>().ok());
                sqlx::query(&sql).bind(n).bind(id).execute(self.conn()).await?;
            }
            _ => {
                sqlx::query(&sql).bind(value.clone()).bind(id).execute(self.conn()).await?;
            }
        }
        self.record_history((ItemKind::Task, id), column, old.as_deref(), value.as_deref(), change).await
    }

    pub async fn proposal(&mut self, id: i64) -> Result<Option<ProposalRow>, StoreError> {
        let sql = format!("SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id = $1");
        Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?)
    }

    /// The newest open proposal of a thread (the default target of `#object`).
    pub async fn open_proposal_in(&mut self, thread_id: i64) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM proposals WHERE thread_id = $1 AND status = 'open' ORDER BY id DESC LIMIT 1")
                .bind(thread_id)
                .fetch_optional(self.conn())
                .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Closes a proposal: adopted (with the decision it became) or blocked.
    pub async fn close_proposal(&mut self, id: i64, status: &str, decision_id: Option<i64>, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE proposals SET status = $1, decision_id = $2 WHERE id = $3 AND status = 'open'")
            .bind(status)
            .bind(decision_id)
            .bind(id)
            .execute(self.conn())
            .await?;
        let change = Change { by: None, message_id: 0, at };
        self.record_history((ItemKind::Proposal, id), "status", Some("open"), Some(status), &change).await
    }

    pub async fn save_warnings(&mut self, message_id: i64, warnings: &[String]) -> Result<(), StoreError> {
        for (position, text) in warnings.iter().enumerate() {
            sqlx::query("INSERT INTO message_warnings (message_id, position, text) VALUES ($1, $2, $3)")
                .bind(message_id)
                .bind(position as i64)
                .bind(text)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskField {
    Owner,
    Due,
    Status,
    DoneAt,
}

impl TaskField {
    fn column(self) -> &'static str {
        match self {
            TaskField::Owner => "owner",
            TaskField::Due => "due",
            TaskField::Status => "status",
            TaskField::DoneAt => "done_at",
        }
    }
}

/// docs/cli.md JSON decision.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub id: String,
    pub text: String,
    pub space: String,
    pub thread_id: i64,
    pub message_id: Option<String>,
    pub author: Option<String>,
    pub decided_at: DateTime<Utc>,
    pub goal: Option<String>,
    pub tasks: Vec<String>,
    pub source: String,
}

/// docs/cli.md JSON task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub id: String,
    pub title: String,
    pub space: String,
    pub owner: Option<String>,
    pub watchers: Vec<String>,
    pub due: Option<DateTime<Utc>>,
    pub status: String,
    pub thread_id: i64,
    pub message_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub decision: Option<String>,
    pub goal: Option<String>,
}

/// docs/cli.md JSON proposal.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    pub id: String,
    pub text: String,
    pub closes_at: Option<DateTime<Utc>>,
    pub status: String,
    pub objections: Vec<ObjectionView>,
    pub decision: Option<String>,
    #[serde(skip)]
    pub space: String,
    #[serde(skip)]
    pub thread_id: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectionView {
    pub by: Option<String>,
    pub at: DateTime<Utc>,
    pub text: String,
}

/// Filters for `docket tasks`.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub space: Option<String>,
    pub owner: Option<String>,
    pub status: Option<String>,
    /// Only open tasks due before this time.
    pub overdue_at: Option<i64>,
    pub thread_id: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, sqlx::FromRow)]
struct DecisionRecord {
    id: i64,
    text: String,
    space: String,
    thread_id: i64,
    message_id: Option<String>,
    author: Option<String>,
    decided_at: i64,
    goal: Option<String>,
    source: String,
}

#[derive(Debug, sqlx::FromRow)]
struct TaskRecord {
    id: i64,
    title: String,
    space: String,
    owner: Option<String>,
    watchers: String,
    due: Option<i64>,
    status: String,
    thread_id: i64,
    message_id: Option<String>,
    created_by: Option<String>,
    created_at: i64,
    done_at: Option<i64>,
    goal: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct ProposalRecord {
    id: i64,
    text: String,
    closes_at: Option<i64>,
    status: String,
    decision_id: Option<i64>,
    space: String,
    thread_id: i64,
}

impl Store {
    /// Decisions, newest first; one space, one thread, or all.
    pub async fn decisions(
        &self,
        space: Option<&str>,
        thread_id: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Vec<DecisionView>, StoreError> {
        let rows: Vec<DecisionRecord> = sqlx::query_as(
            "SELECT d.id, d.text, s.slug AS space, d.thread_id, m.message_id, d.author, d.decided_at, g.slug AS goal, d.source \
             FROM decisions d JOIN spaces s ON s.id = d.space_id LEFT JOIN messages m ON m.id = d.message_id \
             LEFT JOIN goals g ON g.id = d.goal_id \
             WHERE ($1 IS NULL OR s.slug = $1) AND ($2 IS NULL OR d.thread_id = $2) \
             ORDER BY d.decided_at DESC, d.id DESC LIMIT $3",
        )
        .bind(space)
        .bind(thread_id)
        .bind(limit.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let tasks = self.linked(ItemKind::Decision, r.id, ItemKind::Task).await?;
            out.push(DecisionView {
                id: ItemKind::Decision.label(r.id),
                text: r.text,
                space: r.space,
                thread_id: r.thread_id,
                message_id: r.message_id,
                author: r.author,
                decided_at: to_utc(r.decided_at),
                goal: r.goal,
                tasks: tasks.into_iter().map(|t| ItemKind::Task.label(t)).collect(),
                source: r.source,
            });
        }
        Ok(out)
    }

    pub async fn tasks(&self, f: &TaskFilter) -> Result<Vec<TaskView>, StoreError> {
        let rows: Vec<TaskRecord> = sqlx::query_as(
            "SELECT t.id, t.title, s.slug AS space, t.owner, t.watchers, t.due, t.status, t.thread_id, m.message_id, t.created_by, \
             t.created_at, t.done_at, g.slug AS goal \
             FROM tasks t JOIN spaces s ON s.id = t.space_id LEFT JOIN messages m ON m.id = t.message_id \
             LEFT JOIN goals g ON g.id = t.goal_id \
             WHERE ($1 IS NULL OR s.slug = $1) AND ($2 IS NULL OR t.owner = $2) AND ($3 IS NULL OR t.status = $3) \
             AND ($4 IS NULL OR (t.status = 'open' AND t.due IS NOT NULL AND t.due < $4)) AND ($5 IS NULL OR t.thread_id = $5) \
             ORDER BY CASE WHEN t.due IS NULL THEN 1 ELSE 0 END, t.due, t.id LIMIT $6",
        )
        .bind(f.space.as_deref())
        .bind(f.owner.as_deref())
        .bind(f.status.as_deref())
        .bind(f.overdue_at)
        .bind(f.thread_id)
        .bind(f.limit.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let decision = self.linked(ItemKind::Task, r.id, ItemKind::Decision).await?.into_iter().next();
            out.push(TaskView {
                id: ItemKind::Task.label(r.id),
                title: r.title,
                space: r.space,
                owner: r.owner,
                watchers: serde_json::from_str(&r.watchers).unwrap_or_default(),
                due: r.due.map(to_utc),
                status: r.status,
                thread_id: r.thread_id,
                message_id: r.message_id,
                created_by: r.created_by,
                created_at: to_utc(r.created_at),
                done_at: r.done_at.map(to_utc),
                decision: decision.map(|d| ItemKind::Decision.label(d)),
                goal: r.goal,
            });
        }
        Ok(out)
    }

    pub async fn proposals(&self, space: Option<&str>, status: Option<&str>, limit: Option<i64>) -> Result<Vec<ProposalView>, StoreError> {
        let rows: Vec<ProposalRecord> = sqlx::query_as(
            "SELECT p.id, p.text, p.closes_at, p.status, p.decision_id, s.slug AS space, p.thread_id FROM proposals p \
             JOIN spaces s ON s.id = p.space_id WHERE ($1 IS NULL OR s.slug = $1) AND ($2 IS NULL OR p.status = $2) \
             ORDER BY p.id DESC LIMIT $3",
        )
        .bind(space)
        .bind(status)
        .bind(limit.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let objections: Vec<(Option<String>, i64, String)> =
                sqlx::query_as("SELECT by_addr, at, text FROM objections WHERE proposal_id = $1 ORDER BY at, id")
                    .bind(r.id)
                    .fetch_all(&self.pool)
                    .await?;
            out.push(ProposalView {
                id: ItemKind::Proposal.label(r.id),
                text: r.text,
                closes_at: r.closes_at.map(to_utc),
                status: r.status,
                objections: objections.into_iter().map(|(by, at, text)| ObjectionView { by, at: to_utc(at), text }).collect(),
                decision: r.decision_id.map(|d| ItemKind::Decision.label(d)),
                space: r.space,
                thread_id: r.thread_id,
            });
        }
        Ok(out)
    }

    /// Ids of `want` items linked to (kind, id), in id order.
    async fn linked(&self, kind: ItemKind, id: i64, want: ItemKind) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT b_id FROM item_links WHERE a_kind = $1 AND a_id = $2 AND b_kind = $3 \
             UNION SELECT a_id FROM item_links WHERE b_kind = $1 AND b_id = $2 AND a_kind = $3 ORDER BY 1",
        )
        .bind(kind.prefix())
        .bind(id)
        .bind(want.prefix())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(i,)| i).collect())
    }

    /// Open proposals whose closing time has come, with their standing objection counts.
    pub async fn proposals_closing(&self, now: i64) -> Result<Vec<(ProposalRow, i64)>, StoreError> {
        let sql = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE status = 'open' AND closes_at IS NOT NULL AND closes_at <= $1 ORDER BY closes_at, id"
        );
        let rows: Vec<ProposalRow> = sqlx::query_as(&sql).bind(now).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM objections WHERE proposal_id = $1").bind(row.id).fetch_one(&self.pool).await?;
            out.push((row, n));
        }
        Ok(out)
    }

    /// Per thread: its decision ids, task ids, and when its last decision was made.
    pub async fn thread_items(&self, thread_id: i64) -> Result<(Vec<String>, Vec<String>, Option<i64>), StoreError> {
        let decisions: Vec<(i64, i64)> = sqlx::query_as("SELECT id, decided_at FROM decisions WHERE thread_id = $1 ORDER BY id")
            .bind(thread_id)
            .fetch_all(&self.pool)
            .await?;
        let tasks: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM tasks WHERE thread_id = $1 ORDER BY id").bind(thread_id).fetch_all(&self.pool).await?;
        let last = decisions.iter().map(|(_, at)| *at).max();
        Ok((
            decisions.into_iter().map(|(id, _)| ItemKind::Decision.label(id)).collect(),
            tasks.into_iter().map(|(id,)| ItemKind::Task.label(id)).collect(),
            last,
        ))
    }
}
