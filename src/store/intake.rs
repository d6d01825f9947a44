//! Rows the SMTP/LMTP intake writes besides the raw message: quarantine, sender notices, mail to
//! the commands address, and the counts behind the per-sender rate limit.

use super::messages::Tx;
use super::{Store, StoreError};
use serde::{Deserialize, Serialize};

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

/// The reply the commands stage owes a sender (`command_mail.reply`, JSON): written by the
/// intake once the command ran, rendered and queued by the outbound run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandReply {
    /// The sender, lower-cased.
    pub to: String,
    pub subject: String,
    /// The Message-ID answered (In-Reply-To and References of the reply).
    pub in_reply_to: Option<String>,
    pub title: String,
    pub lines: Vec<String>,
    /// `digest`: the sender's digests follow the reply.
    pub send_digest: bool,
    /// The sender is no member: they get one reply ever, however often they (or a forger) write.
    pub stranger: bool,
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

    /// Mail to the commands address the commands stage has not looked at yet: (id, raw, envelope sender).
    pub async fn received_commands(&self) -> Result<Vec<(i64, Vec<u8>, Option<String>)>, StoreError> {
        Ok(sqlx::query_as("SELECT id, raw, mail_from FROM command_mail WHERE state = 'received' ORDER BY id").fetch_all(&self.pool).await?)
    }

    /// [`Store::received_commands`] for the one mail logged under `dedup_key`.
    pub async fn received_command(&self, dedup_key: &str) -> Result<Option<(i64, Vec<u8>, Option<String>)>, StoreError> {
        Ok(sqlx::query_as("SELECT id, raw, mail_from FROM command_mail WHERE dedup_key = $1 AND state = 'received'")
            .bind(dedup_key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The replies owed for mail to the commands address, oldest first.
    pub async fn owed_command_replies(&self) -> Result<Vec<(i64, CommandReply)>, StoreError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, reply FROM command_mail WHERE state = 'pending' AND reply IS NOT NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(id, reply)| {
                serde_json::from_str(&reply)
                    .map(|r| (id, r))
                    .map_err(|e| StoreError::Conflict(format!("mail #{id} to the commands address: unreadable reply: {e}")))
            })
            .collect()
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
            "INSERT INTO command_mail (dedup_key, raw, mail_from, received_at, state) VALUES ($1, $2, $3, $4, 'received') \
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

    /// Records what a mail to the commands address asked and the reply it is owed; false when
    /// it was decided already (another worker got there first).
    pub async fn owe_command_reply(&mut self, id: i64, command: &str, reply: &CommandReply) -> Result<bool, StoreError> {
        let json = serde_json::to_string(reply).map_err(|e| StoreError::Conflict(format!("cannot record the reply: {e}")))?;
        let done = sqlx::query("UPDATE command_mail SET state = 'pending', command = $1, reply = $2 WHERE id = $3 AND state = 'received'")
            .bind(command)
            .bind(json)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that a mail to the commands address gets no reply, and why; false when it was
    /// decided already.
    pub async fn ignore_command(&mut self, id: i64, why: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE command_mail SET state = 'ignored', error = $1 WHERE id = $2 AND state = 'received'")
            .bind(why)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
