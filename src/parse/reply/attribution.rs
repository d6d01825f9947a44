//! Attribution lines ("On … wrote:", localised; possibly wrapped over several lines): the line a
//! client writes above the quote it adds.

use std::sync::LazyLock;

use regex::Regex;

use super::lines::{Line, next_nonblank};
use super::{MAX_MATCH_LEN, MAX_WINDOW, hit, re};

/// Cheap facts about a candidate attribution, computed once per window.
pub(super) struct Features {
    pub(super) opener: bool,
    pub(super) has_at: bool,
    pub(super) has_digit: bool,
    pub(super) words: usize,
}

impl Features {
    pub(super) fn of(s: &str) -> Features {
        static OPENER: LazyLock<Option<Regex>> = LazyLock::new(|| {
            re(r"(?i)^((on|at|am|le|el|il|op|em|den|på|dne|dnia|w\ dniu|vào|в|v)\b|\d{1,4}\s?[-/.年]\s?\d|\d{1,2}\.?\s\p{L}|在|于|於)")
        });
        Features {
            opener: hit(&OPENER, s),
            has_at: s.contains('@'),
            has_digit: s.bytes().any(|c| c.is_ascii_digit()),
            words: s.split_whitespace().count(),
        }
    }
}

/// Is `s` (one attribution, joined and stripped of decoration) an attribution line?
/// `short_ok`: the line is decorated or a quote follows, so "Jane wrote:" alone counts.
pub(super) fn attribution_text(s: &str, f: &Features, short_ok: bool) -> bool {
    // Verbs that end an attribution (English first, then localised).
    static VERB_FINAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)(\bwrote|\bwrites|a (é|e)crit|escribió|escribio|ha escrito|ha scritto|scrisse|schreef|schrieb|geschreven|escreveu|skrev|skrive|napisał\(a\)|napisała|napisał|\bpisze|napísal|napsal\(a\)|napsala|napsal|написал\(а\)|написала|написал|написав|пише|כתב/ה|כתבה|כתב|كتب|пишет|schreibt|skriver|scrive|escribe|escreve|kirjoitti|yazdı|írta|έγραψε|đã viết|写道|寫道|書きました|のメッセージ|작성)\s*[:：]?$",
        )
    });
    // German / Dutch / Scandinavian put the verb before the sender: "Am … schrieb Jane <…>:".
    static VERB_MEDIAL: LazyLock<Option<Regex>> =
        LazyLock::new(|| re(r"(?i)(\bschrieb|\bschreef|\bskrev|\bnapisał|\bнаписал|\bescreveu|\bwrote on|\bheeft|\bírta)\b.*[:：]$"));
    // Gmail in some locales: a date, the sender's address, and no verb ("2011/4/7 Jane <j@x>").
    static DATE_EMAIL: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"^(\d{4}\s?[-/.年]\s?\d{1,2}\s?[-/.月]\s?\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}).{0,160}(<[^<>\s]+@[^<>\s]+>|[^\s<>]+@[^\s<>]+)\s*[:：]?$",
        )
    });
    // Any locale: a time, the sender in angle brackets, a final colon ("пн, 3 дек. в 10:01, J <j@x>:").
    static TIME_EMAIL_COLON: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"\d{1,2}[:.]\d{2}.{0,160}<[^<>\s]+@[^<>\s]+>\s*[:：]$"));
    let evidence = f.has_digit || f.has_at;
    // Every form below needs a date, an address, or (short form) decoration / a quote below.
    if s.len() > 2 * MAX_MATCH_LEN || !(evidence || short_ok) {
        return false;
    }
    if hit(&VERB_FINAL, s) {
        return evidence || (short_ok && f.words <= 6);
    }
    static ON_SENT: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"(?i)^on\b.*\bsent\s*:$"));
    if f.opener && f.has_at && hit(&ON_SENT, s) {
        return true;
    }
    if f.opener && evidence && hit(&VERB_MEDIAL, s) {
        return true;
    }
    if f.has_at && hit(&VERB_MEDIAL, s) {
        return true;
    }
    // Horde / IMP: "Quoting Jane Doe <jane@x.org>:" (localised).
    static QUOTING: LazyLock<Option<Regex>> =
        LazyLock::new(|| re(r"(?i)^(quoting|quoth|citando|zitat von|cytowanie|citation de|cytat)\b.{1,200}[:：]$"));
    if (f.has_at || short_ok) && hit(&QUOTING, s) {
        return true;
    }
    // mutt: "* Jane Doe <jane@x.org> [2024-12-03 10:01]:".
    static MUTT: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"<[^<>\s]+@[^<>\s]+>\s*\[(\d{4}-\d{2}-\d{2}|\d{6})[^\]]{0,30}\]\s*:$"));
    f.has_at && (hit(&DATE_EMAIL, s) || hit(&TIME_EMAIL_COLON, s) || hit(&MUTT, s))
}

