//! What the web door keeps: sessions (token hashes, so a leaked database signs nobody in), and the
//! read that maps a signed-in address to its spaces.

use super::spaces::Space;
use super::{Store, StoreError};

/// A live session row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebSession {
    pub email: String,
    pub csrf: String,
    pub expires_at: i64,
}

impl Store {
    /// Answers when the database does (`/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let _: (i64,) = sqlx::query_as("SELECT CAST(1 AS BIGINT)").fetch_one(self.pool()).await?;
        Ok(())
    }

    /// Starts a session for `email`, keyed by the hash of its cookie token.
    pub async fn create_web_session(&self, hash: &str, email: &str, csrf: &str, now: i64, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO web_sessions (token_hash, email, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(hash)
            .bind(email.to_ascii_lowercase())
            .bind(csrf)
            .bind(now)
            .bind(expires_at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The session with this token hash, unless it has expired.
    pub async fn web_session(&self, hash: &str, now: i64) -> Result<Option<WebSession>, StoreError> {
        Ok(sqlx::query_as("SELECT email, csrf, expires_at FROM web_sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(hash)
            .bind(now)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Ends a session (sign out); expired sessions of anyone go with it.
    pub async fn end_web_session(&self, hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1 OR expires_at <= $2").bind(hash).bind(now).execute(self.pool()).await?;
        Ok(())
    }

    /// The spaces `email` is a member of, by slug.
    pub async fn spaces_of(&self, email: &str) -> Result<Vec<Space>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.id, s.slug, s.name, s.created_at FROM spaces s JOIN members m ON m.space_id = s.id \
             WHERE lower(m.email) = lower($1) ORDER BY s.slug",
        )
        .bind(email)
        .fetch_all(self.pool())
        .await?)
    }
}
