//! Generated mail that could not be rendered (`unrendered`): kept under the dedup key its queue
//! row will have, with its plan as JSON and the last error, until a later run renders it, queues
//! it and deletes the row in one transaction. `docket check` lists what is left.

use super::messages::Tx;
use super::{Store, StoreError};

/// A mail whose rendering failed, as the planner had it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnrendered {
    pub dedup_key: String,
    pub kind: String,
    pub space_id: Option<i64>,
    pub recipient: String,
    /// What the mail says (`notify::render::Plan` as JSON).
    pub plan: String,
    pub error: String,
}

/// A kept mail, read back to render it again or to show it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Unrendered {
    pub dedup_key: String,
    pub kind: String,
    pub space_id: Option<i64>,
    pub recipient: String,
    pub plan: String,
    pub error: String,
    /// Renderings tried, the first included.
    pub attempts: i64,
    pub created_at: i64,
    pub failed_at: i64,
}

impl Tx {
    /// Keeps a mail that failed to render, or, when it is kept already, counts the attempt and
    /// keeps the newest plan and error.
    pub async fn record_unrendered(&mut self, m: &NewUnrendered, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO unrendered (dedup_key, kind, space_id, recipient, plan, error, attempts, created_at, failed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) ON CONFLICT (dedup_key) DO UPDATE SET \
             plan = excluded.plan, error = excluded.error, attempts = unrendered.attempts + 1, failed_at = excluded.failed_at",
        )
        .bind(&m.dedup_key)
        .bind(&m.kind)
        .bind(m.space_id)
        .bind(&m.recipient)
        .bind(&m.plan)
        .bind(&m.error)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The kept mail is rendered (and queued in this transaction).
    pub async fn forget_unrendered(&mut self, dedup_key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM unrendered WHERE dedup_key = $1").bind(dedup_key).execute(self.conn()).await?;
        Ok(())
    }
}

impl Store {
    /// Kept mail with a key after `after`, in key order (a page of at most `limit`).
    pub async fn unrendered_after(&self, after: &str, limit: i64) -> Result<Vec<Unrendered>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT dedup_key, kind, space_id, recipient, plan, error, attempts, created_at, failed_at FROM unrendered \
             WHERE dedup_key > $1 ORDER BY dedup_key LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many mails are kept unrendered.
    pub async fn unrendered_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM unrendered").fetch_one(&self.pool).await?;
        Ok(n)
    }
}
