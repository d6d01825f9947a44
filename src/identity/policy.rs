//! Sender policy (docs/mail-flow.md) as a pure decision over one delivered message: who may post, what is an
//! auto-reply or a bounce, what is a loop. A rejection's SMTP reply is the intake's business
//! (`ingest::refusal`); quarantined mail is kept with its reason and only a human sender (never an
//! automaton) is told why, once.

use super::auth::{Authentication, Disposition, Dmarc};
use crate::config::AcceptFrom;
use crate::parse::mime::ParsedMail;

/// More Received headers than this is a routing loop (RFC 5321 §6.3; Postfix uses 50, Exim 30).
pub const MAX_HOPS: usize = 30;

/// What the policy knows about one delivery into one space.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Envelope sender; `Some("")` is the null sender `<>` of bounces. None when there was no
    /// SMTP envelope (a pipe without `--sender`).
    pub mail_from: Option<&'a str>,
    pub parsed: &'a ParsedMail,
    /// Whether the header From is a member of the space.
    pub from_is_member: bool,
    /// The member a verified reply token was issued to, when the mail came through one.
    pub token_member: Option<&'a str>,
    pub accept_from: AcceptFrom,
    /// This server's domain: our own Message-IDs and X-Loop values carry it.
    pub domain: &'a str,
    /// The DKIM verdict when `security.require_dkim` asks for one.
    pub auth: Option<&'a Authentication>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Kept, not posted; `notify` says whether the sender gets one notice.
    Quarantine(Reason),
    Reject(Reason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Envelope sender `<>`: a bounce or a delivery notification.
    NullSender,
    /// RFC 3834 `Auto-Submitted` other than `no`.
    AutoSubmitted(String),
    /// `Precedence: bulk|junk|list`.
    Precedence(String),
    /// `multipart/report` (a DSN or MDN).
    Report,
    /// Mail we generated came back (our Message-ID, or our X-Loop).
    OwnMail,
    TooManyHops(usize),
    NoFrom,
    NotMember(String),
    /// A reply token issued to a member, used by an address that is not a member of the space
    /// (whose address it was issued to is never said: that would leak it to a stranger).
    TokenMismatch {
        from: String,
    },
    /// `security.require_dkim` and no passing DKIM signature of the From domain.
    Unauthenticated(String),
    /// `security.require_dkim` or `security.dmarc`, and what they need cannot be looked up now.
    AuthUnavailable(String),
    /// `security.dmarc`: the From domain publishes `p=reject` or `p=quarantine` and the message is
    /// not aligned with it (a forged From, RFC 7489 §6.6.2).
    Dmarc {
        domain: String,
        policy: Disposition,
        why: String,
    },
}

impl Reason {
    /// Short stable name, stored with quarantined mail and shown by `docket quarantine list`.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NullSender => "null-sender",
            Reason::AutoSubmitted(_) => "auto-submitted",
            Reason::Precedence(_) => "precedence",
            Reason::Report => "report",
            Reason::OwnMail => "loop",
            Reason::TooManyHops(_) => "hops",
            Reason::NoFrom => "no-from",
            Reason::NotMember(_) => "not-member",
            Reason::TokenMismatch { .. } => "token-mismatch",
            Reason::Unauthenticated(_) => "unauthenticated",
            Reason::AuthUnavailable(_) => "auth-unavailable",
            Reason::Dmarc { .. } => "dmarc",
        }
    }

    /// Whether a human sent this: only humans are told why (never answer an automaton).
    pub fn notify_sender(&self) -> bool {
        matches!(self, Reason::NotMember(_) | Reason::TokenMismatch { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Reason::NullSender => "bounce or delivery notification (empty envelope sender)".into(),
            Reason::AutoSubmitted(v) => format!("automatic reply (Auto-Submitted: {v})"),
            Reason::Precedence(v) => format!("bulk mail (Precedence: {v})"),
            Reason::Report => "delivery or read report (multipart/report)".into(),
            Reason::OwnMail => "mail loop: this is mail docket sent".into(),
            Reason::TooManyHops(n) => format!("mail loop: {n} Received headers (more than {MAX_HOPS})"),
            Reason::NoFrom => "the message has no From: address, so its author is unknown".into(),
            Reason::NotMember(from) => format!("{from} is not a member of this space; ask a space admin to add you"),
            Reason::TokenMismatch { from } => {
                format!("this reply address belongs to another member's copy and {from} is not a member of this space; held for an admin")
            }
            Reason::Unauthenticated(why) => format!("sender not authenticated: {why}"),
            Reason::AuthUnavailable(why) => format!("cannot check the sender's authentication now: {why}"),
            Reason::Dmarc { domain, policy, why } => format!(
                "unauthenticated mail from {domain}: its DMARC policy ({policy}) asks to refuse mail that is not DKIM- or SPF-aligned with it, and {why}; send it through {domain}'s own mail servers"
            ),
        }
    }
}

