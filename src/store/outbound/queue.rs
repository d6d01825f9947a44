//! The durable mail queue: exactly once per dedup key, claims with an owner (node id) and a lease,
//! retries with backoff, permanent failures kept for `docket check`. Only the owner of a claim
//! records its result, so two nodes sharing PostgreSQL never both own a row.

use crate::store::messages::Tx;
use crate::store::states::OutboundState;
use crate::store::{Backend, Store, StoreError};

/// A mail ready for the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutbound {
    pub dedup_key: String,
    pub kind: String,
    pub space_id: Option<i64>,
    pub recipient: String,
    pub mail_from: String,
    pub raw: Vec<u8>,
}

/// A queued mail claimed for sending (its bytes are read one at a time with `outbound_raw`,
/// so a batch of large fan-out copies is never all in memory).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: i64,
    pub dedup_key: String,
    pub kind: String,
    pub recipient: String,
    pub mail_from: String,
    pub attempts: i64,
}

/// A mail that will not be sent, for `docket check`.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct FailedMail {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Mails per multi-row INSERT (6 parameters each, well under either backend's limit).
const ENQUEUE_CHUNK: usize = 100;

impl Tx {
    /// Queues a mail unless one with the same key was queued before (whatever its state); true
    /// when queued now.
    pub async fn enqueue(&mut self, m: &NewOutbound, now: i64) -> Result<bool, StoreError> {
        Ok(self.enqueue_all(&[m], now).await? == 1)
    }

    /// [`Tx::enqueue`] for many mails, one multi-row INSERT per [`ENQUEUE_CHUNK`] of them (a
    /// mail whose key was queued before is skipped); returns how many were queued now.
    pub async fn enqueue_all(&mut self, mail: &[&NewOutbound], now: i64) -> Result<usize, StoreError> {
        let mut queued = 0;
        for chunk in mail.chunks(ENQUEUE_CHUNK) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p: Vec<String> = (2 + 6 * i..2 + 6 * i + 6).map(|n| format!("${n}")).collect();
                    format!("({}, 'queued', 0, $1, $1)", p.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO outbound (dedup_key, kind, space_id, recipient, mail_from, raw, state, attempts, next_attempt_at, created_at) \
                 VALUES {} ON CONFLICT (dedup_key) DO NOTHING",
                rows.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(now);
            for m in chunk {
                q = q.bind(&m.dedup_key).bind(&m.kind).bind(m.space_id).bind(&m.recipient).bind(&m.mail_from).bind(&m.raw);
            }
            queued += usize::try_from(q.execute(self.conn()).await?.rows_affected()).unwrap_or(usize::MAX);
        }
        Ok(queued)
    }
}

impl Store {
    /// Due mail claimed by `node` until `lease_until` (at most `limit` rows, in one statement):
    /// queued rows whose time has come, and rows another sender claimed whose lease ran out (it
    /// died). On PostgreSQL rows another node is claiming right now are skipped, not waited for.
    pub async fn claim_outbound(&self, node: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<QueuedMail>, StoreError> {
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE outbound SET state = 'sending', claimed_by = $1, claimed_at = $2, lease_until = $3 WHERE id IN \
             (SELECT id FROM outbound WHERE (state = 'queued' AND next_attempt_at <= $2) \
                OR (state = 'sending' AND COALESCE(lease_until, 0) < $2) \
              ORDER BY next_attempt_at, id LIMIT $4{lock}) \
             RETURNING id, dedup_key, kind, recipient, mail_from, attempts"
        );
        let mut claimed: Vec<QueuedMail> =
            sqlx::query_as(&sql).bind(node).bind(now).bind(lease_until).bind(limit).fetch_all(&self.pool).await?;
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    }

