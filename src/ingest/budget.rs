//! The memory budget for message data being received (`smtp.memory_budget`), shared by every
//! SMTP and LMTP session: each session holds a `Reservation` as large as what it buffers, grown as
//! DATA arrives; growth past the budget is refused, and the session answers 452 4.3.1. So what all
//! clients together make the server hold stays under one configured bound. A stored message's
//! parse keeps a share split off the session's until it is processed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