/// The verdict without DMARC (`judge` with none).
pub fn decide(f: &Facts<'_>) -> Verdict {
    judge(f, None)
}

/// The verdict, with the DMARC result when `security.dmarc` asked for one.
pub fn judge(f: &Facts<'_>, dmarc: Option<&Dmarc>) -> Verdict {
    let m = f.parsed;
    // Loops first: nothing below may answer mail that is going round in circles.
    if m.received_count > MAX_HOPS {
        return Verdict::Reject(Reason::TooManyHops(m.received_count));
    }
    if m.message_id.as_deref().is_some_and(|id| is_own_message_id(id, f.domain)) || m.x_loop.iter().any(|v| v.contains(f.domain)) {
        return Verdict::Quarantine(Reason::OwnMail);
    }
    // Automata are filed, never posted and never answered (RFC 3834 §2).
    if f.mail_from == Some("") {
        return Verdict::Quarantine(Reason::NullSender);
    }
    if let Some(v) = m.auto_submitted.as_deref().filter(|v| !v.trim().starts_with("no")) {
        return Verdict::Quarantine(Reason::AutoSubmitted(v.trim().to_string()));
    }
    if let Some(v) = m.precedence.as_deref().map(str::trim).filter(|v| matches!(*v, "bulk" | "junk" | "list")) {
        return Verdict::Quarantine(Reason::Precedence(v.to_string()));
    }
    if m.is_report {
        return Verdict::Quarantine(Reason::Report);
    }
    let Some(from) = m.from.as_ref().map(|a| a.email.to_ascii_lowercase()) else {
        return Verdict::Reject(Reason::NoFrom);
    };
    // A forged From must not pass for a member (and is never answered: it may not be theirs).
    match f.auth {
        Some(Authentication::Fail(why)) => return Verdict::Reject(Reason::Unauthenticated(why.clone())),
        Some(Authentication::Unavailable(why)) => return Verdict::Reject(Reason::AuthUnavailable(why.clone())),
        Some(Authentication::Pass(_)) | None => {}
    }
    // A valid reply token proves the thread (it was mailed to a member), so a reply through one
    // stands without DMARC; the membership checks below still apply.
    if f.token_member.is_none() {
        match dmarc {
            Some(Dmarc::Failed { domain, policy, why }) => {
                let reason = Reason::Dmarc { domain: domain.clone(), policy: *policy, why: why.clone() };
                return match policy {
                    Disposition::Reject => Verdict::Reject(reason),
                    Disposition::Quarantine => Verdict::Quarantine(reason),
                };
            }
            Some(Dmarc::Unavailable(why)) => return Verdict::Reject(Reason::AuthUnavailable(why.clone())),
            Some(Dmarc::Aligned(_) | Dmarc::NoPolicy) | None => {}
        }
    }
    // Reply-All from a fan-out copy may carry other members' tokens: any member of the space may
    // post through any token of the thread; a stranger holding a member's token is held.
    if f.token_member.is_some_and(|owner| !owner.eq_ignore_ascii_case(&from)) && !f.from_is_member {
        return Verdict::Quarantine(Reason::TokenMismatch { from });
    }
    if !f.from_is_member && f.accept_from == AcceptFrom::Members {
        return Verdict::Reject(Reason::NotMember(from));
    }
    Verdict::Accept
}

/// Message-IDs docket generates: `<docket.…@DOMAIN>`.
pub fn is_own_message_id(id: &str, domain: &str) -> bool {
    id.starts_with("docket.") && id.rsplit_once('@').is_some_and(|(_, host)| host.eq_ignore_ascii_case(domain))
}

#[cfg(test)]
mod tests {
    use super::*;
    // The SMTP replies these verdicts turn into at the door.
    use crate::ingest::refusal::Refusal;
    use crate::parse::mime;

