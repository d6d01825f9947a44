//! The SMTP reply for a sender-policy refusal (RFC 3463 status codes): the one place where a
//! verdict of `identity::policy` becomes protocol.

use super::session::Reply;
use crate::identity::policy::Reason;

/// A refusal as the SMTP/LMTP door answers it.
pub trait Refusal {
    fn reply(&self) -> Reply;
}

impl Refusal for Reason {
    /// The SMTP reply when this reason rejects (RFC 3463 status codes).
    fn reply(&self) -> Reply {
        let status = match self {
            Reason::TooManyHops(_) | Reason::OwnMail => (5, 4, 6),
            Reason::NoFrom => (5, 6, 0),
            Reason::Unauthenticated(_) => (5, 7, 20), // RFC 7372 §3.1: no passing DKIM signature
            Reason::Dmarc { .. } => (5, 7, 26),       // RFC 7372 §3.3: multiple authentication checks failed
            Reason::AuthUnavailable(_) => (4, 4, 3),  // RFC 3463: directory (DNS) server failure
            _ => (5, 7, 1),
        };
        let code = match status {
            (5, 4, 6) => 554,
            (4, ..) => 451,
            _ => 550,
        };
        Reply::new(code, status, self.describe())
    }
}