    /// A restarted node's claims go back to the queue at once: whatever it was sending died with
    /// the process. Returns how many.
    pub async fn reclaim_own_outbound(&self, node: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE outbound SET state = 'queued', claimed_by = NULL, lease_until = NULL WHERE state = 'sending' AND claimed_by = $1",
        )
        .bind(node)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The bytes of a queued mail.
    pub async fn outbound_raw(&self, id: i64) -> Result<Vec<u8>, StoreError> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT raw FROM outbound WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.map(|(raw,)| raw).ok_or_else(|| StoreError::NotFound(format!("no outbound mail {id}")))
    }

    /// Handed over: the row stays (its key keeps the mail from being queued again), its bytes go,
    /// so the table does not grow by every copy ever sent. Like every result, written only while
    /// `node` still holds the claim; false (nothing written) when it lost it.
    pub async fn outbound_sent(&self, node: &str, id: i64, now: i64) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "UPDATE outbound SET state = 'sent', sent_at = $1, attempts = attempts + 1, last_error = NULL, raw = $2, lease_until = NULL \
             WHERE id = $3 AND state = 'sending' AND claimed_by = $4",
        );
        self.owner_update(q.bind(now).bind(Vec::<u8>::new()), id, node).await
    }

    /// A temporary failure: back in the queue at `next_at` (false when `node` lost the claim).
    pub async fn outbound_retry(&self, node: &str, id: i64, next_at: i64, error: &str) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "UPDATE outbound SET state = 'queued', attempts = attempts + 1, next_attempt_at = $1, last_error = $2, lease_until = NULL \
             WHERE id = $3 AND state = 'sending' AND claimed_by = $4",
        );
        self.owner_update(q.bind(next_at).bind(error), id, node).await
    }

    /// A permanent failure (or too many temporary ones): never retried, shown by `docket check`
    /// (false when `node` lost the claim).
    pub async fn outbound_failed(&self, node: &str, id: i64, error: &str) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "UPDATE outbound SET state = 'failed', attempts = attempts + 1, last_error = $1, lease_until = NULL \
             WHERE id = $2 AND state = 'sending' AND claimed_by = $3",
        );
        self.owner_update(q.bind(error), id, node).await
    }

    /// Runs a result update whose last two parameters are the row id and the owner
    /// (`WHERE id = … AND state = 'sending' AND claimed_by = …`); true when the owner still held
    /// the claim and the row was written.
    async fn owner_update<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        id: i64,
        node: &'q str,
    ) -> Result<bool, StoreError> {
        let done = q.bind(id).bind(node).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Mail handed over since `since` (the `outbound.max_per_minute` window).
    pub async fn outbound_sent_since(&self, since: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbound WHERE sent_at >= $1").bind(since).fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Whether anything waits for the outbound run right now: a message not planned yet, due
    /// queued mail, unanswered mail to the commands address, an unsent sender notice.
    pub async fn outbound_work(&self, now: i64) -> Result<bool, StoreError> {
        let floor = self.cursor("messages").await?;
        let (n,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM messages m WHERE m.id > $1 AND NOT EXISTS \
               (SELECT 1 FROM outbound_messages o WHERE o.message_id = m.id) LIMIT 1) a) \
             + (SELECT COUNT(*) FROM (SELECT 1 FROM outbound WHERE state = 'queued' AND next_attempt_at <= $2 LIMIT 1) b) \
             + (SELECT COUNT(*) FROM (SELECT 1 FROM command_mail WHERE state = 'pending' LIMIT 1) c) \
             + (SELECT COUNT(*) FROM (SELECT 1 FROM notices WHERE sent_at IS NULL LIMIT 1) d)",
        )
        .bind(floor)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Queued mail whose time has come.
    pub async fn outbound_waiting(&self, now: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbound WHERE state = 'queued' AND next_attempt_at <= $1")
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Queue rows per state.
    pub async fn outbound_counts(&self) -> Result<Vec<(OutboundState, i64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM outbound GROUP BY state ORDER BY state").fetch_all(&self.pool).await?;
        rows.into_iter().map(|(state, n)| Ok((state.parse()?, n))).collect()
    }

    /// Queued mail that failed at least `attempts` times and waits for another try.
    pub async fn outbound_retrying(&self, attempts: i64, limit: i64) -> Result<Vec<FailedMail>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, kind, recipient, attempts, last_error FROM outbound WHERE state = 'queued' AND attempts >= $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(attempts)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn outbound_failures(&self, limit: i64) -> Result<Vec<FailedMail>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, kind, recipient, attempts, last_error FROM outbound WHERE state = 'failed' ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every queue row for a recipient, oldest first: (dedup_key, kind, state).
    pub async fn outbound_for(&self, recipient: &str) -> Result<Vec<(String, String, OutboundState)>, StoreError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT dedup_key, kind, state FROM outbound WHERE recipient = $1 ORDER BY id")
                .bind(recipient)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(|(key, kind, state)| Ok((key, kind, state.parse()?))).collect()
    }

    /// Which of `keys` are queued already (in any state) or kept unrendered (rendered again by
    /// every run), so planners skip rendering them.
    pub async fn known_keys(&self, keys: &[String]) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut out = std::collections::HashSet::new();
        for chunk in keys.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let list = placeholders.join(", ");
            let sql = format!(
                "SELECT dedup_key FROM outbound WHERE dedup_key IN ({list}) UNION SELECT dedup_key FROM unrendered WHERE dedup_key IN ({list})"
            );
            let mut q = sqlx::query_as::<_, (String,)>(&sql);
            for k in chunk {
                q = q.bind(k);
            }
            out.extend(q.fetch_all(&self.pool).await?.into_iter().map(|(k,)| k));
        }
        Ok(out)
    }
}
