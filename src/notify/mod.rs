//! Outbound mail. The planners are pure functions of (rows, now) saying what is due, each result
//! keyed by (kind, recipient, item, period) so the same mail is never queued twice:
//! `fanout`, `receipts`, `reminders`, `proposals` (lazy consensus and its notices), `asks`, `digest`,
//! `loops`. `render` turns a plan into a mail (askama, text + HTML), `outbound` is the durable
//! queue with retries, `mailer` the only lettre user, and `jobs` the I/O glue that loads rows,
//! runs the planners at `now`, queues and sends (called by `tick`), including the replies the
//! commands stage of the intake (`ingest::commands`) recorded as owed.

pub mod asks;
pub mod digest;
pub mod fanout;
pub mod jobs;
pub mod login;
pub mod loops;
pub mod mailer;
pub mod outbound;
pub mod proposals;
pub mod receipts;
pub mod reminders;
pub mod render;

/// What kind of mail a queue row is (stored in `outbound.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fanout,
    Receipt,
    Reminder,
    Proposal,
    Digest,
    Loop,
    Command,
    Notice,
    /// A web sign-in link (`notify::login`).
    Login,
    /// An ask's reminder or outcome (`notify::asks`).
    Ask,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fanout => "fanout",
            Kind::Receipt => "receipt",
            Kind::Reminder => "reminder",
            Kind::Proposal => "proposal",
            Kind::Digest => "digest",
            Kind::Loop => "loop",
            Kind::Command => "command",
            Kind::Notice => "notice",
            Kind::Login => "login",
            Kind::Ask => "ask",
        }
    }

    pub const ALL: [Kind; 10] = [
        Kind::Fanout,
        Kind::Receipt,
        Kind::Reminder,
        Kind::Proposal,
        Kind::Digest,
        Kind::Loop,
        Kind::Command,
        Kind::Notice,
        Kind::Login,
        Kind::Ask,
    ];
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown kind of mail '{s}'"))
    }
}

pub use crate::space::{local_time, zone};

/// Why an outbound run (or a preview, or `docket check`'s look at kept mail) stopped.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The store cannot be read or written right now, or refused a write.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A mail that has to be rendered now (a preview) cannot be.
    #[error(transparent)]
    Render(#[from] render::RenderError),
}

impl NotifyError {
    /// Whether trying again later may work (the database is down or full).
    pub fn is_temporary(&self) -> bool {
        matches!(self, NotifyError::Store(e) if e.is_temporary())
    }
}

/// `@handle` or the address itself appears in `text` as a word.
pub fn mentions(text: &str, handle: &str, email: &str) -> bool {
    let lower = text.to_lowercase();
    let word_end = |rest: &str| {
        !rest.starts_with(|c: char| {
            c.is_alphanumeric() || matches!(c, '_' | '-' | '@') || (c == '.' && rest[1..].starts_with(char::is_alphanumeric))
        })
    };
    let find = |needle: &str| lower.match_indices(needle).any(|(i, _)| word_end(&lower[i + needle.len()..]));
    find(&format!("@{}", handle.to_lowercase())) || find(&email.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mention_words() {
        let check = |text: &str, want: bool| assert_eq!(mentions(text, "bob", "bob@example.org"), want, "{text}");
        check("@bob can you look?", true);
        check("thanks @Bob.", true);
        check("ask bob@example.org", true);
        check("@bobby not you", false);
        check("@bob.smith not you", false);
        check("bob without at", false);
    }

    /// Issue 13: the outbound side has an error of its own; a render error stays one (it was a
    /// store "conflict" before) and only a store that is down is worth retrying.
    #[test]
    fn notify_errors_keep_their_cause() {
        let down = NotifyError::from(crate::store::StoreError::Unavailable("disk full".into()));
        assert!(down.is_temporary());
        let render = NotifyError::from(render::RenderError::Plan("unknown header".into()));
        assert!(matches!(render, NotifyError::Render(render::RenderError::Plan(_))) && !render.is_temporary());
        assert_eq!(render.to_string(), render::RenderError::Plan("unknown header".into()).to_string());
    }

    #[test]
    fn kinds_read_back_as_written() {
        for kind in Kind::ALL {
            assert_eq!(kind.to_string().parse::<Kind>(), Ok(kind));
        }
        assert!("letter".parse::<Kind>().is_err());
    }
}
