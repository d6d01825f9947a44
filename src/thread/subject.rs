//! Base subjects (RFC 5256 §2.1): strip reply/forward prefixes in many languages, `[list]` blobs and
//! `(fwd)` trailers, fold case and white space. Also tells whether the subject was a reply, since
//! subject threading applies only to replies (docs/mail-flow.md).

/// A subject reduced for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseSubject {
    /// Lower-cased, white space folded, prefixes removed: the key threads are matched on.
    pub key: String,
    /// The subject as people read it, without prefixes (original case).
    pub display: String,
    /// A Re-style prefix was present.
    pub is_reply: bool,
}

/// Reply prefixes (RFC 5256 `subj-refwd` plus the localised forms clients write).
const REPLY: &[&str] = &[
    "re",
    "aw",
    "sv",
    "vs",
    "antw",
    "antwort",
    "ant",
    "odp",
    "r",
    "rif",
    "res",
    "ynt",
    "vá",
    "atb",
    "απ",
    "σχετ",
    "отв",
    "ответ",
    "回复",
    "回覆",
    "答复",
    "答覆",
    "返信",
    "답장",
    "תשובה",
    "رد",
];
/// Forward prefixes: stripped, but they do not make a reply.
const FORWARD: &[&str] =
    &["fwd", "fw", "wg", "tr", "enc", "rv", "i", "pd", "doorst", "vl", "vs", "továbbítás", "πρθ", "пересл", "转发", "轉寄", "転送"];

pub fn base_subject(subject: &str) -> BaseSubject {
    let mut rest = subject.trim();
    let mut is_reply = false;
    loop {
        let before = rest;
        rest = rest.trim_start();
        // Trailing "(fwd)" (RFC 5256 subj-trailer).
        while let Some(stripped) = strip_suffix_ci(rest, "(fwd)") {
            rest = stripped.trim_end();
        }
        if let Some((word, after)) = prefix_word(rest) {
            let lower = word.to_lowercase();
            if REPLY.contains(&lower.as_str()) {
                is_reply = true;
                rest = after;
            } else if FORWARD.contains(&lower.as_str()) {
                rest = after;
            }
        }
        // A leading "[blob]" is dropped when something is left after it (RFC 5256 subj-blob).
        if let Some(after_blob) = strip_blob(rest) {
            rest = after_blob;
        }
        if rest == before {
            break;
        }
    }
    let display = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    BaseSubject { key: display.to_lowercase(), display, is_reply }
}

/// `Re:`, `RE[2]:`, `Re(3):`, `回复：` — a word, an optional counter, then an ASCII or full-width colon.
fn prefix_word(s: &str) -> Option<(&str, &str)> {
    let end = s.find([':', '：', '[', '(', ' '])?;
    let word = &s[..end];
    if word.is_empty() || word.chars().count() > 12 || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    let mut rest = &s[end..];
    // Optional counter: "[2]" or "(2)".
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(inner) = rest.strip_prefix(open)
            && let Some(close_at) = inner.find(close)
            && inner[..close_at].chars().all(|c| c.is_ascii_digit())
        {
            rest = &inner[close_at + close.len_utf8()..];
        }
    }
    let rest = rest.trim_start_matches(' ');
    let rest = rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))?;
    Some((word, rest))
}

fn strip_blob(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('[')?;
    let close = inner.find(']')?;
    let after = inner[close + 1..].trim_start();
    (!after.is_empty() && !inner[..close].contains('[')).then_some(after)
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(cut) && s[cut..].eq_ignore_ascii_case(suffix)).then(|| &s[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, key: &str, is_reply: bool) {
        let got = base_subject(input);
        assert_eq!((got.key.as_str(), got.is_reply), (key, is_reply), "{input:?}");
    }

    #[test]
    fn prefixes() {
        check("Launch plan", "launch plan", false);
        check("Re: Launch plan", "launch plan", true);
        check("RE: re: Launch   plan", "launch plan", true);
        check("Re[2]: Launch plan", "launch plan", true);
        check("Re(3): Launch plan", "launch plan", true);
        check("Fwd: Launch plan", "launch plan", false);
        check("Fw: Re: Launch plan", "launch plan", true);
        check("AW: Launch plan", "launch plan", true);
        check("WG: AW: Launch plan", "launch plan", true);
        check("SV: Launch plan", "launch plan", true);
        check("Antw: Launch plan", "launch plan", true);
        check("Odp: Launch plan", "launch plan", true);
        check("回复：发布计划", "发布计划", true);
        check("回复: 发布计划", "发布计划", true);
        check("転送: 計画", "計画", false);
        check("Ответ: план", "план", true);
        check("[eng] Re: Launch plan", "launch plan", true);
        check("Re: [eng] Launch plan", "launch plan", true);
        check("Re: [PATCH v2] man2/open.2: fix", "man2/open.2: fix", true);
        check("Launch plan (fwd)", "launch plan", false);
        check("Re: Subject: with colon", "subject: with colon", true);
        check("Reminder: standup", "reminder: standup", false);
        check("[only-a-blob]", "[only-a-blob]", false);
        check("", "", false);
        check("Re:", "", true);
    }
}
