//! Mutes: a member's thread (> 0), space (0) or all mail (-1) muted.

use crate::store::messages::Tx;
use crate::store::{Store, StoreError};

impl Tx {
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
    /// (member id, thread id) mutes of a space's members; see `Tx::set_mute` for the codes.
    pub async fn mutes(&self, space_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT u.member_id, u.thread_id FROM mutes u JOIN members m ON m.id = u.member_id WHERE m.space_id = $1")
            .bind(space_id)
            .fetch_all(&self.pool)
            .await?)
    }
}
