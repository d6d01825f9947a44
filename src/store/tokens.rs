//! API bearer tokens (kept as SHA-256 hashes) and the per-member feed key generations: what
//! `docket token …` and `docket member feeds` change, and what the API and feeds look up.

use super::read::to_utc;
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// An API token as `docket token list` shows it (never the token itself).
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub email: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, sqlx::FromRow)]
struct TokenRow {
    id: i64,
    email: String,
    label: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken { id: r.id, email: r.email, label: r.label, created_at: to_utc(r.created_at), last_used_at: r.last_used_at.map(to_utc) }
    }
}

/// How often `last_used_at` is written at most (a busy client does not write on every request).
const TOUCH_EVERY_SECS: i64 = 60;

const TOKEN_COLUMNS: &str = "id, email, label, created_at, last_used_at";

impl Store {
    /// Whether `email` is a member of at least one space.
    pub async fn is_member_anywhere(&self, email: &str) -> Result<bool, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM members WHERE lower(email) = lower($1)").bind(email).fetch_one(self.pool()).await?;
        Ok(n > 0)
    }

    /// Stores a new token's hash for `email`, who must be a member of some space.
    pub async fn create_api_token(&self, email: &str, label: Option<&str>, token_hash: &str, now: i64) -> Result<ApiToken, StoreError> {
        if !self.is_member_anywhere(email).await? {
            return Err(not_a_member(email));
        }
        let sql =
            format!("INSERT INTO api_tokens (email, label, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING {TOKEN_COLUMNS}");
        let row: TokenRow =
            sqlx::query_as(&sql).bind(email.to_ascii_lowercase()).bind(label).bind(token_hash).bind(now).fetch_one(self.pool()).await?;
        Ok(row.into())
    }

    /// Every token, oldest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id");
        let rows: Vec<TokenRow> = sqlx::query_as(&sql).fetch_all(self.pool()).await?;
        Ok(rows.into_iter().map(ApiToken::from).collect())
    }

    /// Deletes a token: requests carrying it are refused from now on.
    pub async fn revoke_api_token(&self, id: i64) -> Result<ApiToken, StoreError> {
        let sql = format!("DELETE FROM api_tokens WHERE id = $1 RETURNING {TOKEN_COLUMNS}");
        let row: Option<TokenRow> = sqlx::query_as(&sql).bind(id).fetch_optional(self.pool()).await?;
        row.map(ApiToken::from).ok_or_else(|| StoreError::NotFound(format!("no token {id} (see `docket token list`)")))
    }

    /// The token with this hash, its use recorded (at most once a minute).
    pub async fn use_api_token(&self, token_hash: &str, now: i64) -> Result<Option<ApiToken>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let Some(row): Option<TokenRow> = sqlx::query_as(&sql).bind(token_hash).fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        if row.last_used_at.is_none_or(|at| at + TOUCH_EVERY_SECS <= now) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(row.id).execute(self.pool()).await?;
        }
        Ok(Some(row.into()))
    }

    /// The feed key generation of `email` (0 when their key was never printed or rotated).
    pub async fn feed_generation(&self, email: &str) -> Result<i64, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT generation FROM feed_keys WHERE email = $1")
            .bind(email.to_ascii_lowercase())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map_or(0, |(g,)| g))
    }

    /// Records `email`'s current feed key (its generation and hash); the previous key stops working.
    pub async fn set_feed_key(&self, email: &str, generation: i64, key_hash: &str, now: i64) -> Result<(), StoreError> {
        if !self.is_member_anywhere(email).await? {
            return Err(not_a_member(email));
        }
        sqlx::query(
            "INSERT INTO feed_keys (email, generation, key_hash, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (email) DO UPDATE SET generation = excluded.generation, key_hash = excluded.key_hash, updated_at = excluded.updated_at",
        )
        .bind(email.to_ascii_lowercase())
        .bind(generation)
        .bind(key_hash)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Whose feed key has this hash, and at which generation.
    pub async fn feed_owner(&self, key_hash: &str) -> Result<Option<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT email, generation FROM feed_keys WHERE key_hash = $1").bind(key_hash).fetch_optional(self.pool()).await?)
    }
}

fn not_a_member(email: &str) -> StoreError {
    StoreError::NotFound(format!("{email} is not a member of any space (add them with `docket member add {email} --space SLUG`)"))
}
