//! The write path of the inbound pipeline: the durable raw log (`inbound`), thread lookups and
//! merges, and message rows. Everything runs inside a `Tx`, so a message is stored whole or not at all.

use super::{Store, StoreError};
use crate::thread::Candidates;
use sqlx::Executor;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};

/// One transaction on the store, on a pooled connection it owns. It goes back to the pool only
/// after a COMMIT that succeeded: a failed statement or commit (SQLite's `SQLITE_FULL` may or may
/// not roll the transaction back by itself) or a drop without commit closes the connection, which
/// rolls back whatever is open. A pooled connection is therefore never left inside a transaction,
/// where a later "commit" would only release a savepoint while the write lock stays held.
#[derive(Debug)]
pub struct Tx {
    conn: Option<PoolConnection<Any>>,
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Not committed: closing the detached connection rolls the transaction back.
            drop(conn.detach());
        }
    }
}

/// A delivery to log before anything else happens.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub space_id: i64,
    /// `mid:<Message-ID>` or, without one, `hash:<content hash>`.
    pub dedup_key: &'a str,
    /// SHA-256 of the message without its trace headers, so the same message relayed twice matches.
    pub content_hash: &'a str,
    pub raw: &'a [u8],
    pub source: &'a str,
    pub mail_from: Option<&'a str>,
    /// JSON array of envelope recipients.
    pub rcpt_to: &'a str,
    pub received_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawInsert {
    Inserted(i64),
    /// The same message (same key and content) is already stored.
    Duplicate,
}

/// A parsed message ready for its row.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub space_id: i64,
    pub thread_id: i64,
    pub inbound_id: i64,
    pub message_id: Option<&'a str>,
    pub from_addr: Option<&'a str>,
    pub from_name: Option<&'a str>,
    pub subject: &'a str,
    pub date: i64,
    /// The subject reduced for threading (already computed by the caller).
    pub base: &'a crate::thread::BaseSubject,
    pub visible_text: &'a str,
    /// What the visible text left out, in message order (stored as JSON in `messages.removed`).
    pub removed: &'a [crate::parse::reply::Removed],
    /// JSON array of flag names.
    pub flags: &'a str,
    /// Parent chain, nearest first.
    pub parents: &'a [String],
    pub attachments: &'a [crate::parse::mime::AttachmentMeta],
}

/// The most references looked at per message (a pathological header must not cost unbounded work).
const MAX_REFS: usize = 50;

impl Store {
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let mut conn = self.pool.acquire().await?;
        match conn.execute("BEGIN").await {
            Ok(_) => Ok(Tx { conn: Some(conn) }),
            Err(e) => {
                drop(conn.detach());
                Err(e.into())
            }
        }
    }

    /// Logged deliveries that were not processed (the process stopped between the raw commit and
    /// the message commit, or the intake queue was full), oldest first: at most `limit` after
    /// `after`, and no more raw bytes than `max_bytes` (always at least one delivery), so a page of
    /// large messages is as small in memory as a page of small ones.
    pub async fn unprocessed_inbound(
        &self,
        after: i64,
        limit: i64,
        max_bytes: u64,
    ) -> Result<Vec<(i64, i64, Vec<u8>, String)>, StoreError> {
        let sizes: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, CAST(LENGTH(raw) AS BIGINT) FROM inbound WHERE state = 'received' AND id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        let Some(last) = page_end(&sizes, max_bytes) else { return Ok(Vec::new()) };
        Ok(sqlx::query_as("SELECT id, space_id, raw, rcpt_to FROM inbound WHERE state = 'received' AND id > $1 AND id <= $2 ORDER BY id")
            .bind(after)
            .bind(last)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Records that processing a logged delivery failed; the raw message stays.
    pub async fn mark_inbound_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE inbound SET state = 'failed', error = $1 WHERE id = $2").bind(error).bind(id).execute(&self.pool).await?;
        Ok(())
    }
}

