//! Outbound rows: the durable mail queue (exactly once per dedup key, retries with backoff,
//! permanent failures kept for `docket check`), planner cursors, digest bookkeeping, mutes, and
//! the reads the outbound planners need. A claim names its owner (node id) and a lease; only the
//! owner of a claim records its result, so two nodes sharing PostgreSQL never both own a row.
//!
//! One file per job: `queue`, `cursors`, `digests`, `mutes`, `requests` (notices and mail to the
//! commands address) and `reads` (what the planners read).

mod cursors;
mod digests;
mod mutes;
mod queue;
mod reads;
mod requests;

pub use digests::{DigestDecision, DigestMessage};
pub use queue::{FailedMail, NewOutbound, QueuedMail};
pub use reads::{ItemChange, ItemTable, LoopDecision, MessageItems, MessageOut, RecordedAsk, ThreadMessage};
