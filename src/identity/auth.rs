//! Sender authentication. `security.require_dkim`: a posted message must carry a DKIM signature
//! (RFC 6376) that verifies for a domain aligned with its From address (relaxed alignment, RFC 7489
//! §3.1.1). `security.dmarc`: when the From domain publishes a DMARC policy of `p=quarantine` or
//! `p=reject` (RFC 7489 §6.3), the message must be DKIM- or SPF-aligned with it (mail-auth
//! evaluates DKIM, SPF for the client the SMTP door saw, and the policy). docket verifies itself,
//! or, behind an MTA that already did (`security.trusted_authserv_id`), reads that MTA's
//! Authentication-Results header (RFC 8601). DNS answers are cached for their TTL; tests fill the
//! cache instead, and an offline verifier (`Dkim::offline`) answers "no record" for the rest.

use crate::parse::mime::ParsedMail;
use mail_auth::dmarc::Policy;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, DkimOutput, DkimResult, DmarcOutput, DmarcResult, DnsError, Error, MX, MessageAuthenticator, Parameters,
    RecordSet, ResolverCache, SpfOutput, SpfResult, Txt,
};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, OnceLock};
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
            keys: KeyCache { offline, ..KeyCache::default() },
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

    fn resolver(&self) -> Result<&MessageAuthenticator, String> {
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

    fn caches<P>(&self, params: P) -> Caches<'_, P> {
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

    /// SPF for the client (when its address is known), then the From domain's DMARC policy.
    async fn dmarc(
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
    async fn dmarc_from_results(&self, raw: &[u8], headers: &[String], authserv_id: &str, from_domain: &str) -> Dmarc {
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

fn unreadable_dkim() -> Authentication {
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

/// What a trusted MTA's results say about DMARC alignment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Alignment {
    Aligned(String),
    TempError(String),
    None,
}

/// Alignment from the Authentication-Results of `authserv_id`: `dmarc=pass`, or `dkim=pass` with an
/// aligned `header.d`, or `spf=pass` with an aligned `smtp.mailfrom` (RFC 8601 §2.7, RFC 7489 §3.1).
fn results_alignment(headers: &[String], authserv_id: &str, from_domain: &str) -> Alignment {
    let mut temporary = None;
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
            let (method, result) = (method.to_ascii_lowercase(), result.to_ascii_lowercase());
            let props: Vec<(String, String)> = words
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_ascii_lowercase()))
                .collect();
            let prop = |name: &str| props.iter().find(|(k, _)| k == name).map(|(_, v)| v.rsplit_once('@').map_or(v.as_str(), |(_, d)| d));
            let identity = match method.as_str() {
                "dmarc" => prop("header.from"),
                "dkim" => prop("header.d").or_else(|| prop("header.i")),
                "spf" => prop("smtp.mailfrom").or_else(|| prop("smtp.helo")),
                _ => continue,
            };
            let identity = identity.unwrap_or_default();
            match result.as_str() {
                "pass" if method == "dmarc" && identity.trim_end_matches('.') == from_domain.trim_end_matches('.') => {
                    return Alignment::Aligned(format!("{authserv_id} reported dmarc=pass"));
                }
                // Relaxed alignment, approximated without a public-suffix list: one domain is
                // the other or a parent of it.
                "pass" if method != "dmarc" && (aligned(identity, from_domain) || aligned(from_domain, identity)) => {
                    return Alignment::Aligned(format!("{authserv_id} reported {method}=pass for {identity}"));
                }
                "temperror" => temporary = Some(format!("{authserv_id} reported {method}=temperror")),
                _ => {}
            }
        }
    }
    temporary.map_or(Alignment::None, Alignment::TempError)
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
/// Offline, a name that is not in the cache has no record.
#[derive(Default)]
pub struct KeyCache {
    answers: Mutex<HashMap<Box<str>, (Txt, Instant)>>,
    offline: bool,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyCache({} entries)", self.len())
    }
}