    fn verdict(headers: &str, mail_from: Option<&str>, member: bool, token_member: Option<&str>, accept: AcceptFrom) -> Verdict {
        let raw = format!("{headers}Subject: s\r\n\r\nbody\r\n");
        let parsed = mime::parse(raw.as_bytes());
        decide(&Facts {
            mail_from,
            parsed: &parsed,
            from_is_member: member,
            token_member,
            accept_from: accept,
            domain: "docket.test",
            auth: None,
        })
    }

    const FROM: &str = "From: Alice <alice@x.org>\r\nMessage-ID: <1@x.org>\r\n";

    #[test]
    fn members_post_strangers_do_not() {
        let m = AcceptFrom::Members;
        assert_eq!(verdict(FROM, Some("alice@x.org"), true, None, m), Verdict::Accept);
        assert_eq!(verdict(FROM, Some("alice@x.org"), false, None, m), Verdict::Reject(Reason::NotMember("alice@x.org".into())));
        assert_eq!(verdict(FROM, Some("alice@x.org"), false, None, AcceptFrom::Anyone), Verdict::Accept);
        assert_eq!(verdict(FROM, None, true, None, m), Verdict::Accept);
        assert_eq!(verdict("Message-ID: <2@x.org>\r\n", Some("a@x.org"), true, None, m), Verdict::Reject(Reason::NoFrom));
    }

    #[test]
    fn unauthenticated_mail_is_refused_even_from_members() {
        let parsed = mime::parse(format!("{FROM}Subject: s\r\n\r\nbody\r\n").as_bytes());
        let check = |auth: Authentication| {
            let facts = Facts {
                mail_from: Some("alice@x.org"),
                parsed: &parsed,
                from_is_member: true,
                token_member: None,
                accept_from: AcceptFrom::Members,
                domain: "docket.test",
                auth: Some(&auth),
            };
            decide(&facts)
        };
        assert_eq!(check(Authentication::Pass("x.org".into())), Verdict::Accept);
        let Verdict::Reject(r) = check(Authentication::Fail("no DKIM signature from x.org".into())) else { panic!() };
        assert_eq!((r.reply().code, r.reply().status, r.notify_sender()), (550, Some((5, 7, 20)), false));
        let Verdict::Reject(r) = check(Authentication::Unavailable("timeout".into())) else { panic!() };
        assert_eq!((r.reply().code, r.reply().status), (451, Some((4, 4, 3))));
    }

    /// Issue 11: the From domain's DMARC policy, after the loop checks and before membership (a
    /// forged From is never answered); a valid reply token exempts.
    #[test]
    fn dmarc_failures_refuse_or_hold_unless_a_token_proves_the_thread() {
        let failed = |policy| Dmarc::Failed { domain: "x.org".into(), policy, why: "no DKIM signature of x.org verified".into() };
        let check = |headers: &str, member: bool, token: Option<&str>, dmarc: &Dmarc| {
            let parsed = mime::parse(format!("{headers}Subject: s\r\n\r\nbody\r\n").as_bytes());
            let facts = Facts {
                mail_from: Some("a@evil.test"),
                parsed: &parsed,
                from_is_member: member,
                token_member: token,
                accept_from: AcceptFrom::Members,
                domain: "docket.test",
                auth: None,
            };
            judge(&facts, Some(dmarc))
        };
        let Verdict::Reject(r) = check(FROM, true, None, &failed(Disposition::Reject)) else { panic!() };
        assert_eq!((r.code(), r.reply().code, r.reply().status, r.notify_sender()), ("dmarc", 550, Some((5, 7, 26)), false));
        assert!(r.describe().contains("x.org") && r.describe().contains("p=reject"), "{}", r.describe());
        let Verdict::Quarantine(r) = check(FROM, true, None, &failed(Disposition::Quarantine)) else { panic!() };
        assert_eq!((r.code(), r.notify_sender()), ("dmarc", false));
        // A stranger is refused for DMARC, not told "not a member" (that notice could go to the forged address).
        let Verdict::Reject(r) = check(FROM, false, None, &failed(Disposition::Reject)) else { panic!() };
        assert_eq!(r.code(), "dmarc");
        assert_eq!(check(FROM, true, Some("alice@x.org"), &failed(Disposition::Reject)), Verdict::Accept);
        assert_eq!(check(FROM, true, Some("alice@x.org"), &Dmarc::Unavailable("timeout".into())), Verdict::Accept);
        let Verdict::Reject(r) = check(FROM, true, None, &Dmarc::Unavailable("timeout".into())) else { panic!() };
        assert_eq!((r.reply().code, r.reply().status), (451, Some((4, 4, 3))));
        let auto = format!("{FROM}Auto-Submitted: auto-replied\r\n");
        assert!(matches!(check(&auto, true, None, &failed(Disposition::Reject)), Verdict::Quarantine(Reason::AutoSubmitted(_))));
        for fine in [Dmarc::Aligned("DKIM aligned with x.org".into()), Dmarc::NoPolicy] {
            assert_eq!(check(FROM, true, None, &fine), Verdict::Accept);
        }
    }

