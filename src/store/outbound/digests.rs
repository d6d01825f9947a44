//! Digest bookkeeping (the slot last considered per member, when its digest was built) and the
//! reads a digest is made of: members, new decisions with their context, new messages with the
//! start of their visible text.

use crate::store::items::DecisionRow;
use crate::store::messages::Tx;
use crate::store::spaces::Member;
use crate::store::{Store, StoreError};

/// A message of a space as a digest shows it: its thread, who sent it, when it arrived here and
/// the start of its visible text (quotes already removed at intake).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DigestMessage {
    pub id: i64,
    pub arrived: i64,
    pub thread_id: i64,
    pub subject: String,
    pub from_addr: Option<String>,
    pub from_name: Option<String>,
    /// The first 1,024 characters of the visible text: enough for its first lines.
    pub text_start: String,
}

/// A decision as a digest shows it: when it became known, its thread's subject and the start of
/// the visible text of the message that recorded it (None for an adopted proposal).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DigestDecision {
    #[sqlx(flatten)]
    pub decision: DecisionRow,
    pub known: i64,
    pub subject: String,
    pub message_start: Option<String>,
}

/// Members per digest-slot upsert (2 parameters each).
const SLOT_CHUNK: usize = 500;

impl Tx {
    /// Records the digest slot considered for each `(member, slot)` and when (`at`) the digests
    /// were built: one multi-row upsert per [`SLOT_CHUNK`] members (a member named twice keeps
    /// the last slot).
    pub async fn set_digest_slots(&mut self, slots: &[(i64, i64)], at: i64) -> Result<(), StoreError> {
        let mut at_index: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        let mut last: Vec<(i64, i64)> = Vec::with_capacity(slots.len());
        for &(member, slot) in slots {
            match at_index.get(&member) {
                Some(&i) => last[i].1 = slot,
                None => {
                    at_index.insert(member, last.len());
                    last.push((member, slot));
                }
            }
        }
        for chunk in last.chunks(SLOT_CHUNK) {
            let rows: Vec<String> = (0..chunk.len()).map(|i| format!("(${}, ${}, $1)", 2 + 2 * i, 3 + 2 * i)).collect();
            let sql = format!(
                "INSERT INTO digest_state (member_id, last_slot, last_at) VALUES {} \
                 ON CONFLICT (member_id) DO UPDATE SET last_slot = excluded.last_slot, last_at = excluded.last_at",
                rows.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(at);
            for &(member, slot) in chunk {
                q = q.bind(member).bind(slot);
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// A digest sent on demand (`digest` to the commands address) counts as built at `at`: the
    /// next scheduled one tells only what is newer; the last considered slot stays.
    pub async fn set_digest_built(&mut self, member_id: i64, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO digest_state (member_id, last_slot, last_at) VALUES ($1, 0, $2) \
             ON CONFLICT (member_id) DO UPDATE SET last_at = $2",
        )
        .bind(member_id)
        .bind(at)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    /// (member id, last slot, built at) for the members in `[from, to]`.
    pub async fn digest_slots(&self, from: i64, to: i64) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT member_id, last_slot, last_at FROM digest_state WHERE member_id >= $1 AND member_id <= $2")
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every member of every space (for the digest planner), in id order, from `after`.
    pub async fn members_after(&self, after: i64, limit: i64) -> Result<Vec<Member>, StoreError> {
        let sql = format!("SELECT {} FROM members WHERE id > $1 ORDER BY id LIMIT $2", crate::store::spaces::MEMBER_COLUMNS);
        Ok(sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(&self.pool).await?)
    }

    /// Decisions of a space that became known in `(since, until]`, oldest first. Known = when it
    /// was made or, for a message that arrived later than its Date says, when it arrived.
    pub async fn digest_decisions(&self, space_id: i64, since: i64, until: i64) -> Result<Vec<DigestDecision>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, space_id, thread_id, text, author, decided_at, source, known, subject, message_start FROM (\
               SELECT d.id, d.space_id, d.thread_id, d.text, d.author, d.decided_at, d.source, t.subject, \
                 SUBSTR(m.visible_text, 1, 1024) AS message_start, \
                 CASE WHEN i.received_at IS NOT NULL AND i.received_at > d.decided_at THEN i.received_at ELSE d.decided_at END AS known \
               FROM decisions d JOIN threads t ON t.id = d.thread_id \
               LEFT JOIN messages m ON m.id = d.message_id LEFT JOIN inbound i ON i.id = m.inbound_id \
               WHERE d.space_id = $1) k \
             WHERE known > $2 AND known <= $3 ORDER BY decided_at, id",
        )
        .bind(space_id)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Messages of a space that arrived in `(since, until]`, in arrival order, with the start of
    /// their visible text: one read serves every member's digest of the space.
    pub async fn digest_messages(&self, space_id: i64, since: i64, until: i64) -> Result<Vec<DigestMessage>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT m.id, i.received_at AS arrived, m.thread_id, t.subject, m.from_addr, m.from_name, \
               SUBSTR(m.visible_text, 1, 1024) AS text_start \
             FROM messages m JOIN threads t ON t.id = m.thread_id JOIN inbound i ON i.id = m.inbound_id \
             WHERE t.space_id = $1 AND i.received_at > $2 AND i.received_at <= $3 ORDER BY i.received_at, m.id",
        )
        .bind(space_id)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }
}
