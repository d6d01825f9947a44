//! DMARC (RFC 7489) for one message: SPF for the client the door saw, the From domain's policy,
//! and the verdict read from mail-auth's output (also when a trusted MTA's results decide alignment).

use super::results::{Alignment, results_alignment};
use super::{Client, Disposition, Dkim, Dmarc};
use mail_auth::dmarc::Policy;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, DkimOutput, DmarcOutput, DmarcResult, MessageAuthenticator, SpfOutput, SpfResult};

impl Dkim {
    /// SPF for the client (when its address is known), then the From domain's DMARC policy.
    pub(super) async fn dmarc(
        &self,
        resolver: &MessageAuthenticator,
        message: &AuthenticatedMessage<'_>,
        dkim: &[DkimOutput<'_>],
        client: &Client,
    ) -> Dmarc {
        let sender = client.mail_from.as_deref().unwrap_or_default();
        let helo = client.helo.as_deref().unwrap_or_default();
        let spf = match client.ip {
            // RFC 7208 §2.4: the MAIL FROM identity (postmaster@HELO for the null sender).
            Some(ip) => resolver.verify_spf(self.caches(SpfParameters::verify_mail_from(ip, helo, "", sender))).await,
            None => SpfOutput::default(),
        };
        let mail_from_domain = sender.rsplit_once('@').map_or(helo, |(_, d)| d).to_ascii_lowercase();
        let output = resolver
            .verify_dmarc(self.caches(mail_auth::dmarc::verify::DmarcParameters::new(message, dkim, &mail_from_domain, &spf)))
            .await;
        judge(&output, &spf, client.ip.is_some())
    }

    /// The DMARC verdict when a trusted MTA's Authentication-Results decide alignment; the From
    /// domain's policy is still looked up here (only when the results do not show alignment).
    pub(super) async fn dmarc_from_results(&self, raw: &[u8], headers: &[String], authserv_id: &str, from_domain: &str) -> Dmarc {
        match results_alignment(headers, authserv_id, from_domain) {
            Alignment::Aligned(how) => return Dmarc::Aligned(how),
            Alignment::TempError(why) => return Dmarc::Unavailable(why),
            Alignment::None => {}
        }
        let Some(message) = AuthenticatedMessage::parse(raw) else { return Dmarc::NoPolicy };
        let resolver = match self.resolver() {
            Ok(r) => r,
            Err(e) => return Dmarc::Unavailable(e),
        };
        let spf = SpfOutput::default();
        let output = resolver.verify_dmarc(self.caches(mail_auth::dmarc::verify::DmarcParameters::new(&message, &[], "", &spf))).await;
        match judge(&output, &spf, false) {
            Dmarc::Failed { domain, policy, .. } => {
                Dmarc::Failed { domain, policy, why: format!("{authserv_id} reported no DKIM or SPF pass aligned with it") }
            }
            other => other,
        }
    }
}

/// Reads mail-auth's DMARC output: alignment wins; then only a record that asks to refuse or hold
/// matters; a DNS failure on the way is temporary (RFC 7489 §6.6.3: the check cannot complete).
fn judge(output: &DmarcOutput, spf: &SpfOutput, spf_checked: bool) -> Dmarc {
    let domain = output.domain().to_string();
    if output.dkim_result() == &DmarcResult::Pass {
        return Dmarc::Aligned(format!("DKIM aligned with {domain}"));
    }
    if output.spf_result() == &DmarcResult::Pass {
        return Dmarc::Aligned(format!("SPF aligned with {domain}"));
    }
    let temporary = [output.dkim_result(), output.spf_result()].into_iter().find_map(|r| match r {
        DmarcResult::TempError(e) => Some(e.to_string()),
        _ => None,
    });
    // No record found: a failed lookup of the record itself is temporary, anything else is "none".
    if output.dmarc_record().is_none() {
        return match temporary {
            Some(e) => Dmarc::Unavailable(format!("the DMARC record of {domain} cannot be looked up now ({e})")),
            None => Dmarc::NoPolicy,
        };
    }
    let policy = match output.policy() {
        Policy::Reject => Disposition::Reject,
        Policy::Quarantine => Disposition::Quarantine,
        Policy::None | Policy::Unspecified => return Dmarc::NoPolicy,
    };
    if let Some(e) = temporary {
        return Dmarc::Unavailable(format!("a DNS lookup for the DMARC check of {domain} failed ({e})"));
    }
    let dkim = match output.dkim_result() {
        DmarcResult::Fail(_) => format!("a DKIM signature verified, but not for {domain}"),
        _ => format!("no DKIM signature of {domain} verified"),
    };
    let spf = match (spf_checked, spf.result()) {
        (false, _) => "SPF was not checked".to_string(),
        (true, SpfResult::Pass) => format!("SPF passed for {}, which is not {domain}", spf.domain()),
        (true, r) => format!("SPF gave {r} for {}", if spf.domain().is_empty() { "the envelope sender" } else { spf.domain() }),
    };
    Dmarc::Failed { domain, policy, why: format!("{dkim} and {spf}") }
}

#[cfg(test)]
mod tests {
    use super::super::Checks;
    use super::*;
    use std::time::Instant;