    #[test]
    fn tokens_belong_to_one_member() {
        let m = AcceptFrom::Members;
        assert_eq!(verdict(FROM, Some("a@x.org"), true, Some("ALICE@x.org"), m), Verdict::Accept);
        // Issue 12: a member answering with Reply-All through another member's token posts.
        assert_eq!(verdict(FROM, Some("a@x.org"), true, Some("bob@y.org"), m), Verdict::Accept);
        let v = verdict(FROM, Some("a@x.org"), false, Some("bob@y.org"), AcceptFrom::Anyone);
        assert_eq!(v, Verdict::Quarantine(Reason::TokenMismatch { from: "alice@x.org".into() }));
        let Verdict::Quarantine(r) = v else { unreachable!() };
        assert!(!r.describe().contains("bob@y.org") && !r.reply().to_bytes().windows(9).any(|w| w == b"bob@y.org"));
    }

    #[test]
    fn automata_are_quarantined_without_notice() {
        let m = AcceptFrom::Members;
        let cases = [
            (format!("{FROM}Auto-Submitted: auto-replied\r\n"), Some("a@x.org"), "auto-submitted"),
            // Issue 11: a later `no` does not cancel an earlier sign; pre-RFC 3834 and Outlook markers count.
            (format!("{FROM}Auto-Submitted: auto-replied\r\nAuto-Submitted: no\r\n"), Some("a@x.org"), "auto-submitted"),
            (format!("{FROM}Auto-Submitted: no\r\nAuto-Submitted: auto-generated\r\n"), Some("a@x.org"), "auto-submitted"),
            (format!("{FROM}X-Autoreply: yes\r\n"), Some("a@x.org"), "auto-submitted"),
            (format!("{FROM}X-Autorespond: away\r\n"), Some("a@x.org"), "auto-submitted"),
            (format!("{FROM}X-Auto-Response-Suppress: All\r\n"), Some("a@x.org"), "auto-submitted"),
            (format!("{FROM}Precedence: bulk\r\n"), Some("a@x.org"), "precedence"),
            (format!("{FROM}Precedence: list\r\n"), Some("a@x.org"), "precedence"),
            (FROM.to_string(), Some(""), "null-sender"),
            (
                format!("{FROM}MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n"),
                Some("a@x.org"),
                "report",
            ),
            ("From: a@x.org\r\nMessage-ID: <docket.r.1@docket.test>\r\n".to_string(), Some("a@x.org"), "loop"),
            (format!("{FROM}X-Loop: eng@docket.test\r\n"), Some("a@x.org"), "loop"),
        ];
        for (headers, mail_from, code) in cases {
            match verdict(&headers, mail_from, true, None, m) {
                Verdict::Quarantine(r) => {
                    assert_eq!(r.code(), code, "{headers}");
                    assert!(!r.notify_sender());
                }
                other => panic!("{headers}: {other:?}"),
            }
        }
        // Auto-Submitted: no is a human
        assert_eq!(verdict(&format!("{FROM}Auto-Submitted: no\r\n"), Some("a@x.org"), true, None, m), Verdict::Accept);
    }

    #[test]
    fn hop_loops_are_rejected_with_5_4_6() {
        let hops = "Received: from a by b\r\n".repeat(MAX_HOPS + 1);
        let v = verdict(&format!("{hops}{FROM}"), Some("a@x.org"), true, None, AcceptFrom::Members);
        let Verdict::Reject(r) = v else { panic!("{v:?}") };
        assert_eq!(r.reply().to_bytes()[..9], *b"554 5.4.6");
    }
}
