//! Spaces and their members: create, list, change, remove.

use super::{Store, StoreError};
use crate::space::{Delivery, MemberSettings, Role};
use serde::Serialize;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Space {
    #[serde(skip)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    #[serde(skip)]
    pub created_at: i64,
}

/// docs/cli.md JSON space (`docket space list --json`, `/api/v1/spaces`).
#[derive(Debug, Clone, Serialize)]
pub struct SpaceView {
    pub slug: String,
    pub name: String,
    /// The list address, `SLUG@DOMAIN`.
    pub address: String,
    pub members: usize,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub id: i64,
    pub space_id: i64,
    pub email: String,
    pub handle: String,
    pub tz: Option<String>,
    pub delivery: String,
    pub digest_time: Option<String>,
    pub digest_days: Option<String>,
    pub role: String,
    pub created_at: i64,
    /// Working hours `HH:MM-HH:MM` (`crate::hours`); None = `notify.working_hours`.
    pub hours: Option<String>,
}

/// Mute codes in the `mutes.thread_id` column besides a thread id: the whole space, or all mail.
pub const MUTE_SPACE: i64 = 0;
pub const UNSUBSCRIBED: i64 = -1;

/// Every column of a `Member`, for the queries that read whole members.
pub(crate) const MEMBER_COLUMNS: &str = "id, space_id, email, handle, tz, delivery, digest_time, digest_days, role, created_at, hours";

impl Store {
    pub async fn add_space(&self, slug: &str, name: &str, now: i64) -> Result<Space, StoreError> {
        let inserted: Option<Space> = sqlx::query_as(
            "INSERT INTO spaces (slug, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING \
             RETURNING id, slug, name, created_at",
        )
        .bind(slug)
        .bind(name)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        inserted.ok_or_else(|| StoreError::Conflict(format!("space '{slug}' already exists (see `docket space list`)")))
    }

    pub async fn spaces(&self) -> Result<Vec<Space>, StoreError> {
        Ok(sqlx::query_as("SELECT id, slug, name, created_at FROM spaces ORDER BY slug").fetch_all(&self.pool).await?)
    }

    pub async fn space(&self, slug: &str) -> Result<Option<Space>, StoreError> {
        Ok(sqlx::query_as("SELECT id, slug, name, created_at FROM spaces WHERE slug = $1").bind(slug).fetch_optional(&self.pool).await?)
    }

    /// The space or a "not found" error that says what to do.
    pub async fn require_space(&self, slug: &str) -> Result<Space, StoreError> {
        self.space(slug).await?.ok_or_else(|| StoreError::NotFound(format!("no space '{slug}' (create it with `docket space add {slug}`)")))
    }

    pub async fn space_by_id(&self, id: i64) -> Result<Space, StoreError> {
        sqlx::query_as("SELECT id, slug, name, created_at FROM spaces WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no space with id {id}")))
    }

    pub async fn add_member(&self, space: &Space, email: &str, handle: &str, s: &MemberSettings, now: i64) -> Result<Member, StoreError> {
        let taken: Option<(String,)> = sqlx::query_as("SELECT email FROM members WHERE space_id = $1 AND (email = $2 OR handle = $3)")
            .bind(space.id)
            .bind(email)
            .bind(handle)
            .fetch_optional(&self.pool)
            .await?;
        if let Some((existing,)) = taken {
            return Err(StoreError::Conflict(if existing == email {
                format!("{email} is already a member of '{}' (change it with `docket member set`)", space.slug)
            } else {
                format!("handle '{handle}' is taken in '{}' by {existing} (pick one with --handle)", space.slug)
            }));
        }
        let sql = format!(
            "INSERT INTO members (space_id, email, handle, tz, delivery, digest_time, digest_days, role, created_at, hours) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {MEMBER_COLUMNS}"
        );
        Ok(sqlx::query_as(&sql)
            .bind(space.id)
            .bind(email)
            .bind(handle)
            .bind(s.tz.map(|t| t.name().to_string()))
            .bind(s.delivery.unwrap_or(Delivery::Each).as_str())
            .bind(s.digest_time.map(|t| t.format("%H:%M").to_string()))
            .bind(s.digest_days.map(|d| d.to_string()))
            .bind(s.role.unwrap_or(Role::Member).as_str())
            .bind(now)
            .bind(s.hours.map(|h| h.to_string()))
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn members(&self, space: &Space) -> Result<Vec<Member>, StoreError> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE space_id = $1 ORDER BY email");
        Ok(sqlx::query_as(&sql).bind(space.id).fetch_all(&self.pool).await?)
    }

    pub async fn member(&self, space_id: i64, email: &str) -> Result<Option<Member>, StoreError> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE space_id = $1 AND email = $2");
        Ok(sqlx::query_as(&sql).bind(space_id).bind(email).fetch_optional(&self.pool).await?)
    }

    pub async fn member_by_id(&self, space_id: i64, id: i64) -> Result<Option<Member>, StoreError> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE space_id = $1 AND id = $2");
        Ok(sqlx::query_as(&sql).bind(space_id).bind(id).fetch_optional(&self.pool).await?)
    }

    /// Applies the settings that are given; the rest stay as they are.
    pub async fn set_member(&self, space: &Space, email: &str, s: &MemberSettings) -> Result<Member, StoreError> {
        let current = self.member(space.id, email).await?.ok_or_else(|| not_member(space, email))?;
        let handle = s.handle.clone().unwrap_or(current.handle.clone());
        if handle != current.handle {
            let clash: Option<(String,)> = sqlx::query_as("SELECT email FROM members WHERE space_id = $1 AND handle = $2")
                .bind(space.id)
                .bind(&handle)
                .fetch_optional(&self.pool)
                .await?;
            if let Some((other,)) = clash {
                return Err(StoreError::Conflict(format!("handle '{handle}' is taken in '{}' by {other}", space.slug)));
            }
        }
        sqlx::query(
            "UPDATE members SET handle = $1, tz = $2, delivery = $3, digest_time = $4, digest_days = $5, role = $6, hours = $7 \
             WHERE id = $8",
        )
        .bind(&handle)
        .bind(s.tz.map(|t| t.name().to_string()).or(current.tz))
        .bind(s.delivery.map(|d| d.as_str().to_string()).unwrap_or(current.delivery))
        .bind(s.digest_time.map(|t| t.format("%H:%M").to_string()).or(current.digest_time))
        .bind(s.digest_days.map(|d| d.to_string()).or(current.digest_days))
        .bind(s.role.map(|r| r.as_str().to_string()).unwrap_or(current.role))
        .bind(s.hours.map(|h| h.to_string()).or(current.hours))
        .bind(current.id)
        .execute(&self.pool)
        .await?;
        self.member(space.id, email).await?.ok_or_else(|| not_member(space, email))
    }

    pub async fn remove_member(&self, space: &Space, email: &str) -> Result<(), StoreError> {
        let done =
            sqlx::query("DELETE FROM members WHERE space_id = $1 AND email = $2").bind(space.id).bind(email).execute(&self.pool).await?;
        if done.rows_affected() == 0 { Err(not_member(space, email)) } else { Ok(()) }
    }
}

fn not_member(space: &Space, email: &str) -> StoreError {
    StoreError::NotFound(format!("{email} is not a member of '{}' (see `docket member list --space {}`)", space.slug, space.slug))
}