/// Strip decoration around an attribution: "---- On … wrote ----", "*On … wrote:*".
pub(super) fn strip_decoration(s: &str) -> String {
    let t = s.trim_matches(|c: char| c == '-' || c == '*' || c == '_' || c == '>' || c.is_whitespace());
    let mut out = String::with_capacity(t.len());
    for w in t.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    // Entity-escaped brackets in text parts made from HTML ("Sam&lt;info@x&gt;").
    if out.contains("&lt;") || out.contains("&gt;") {
        out = out.replace("&lt;", "<").replace("&gt;", ">");
    }
    // "Jane <\njane@x.org>" joined with a space: "< jane@x.org>".
    if out.contains("< ") || out.contains(" >") {
        out = out.replace("< ", "<").replace(" >", ">");
    }
    out
}

/// Could line `i` end an attribution? A cheap filter before any regex.
pub(super) fn may_end_attribution(l: &Line<'_>) -> bool {
    let b = l.body;
    if b.is_empty() || b.len() >= MAX_MATCH_LEN {
        return false;
    }
    // Polymail ends its attribution with a line "> wrote:", which looks quoted.
    if l.quoted() && b.len() > 12 {
        return false;
    }
    let t = b.trim_end_matches(['-', '*', ' ']);
    t.ends_with(':') || t.ends_with('：') || t.ends_with('>') || t.len() >= 5 && t.as_bytes()[t.len() - 5..].eq_ignore_ascii_case(b"wrote")
}

/// For each line, the end (exclusive) of the attribution starting there, if any.
pub(super) fn find_attributions(lines: &[Line<'_>]) -> Vec<Option<usize>> {
    let n = lines.len();
    let mut starts: Vec<Option<usize>> = vec![None; n];
    let mut free_from = 0; // attributions do not overlap
    for end in 0..n {
        if !may_end_attribution(&lines[end]) {
            continue;
        }
        let lo = end.saturating_sub(MAX_WINDOW - 1).max(free_from);
        if let Some(start) = attribution_window(lines, lo, end) {
            starts[start] = Some(end + 1);
            free_from = end + 1;
        }
    }
    starts
}

/// Gnus / Emacs style above a quote: "* Jane Doe:", "* Jane Doe <jane@x.org>, 2024-12-03 10:01:".
fn star_attribution(body: &str) -> bool {
    static STAR: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(r"^\* (\p{Lu}[\p{L}.'’-]*( \p{Lu}[\p{L}.'’-]*){1,3}|[^:<>]{0,60}<[^<>\s]+@[^<>\s]+>)(, \d{4}-\d{2}-\d{2}( \d{1,2}:\d{2})?)?:$")
    });
    body.starts_with("* ") && body.ends_with(':') && body.len() < 160 && hit(&STAR, body)
}

/// The start of an attribution ending at `end`, trying windows `lo..=end`.
pub(super) fn attribution_window(lines: &[Line<'_>], lo: usize, end: usize) -> Option<usize> {
    let next_quoted = next_nonblank(lines, end + 1).is_some_and(|j| lines[j].quoted());
    let short_ok = next_quoted || decorated(&lines[end]);
    if next_quoted && star_attribution(lines[end].body) {
        return Some(end);
    }
    // Cheap test before any join or regex: every form needs a digit or an address, or short_ok.
    let evidence = |l: &Line<'_>| l.body.bytes().any(|c| c.is_ascii_digit() || c == b'@');
    let mut seen_evidence = false;
    // Windows whose first line opens like an attribution ("On", "Le", "Am", a date…), closest first.
    for start in (lo..=end).rev() {
        let first = &lines[start];
        seen_evidence |= evidence(first);
        if first.blank() || first.quoted() || first.body.len() >= MAX_MATCH_LEN {
            continue;
        }
        if !(seen_evidence || short_ok || decorated(first)) {
            continue;
        }
        if lines[start..end].iter().any(|l| l.quoted() || l.body.len() >= MAX_MATCH_LEN) {
            break;
        }
        let joined = join_window(&lines[start..=end]);
        let f = Features::of(&joined);
        if f.opener && attribution_text(&joined, &f, decorated(first) || next_quoted) {
            return Some(start);
        }
    }
    // Otherwise one or two lines with the sender up front ("Jane <j@x> schrieb am …:").
    for start in (end.saturating_sub(1).max(lo)..=end).rev() {
        let first = &lines[start];
        if first.blank() || first.quoted() || lines[start..end].iter().any(|l| l.blank() || l.quoted()) {
            continue;
        }
        if !(short_ok || decorated(first) || lines[start..=end].iter().any(evidence)) {
            continue;
        }
        let joined = join_window(&lines[start..=end]);
        let f = Features::of(&joined);
        if attribution_text(&joined, &f, decorated(first) || next_quoted) {
            return Some(start);
        }
    }
    None
}

pub(super) fn decorated(l: &Line<'_>) -> bool {
    l.body.starts_with("--") || l.body.ends_with("--")
}

pub(super) fn join_window(lines: &[Line<'_>]) -> String {
    crate::parse::work::add(lines.iter().map(|l| l.body.len()).sum());
    let mut s = String::new();
    for l in lines {
        if !l.body.is_empty() {
            // A quoted-printable soft break left undecoded ("w=\nrote:") joins without a space.
            if s.ends_with('=') {
                s.pop();
            } else {
                s.push(' ');
            }
            s.push_str(l.body);
        }
    }
    strip_decoration(&s)
}
