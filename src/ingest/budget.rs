//! The memory budget for message data being received and stored (`smtp.memory_budget`), shared
//! by every SMTP and LMTP session: each session holds a `Reservation` of `COST_FACTOR` times what it
//! buffers, grown as DATA arrives; growth past the budget is refused, and the session answers
//! 452 4.3.1. A received message keeps its whole share, split off the session's, until it is
//! committed and threaded. So what all clients together make the server hold stays under one
//! configured bound, copies made while storing included.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a message costs in memory at its peak on the way to the store, in multiples of its size.
/// Measured on a 40 MiB message (issue 11): parse and visible text 3.8×; the raw insert 5.05× (the
/// message, its visible text, and three copies of the bound blob: sqlx's arguments for the database
/// thread, SQLite's own, the record); threading 4.0× (the visible text and the three copies of it
/// as it is bound). One more for headroom (DKIM hashing, allocator slack).
pub const COST_FACTOR: u64 = 6;

/// Room kept out of the sessions' reach, in multiples of `smtp.max_message_bytes`, for the readers
/// that follow the store and hold one message (or one bounded page) at a time whatever the clients
/// do: the fan-out planner (a message's raw bytes and visible text, each as read and as decoded)
/// and the search indexer (the text SQLite reads to cut its first part).
pub const READERS_FACTOR: u64 = 4;

/// What the sessions together may reserve out of `memory_budget`: the rest is the readers' room.
pub fn for_sessions(memory_budget: u64, max_message_bytes: u64) -> u64 {
    memory_budget.saturating_sub(max_message_bytes.saturating_mul(READERS_FACTOR))
}

/// The least `memory_budget` that takes a message of `max_message_bytes`: its own cost while it
/// is stored plus the readers' room.
pub fn least_budget(max_message_bytes: u64) -> u64 {
    max_message_bytes.saturating_mul(COST_FACTOR + READERS_FACTOR)
}

/// The share of the budget `bytes` of message data take.
pub fn cost(bytes: usize) -> u64 {
    (bytes as u64).saturating_mul(COST_FACTOR)
}

/// Bytes all sessions may hold together, and how many they hold now.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    used: AtomicU64,
}

impl Budget {
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget { limit, used: AtomicU64::new(0) })
    }

    /// Bytes reserved now, by every session together.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }

    /// Takes `n` more bytes when they fit under the limit.
    fn take(&self, n: u64) -> bool {
        self.used.fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| used.checked_add(n).filter(|total| *total <= self.limit)).is_ok()
    }

    fn give_back(&self, n: u64) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// One session's share of the budget; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<Budget>,
    held: u64,
}

impl Reservation {
    pub fn new(budget: Arc<Budget>) -> Reservation {
        Reservation { budget, held: 0 }
    }

    /// Makes the share exactly `want` bytes. Shrinking always works; growing fails (and the share
    /// stays what it was) when the other sessions leave no room for it.
    pub fn resize(&mut self, want: u64) -> bool {
        if want <= self.held {
            self.budget.give_back(self.held - want);
            self.held = want;
            return true;
        }
        if !self.budget.take(want - self.held) {
            return false;
        }
        self.held = want;
        true
    }

    /// Moves up to `n` bytes of this share into a new one, so they can outlive the session (a
    /// message's parse waiting to be processed).
    pub fn split(&mut self, n: u64) -> Reservation {
        let moved = n.min(self.held);
        self.held -= moved;
        Reservation { budget: self.budget.clone(), held: moved }
    }

    pub fn held(&self) -> u64 {
        self.held
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.give_back(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_grow_until_the_budget_is_used_and_return_when_dropped() {
        let budget = Budget::new(100);
        let mut a = Reservation::new(budget.clone());
        let mut b = Reservation::new(budget.clone());
        assert!(a.resize(60));
        assert!(!b.resize(41), "60 + 41 is over 100");
        assert_eq!(b.held(), 0, "a refused growth holds nothing more");
        assert!(b.resize(40));
        assert_eq!(budget.used(), 100);
        assert!(a.resize(10), "shrinking always works");
        assert!(b.resize(90));
        drop(a);
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_split_share_stays_held_until_it_is_dropped() {
        let budget = Budget::new(100);
        let mut session = Reservation::new(budget.clone());
        assert!(session.resize(70));
        let queued = session.split(30);
        assert_eq!((session.held(), queued.held()), (40, 30));
        assert!(session.resize(0));
        assert_eq!(budget.used(), 30, "the split share outlives the session's");
        drop(queued);
        assert_eq!(budget.used(), 0);
        assert_eq!(Reservation::new(budget.clone()).split(10).held(), 0, "only what is held moves");
    }
}
