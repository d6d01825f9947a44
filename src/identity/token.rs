//! Reply tokens: `SPACE+TOKEN@DOMAIN` names a (thread, member) pair, signed with HMAC-SHA256 over
//! `security.secret`, so nobody can forge a reply slot or move a reply into another thread.
//!
//! Layout before encoding: LEB128 thread id, LEB128 member id, the first 10 bytes of the MAC
//! (80 bits). Encoded as lowercase base32 without padding (local parts may be case-folded on the
//! way), about 23 characters for realistic ids. Verification is constant time.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const TAG_LEN: usize = 10;
const DOMAIN_SEPARATOR: &[u8] = b"docket reply token v1\0";

/// What a verified token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplySlot {
    pub thread_id: i64,
    pub member_id: i64,
}

pub fn sign(secret: &[u8], slot: ReplySlot) -> String {
    let mut bytes = payload(slot);
    let tag = mac(secret, &bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag[..TAG_LEN]);
    BASE32_NOPAD.encode(&bytes).to_ascii_lowercase()
}

/// The slot a token names, or None when it is malformed or its MAC does not match.
pub fn verify(secret: &[u8], token: &str) -> Option<ReplySlot> {
    let bytes = BASE32_NOPAD.decode(token.to_ascii_uppercase().as_bytes()).ok()?;
    let (thread_id, rest) = leb128(&bytes)?;
    let (member_id, tag) = leb128(rest)?;
    if tag.len() != TAG_LEN {
        return None;
    }
    let signed = &bytes[..bytes.len() - TAG_LEN];
    mac(secret, signed).verify_truncated_left(tag).ok()?;
    Some(ReplySlot { thread_id: i64::try_from(thread_id).ok()?, member_id: i64::try_from(member_id).ok()? })
}

fn mac(secret: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(DOMAIN_SEPARATOR);
    m.update(payload);
    m
}

fn payload(slot: ReplySlot) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    for value in [slot.thread_id, slot.member_id] {
        let mut v = value.max(0) as u64;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

/// One LEB128 number (at most 9 bytes, so it fits i64) and the rest.
fn leb128(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(9) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            // Reject non-minimal encodings so one slot has exactly one token.
            if i > 0 && *b == 0 {
                return None;
            }
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn round_trip_and_case_folding() {
        for (thread_id, member_id) in [(1, 1), (127, 128), (16_384, 3), (i64::MAX, i64::MAX)] {
            let slot = ReplySlot { thread_id, member_id };
            let t = sign(KEY, slot);
            assert!(t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{t}");
            assert_eq!(verify(KEY, &t), Some(slot));
            assert_eq!(verify(KEY, &t.to_ascii_uppercase()), Some(slot));
        }
        assert!(sign(KEY, ReplySlot { thread_id: 42, member_id: 7 }).len() <= 24);
    }

    #[test]
    fn forged_tampered_and_foreign_tokens_fail() {
        let t = sign(KEY, ReplySlot { thread_id: 42, member_id: 7 });
        assert_eq!(verify(b"another secret", &t), None);
        for i in 0..t.len() {
            let mut bytes = t.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let forged = String::from_utf8(bytes).unwrap();
            assert_eq!(verify(KEY, &forged), None, "{forged}");
        }
        for bad in ["", "abc", "!!!!", &t[..t.len() - 1], &format!("{t}aa")] {
            assert_eq!(verify(KEY, bad), None, "{bad}");
        }
    }
}
