//! The sender verifier (`Dkim`): mail-auth's resolver (made on first use) with our caches, the
//! checks run on one message, and the `security.require_dkim` verdict from its DKIM results.

use super::cache::{KeyCache, Nothing};
use super::{Authentication, Checks, Client, Dmarc, Verdicts, aligned};
use mail_auth::{AuthenticatedMessage, DkimOutput, DkimResult, MX, MessageAuthenticator, Parameters};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// The sender verifier (DKIM, SPF, DMARC): a DNS resolver (made on first use) and a cache of the
/// answers it fetched.
pub struct Dkim {
    resolver: OnceLock<Result<MessageAuthenticator, String>>,
    keys: KeyCache,
    mx: Nothing<Box<str>, MX>,
    ipv4: Nothing<Box<str>, Ipv4Addr>,
    ipv6: Nothing<Box<str>, Ipv6Addr>,
    ptr: Nothing<IpAddr, Box<str>>,
}

impl std::fmt::Debug for Dkim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dkim").field("cached", &self.keys.len()).field("offline", &self.keys.offline).finish()
    }
}

impl Default for Dkim {
    fn default() -> Self {
        Dkim::new(false)
    }
}

/// The caches mail-auth is given (TXT answers, and the address kinds SPF may look up).
type Caches<'x, P> =
    Parameters<'x, P, KeyCache, Nothing<Box<str>, MX>, Nothing<Box<str>, Ipv4Addr>, Nothing<Box<str>, Ipv6Addr>, Nothing<IpAddr, Box<str>>>;

impl Dkim {
    /// A verifier that never asks DNS: a name missing from the cache has no record (NXDOMAIN).
    /// For tests and tools; a server uses `Dkim::default()`.
    pub fn offline() -> Dkim {
        Dkim::new(true)
    }

    fn new(offline: bool) -> Dkim {
        Dkim {
            resolver: OnceLock::new(),
            keys: KeyCache::new(offline),
            mx: Nothing::new(offline),
            ipv4: Nothing::new(offline),
            ipv6: Nothing::new(offline),
            ptr: Nothing::new(offline),
        }
    }

    /// DNS TXT answers (DKIM keys, SPF and DMARC records): tests add them here.
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    pub(super) fn resolver(&self) -> Result<&MessageAuthenticator, String> {
        // Offline, every answer comes from the caches: a resolver without the system's settings
        // (never asked) keeps a host without /etc/resolv.conf working.
        let make = || match self.keys.offline {
            true => MessageAuthenticator::new_cloudflare(),
            false => MessageAuthenticator::new_system_conf(),
        };
        match self.resolver.get_or_init(|| make().map_err(|e| e.to_string())) {
            Ok(r) => Ok(r),
            Err(e) => Err(format!("no DNS resolver: {e}")),
        }
    }

    pub(super) fn caches<P>(&self, params: P) -> Caches<'_, P> {
        Parameters {
            params,
            cache_txt: Some(&self.keys),
            cache_mx: Some(&self.mx),
            cache_ptr: Some(&self.ptr),
            cache_ipv4: Some(&self.ipv4),
            cache_ipv6: Some(&self.ipv6),
        }
    }

    /// Verifies every DKIM signature of `raw` and looks for one aligned with `from_domain`.
    pub async fn verify(&self, raw: &[u8], from_domain: &str) -> Authentication {
        let checks = Checks { dkim: true, dmarc: false };
        self.check(raw, from_domain, &Client::default(), checks).await.dkim.unwrap_or_else(unreadable_dkim)
    }

    /// Runs the checks asked for on `raw` (From domain `from_domain`): DKIM once, shared by both.
    pub async fn check(&self, raw: &[u8], from_domain: &str, client: &Client, checks: Checks) -> Verdicts {
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            // No headers at all: nothing to align with (the policy refuses mail without a From).
            return Verdicts { dkim: checks.dkim.then(unreadable_dkim), dmarc: None };
        };
        let resolver = match self.resolver() {
            Ok(r) => r,
            Err(e) => {
                let dmarc = checks.dmarc.then(|| Dmarc::Unavailable(e.clone()));
                return Verdicts { dkim: checks.dkim.then_some(Authentication::Unavailable(e)), dmarc };
            }
        };
        let outputs = resolver.verify_dkim(self.caches(&message)).await;
        let dkim = checks.dkim.then(|| dkim_verdict(&outputs, from_domain));
        let dmarc = match checks.dmarc {
            true => Some(self.dmarc(resolver, &message, &outputs, client).await),
            false => None,
        };
        Verdicts { dkim, dmarc }
    }
}

pub(super) fn unreadable_dkim() -> Authentication {
    Authentication::Fail("the message cannot be read for DKIM verification".into())
}

/// `security.require_dkim`: one passing signature of a domain aligned with From.
fn dkim_verdict(outputs: &[DkimOutput<'_>], from_domain: &str) -> Authentication {
    let mut failures = Vec::new();
    let mut temporary = None;
    for out in outputs {
        let domain = out.signature().map(|s| s.d.to_ascii_lowercase()).unwrap_or_default();
        match out.result() {
            DkimResult::Pass if aligned(&domain, from_domain) => return Authentication::Pass(domain),
            DkimResult::Pass => failures.push(format!("d={domain} is not the From domain {from_domain}")),
            DkimResult::TempError(e) => temporary = Some(format!("d={domain}: {e}")),
            DkimResult::Fail(e) | DkimResult::PermError(e) | DkimResult::Neutral(e) => failures.push(format!("d={domain}: {e}")),
            DkimResult::None => {}
        }
    }
    if let Some(why) = temporary {
        return Authentication::Unavailable(format!("DKIM key lookup failed ({why})"));
    }
    Authentication::Fail(if failures.is_empty() {
        format!("no DKIM signature from {from_domain}")
    } else {
        format!("no valid DKIM signature from {from_domain} ({})", failures.join("; "))
    })
}
