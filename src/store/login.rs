//! What web sign-in keeps besides sessions: magic-link tokens (as SHA-256 hashes; single use,
//! with an expiry), the count behind the per-address rate limit, and the stored raw message a
//! thread page re-reads for a message's HTML and inline images.

use super::messages::Tx;
use super::{Store, StoreError};

/// Spent or expired tokens are deleted this long after they stop working.
const KEEP_SPENT: i64 = 86_400;

impl Tx {
    /// Records a login link's token hash for `email`, valid until `expires_at`; long-dead
    /// tokens of anyone are deleted on the way.
    pub async fn create_login_token(&mut self, hash: &str, email: &str, now: i64, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_login_tokens WHERE expires_at < $1").bind(now - KEEP_SPENT).execute(self.conn()).await?;
        sqlx::query("INSERT INTO web_login_tokens (token_hash, email, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(hash)
            .bind(email.to_ascii_lowercase())
            .bind(now)
            .bind(expires_at)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Login links made for `email` since `since` (the rate limit).
    pub async fn login_tokens_since(&self, email: &str, since: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM web_login_tokens WHERE email = $1 AND created_at >= $2")
            .bind(email.to_ascii_lowercase())
            .bind(since)
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// The address of an unspent, unexpired token (the confirm page; spends nothing).
    pub async fn login_token(&self, hash: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT email FROM web_login_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
                .bind(hash)
                .bind(now)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(e,)| e))
    }

    /// Spends a token once: the address it was for, or None when it is unknown, spent or
    /// expired. One statement, so two requests racing with the same link cannot both win.
    pub async fn spend_login_token(&self, hash: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "UPDATE web_login_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING email",
        )
        .bind(now)
        .bind(hash)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(e,)| e))
    }

    /// The stored raw mail of message `message` in thread `thread` (None when it is not there).
    pub async fn message_raw(&self, thread: i64, message: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT i.raw FROM messages m JOIN inbound i ON i.id = m.inbound_id WHERE m.id = $1 AND m.thread_id = $2")
                .bind(message)
                .bind(thread)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(r,)| r))
    }

    /// The stored raw mail of every message of a thread: (message id, raw).
    pub async fn thread_raw(&self, thread: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as("SELECT m.id, i.raw FROM messages m JOIN inbound i ON i.id = m.inbound_id WHERE m.thread_id = $1")
            .bind(thread)
            .fetch_all(self.pool())
            .await?)
    }
}
