//! One SMTP reply (code, enhanced status, text) and its wire form, plus the shape check the
//! property test and the fuzz target run on what a session wrote.

use std::fmt;

/// One SMTP reply. Renders as `550 5.1.1 text\r\n`; a text with `\n` renders as a multi-line reply
/// (`250-first\r\n250 last\r\n`, RFC 5321 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Enhanced status code (RFC 3463), written on every line when present (RFC 2034 §3).
    pub status: Option<(u8, u8, u16)>,
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, status: (u8, u8, u16), text: impl Into<String>) -> Reply {
        Reply { code, status: Some(status), text: text.into() }
    }

    /// A reply without an enhanced status code (greeting, EHLO, HELO, 354).
    pub fn plain(code: u16, text: impl Into<String>) -> Reply {
        Reply { code, status: None, text: text.into() }
    }

    /// Appends the wire form. Control characters in the text become spaces, so caller-supplied
    /// text can never forge a line; a code outside 200..=599 is written as 451 (never malformed).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let code = if (200..=599).contains(&self.code) { self.code } else { 451 };
        let lines: Vec<&str> = self.text.split('\n').collect();
        let last = lines.len().saturating_sub(1);
        for (i, line) in lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.extend_from_slice(format!("{code}{sep}").as_bytes());
            if let Some((class, subject, detail)) = self.status {
                out.extend_from_slice(format!("{class}.{subject}.{detail}").as_bytes());
                if !line.is_empty() {
                    out.push(b' ');
                }
            }
            for ch in line.chars() {
                let ch = if ch.is_control() { ' ' } else { ch };
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

/// The shape every reply byte stream must have (the property test and the fuzz target check
/// what a session wrote with it): each line is `DDD SP text CRLF` or `DDD-text CRLF` with a
/// 2xx–5xx code (RFC 5321 §4.2), continuations keep the code, and every multi-line reply ends
/// with a final line. Err names the first line that breaks it.
pub fn check_reply_shape(out: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(out).map_err(|e| e.to_string())?;
    if text.is_empty() {
        return Ok(());
    }
    if !text.ends_with("\r\n") {
        return Err(format!("unterminated {text:?}"));
    }
    let mut open: Option<&str> = None;
    for line in text.split_terminator("\r\n") {
        let b = line.as_bytes();
        let shape = b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && matches!(b[3], b' ' | b'-') && (b'2'..=b'5').contains(&b[0]);
        if !shape || line.contains(['\r', '\n']) {
            return Err(format!("bad line {line:?}"));
        }
        if open.is_some_and(|code| code != &line[..3]) {
            return Err(format!("continuation changes code: {line:?}"));
        }
        open = (b[3] == b'-').then(|| &line[..3]);
    }
    match open {
        Some(_) => Err("multi-line reply without a final line".into()),
        None => Ok(()),
    }
}
