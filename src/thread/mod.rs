//! Threading: which conversation a message belongs to. Pure: `subject` reduces subjects, `assign`
//! decides from the candidates the store looked up (`store::messages` does the lookups).

pub mod assign;
pub mod subject;

pub use assign::{Assignment, Candidates, Target, assign};
pub use subject::{BaseSubject, base_subject};

/// How long a subject-only match may reach back (a "Re: question" from last year is a new thread).
pub const SUBJECT_WINDOW_SECS: i64 = 60 * 24 * 3600;
