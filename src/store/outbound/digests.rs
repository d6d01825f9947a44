//! Digest bookkeeping (the slot last considered per member, when its digest was built) and the
//! reads a digest is made of: members, new decisions, active threads.

use crate::store::items::DecisionRow;
use crate::store::messages::Tx;
use crate::store::spaces::Member;
use crate::store::{Store, StoreError};

/// A thread that had messages since some time, for digests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActiveThread {
    pub id: i64,
    pub subject: String,
    pub new_messages: i64,
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
        Ok(sqlx::query_as(
            "SELECT id, space_id, email, handle, tz, delivery, digest_time, digest_days, role, created_at FROM members \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Decisions of a space that became known in `(since, until]`, oldest first. Known = when it
    /// was made or, for a message that arrived later than its Date says, when it arrived.
    pub async fn decisions_since(&self, space_id: i64, since: i64, until: i64) -> Result<Vec<DecisionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, space_id, thread_id, text, author, decided_at, source FROM (\
               SELECT d.id, d.space_id, d.thread_id, d.text, d.author, d.decided_at, d.source, \
                 CASE WHEN i.received_at IS NOT NULL AND i.received_at > d.decided_at THEN i.received_at ELSE d.decided_at END AS known \
               FROM decisions d LEFT JOIN messages m ON m.id = d.message_id LEFT JOIN inbound i ON i.id = m.inbound_id \
               WHERE d.space_id = $1) k \
             WHERE known > $2 AND known <= $3 ORDER BY decided_at, id",
        )
        .bind(space_id)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Threads of a space with messages that arrived in `(since, until]`, busiest first.
    pub async fn active_threads(&self, space_id: i64, since: i64, until: i64) -> Result<Vec<ActiveThread>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT t.id, t.subject, COUNT(m.id) AS new_messages FROM threads t JOIN messages m ON m.thread_id = t.id \
             JOIN inbound i ON i.id = m.inbound_id \
             WHERE t.space_id = $1 AND i.received_at > $2 AND i.received_at <= $3 GROUP BY t.id, t.subject ORDER BY COUNT(m.id) DESC, t.id",
        )
        .bind(space_id)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }
}
