//! How far the index has read each table, as a watermark per feed (messages, decisions, tasks,
//! item history): every row id at or below `done` is indexed. Row ids are handed out before
//! their transaction commits, so on PostgreSQL a smaller id can become visible after a larger one;
//! rows above a gap are indexed at once and remembered, and the watermark waits at the gap for
//! `GAP_GRACE` seconds (a rolled-back insert leaves a gap forever) before stepping over it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How long a missing id is waited for before it is taken to be a rolled-back insert.
pub const GAP_GRACE: i64 = 60;

/// What the index has read, stored in its commit payload (so it moves with the documents).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    pub schema: u32,
    pub messages: i64,
    pub decisions: i64,
    pub tasks: i64,
    pub history: i64,
}

/// The progress of one feed in memory.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    done: i64,
    /// Ids above `done` already indexed.
    above: BTreeSet<i64>,
    /// The first missing id and when it was first seen missing (unix seconds).
    gap: Option<(i64, i64)>,
}

impl Progress {
    pub fn new(done: i64) -> Self {
        Progress { done, ..Progress::default() }
    }

    /// Every id at or below this one is indexed (or was given up as never committed).
    pub fn done(&self) -> i64 {
        self.done
    }

    /// The ids of `ids` (all above `done`) not indexed yet.
    pub fn wanted(&self, ids: &[i64]) -> Vec<i64> {
        ids.iter().copied().filter(|id| *id > self.done && !self.above.contains(id)).collect()
    }

    /// Marks ids as indexed.
    pub fn handled(&mut self, ids: &[i64]) {
        self.above.extend(ids.iter().copied().filter(|id| *id > self.done));
    }

    /// Moves `done` up over contiguous handled ids, and over a gap older than `GAP_GRACE`.
    pub fn advance(&mut self, now: i64) {
        loop {
            while self.above.remove(&(self.done + 1)) {
                self.done += 1;
            }
            let Some(&next) = self.above.first() else {
                self.gap = None;
                return;
            };
            let missing = self.done + 1;
            match self.gap {
                Some((id, since)) if id == missing && now - since >= GAP_GRACE => {
                    tracing::debug!(from = missing, to = next - 1, "search index: stepping over ids never committed");
                    self.done = next - 1;
                    self.gap = None;
                }
                Some((id, _)) if id == missing => return,
                _ => {
                    self.gap = Some((missing, now));
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_ids_move_the_watermark() {
        let mut p = Progress::new(0);
        assert_eq!(p.wanted(&[1, 2, 3]), [1, 2, 3]);
        p.handled(&[1, 2, 3]);
        p.advance(100);
        assert_eq!(p.done(), 3);
        assert_eq!(p.wanted(&[4]), [4]);
    }

    #[test]
    fn a_late_commit_below_the_watermark_is_still_indexed() {
        let mut p = Progress::new(0);
        // 2 is not visible yet (its transaction is still open); 1 and 3 are.
        p.handled(&[1, 3]);
        p.advance(100);
        assert_eq!(p.done(), 1);
        assert_eq!(p.wanted(&[3, 4]), [4], "3 is not indexed twice");
        p.handled(&[4]);
        p.advance(101);
        assert_eq!(p.done(), 1, "waits at the gap");
        // 2 commits.
        assert_eq!(p.wanted(&[2, 3, 4]), [2]);
        p.handled(&[2]);
        p.advance(102);
        assert_eq!(p.done(), 4);
    }

    #[test]
    fn a_gap_that_never_fills_is_stepped_over_after_the_grace() {
        let mut p = Progress::new(10);
        p.handled(&[12, 13]);
        p.advance(1000);
        assert_eq!(p.done(), 10);
        p.advance(1000 + GAP_GRACE - 1);
        assert_eq!(p.done(), 10);
        p.advance(1000 + GAP_GRACE);
        assert_eq!(p.done(), 13);
        // A second gap gets its own grace.
        p.handled(&[15]);
        p.advance(5000);
        assert_eq!(p.done(), 13);
        p.advance(5000 + GAP_GRACE);
        assert_eq!(p.done(), 15);
    }
}
