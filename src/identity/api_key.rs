//! Secrets that open the record without a session: API bearer tokens (random, shown once, kept
//! only as SHA-256) and feed keys (derived from the server secret, so they can be printed again,
//! and rotated by a per-member generation). Pure: no I/O besides the system's randomness.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// What every API token starts with, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "dkt_";

/// A new API token: `dkt_` and 256 random bits in hex.
pub fn new_token() -> Result<String, getrandom::Error> {
    Ok(format!("{TOKEN_PREFIX}{}", random_hex()?))
}

/// 256 random bits in hex (the body of every token docket hands out: API, session, CSRF, sign-in).
pub fn random_hex() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// What the database keeps of a token or key: its SHA-256, hex.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether `s` has the shape of a token `new_token` makes (checked before any database read).
pub fn looks_like_token(s: &str) -> bool {
    s.strip_prefix(TOKEN_PREFIX).is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The feed key of `email` at `generation`: HMAC-SHA256(secret, "feed:" email ":" generation), hex.
pub fn feed_key(secret: &[u8], email: &str, generation: i64) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(format!("feed:{}:{generation}", email.to_ascii_lowercase()).as_bytes());
    hex(&m.finalize().into_bytes())
}

/// Whether `s` has the shape of a feed key (64 lower-case hex digits).
pub fn looks_like_feed_key(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Equal without an early exit, so timing says nothing about how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_kept_as_hashes() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(looks_like_token(&a) && a.len() == 4 + 64, "{a}");
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert!(!looks_like_token("dkt_xyz") && !looks_like_token(&a[4..]));
    }

    #[test]
    fn feed_keys_are_stable_per_generation_and_secret() {
        let k = feed_key(b"s1", "Ann@Example.org", 0);
        assert_eq!(k, feed_key(b"s1", "ann@example.org", 0));
        assert!(looks_like_feed_key(&k));
        assert_ne!(k, feed_key(b"s1", "ann@example.org", 1));
        assert_ne!(k, feed_key(b"s2", "ann@example.org", 0));
        assert_ne!(k, feed_key(b"s1", "bob@example.org", 0));
        assert!(constant_time_eq(k.as_bytes(), k.as_bytes()) && !constant_time_eq(b"ab", b"ac"));
    }
}
