//! Planner cursors: named high-water marks (`outbound_cursors`) and the message floor, below which
//! every message's fan-out and receipt are planned (`outbound_messages` holds the planned ones above it).

use crate::store::messages::Tx;
use crate::store::{Store, StoreError};

impl Tx {
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
}

impl Store {
    pub async fn cursor(&self, name: &str) -> Result<i64, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT value FROM outbound_cursors WHERE name = $1").bind(name).fetch_optional(&self.pool).await?;
        Ok(row.map(|(v,)| v).unwrap_or(0))
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
}
