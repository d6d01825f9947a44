//! Rows the SMTP/LMTP intake writes besides the raw message: quarantine, sender notices, mail to
//! the commands address, and the counts behind the per-sender rate limit.

use super::messages::Tx;
use super::{Store, StoreError};
use serde::Serialize;

/// One quarantined delivery, as `docket quarantine list|show` prints it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QuarantinedView {
    pub id: i64,
    pub space: String,
    pub mail_from: Option<String>,
    /// Unix seconds; serialized as RFC 3339 UTC like every time in the JSON output.
    #[serde(serialize_with = "rfc3339")]
    pub received_at: i64,
    pub reason: String,
    pub detail: String,
}

fn rfc3339<S: serde::Serializer>(secs: &i64, s: S) -> Result<S::Ok, S::Error> {
    super::read::to_utc(*secs).serialize(s)
}

/// A notice the outbound worker owes a human sender.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Notice {
    pub id: i64,
    pub space_id: i64,
    pub recipient: String,
    pub reason: String,
    pub detail: String,
}

impl Store {
    /// Deliveries logged with this envelope sender since `since` (the per-sender rate limit).
    pub async fn deliveries_from_since(&self, mail_from: &str, since: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM inbound WHERE mail_from = $1 AND received_at >= $2")
            .bind(mail_from)
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    pub async fn quarantined(&self, limit: Option<i64>) -> Result<Vec<QuarantinedView>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT i.id, s.slug AS space, i.mail_from, i.received_at, COALESCE(i.reason, '') AS reason, COALESCE(i.error, '') AS detail \
             FROM inbound i JOIN spaces s ON s.id = i.space_id WHERE i.state = 'quarantined' ORDER BY i.id DESC LIMIT $1",
        )
        .bind(limit.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?)
    }

    /// A quarantined delivery and its raw bytes.
    pub async fn quarantined_one(&self, id: i64) -> Result<Option<(QuarantinedView, Vec<u8>, String)>, StoreError> {
        type HeldRow = (i64, String, Option<String>, i64, String, String, Vec<u8>, String);
        let row: Option<HeldRow> = sqlx::query_as(
            "SELECT i.id, s.slug, i.mail_from, i.received_at, COALESCE(i.reason, ''), COALESCE(i.error, ''), i.raw, i.rcpt_to \
             FROM inbound i JOIN spaces s ON s.id = i.space_id WHERE i.id = $1 AND i.state = 'quarantined'",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, space, mail_from, received_at, reason, detail, raw, rcpt)| {
            (QuarantinedView { id, space, mail_from, received_at, reason, detail }, raw, rcpt)
        }))
    }

    /// Notices not sent yet, oldest first.
    pub async fn pending_notices(&self) -> Result<Vec<Notice>, StoreError> {
        Ok(sqlx::query_as("SELECT id, space_id, recipient, reason, detail FROM notices WHERE sent_at IS NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Mail to the commands address, with its state.
    pub async fn command_mail(&self) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT id, mail_from, state FROM command_mail ORDER BY id").fetch_all(&self.pool).await?)
    }

    /// Mail to the commands address still pending after a failed answer: (id, sender, error).
    pub async fn unanswered_commands(&self) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT id, mail_from, error FROM command_mail WHERE state = 'pending' AND error IS NOT NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }
}

impl Tx {
    /// Takes a logged delivery for processing; false when it was processed already (or is not
    /// waiting), so a delivery is never threaded twice.
    pub async fn claim_inbound(&mut self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE inbound SET state = 'processing' WHERE id = $1 AND state = 'received'")
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn quarantine(&mut self, id: i64, reason: &str, detail: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE inbound SET state = 'quarantined', reason = $1, error = $2 WHERE id = $3")
            .bind(reason)
            .bind(detail)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Puts a quarantined delivery back in line for processing; false when there is no such one.
    pub async fn release(&mut self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE inbound SET state = 'received' WHERE id = $1 AND state = 'quarantined'")
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that `recipient` is owed one notice for `reason` (at most one per pair, ever).
    pub async fn insert_notice(
        &mut self,
        space_id: i64,
        recipient: &str,
        reason: &str,
        detail: &str,
        inbound_id: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notices (space_id, recipient, reason, detail, inbound_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (recipient, reason) DO NOTHING",
        )
        .bind(space_id)
        .bind(recipient)
        .bind(reason)
        .bind(detail)
        .bind(inbound_id)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Logs mail to the commands address; false when the same message was logged before.
    pub async fn insert_command_mail(
        &mut self,
        dedup_key: &str,
        raw: &[u8],
        mail_from: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO command_mail (dedup_key, raw, mail_from, received_at, state) VALUES ($1, $2, $3, $4, 'pending') \
             ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(dedup_key)
        .bind(raw)
        .bind(mail_from)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
