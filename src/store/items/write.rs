//! The write side of items: what `record` and `tick` change inside a message's transaction.

use super::{Change, ItemKind, Origin, PROPOSAL_COLUMNS, ProposalRow, TASK_COLUMNS, TaskField, TaskRow};
use crate::store::StoreError;
use crate::store::messages::Tx;
use crate::store::states::{DecisionSource, ProposalStatus, TaskStatus};

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

    pub async fn insert_decision(
        &mut self,
        o: &Origin<'_>,
        text: &str,
        source: DecisionSource,
        proposal_id: Option<i64>,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO decisions (space_id, thread_id, message_id, text, author, decided_at, goal_id, source, proposal_id, notes_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(o.space_id)
        .bind(o.thread_id)
        .bind(o.message_id)
        .bind(text)
        .bind(o.author)
        .bind(o.at)
        .bind(o.goal_id)
        .bind(source.as_str())
        .bind(proposal_id)
        .bind(o.notes_id)
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
            "INSERT INTO tasks (space_id, thread_id, message_id, title, owner, watchers, due, due_text, status, created_by, created_at, goal_id, notes_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11, $12) RETURNING id",
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
        .bind(o.notes_id)
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    pub async fn insert_proposal(&mut self, o: &Origin<'_>, text: &str, closes_at: Option<i64>) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO proposals (space_id, thread_id, message_id, text, author, created_at, closes_at, status, goal_id, notes_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9) RETURNING id",
        )
        .bind(o.space_id)
        .bind(o.thread_id)
        .bind(o.message_id)
        .bind(text)
        .bind(o.author)
        .bind(o.at)
        .bind(closes_at)
        .bind(o.goal_id)
        .bind(o.notes_id)
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

    /// Moves a task from `old` to `new` status and records the change.
    pub async fn set_task_status(&mut self, id: i64, old: TaskStatus, new: TaskStatus, change: &Change<'_>) -> Result<(), StoreError> {
        self.update_task(id, TaskField::Status, Some(new.as_str().to_owned()), Some(old.as_str().to_owned()), change).await
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
    pub async fn close_proposal(&mut self, id: i64, status: ProposalStatus, decision_id: Option<i64>, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE proposals SET status = $1, decision_id = $2 WHERE id = $3 AND status = 'open'")
            .bind(status.as_str())
            .bind(decision_id)
            .bind(id)
            .execute(self.conn())
            .await?;
        let change = Change { by: None, message_id: 0, at };
        self.record_history((ItemKind::Proposal, id), "status", Some(ProposalStatus::Open.as_str()), Some(status.as_str()), &change).await
    }

    /// The parts a thread-starting message lacks (`parse::nudges` codes), in order.
    pub async fn save_nudges(&mut self, message_id: i64, codes: &[&str]) -> Result<(), StoreError> {
        for (position, code) in codes.iter().enumerate() {
            sqlx::query("INSERT INTO message_nudges (message_id, position, code) VALUES ($1, $2, $3)")
                .bind(message_id)
                .bind(position as i64)
                .bind(*code)
                .execute(self.conn())
                .await?;
        }
        Ok(())
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
