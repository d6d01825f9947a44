//! Words inside a tag's text: item refs (`T-3`), `@mentions`, trailing `due DATE` / `by DATE`
//! phrases, and the tidying of what remains into item text.

use chrono::{DateTime, Utc};

use crate::parse::dates::{DateContext, DateError, is_dotted_date, parse_due};

/// A due phrase has at most this many words (bounds the search for it).
const MAX_DATE_WORDS: usize = 8;

/// At most 40 characters of user text, for warnings.
pub(super) fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// `T-3`, `(d-12),`, `A-2` → `T-3`, `D-12`, `A-2`. Asks and notes (`A-n`, `N-n`) only in capitals:
/// `a-1` is prose more often than a reference.
pub(super) fn item_ref(word: &str) -> Option<String> {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
    let w = w.trim_end_matches('-');
    let (written, num) = w.split_at_checked(2)?;
    let kind = written.to_ascii_uppercase();
    let known = matches!(kind.as_str(), "T-" | "D-" | "P-") || matches!(written, "A-" | "N-");
    let ok = known && (1..=9).contains(&num.len()) && num.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("{kind}{num}"))
}

pub(super) fn refs_in(text: &str) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    for r in text.split(' ').filter_map(item_ref) {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    refs
}

/// `@bob`, `(@bob@x.org),` → `bob`, `bob@x.org`.
fn mention(word: &str) -> Option<&str> {
    let w = word.trim_start_matches(['(', '[', '<', '"', '\'']);
    let body = w.strip_prefix('@')?;
    let end = body
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@')))
        .map_or(body.len(), |(i, _)| i);
    let handle = body[..end].trim_end_matches(['.', '-', '@']);
    handle.starts_with(char::is_alphanumeric).then_some(handle)
}

/// Words that make a failed `by X` look like an attempted date rather than prose.
fn looks_like_date(phrase: &[&str]) -> bool {
    const WORDS: &[&str] = &[
        "today",
        "tomorrow",
        "tonight",
        "eod",
        "eow",
        "cob",
        "asap",
        "soon",
        "later",
        "whenever",
        "someday",
        "sometime",
        "tbd",
        "eventually",
        "next",
        "end",
        "noon",
        "midnight",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "week",
        "month",
        "weekend",
        "morning",
        "evening",
        "afternoon",
    ];
    phrase.iter().any(|w| {
        let w = w.to_lowercase();
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        w.bytes().any(|b| b.is_ascii_digit()) || WORDS.contains(&w)
    })
}

/// The outcome of looking for a trailing date phrase in a word list.
pub(super) struct DatePhrase {
    /// Words before the keyword.
    pub(super) kept: usize,
    /// The phrase as written, without the keyword and trailing punctuation.
    pub(super) text: String,
    pub(super) when: Result<DateTime<Utc>, DateError>,
}

/// The phrase as written, minus closing punctuation (`friday).` → `friday`; `3.12.` stays).
pub(super) fn phrase_text(words: &[&str]) -> String {
    let text = words.join(" ");
    let mut t = text.trim_end_matches([',', ';', '!', '?', ')', ']']);
    while let Some(rest) = t.strip_suffix('.') {
        if t.rsplit(' ').next().is_some_and(is_dotted_date) {
            break;
        }
        t = rest.trim_end_matches([',', ';', '!', '?', ')', ']']);
    }
    t.to_owned()
}

/// Finds `due DATE` / `by DATE` at the end of `words` (docs/tags.md "at the end"). Earliest keyword
/// whose remainder parses wins (longest phrase); otherwise the last attempted one reports.
pub(super) fn trailing_date(words: &[&str], ctx: &DateContext) -> Option<DatePhrase> {
    let start = words.len().saturating_sub(MAX_DATE_WORDS + 1);
    let mut failed = None;
    for i in start..words.len() {
        let key = words[i].trim_start_matches(['(', '[']).trim_end_matches([':', '：']).to_lowercase();
        let next = words.get(i + 1).map(|w| w.to_lowercase());
        let is_due = key == "due" && next.as_deref() != Some("to");
        if !(is_due || key == "by") || i + 1 == words.len() {
            continue;
        }
        let phrase = &words[i + 1..];
        let text = phrase_text(phrase);
        match parse_due(&text, ctx) {
            Ok(t) => {
                return Some(DatePhrase { kept: i, text, when: Ok(t) });
            }
            Err(e) if is_due || looks_like_date(phrase) => {
                failed = Some(DatePhrase { kept: i, text, when: Err(e) });
            }
            Err(_) => {}
        }
    }
    failed
}

/// Joins words into item text, dropping separator-only words (`-`, `—`, `:`, `()`) at either
/// end and trailing `,;:` (left behind by removed mentions and due phrases).
pub(super) fn tidy(words: &[&str]) -> String {
    let separator = |w: &&str| w.chars().all(|c| matches!(c, '-' | '–' | '—' | ':' | '：' | ',' | ';' | '(' | ')' | '[' | ']'));
    let start = words.iter().position(|w| !separator(w)).unwrap_or(words.len());
    let end = words.iter().rposition(|w| !separator(w)).map_or(start, |e| e + 1);
    let kept: Vec<&str> = words[start..end].iter().filter(|w| !matches!(**w, "()" | "[]")).copied().collect();
    kept.join(" ").trim_end_matches([',', ';', ':', '：']).to_owned()
}

pub(super) fn check_past(when: DateTime<Utc>, what: &str, ctx: &DateContext, warn: &mut impl FnMut(String)) {
    if when < ctx.now {
        warn(format!("{what} {} is in the past", ctx.zone.display(when)));
    }
}

/// Splits `@mentions` (deduplicated, case-insensitive) from the other words.
pub(super) fn split_mentions<'w>(words: &[&'w str]) -> (Vec<&'w str>, Vec<&'w str>) {
    let mut mentions: Vec<&str> = Vec::new();
    let mut rest: Vec<&str> = Vec::with_capacity(words.len());
    for w in words {
        match mention(w) {
            Some(m) if mentions.iter().any(|x| x.eq_ignore_ascii_case(m)) => {}
            Some(m) => mentions.push(m),
            None => rest.push(w),
        }
    }
    (mentions, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_ref(input: &str, want: Option<&str>) {
        assert_eq!(item_ref(input).as_deref(), want, "input {input:?}");
    }

    #[test]
    fn refs() {
        check_ref("T-3", Some("T-3"));
        check_ref("(d-12),", Some("D-12"));
        check_ref("P-7.", Some("P-7"));
        check_ref("T-", None);
        check_ref("X-3", None);
        check_ref("T-3a", None);
        check_ref("T-1234567890", None);
        check_ref("A-2,", Some("A-2"));
        check_ref("N-1", Some("N-1"));
        check_ref("a-1", None);
    }

    fn check_mention(input: &str, want: Option<&str>) {
        assert_eq!(mention(input), want, "input {input:?}");
    }

    #[test]
    fn mentions() {
        check_mention("@bob", Some("bob"));
        check_mention("@bob,", Some("bob"));
        check_mention("(@bob@x.org)", Some("bob@x.org"));
        check_mention("@bob.", Some("bob"));
        check_mention("@", None);
        check_mention("bob@x.org", None);
        check_mention("@@", None);
        check_mention("@josé", Some("josé"));
    }
}
