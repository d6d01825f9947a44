//! The DNS answers mail-auth is given: TXT records (DKIM keys, SPF, DMARC) kept for their TTL and
//! filled by tests, and the address lookups SPF may make (never cached here).

use mail_auth::{DnsError, Error, RecordSet, ResolverCache, Txt};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Most DNS answers kept; the cache starts over when it is full.
const CACHE_ENTRIES: usize = 4096;

/// DNS TXT answers with their expiry (mail-auth asks the cache before DNS and fills it after).
/// Offline, a name that is not in the cache has no record.
#[derive(Default)]
pub struct KeyCache {
    answers: Mutex<HashMap<Box<str>, (Txt, Instant)>>,
    pub(super) offline: bool,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyCache({} entries)", self.len())
    }
}

impl KeyCache {
    /// An empty cache; offline, a name not in it has no record.
    pub(super) fn new(offline: bool) -> KeyCache {
        KeyCache { offline, ..KeyCache::default() }
    }

    pub(super) fn len(&self) -> usize {
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
pub(super) struct Nothing<K, T> {
    offline: bool,
    kind: PhantomData<fn(K) -> T>,
}

impl<K, T> std::fmt::Debug for Nothing<K, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nothing").field("offline", &self.offline).finish()
    }
}

impl<K, T> Nothing<K, T> {
    pub(super) fn new(offline: bool) -> Self {
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
