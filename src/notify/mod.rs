//! Scheduling decisions, each a pure function of (rows, now): what is due. The outbound mail
//! planners (fan-out, receipts, digests, reminders, loop alerts) join `proposals` here.

pub mod proposals;
