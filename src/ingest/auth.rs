//! Sender authentication for `security.require_dkim`: a posted message must carry a DKIM signature
//! (RFC 6376) that verifies for a domain aligned with its From address (relaxed alignment, RFC 7489
//! §3.1.1). docket verifies it itself with mail-auth, or, behind an MTA that already did
//! (`security.trusted_authserv_id`), reads that MTA's Authentication-Results header (RFC 8601).
//! Public keys come from DNS and are cached for their TTL; tests put keys in the cache instead.

use crate::parse::mime::ParsedMail;
use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// Most DNS answers kept; the cache starts over when it is full.
const CACHE_ENTRIES: usize = 4096;

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

/// The DKIM verifier: a DNS resolver (made on first use) and a cache of the keys it fetched.
pub struct Dkim {
    resolver: OnceLock<Result<MessageAuthenticator, String>>,
    keys: KeyCache,
}

impl std::fmt::Debug for Dkim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dkim").field("cached", &self.keys.len()).finish()
    }
}

impl Default for Dkim {
    fn default() -> Self {
        Dkim { resolver: OnceLock::new(), keys: KeyCache::default() }
    }
}

impl Dkim {
    /// DNS TXT answers (`SELECTOR._domainkey.DOMAIN.`): tests add keys here.
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// Verifies every DKIM signature of `raw` and looks for one aligned with `from_domain`.
    pub async fn verify(&self, raw: &[u8], from_domain: &str) -> Authentication {
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return Authentication::Fail("the message cannot be read for DKIM verification".into());
        };
        let resolver = match self.resolver.get_or_init(|| MessageAuthenticator::new_system_conf().map_err(|e| e.to_string())) {
            Ok(r) => r,
            Err(e) => return Authentication::Unavailable(format!("no DNS resolver for DKIM: {e}")),
        };
        let outputs = resolver.verify_dkim(Parameters::new(&message).with_txt_cache(&self.keys)).await;
        let mut failures = Vec::new();
        let mut temporary = None;
        for out in &outputs {
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
}

/// The verdict for `parsed` (whose raw bytes are `raw`): from the trusted MTA's
/// Authentication-Results when `trusted` names it, else by verifying the signatures here.
pub async fn authenticate(dkim: &Dkim, trusted: Option<&str>, raw: &[u8], parsed: &ParsedMail) -> Authentication {
    let Some(from_domain) = parsed.from.as_ref().and_then(|f| f.email.rsplit_once('@')).map(|(_, d)| d.to_ascii_lowercase()) else {
        return Authentication::Fail("the message has no From address to authenticate".into());
    };
    match trusted {
        Some(id) => from_results(&parsed.auth_results, id, &from_domain),
        None => dkim.verify(raw, &from_domain).await,
    }
}

/// Relaxed alignment: the signing domain is the From domain or a parent of it (RFC 7489 §3.1.1).
/// A bare top-level domain never aligns.
pub fn aligned(signing: &str, from_domain: &str) -> bool {
    let (s, f) = (signing.trim_end_matches('.').to_ascii_lowercase(), from_domain.trim_end_matches('.').to_ascii_lowercase());
    s.contains('.') && (f == s || f.ends_with(&format!(".{s}")))
}

/// Reads `dkim=` results of the Authentication-Results headers written by `authserv_id`
/// (RFC 8601 §2.2); headers of any other id are ignored, as the MTA in front must strip forged ones.
pub fn from_results(headers: &[String], authserv_id: &str, from_domain: &str) -> Authentication {
    let mut seen = Vec::new();
    for header in headers {
        let clean = strip_comments(header);
        let mut parts = clean.split(';');
        let id = parts.next().and_then(|p| p.split_whitespace().next()).unwrap_or_default();
        if !id.eq_ignore_ascii_case(authserv_id) {
            continue;
        }
        for resinfo in parts {
            let mut words = resinfo.split_whitespace();
            let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else { continue };
            if !method.eq_ignore_ascii_case("dkim") {
                continue;
            }
            let domain = words
                .filter_map(|w| w.split_once('='))
                .find_map(|(k, v)| match k.to_ascii_lowercase().as_str() {
                    "header.d" => Some(v.to_string()),
                    "header.i" => v.rsplit_once('@').map(|(_, d)| d.to_string()),
                    _ => None,
                })
                .unwrap_or_default()
                .to_ascii_lowercase();
            if result.eq_ignore_ascii_case("pass") && aligned(&domain, from_domain) {
                return Authentication::Pass(domain);
            }
            if result.eq_ignore_ascii_case("temperror") {
                return Authentication::Unavailable(format!("{authserv_id} reported dkim=temperror"));
            }
            seen.push(format!("dkim={result} header.d={domain}"));
        }
    }
    Authentication::Fail(if seen.is_empty() {
        format!("{authserv_id} reported no DKIM result for this message")
    } else {
        format!("{authserv_id} reported {} for From domain {from_domain}", seen.join(", "))
    })
}

/// Removes RFC 5322 comments `( … )`, nested, outside quoted strings.
fn strip_comments(s: &str) -> String {
    let (mut out, mut depth, mut quoted, mut escaped) = (String::with_capacity(s.len()), 0usize, false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if depth == 0 => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                out.push(' ');
                continue;
            }
            _ => {}
        }
        if depth == 0 && c != '(' && c != '\\' {
            out.push(c);
        }
    }
    out
}

