//! Work counting for the pure parsers, so tests can check that work grows linearly with the input
//! without a clock: the scans add what they look at (a line visited, the bytes given to a regex or
//! joined into a window, the markup read). One thread-local counter, a few adds per line, never
//! read by the parsers themselves.

use std::cell::Cell;

thread_local! {
    static DONE: Cell<u64> = const { Cell::new(0) };
}

/// Counts `n` units of work on this thread.
pub(crate) fn add(n: usize) {
    DONE.with(|d| d.set(d.get().wrapping_add(n as u64)));
}

/// Runs `f` and returns its result with the work the parsers counted on this thread meanwhile
/// (deterministic: the same input always counts the same).
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = DONE.with(Cell::get);
    let out = f();
    (out, DONE.with(Cell::get).wrapping_sub(before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_counts_what_runs_inside() {
        let ((), n) = measure(|| {
            add(3);
            add(4);
        });
        assert_eq!(n, 7);
        let (((), inner), outer) = measure(|| measure(|| add(2)));
        assert_eq!((inner, outer), (2, 2));
    }
}
