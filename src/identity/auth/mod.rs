//! Sender authentication. `security.require_dkim`: a posted message must carry a DKIM signature
//! (RFC 6376) that verifies for a domain aligned with its From address (relaxed alignment, RFC 7489
//! §3.1.1). `security.dmarc`: when the From domain publishes a DMARC policy of `p=quarantine` or
//! `p=reject` (RFC 7489 §6.3), the message must be DKIM- or SPF-aligned with it (mail-auth
//! evaluates DKIM, SPF for the client the SMTP door saw, and the policy). docket verifies itself,
//! or, behind an MTA that already did (`security.trusted_authserv_id`), reads that MTA's
//! Authentication-Results header (RFC 8601). DNS answers are cached for their TTL; tests fill the
//! cache instead, and an offline verifier (`Dkim::offline`) answers "no record" for the rest.
//!
//! This module holds the verdict types and the entry points; the work is in `dkim` (the verifier
//! and the DKIM verdict), `dmarc` (SPF and the DMARC verdict), `results` (a trusted MTA's
//! Authentication-Results) and `cache` (the DNS answers mail-auth is given).

mod cache;
mod dkim;
mod dmarc;
mod results;

pub use cache::KeyCache;
pub use dkim::Dkim;
pub use results::from_results;

use crate::parse::mime::ParsedMail;
use dkim::unreadable_dkim;
use std::net::IpAddr;

/// What authentication says about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// A signature of this domain passed and is aligned with the From domain.
    Pass(String),
    /// No passing, aligned signature: why, for the sender.
    Fail(String),
    /// The answer is not available now (DNS trouble): the sender should retry.
    Unavailable(String),
}

/// What DMARC (RFC 7489) says about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dmarc {
    /// DKIM or SPF passed for a domain aligned with the From domain (how, for the log).
    Aligned(String),
    /// The From domain asks nothing of receivers: no DMARC record, or `p=none`.
    NoPolicy,
    /// Not aligned, and the From domain's policy asks receivers to refuse or hold such mail.
    Failed { domain: String, policy: Disposition, why: String },
    /// A DNS lookup the check needs failed for now: the sender should retry.
    Unavailable(String),
}

/// What a DMARC policy asks for mail that fails it (RFC 7489 §6.3 `p=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Quarantine,
    Reject,
}

impl std::fmt::Display for Disposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Disposition::Quarantine => "p=quarantine",
            Disposition::Reject => "p=reject",
        })
    }
}

/// What the door knows about the client that handed the message over, for SPF (RFC 7208 §2.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// The address of the SMTP client; none behind an MTA (LMTP, the pipe), where the connecting
    /// host is that MTA and SPF would judge it instead of the sender.
    pub ip: Option<IpAddr>,
    /// Its HELO/EHLO name.
    pub helo: Option<String>,
    /// The envelope sender (`MAIL FROM`), `""` for the null sender.
    pub mail_from: Option<String>,
}

/// The checks one message needs (`security.require_dkim`, `security.dmarc`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checks {
    pub dkim: bool,
    pub dmarc: bool,
}

/// The verdicts of the checks that were asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdicts {
    pub dkim: Option<Authentication>,
    pub dmarc: Option<Dmarc>,
}

/// The verdicts for `parsed` (whose raw bytes are `raw`): from the trusted MTA's
/// Authentication-Results when `trusted` names it, else by verifying here.
pub async fn check(dkim: &Dkim, trusted: Option<&str>, raw: &[u8], parsed: &ParsedMail, client: &Client, checks: Checks) -> Verdicts {
    let Some(from_domain) = parsed.from.as_ref().and_then(|f| f.email.rsplit_once('@')).map(|(_, d)| d.to_ascii_lowercase()) else {
        // No From to align with: the policy refuses such mail on its own.
        let none = Authentication::Fail("the message has no From address to authenticate".into());
        return Verdicts { dkim: checks.dkim.then_some(none), dmarc: None };
    };
    match trusted {
        Some(id) => Verdicts {
            dkim: checks.dkim.then(|| from_results(&parsed.auth_results, id, &from_domain)),
            dmarc: match checks.dmarc {
                true => Some(dkim.dmarc_from_results(raw, &parsed.auth_results, id, &from_domain).await),
                false => None,
            },
        },
        None => dkim.check(raw, &from_domain, client, checks).await,
    }
}

/// The DKIM verdict for `parsed` (whose raw bytes are `raw`): from the trusted MTA's
/// Authentication-Results when `trusted` names it, else by verifying the signatures here.
pub async fn authenticate(dkim: &Dkim, trusted: Option<&str>, raw: &[u8], parsed: &ParsedMail) -> Authentication {
    let checks = Checks { dkim: true, dmarc: false };
    check(dkim, trusted, raw, parsed, &Client::default(), checks).await.dkim.unwrap_or_else(unreadable_dkim)
}

/// Relaxed alignment: the signing domain is the From domain or a parent of it (RFC 7489 §3.1.1).
/// A bare top-level domain never aligns.
pub fn aligned(signing: &str, from_domain: &str) -> bool {
    let (s, f) = (signing.trim_end_matches('.').to_ascii_lowercase(), from_domain.trim_end_matches('.').to_ascii_lowercase());
    s.contains('.') && (f == s || f.ends_with(&format!(".{s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment() {
        for (d, from, want) in [
            ("example.org", "example.org", true),
            ("example.org", "mail.example.org", true),
            ("EXAMPLE.org", "example.ORG.", true),
            ("mail.example.org", "example.org", false),
            ("ample.org", "example.org", false),
            ("org", "example.org", false),
            ("", "example.org", false),
        ] {
            assert_eq!(aligned(d, from), want, "{d} vs {from}");
        }
    }
}