/// The last id of a page of (id, size) rows that stays within `max_bytes`; the first row always
/// fits, so a message larger than the bound still gets its page.
pub(super) fn page_end(sizes: &[(i64, i64)], max_bytes: u64) -> Option<i64> {
    let mut total = 0u64;
    let mut last = None;
    for &(id, size) in sizes {
        total = total.saturating_add(u64::try_from(size).unwrap_or(0));
        if last.is_some() && total > max_bytes {
            break;
        }
        last = Some(id);
    }
    last
}

impl Tx {
    /// The transaction's connection, for queries in sibling store modules.
    pub(super) fn conn(&mut self) -> &mut AnyConnection {
        // Present until `commit` or drop take it.
        self.conn.as_deref_mut().unwrap_or_else(|| unreachable!("a Tx holds its connection until it ends"))
    }

    /// Commits; only an `Ok` means the writes are durable. On an error the connection is closed
    /// (so nothing half-done can be committed later) and the caller answers "try again later".
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let mut conn = self.conn.take().unwrap_or_else(|| unreachable!("a Tx holds its connection until it ends"));
        match conn.execute("COMMIT").await {
            Ok(_) => Ok(()),
            Err(e) => {
                drop(conn.detach());
                Err(e.into())
            }
        }
    }

    /// Logs a delivery unless the same message is already there. Same Message-ID with different
    /// content (a reused id) is kept too, under a key qualified by its content hash.
    pub async fn insert_inbound(&mut self, n: &NewInbound<'_>) -> Result<RawInsert, StoreError> {
        if let Some(id) = self.try_insert_inbound(n, n.dedup_key).await? {
            return Ok(RawInsert::Inserted(id));
        }
        let existing: Option<(String,)> = sqlx::query_as("SELECT sha256 FROM inbound WHERE space_id = $1 AND dedup_key = $2")
            .bind(n.space_id)
            .bind(n.dedup_key)
            .fetch_optional(self.conn())
            .await?;
        if existing.is_none_or(|(hash,)| hash == n.content_hash) {
            return Ok(RawInsert::Duplicate);
        }
        let qualified = format!("{}#{}", n.dedup_key, &n.content_hash[..16.min(n.content_hash.len())]);
        Ok(match self.try_insert_inbound(n, &qualified).await? {
            Some(id) => RawInsert::Inserted(id),
            None => RawInsert::Duplicate,
        })
    }

    async fn try_insert_inbound(&mut self, n: &NewInbound<'_>, key: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO inbound (space_id, dedup_key, sha256, raw, source, mail_from, rcpt_to, received_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received') ON CONFLICT (space_id, dedup_key) DO NOTHING RETURNING id",
        )
        .bind(n.space_id)
        .bind(key)
        .bind(n.content_hash)
        .bind(n.raw)
        .bind(n.source)
        .bind(n.mail_from)
        .bind(n.rcpt_to)
        .bind(n.received_at)
        .fetch_optional(self.conn())
        .await?;
        Ok(row.map(|(id,)| id))
    }

    pub async fn mark_inbound(&mut self, id: i64, state: super::states::InboundState, error: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE inbound SET state = $1, error = $2 WHERE id = $3")
            .bind(state.as_str())
            .bind(error)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Looks up every thread the message could belong to (see `thread::assign` for the policy).
    pub async fn thread_candidates(
        &mut self,
        space_id: i64,
        message_id: Option<&str>,
        parents: &[String],
        subject_key: Option<(&str, i64)>,
        token_thread: Option<i64>,
    ) -> Result<Candidates, StoreError> {
        let parents = &parents[..parents.len().min(MAX_REFS)];
        let mut c = Candidates::default();
        if let Some(thread) = token_thread {
            // A verified token still only counts for a live thread of this space.
            let hit: Option<(i64,)> = sqlx::query_as("SELECT id FROM threads WHERE id = $1 AND space_id = $2")
                .bind(thread)
                .bind(space_id)
                .fetch_optional(self.conn())
                .await?;
            c.by_token = hit.map(|(t,)| t);
        }
        if !parents.is_empty() {
            let known: Vec<(String, i64)> =
                self.by_ids("SELECT message_id, thread_id FROM messages WHERE space_id = $1 AND message_id IN", space_id, parents).await?;
            c.by_parent = in_order(parents, &known);
            if c.by_parent.is_empty() {
                let siblings: Vec<(String, i64)> = self
                    .by_ids(
                        "SELECT r.ref, m.thread_id FROM message_refs r JOIN messages m ON m.id = r.message_id \
                         WHERE r.space_id = $1 AND r.ref IN",
                        space_id,
                        parents,
                    )
                    .await?;
                c.by_sibling = in_order(parents, &siblings);
            }
        }
        if let Some(id) = message_id {
            let children: Vec<(i64,)> = sqlx::query_as(
                "SELECT DISTINCT m.thread_id FROM message_refs r JOIN messages m ON m.id = r.message_id \
                 WHERE r.space_id = $1 AND r.ref = $2 ORDER BY m.thread_id",
            )
            .bind(space_id)
            .bind(id)
            .fetch_all(self.conn())
            .await?;
            c.by_child = children.into_iter().map(|(t,)| t).collect();
        }
        if let Some((key, since)) = subject_key.filter(|(k, _)| !k.is_empty()) {
            let hit: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM threads WHERE space_id = $1 AND base_subject = $2 AND last_activity_at >= $3 \
                 ORDER BY last_activity_at DESC, id DESC LIMIT 1",
            )
            .bind(space_id)
            .bind(key)
            .bind(since)
            .fetch_optional(self.conn())
            .await?;
            c.by_subject = hit.map(|(t,)| t);
        }
        Ok(c)
    }

    /// Runs `prefix ($2, $3, …)` with `space_id` as $1 and one placeholder per id.
    async fn by_ids(&mut self, prefix: &str, space_id: i64, ids: &[String]) -> Result<Vec<(String, i64)>, StoreError> {
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!("{prefix} ({})", placeholders.join(", "));
        let mut query = sqlx::query_as(&sql).bind(space_id);
        for id in ids {
            query = query.bind(id);
        }
        Ok(query.fetch_all(self.conn()).await?)
    }

    pub async fn create_thread(&mut self, space_id: i64, subject: &str, base_key: &str, date: i64) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO threads (space_id, subject, base_subject, started_at, last_activity_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(space_id)
        .bind(subject)
        .bind(base_key)
        .bind(date)
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    /// Folds the `from` threads into `into`: their messages move, the empty threads go.
    pub async fn merge_threads(&mut self, into: i64, from: &[i64]) -> Result<(), StoreError> {
        for &old in from {
            for table in ["messages", "decisions", "tasks", "proposals"] {
                let sql = format!("UPDATE {table} SET thread_id = $1 WHERE thread_id = $2");
                sqlx::query(&sql).bind(into).bind(old).execute(self.conn()).await?;
            }
            sqlx::query("DELETE FROM threads WHERE id = $1").bind(old).execute(self.conn()).await?;
        }
        if !from.is_empty() {
            self.refresh_thread(into).await?;
        }
        Ok(())
    }

    /// Recomputes a thread's dates and subject (the earliest message's) from its messages.
    async fn refresh_thread(&mut self, id: i64) -> Result<(), StoreError> {
        let first: Option<(String, i64)> =
            sqlx::query_as("SELECT subject, date FROM messages WHERE thread_id = $1 ORDER BY date, id LIMIT 1")
                .bind(id)
                .fetch_optional(self.conn())
                .await?;
        let Some((subject, started)) = first else { return Ok(()) };
        let (last,): (i64,) = sqlx::query_as("SELECT MAX(date) FROM messages WHERE thread_id = $1").bind(id).fetch_one(self.conn()).await?;
        let base = crate::thread::base_subject(&subject);
        sqlx::query("UPDATE threads SET subject = $1, base_subject = $2, started_at = $3, last_activity_at = $4 WHERE id = $5")
            .bind(&base.display)
            .bind(&base.key)
            .bind(started)
            .bind(last)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Inserts the message, its reference chain and attachment list, and updates its thread.
    pub async fn insert_message(&mut self, m: &NewMessage<'_>) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO messages (space_id, thread_id, inbound_id, message_id, from_addr, from_name, subject, date, \
             visible_text, flags, removed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(m.space_id)
        .bind(m.thread_id)
        .bind(m.inbound_id)
        .bind(m.message_id)
        .bind(m.from_addr)
        .bind(m.from_name)
        .bind(m.subject)
        .bind(m.date)
        .bind(m.visible_text)
        .bind(m.flags)
        .bind(serde_json::to_string(m.removed).unwrap_or_else(|_| "[]".into()))
        .fetch_one(self.conn())
        .await?;
        // One statement per table, not per row: each round trip to the database costs more than a row.
        let refs = &m.parents[..m.parents.len().min(MAX_REFS)];
        if !refs.is_empty() {
            let sql = format!("INSERT INTO message_refs (message_id, space_id, position, ref) VALUES {}", rows(refs.len(), 4));
            let mut q = sqlx::query(&sql);
            for (position, reference) in refs.iter().enumerate() {
                q = q.bind(id).bind(m.space_id).bind(position as i64).bind(reference);
            }
            q.execute(self.conn()).await?;
        }
        if !m.attachments.is_empty() {
            let sql = format!("INSERT INTO attachments (message_id, filename, content_type, size) VALUES {}", rows(m.attachments.len(), 4));
            let mut q = sqlx::query(&sql);
            for a in m.attachments {
                q = q.bind(id).bind(a.filename.as_deref()).bind(&a.content_type).bind(a.size as i64);
            }
            q.execute(self.conn()).await?;
        }
        // An earlier message (a late parent) renames the thread; a later one only moves its activity.
        let display = m.base;
        sqlx::query(
            "UPDATE threads SET \
               subject = CASE WHEN $1 < started_at THEN $2 ELSE subject END, \
               base_subject = CASE WHEN $1 < started_at THEN $3 ELSE base_subject END, \
               started_at = CASE WHEN $1 < started_at THEN $1 ELSE started_at END, \
               last_activity_at = CASE WHEN $1 > last_activity_at THEN $1 ELSE last_activity_at END \
             WHERE id = $4",
        )
        .bind(m.date)
        .bind(&display.display)
        .bind(&display.key)
        .bind(m.thread_id)
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    /// Records how far an archive file has been imported (committed with the batch it ends).
    pub async fn save_import_offset(&mut self, path: &str, space_id: i64, file_size: i64, offset: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO imports (path, space_id, file_size, offset_done, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (path, space_id) DO UPDATE SET file_size = $3, offset_done = $4, updated_at = $5",
        )
        .bind(path)
        .bind(space_id)
        .bind(file_size)
        .bind(offset)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    /// Where a previous import of this file stopped: `(file_size, offset_done)`.
    pub async fn import_offset(&self, path: &str, space_id: i64) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT file_size, offset_done FROM imports WHERE path = $1 AND space_id = $2")
            .bind(path)
            .bind(space_id)
            .fetch_optional(&self.pool)
            .await?)
    }
}

/// Thread ids of `found` in the order of `wanted`, without repeats.
fn in_order(wanted: &[String], found: &[(String, i64)]) -> Vec<i64> {
    let mut out = Vec::new();
    for w in wanted {
        for (id, thread) in found {
            if id == w && !out.contains(thread) {
                out.push(*thread);
            }
        }
    }
    out
}

/// `($1, $2, …), ($5, …)`: placeholders for `count` rows of `width` values.
fn rows(count: usize, width: usize) -> String {
    (0..count)
        .map(|r| format!("({})", (1..=width).map(|c| format!("${}", r * width + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::page_end;

    #[test]
    fn a_page_stops_before_the_row_that_would_pass_the_byte_bound() {
        assert_eq!(page_end(&[], 100), None);
        assert_eq!(page_end(&[(1, 40), (2, 40), (3, 40)], 100), Some(2));
        assert_eq!(page_end(&[(1, 40), (2, 60), (3, 1)], 100), Some(2), "exactly the bound fits");
        assert_eq!(page_end(&[(7, 500), (8, 1)], 100), Some(7), "a message over the bound gets a page alone");
    }
}