    /// DMARC through mail-auth on an offline verifier: the records are in the cache, every other
    /// name has none.
    #[tokio::test]
    async fn dmarc_verdicts() {
        let dkim = Dkim::offline();
        let until = Instant::now() + std::time::Duration::from_secs(600);
        let dns = dkim.keys();
        dns.add_record("_dmarc.reject.test", "v=DMARC1; p=reject", until).unwrap();
        dns.add_record("_dmarc.hold.test", "v=DMARC1; p=quarantine", until).unwrap();
        dns.add_record("_dmarc.none.test", "v=DMARC1; p=none", until).unwrap();
        dns.add_record("_dmarc.trying.test", "v=DMARC1; p=reject; t=y", until).unwrap();
        dns.add_record("reject.test", "v=spf1 ip4:192.0.2.1 -all", until).unwrap();
        dns.add_failure("_dmarc.down.test", until);
        assert!(dns.add_record("_dmarc.bad.test", "v=DKIM1; nonsense", until).is_err());
        let smtp = |ip: &str, mail_from: &str| Client {
            ip: Some(ip.parse().unwrap()),
            helo: Some("mx.sender.test".into()),
            mail_from: Some(mail_from.into()),
        };
        let cases: Vec<(&str, Client, &str)> = vec![
            ("reject.test", Client::default(), "reject"),
            ("sub.reject.test", Client::default(), "reject"),
            ("hold.test", Client::default(), "quarantine"),
            ("trying.test", Client::default(), "quarantine"),
            ("none.test", Client::default(), "none"),
            ("unknown.test", Client::default(), "none"),
            ("down.test", Client::default(), "unavailable"),
            ("reject.test", smtp("192.0.2.1", "x@reject.test"), "aligned"),
            ("sub.reject.test", smtp("192.0.2.1", "x@reject.test"), "aligned"),
            ("reject.test", smtp("192.0.2.9", "x@reject.test"), "reject"),
            ("reject.test", smtp("192.0.2.1", "x@other.test"), "reject"),
        ];
        for (domain, client, want) in cases {
            let raw = format!("From: a@{domain}\r\nSubject: s\r\nMessage-ID: <1@{domain}>\r\n\r\nbody\r\n");
            let got = dkim.check(raw.as_bytes(), domain, &client, Checks { dkim: false, dmarc: true }).await.dmarc.unwrap();
            let name = match &got {
                Dmarc::Aligned(_) => "aligned",
                Dmarc::NoPolicy => "none",
                Dmarc::Failed { policy: Disposition::Reject, .. } => "reject",
                Dmarc::Failed { policy: Disposition::Quarantine, .. } => "quarantine",
                Dmarc::Unavailable(_) => "unavailable",
            };
            assert_eq!(name, want, "{domain} {client:?}: {got:?}");
        }
    }
}