/// DNS TXT answers with their expiry (mail-auth asks the cache before DNS and fills it after).
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<Box<str>, (Txt, Instant)>>);

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyCache({} entries)", self.len())
    }
}

impl KeyCache {
    fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// A DKIM key record (`v=DKIM1; k=…; p=…`) for `SELECTOR._domainkey.DOMAIN`, valid until `until`.
    pub fn add_key(&self, name: &str, record: &str, until: Instant) -> Result<(), String> {
        use mail_auth::common::parse::TxtRecordParser;
        let key = mail_auth::common::verify::DomainKey::parse(record.as_bytes()).map_err(|e| format!("bad DKIM key record: {e}"))?;
        let fqdn = if name.ends_with('.') { name.to_ascii_lowercase() } else { format!("{}.", name.to_ascii_lowercase()) };
        self.insert(fqdn.into_boxed_str(), Txt::from(key), until);
        Ok(())
    }
}

impl ResolverCache<Box<str>, Txt> for KeyCache {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.0.lock().ok()?;
        map.get(name).filter(|(_, until)| *until > Instant::now()).map(|(txt, _)| txt.clone())
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().ok()?.remove(name).map(|(txt, _)| txt)
    }

    fn insert(&self, key: Box<str>, value: Txt, valid_until: Instant) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= CACHE_ENTRIES {
                map.clear();
            }
            map.insert(key, (value, valid_until));
        }
    }
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

    #[test]
    fn authentication_results() {
        let h = |s: &str| vec![s.to_string()];
        let pass = h("mx.team.org; dkim=pass (2048-bit key; unprotected) header.d=example.org header.s=sel; spf=pass");
        assert_eq!(from_results(&pass, "mx.team.org", "example.org"), Authentication::Pass("example.org".into()));
        assert_eq!(from_results(&pass, "MX.TEAM.ORG", "lists.example.org"), Authentication::Pass("example.org".into()));
        assert!(matches!(from_results(&pass, "other.host", "example.org"), Authentication::Fail(_)), "untrusted id ignored");
        let foreign = h("mx.team.org 1; dkim=pass header.d=evil.test");
        assert!(matches!(from_results(&foreign, "mx.team.org", "example.org"), Authentication::Fail(why) if why.contains("evil.test")));
        let by_i = h("mx.team.org; dkim=pass header.i=@example.org");
        assert_eq!(from_results(&by_i, "mx.team.org", "example.org"), Authentication::Pass("example.org".into()));
        let temp = h("mx.team.org; dkim=temperror header.d=example.org");
        assert!(matches!(from_results(&temp, "mx.team.org", "example.org"), Authentication::Unavailable(_)));
        let none = h("mx.team.org; none");
        assert!(matches!(from_results(&none, "mx.team.org", "example.org"), Authentication::Fail(_)));
        assert!(matches!(from_results(&[], "mx.team.org", "example.org"), Authentication::Fail(_)));
        let commented = h("mx.team.org; dkim=fail (dkim=pass header.d=example.org) header.d=example.org");
        assert!(matches!(from_results(&commented, "mx.team.org", "example.org"), Authentication::Fail(_)), "comments are not results");
    }
}