impl KeyCache {
    fn len(&self) -> usize {
        self.answers.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// A DKIM key record (`v=DKIM1; k=…; p=…`) for `SELECTOR._domainkey.DOMAIN`, valid until `until`.
    pub fn add_key(&self, name: &str, record: &str, until: Instant) -> Result<(), String> {
        use mail_auth::common::parse::TxtRecordParser;
        let key = mail_auth::common::verify::DomainKey::parse(record.as_bytes()).map_err(|e| format!("bad DKIM key record: {e}"))?;
        self.insert(fqdn(name), Txt::from(key), until);
        Ok(())
    }

    /// A TXT record for `name`, valid until `until`: a DMARC record (`_dmarc.DOMAIN`), a DKIM key
    /// (`SELECTOR._domainkey.DOMAIN`), else an SPF record (`v=spf1 …`).
    pub fn add_record(&self, name: &str, record: &str, until: Instant) -> Result<(), String> {
        use mail_auth::common::parse::TxtRecordParser;
        let lower = name.to_ascii_lowercase();
        if lower.contains("._domainkey.") {
            return self.add_key(name, record, until);
        }
        let txt = if lower.starts_with("_dmarc.") {
            Txt::from(mail_auth::dmarc::Dmarc::parse(record.as_bytes()).map_err(|e| format!("bad DMARC record: {e}"))?)
        } else {
            Txt::from(mail_auth::spf::Spf::parse(record.as_bytes()).map_err(|e| format!("bad SPF record: {e}"))?)
        };
        self.insert(fqdn(name), txt, until);
        Ok(())
    }

    /// `name` has no TXT record (NXDOMAIN) until `until`.
    pub fn add_missing(&self, name: &str, until: Instant) {
        self.insert(fqdn(name), nxdomain(), until);
    }

    /// Looking `name` up fails for now (a server failure or a timeout) until `until`.
    pub fn add_failure(&self, name: &str, until: Instant) {
        self.insert(fqdn(name), Txt::Error(Error::Dns(DnsError::Resolver("SERVFAIL".into()))), until);
    }
}

fn fqdn(name: &str) -> Box<str> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with('.') { lower.into_boxed_str() } else { format!("{lower}.").into_boxed_str() }
}

fn nxdomain() -> Txt {
    Txt::Error(Error::Dns(DnsError::RecordNotFound(mail_auth::hickory_resolver::proto::op::ResponseCode::NXDomain)))
}

impl ResolverCache<Box<str>, Txt> for KeyCache {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.answers.lock().ok()?;
        let found = map.get(name).filter(|(_, until)| *until > Instant::now()).map(|(txt, _)| txt.clone());
        found.or_else(|| self.offline.then(nxdomain))
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.answers.lock().ok()?.remove(name).map(|(txt, _)| txt)
    }

    fn insert(&self, key: Box<str>, value: Txt, valid_until: Instant) {
        if let Ok(mut map) = self.answers.lock() {
            if map.len() >= CACHE_ENTRIES {
                map.clear();
            }
            map.insert(key, (value, valid_until));
        }
    }
}

/// The address and name lookups SPF may make, never cached here (the resolver caches them):
/// offline, every name has none.
struct Nothing<K, T> {
    offline: bool,
    kind: PhantomData<fn(K) -> T>,
}

impl<K, T> std::fmt::Debug for Nothing<K, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nothing").field("offline", &self.offline).finish()
    }
}

impl<K, T> Nothing<K, T> {
    fn new(offline: bool) -> Self {
        Nothing { offline, kind: PhantomData }
    }
}

impl<K, T> ResolverCache<K, RecordSet<T>> for Nothing<K, T> {
    fn get<Q>(&self, _: &Q) -> Option<RecordSet<T>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.offline.then(|| RecordSet { rrset: Arc::from(Vec::new()), dnssec_status: Default::default() })
    }

    fn remove<Q>(&self, _: &Q) -> Option<RecordSet<T>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: K, _: RecordSet<T>, _: Instant) {}
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

    #[test]
    fn alignment_from_trusted_results() {
        let h = |s: &str| vec![s.to_string()];
        let check = |header: &str| results_alignment(&h(header), "mx.team.org", "example.org");
        assert!(matches!(check("mx.team.org; dmarc=pass header.from=example.org"), Alignment::Aligned(_)));
        assert!(matches!(check("mx.team.org; dkim=pass header.d=example.org"), Alignment::Aligned(_)));
        assert!(matches!(check("mx.team.org; spf=pass smtp.mailfrom=bounce@mail.example.org"), Alignment::Aligned(_)));
        assert!(matches!(check("mx.team.org; spf=pass smtp.mailfrom=\"x@example.org\""), Alignment::Aligned(_)));
        assert_eq!(check("mx.team.org; dmarc=pass header.from=evil.test"), Alignment::None);
        assert_eq!(check("mx.team.org; dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=a@evil.test"), Alignment::None);
        assert_eq!(check("mx.team.org; dmarc=fail header.from=example.org"), Alignment::None);
        assert_eq!(check("other.host; dmarc=pass header.from=example.org"), Alignment::None, "untrusted id ignored");
        assert_eq!(check("mx.team.org; dmarc=fail (dmarc=pass header.from=example.org) header.from=example.org"), Alignment::None);
        assert!(matches!(check("mx.team.org; dkim=temperror header.d=example.org"), Alignment::TempError(_)));
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
