//! Visible text of a message: only what the sender newly wrote (docs/mail-flow.md "visible text").
//!
//! Pure and sync. Input is the decoded text/plain body and/or the text/html body of one message;
//! output is the new text plus every removed span with the reason it was removed, so the web view
//! can offer "show quoted text". Conventions (corpus README): trailing quoted history, attribution
//! lines, Outlook header blocks, forwarded blocks, signatures and mobile / mailing-list footers go;
//! in an interleaved reply the quoted lines that new text answers stay as `>` context; a message
//! that is only a forward keeps the forwarded text; a bare quote with no attribution is kept.
//!
//! Shape: split into lines -> classify each line (quote / attribution / header block / separator /
//! signature / footer / text) -> one forward pass finds where the new text ends -> trailing cleanup
//! -> fallbacks that never remove the only content. Every step is linear in the input: regexes run
//! only on short lines (< `MAX_MATCH_LEN`) and attribution windows span at most `MAX_WINDOW` lines.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::html;

/// Why a span of the body was removed from the visible text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovedKind {
    /// Quoted history (`>` lines, or unmarked text below an attribution / header block).
    Quote,
    /// "On … wrote:" lines and Outlook "From: / Sent: / To: / Subject:" header blocks.
    Attribution,
    /// A forwarded message below a note ("---------- Forwarded message ---------").
    Forwarded,
    /// A signature: RFC 3676 §4.3 "-- " delimiter and what follows, or a "-Name" sign-off.
    Signature,
    /// Mobile ("Sent from my iPhone") and mailing-list footers.
    Footer,
}

/// One removed span, in message order.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub kind: RemovedKind,
    pub text: String,
}

/// The visible text of a message and what was cut from it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Visible {
    pub text: String,
    pub removed: Vec<Removed>,
}

/// Lines at least this long are never matched as attribution, header or footer (linear time).
const MAX_MATCH_LEN: usize = 300;
/// An attribution wraps over at most this many lines (Polymail puts one over five).
const MAX_WINDOW: usize = 5;
/// Quote depth is saturated here; only "quoted or not" matters downstream.
const MAX_DEPTH: u16 = 1000;

/// The visible text of a message, from its text/plain body, else (or when that is a stub) its
/// text/html body.
pub fn visible_text(text: Option<&str>, html: Option<&str>) -> Visible {
    match (text, html) {
        (Some(t), Some(h)) if is_stub(t) => trim(&html::to_quoted_text(h)),
        (Some(t), _) => trim(t),
        (None, Some(h)) => trim(&html::to_quoted_text(h)),
        (None, None) => Visible::default(),
    }
}

/// A text part that only stands in for the HTML part ("view this in an HTML mail reader").
fn is_stub(text: &str) -> bool {
    static STUB: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)html[- ](format|version|e-?mail|message|capable|compatible|mail)|in (a|your) (web )?browser|(client|program|reader|software) (does not|doesn't|cannot|can't) (support|display)|plain[- ]text (version|alternative|part)|text/html",
        )
    });
    let t = text.trim();
    if !t.chars().any(char::is_alphanumeric) {
        return true;
    }
    t.len() < 200 && hit(&STUB, t)
}

/// Compile a regex literal of this file. Each one has a positive case in the tests below, so a
/// pattern that failed to compile (`None`: never matches, never panics) fails a test.
fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

/// Does the lazily compiled `r` match `s`?
fn hit(r: &Option<Regex>, s: &str) -> bool {
    crate::parse::work::add(s.len());
    r.as_ref().is_some_and(|r| r.is_match(s))
}

// ---------------------------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------------------------

/// One physical line of the body (a line may be split in two, see `split_inline_attribution`).
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// The line without its ending and trailing white space.
    raw: &'a str,
    /// `>` quote depth (RFC 3676 §4.5 quote marks, also "> > " and "JD>" styles).
    depth: u16,
    /// Content after the quote marks, trimmed.
    body: &'a str,
}

impl Line<'_> {
    // Every scan over lines asks these: one unit of work per question (parse::work).
    fn blank(&self) -> bool {
        crate::parse::work::add(1);
        self.body.is_empty() && self.depth == 0
    }
    fn quoted(&self) -> bool {
        crate::parse::work::add(1);
        self.depth > 0
    }
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for raw in physical_lines(text) {
        let raw = raw.trim_end();
        if let Some((before, after)) = split_inline_attribution(raw) {
            out.push(make_line(before));
            out.push(make_line(after));
        } else {
            out.push(make_line(raw));
        }
    }
    out
}

/// Lines ended by CRLF, LF or a lone CR (mixed endings happen in forwarded and pasted text).
fn physical_lines(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'\n' || c == b'\r' {
                let line = &text[start..i];
                i += if c == b'\r' && bytes.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                start = i;
                return Some(line);
            }
            i += 1;
        }
        if start < bytes.len() {
            let line = &text[start..];
            start = bytes.len();
            return Some(line);
        }
        None
    })
}

fn make_line(raw: &str) -> Line<'_> {
    let (depth, body) = quote_prefix(raw);
    Line { raw, depth, body: body.trim() }
}

/// Quote depth and the rest of the line. Accepts "> > x", ">>x", "  > x" and initials ("JD> x").
fn quote_prefix(raw: &str) -> (u16, &str) {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() && i < 4 && bytes[i] == b' ' {
        i += 1;
    }
    // Supercite-style initials: up to three capitals immediately before '>'.
    let mut j = i;
    while j < bytes.len() && j - i < 3 && bytes[j].is_ascii_uppercase() {
        j += 1;
    }
    if j > i && bytes.get(j) == Some(&b'>') {
        i = j;
    }
    let mut depth: u16 = 0;
    let mut last = i;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => {
                depth = depth.saturating_add(1).min(MAX_DEPTH);
                i += 1;
                last = i;
            }
            b' ' | b'\t' if depth > 0 => i += 1,
            _ => break,
        }
    }
    if depth == 0 {
        return (0, raw);
    }
    (depth, raw.get(last..).unwrap_or(""))
}

/// "reply text--- On Wed, … wrote:" → ("reply text", "On Wed, … wrote:"): one client glues the
/// attribution to the last line of the reply.
fn split_inline_attribution(raw: &str) -> Option<(&str, &str)> {
    if raw.len() >= MAX_MATCH_LEN || raw.trim_start().starts_with('>') {
        return None;
    }
    // "reply--- On …" (Yahoo) or "Thanks! On … wrote:" (a client that dropped the line break).
    let pos = raw.find("--").or_else(|| raw.find(" On ").filter(|_| raw.ends_with(':')))?;
    let before = raw[..pos].trim_end();
    let after = raw[pos..].trim_start_matches(['-', ' ']);
    if before.is_empty() || before.trim_matches(['-', '*', ' ']).is_empty() || after.is_empty() {
        return None;
    }
    let joined = strip_decoration(after);
    let feats = Features::of(&joined);
    if feats.opener && attribution_text(&joined, &feats, false) { Some((before, after)) } else { None }
}

// ---------------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------------

/// What an unquoted line is, apart from attributions (which may span several lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Text,
    /// RFC 3676 §4.3 "-- " (and the common "--").
    SigDelim,
    /// A line of underscores: signature or mailing-list footer, unless a header block follows.
    Underscores,
    /// A rule of dashes / equals signs: plain text unless a header block follows.
    Rule,
    /// "-----Original Message-----" and friends.
    Original,
    /// "---------- Forwarded message ---------", "Begin forwarded message:".
    Forward,
    /// "Sent from my iPhone", "Get Outlook for Android", localised.
    Mobile,
    /// Start of a mailing-list / notification footer.
    ListFooter,
    /// "-Name" sign-off (only removed when it is the last line of the new text).
    NameSig,
    /// "—" alone: a notification footer delimiter when a footer phrase follows.
    EmDash,
}

fn mark_of(line: &Line<'_>) -> Mark {
    let b = line.body;
    if line.quoted() || b.is_empty() {
        return Mark::Text;
    }
    if line.raw.trim() == "--" {
        return Mark::SigDelim; // RFC 3676 §4.3
    }
    if b.len() >= MAX_MATCH_LEN {
        return Mark::Text;
    }
    if b == "—" || b == "–" {
        return Mark::EmDash;
    }
    let inner = b.trim_matches(['*', ' ']);
    if inner.len() >= 2 && inner.bytes().all(|c| c == b'_') {
        return Mark::Underscores;
    }
    if inner.len() >= 5 && inner.bytes().all(|c| c == b'-' || c == b'=' || c == b'_') {
        return Mark::Rule;
    }
    static SEPARATOR: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"^[-=_]{2,}\s*([^-=_].{1,58}?)\s*[-=_]{2,}$"));
    let starts_rule = inner.starts_with(['-', '=', '_']);
    if let Some(c) = SEPARATOR.as_ref().filter(|_| starts_rule).and_then(|r| r.captures(inner)) {
        let phrase = c.get(1).map_or("", |m| m.as_str());
        if let Some(m) = separator_phrase(phrase) {
            return m;
        }
    }
    if let Some(m) = begin_forwarded(inner) {
        return m;
    }
    if is_mobile_footer(b) {
        return Mark::Mobile;
    }
    if is_list_footer(b) {
        return Mark::ListFooter;
    }
    static NAME_SIG: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"^-\p{Lu}[\p{L}.'’]*(?: [\p{L}.'’-]+){0,3}$"));
    if b.starts_with('-') && hit(&NAME_SIG, b) {
        return Mark::NameSig;
    }
    Mark::Text
}

/// The phrase between the dashes of a separator line.
fn separator_phrase(phrase: &str) -> Option<Mark> {
    static FORWARD: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)forward|weitergeleitet|transf[ée]r|reenviad|inoltrat|doorgestuurd|encaminhad|vidarebefordra|videresend|пересыла|переслан|转发|轉寄|転送|przekazan|továbbított",
        )
    });
    static ORIGINAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)original|ursprüngliche|nachricht|message|mensaje|messaggio|bericht|mensagem|meddelande|meddelelse|melding|wiadomo|сообщени|邮件|郵件|メッセージ|zpráva|oorspronkelijk|oprindelig|opprinnelig|ursprungligt|alkuperäinen|původní|eredeti",
        )
    });
    if phrase.split_whitespace().count() > 5 {
        return None;
    }
    if hit(&FORWARD, phrase) {
        Some(Mark::Forward)
    } else if hit(&ORIGINAL, phrase) {
        Some(Mark::Original)
    } else {
        None
    }
}

/// Apple Mail and friends: "Begin forwarded message:" (localised).
fn begin_forwarded(inner: &str) -> Option<Mark> {
    static BEGIN: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)^(begin forwarded message|forwarded message|anfang der weitergeleiteten (nachricht|e-mail)|weitergeleitete nachricht|début du message (réexpédié|transféré)|message transféré|inicio del mensaje reenviado|mensaje reenviado|inizio messaggio inoltrato|messaggio inoltrato|begin doorgestuurd bericht|doorgestuurd bericht|início da mensagem (reencaminhada|encaminhada)|mensagem encaminhada|vidarebefordrat (brev|meddelande)|videresendt (besked|meddelelse|melding)|начало переадресованного сообщения|пересылаемое сообщение|転送されたメッセージ|转发的邮件|原始邮件)\s*[:：]?$",
        )
    });
    (inner.ends_with([':', '：']) && hit(&BEGIN, inner)).then_some(Mark::Forward)
}

fn is_mobile_footer(body: &str) -> bool {
    static MOBILE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(r"(?ix)^(
            sent\ from\ my\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,4}
          | sent\ from\ [\w'’®™&.-]+(\ [\w'’®™&.-]+){0,4}
          | sent\ (with|via)\ (proton\ ?mail|blackberry|spark|superhuman|airmail|fastmail|tutanota)[\w\ .-]{0,30}
          | sent\ using\ [\w\ .-]{1,30}
          | sent\ (from|via|with|on)\ (the\ |my\ |an?\ )?(samsung|galaxy|iphone|ipad|android|blackberry|verizon|at&t|huawei|htc|motorola|nokia|windows\ phone|xperia|pixel|tablet|smartphone)\b.{0,60}
          | get\ outlook\ for\ (ios|android|mac|windows)
          | envoy[ée]\ (de|depuis)\ (mon|ma)\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | (von|gesendet\ von|gesendet\ mit)\ meine[mr]?\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,2}(\ gesendet)?
          | enviado\ (desde|do|de)\ (mi|meu|o\ meu)\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | inviato\ da\ (il\ mio\ |mio\ )?[\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | (verzonden|verstuurd)\ (vanaf|met|van)\ (mijn|een)\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | (skickat|sendt)\ (fra|från)\ (min|mi|mitt)\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | wysłane\ z\ (mojego\ |mojej\ )?[\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | отправлено\ (с|из)\ (моего\ )?[\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | lähetetty\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,3}
          | (iphone|ipad|android)から送信
          | 从我的\ ?(iphone|ipad|android|手机)发送
          | 发自我的\ ?(iphone|ipad|手机|android)
          | 發自我的\ ?(iphone|ipad|android)
        )[.!]?$")
    });
    let b = strip_trailing_link(body);
    const PREFIXES: [&str; 20] = [
        "sent ",
        "get outlook",
        "envoy",
        "von ",
        "gesendet",
        "enviado",
        "inviato",
        "verzonden",
        "verstuurd",
        "skickat",
        "sendt",
        "wysłane",
        "отправлено",
        "lähetetty",
        "iphone",
        "ipad",
        "android",
        "从我的",
        "发自",
        "發自",
    ];
    let head: String = b.chars().take(12).flat_map(char::to_lowercase).collect();
    b.len() < 80 && PREFIXES.iter().any(|p| head.starts_with(p)) && hit(&MOBILE, b)
}

/// "Get Outlook for iOS<https://aka.ms/o0ukef>" → "Get Outlook for iOS".
fn strip_trailing_link(s: &str) -> &str {
    match s.find('<') {
        Some(p) if s.ends_with('>') && p > 0 => s[..p].trim_end(),
        _ => s,
    }
}

fn is_list_footer(body: &str) -> bool {
    static FOOTER: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)^(you received this (message|email) because you are subscribed|to unsubscribe from this (group|list)|you are receiving this because|reply to this email directly|view it on github|to unsubscribe,? (send|visit|e-?mail|click|go)|unsubscribe:? ?<?(https?|mailto):|[\w.-]+ mailing list$)",
        )
    });
    let first = body.bytes().next().map(|c| c.to_ascii_lowercase());
    (matches!(first, Some(b'y' | b't' | b'r' | b'v' | b'u')) || body.ends_with("mailing list")) && hit(&FOOTER, body)
}

/// Footer words in the block below an underscore line.
fn mentions_list(lines: &[Line<'_>]) -> bool {
    lines.iter().take(8).any(|l| {
        let b = l.body.to_ascii_lowercase();
        b.contains("mailing list") || b.contains("listinfo") || b.contains("unsubscribe") || b.contains("mailman")
    })
}

// ---------------------------------------------------------------------------------------------
// Attribution lines ("On … wrote:", localised; possibly wrapped over several lines)
// ---------------------------------------------------------------------------------------------

/// Cheap facts about a candidate attribution, computed once per window.
struct Features {
    opener: bool,
    has_at: bool,
    has_digit: bool,
    words: usize,
}

impl Features {
    fn of(s: &str) -> Features {
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
fn attribution_text(s: &str, f: &Features, short_ok: bool) -> bool {
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
        LazyLock::new(|| re(r"(?i)^(quoting|citando|zitat von|cytowanie|citation de|cytat)\b.{1,200}[:：]$"));
    if (f.has_at || short_ok) && hit(&QUOTING, s) {
        return true;
    }
    // mutt: "* Jane Doe <jane@x.org> [2024-12-03 10:01]:".
    static MUTT: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"<[^<>\s]+@[^<>\s]+>\s*\[\d{4}-\d{2}-\d{2}[^\]]{0,30}\]\s*:$"));
    f.has_at && (hit(&DATE_EMAIL, s) || hit(&TIME_EMAIL_COLON, s) || hit(&MUTT, s))
}

/// Strip decoration around an attribution: "---- On … wrote ----", "*On … wrote:*".
fn strip_decoration(s: &str) -> String {
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
fn may_end_attribution(l: &Line<'_>) -> bool {
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
fn find_attributions(lines: &[Line<'_>]) -> Vec<Option<usize>> {
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

/// The start of an attribution ending at `end`, trying windows `lo..=end`.
fn attribution_window(lines: &[Line<'_>], lo: usize, end: usize) -> Option<usize> {
    let next_quoted = next_nonblank(lines, end + 1).is_some_and(|j| lines[j].quoted());
    let short_ok = next_quoted || decorated(&lines[end]);
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

fn decorated(l: &Line<'_>) -> bool {
    l.body.starts_with("--") || l.body.ends_with("--")
}

fn join_window(lines: &[Line<'_>]) -> String {
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

// ---------------------------------------------------------------------------------------------
// Outlook header blocks ("From: … / Sent: … / To: … / Subject: …", localised)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderKey {
    From,
    Date,
    To,
    Cc,
    Subject,
    Other,
}

/// Header names of quoted header blocks, by client language (Outlook, Apple Mail, Gmail forwards…).
const HEADER_KEYS: &[(HeaderKey, &[&str])] = &[
    (
        HeaderKey::From,
        &[
            "from",
            "von",
            "de",
            "da",
            "van",
            "från",
            "fra",
            "od",
            "от",
            "发件人",
            "寄件者",
            "差出人",
            "lähettäjä",
            "kimden",
            "feladó",
            "보낸 사람",
        ],
    ),
    (
        HeaderKey::Date,
        &[
            "sent",
            "date",
            "gesendet",
            "datum",
            "envoyé",
            "enviado",
            "enviada em",
            "enviado em",
            "fecha",
            "inviato",
            "data",
            "verzonden",
            "skickat",
            "sendt",
            "wysłano",
            "odesláno",
            "отправлено",
            "дата",
            "发送时间",
            "日期",
            "寄件日期",
            "送信日時",
            "lähetetty",
            "gönderildi",
            "küldve",
            "보낸 날짜",
            "날짜",
        ],
    ),
    (
        HeaderKey::To,
        &[
            "to",
            "an",
            "à",
            "a",
            "para",
            "aan",
            "till",
            "til",
            "do",
            "komu",
            "кому",
            "收件人",
            "收件者",
            "宛先",
            "vastaanottaja",
            "kime",
            "címzett",
            "받는 사람",
        ],
    ),
    (HeaderKey::Cc, &["cc", "bcc", "kopie", "копия", "抄送", "참조"]),
    (
        HeaderKey::Subject,
        &[
            "subject",
            "betreff",
            "objet",
            "asunto",
            "assunto",
            "oggetto",
            "onderwerp",
            "ämne",
            "emne",
            "temat",
            "předmět",
            "тема",
            "主题",
            "主旨",
            "件名",
            "aihe",
            "konu",
            "tárgy",
            "제목",
        ],
    ),
    (HeaderKey::Other, &["reply-to", "antwort an", "répondre à"]),
];

fn header_key(l: &Line<'_>) -> Option<HeaderKey> {
    // "*From:* x", "From: x", "De : x" (French space before the colon), "发件人：x".
    static KEY: LazyLock<Option<Regex>> = LazyLock::new(|| {
        let names: Vec<String> = HEADER_KEYS.iter().flat_map(|(_, names)| names.iter().map(|n| regex::escape(n))).collect();
        re(&format!(r"(?i)^\*{{0,2}}\s*({})\s*\*{{0,2}}\s*[:：]", names.join("|")))
    });
    if l.quoted() || l.body.len() >= MAX_MATCH_LEN || !l.body.chars().take(30).any(|c| c == ':' || c == '：') {
        return None;
    }
    let c = KEY.as_ref()?.captures(l.body)?;
    let k = c.get(1)?.as_str().to_lowercase();
    HEADER_KEYS.iter().find(|(_, names)| names.contains(&k.as_str())).map(|(key, _)| *key)
}

/// End (exclusive) of an Outlook-style header block starting at `i`, if one starts there.
fn header_block(lines: &[Line<'_>], i: usize) -> Option<usize> {
    header_key(&lines[i])?;
    let mut seen = [false; 6];
    let mut count = 0;
    let mut j = i;
    let mut cont = 0;
    let mut timestamped = false; // a Date/Sent value with a clock time, as clients write them
    while j < lines.len() && j < i + 16 {
        let l = &lines[j];
        // Some HTML-to-text conversions put a blank line between the header lines.
        if l.blank() && cont == 0 && lines.get(j + 1).is_some_and(|n| header_key(n).is_some()) {
            j += 1;
            continue;
        }
        if l.blank() || l.quoted() {
            break;
        }
        match header_key(l) {
            Some(k) => {
                timestamped |= k == HeaderKey::Date && has_clock_time(l.body);
                if !seen[k as usize] {
                    seen[k as usize] = true;
                    count += 1;
                }
                cont = 0;
            }
            None => {
                cont += 1; // a wrapped value ("Subject: Two\nline subject")
                if cont > 2 {
                    break;
                }
            }
        }
        j += 1;
    }
    let from = seen[HeaderKey::From as usize];
    let others = count - usize::from(from) - usize::from(seen[HeaderKey::Other as usize]);
    // "Date: Friday\nTo: all staff" in a memo is text; "Date: Wed, 16 May 2012 00:15:02\nTo: x" is not.
    ((from && others >= 1) || others >= 3 || (timestamped && others >= 2)).then_some(j - cont)
}

/// "10:01", "3:05 PM", "00:15:02": a clock time somewhere in `s`.
fn has_clock_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(4).any(|w| w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit() && w[3].is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// The pass that decides what stays
// ---------------------------------------------------------------------------------------------

fn next_nonblank(lines: &[Line<'_>], from: usize) -> Option<usize> {
    (from..lines.len()).find(|&j| !lines[j].blank())
}

/// End (exclusive) of the quote block starting at `i`: quoted lines, blank lines between them, and
/// link fragments that broke out of a quoted line.
fn quote_block_end(lines: &[Line<'_>], i: usize) -> usize {
    let mut j = i;
    let mut end = i;
    while j < lines.len() {
        let l = &lines[j];
        if l.quoted() {
            j += 1;
            end = j;
        } else if l.blank() {
            j += 1;
        } else if j > 0
            && lines[j - 1].quoted()
            && lines.get(j + 1).is_some_and(|n| n.quoted())
            && (is_fragment(l.body) || lines[j - 1].raw.ends_with('='))
        {
            j += 1;
            end = j;
        } else {
            break;
        }
    }
    end
}

/// A piece of a quoted line that a client re-wrapped without its `>` (a URL tail, " (link) >").
fn is_fragment(body: &str) -> bool {
    body.contains("://") || body.ends_with('>') || (!body.contains(' ') && body.contains(['=', '_', '/', '&', '?', '%']))
}

/// What kind of history begins at the cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    None,
    Quote,
    Attribution,
    Header,
    Original,
    Forward,
    Signature,
    Footer,
}

struct Ctx<'a> {
    lines: Vec<Line<'a>>,
    marks: Vec<Mark>,
    attr: Vec<Option<usize>>,
}

impl Ctx<'_> {
    /// Is line `j` new text from the sender (so a quote above it is interleaved context)?
    fn is_new_text(&self, j: usize) -> bool {
        let l = &self.lines[j];
        !l.quoted() && !l.blank() && self.marks[j] == Mark::Text && self.attr[j].is_none() && header_block(&self.lines, j).is_none()
    }

    /// The first history marker at or after `start`: (cut line, kind), and the context
    /// attributions passed on the way (kept as `>` headings when they open the message).
    fn find_cut(&self, start: usize) -> (usize, Cut, Vec<(usize, usize)>) {
        let lines = &self.lines;
        let n = lines.len();
        let mut ctx_attrs = Vec::new();
        let mut seen_text = false; // new text above: a later quote full of history is history
        let mut i = start;
        while i < n {
            let l = &lines[i];
            if l.blank() {
                i += 1;
                continue;
            }
            if let Some(e) = self.attr[i] {
                if let Some(q) = next_nonblank(lines, e).filter(|&q| lines[q].quoted()) {
                    let qe = quote_block_end(lines, q);
                    if next_nonblank(lines, qe).is_some_and(|m| self.is_new_text(m)) && !(seen_text && quoted_history(&lines[q..qe], true))
                    {
                        ctx_attrs.push((i, e));
                        i = qe;
                        continue;
                    }
                }
                return (i, Cut::Attribution, ctx_attrs);
            }
            if l.quoted() {
                let qe = quote_block_end(lines, i);
                if next_nonblank(lines, qe).is_some_and(|m| self.is_new_text(m)) && !(seen_text && quoted_history(&lines[i..qe], true)) {
                    i = qe;
                    continue;
                }
                return (i, Cut::Quote, ctx_attrs);
            }
            if header_block(lines, i).is_some() {
                return (i, Cut::Header, ctx_attrs);
            }
            seen_text |= self.marks[i] == Mark::Text;
            match self.marks[i] {
                Mark::SigDelim => return (i, Cut::Signature, ctx_attrs),
                Mark::Original => return (i, Cut::Original, ctx_attrs),
                Mark::Forward => return (i, Cut::Forward, ctx_attrs),
                Mark::ListFooter => return (i, Cut::Footer, ctx_attrs),
                Mark::Underscores | Mark::Rule | Mark::EmDash => {
                    let next = next_nonblank(lines, i + 1);
                    if let Some(m) = next {
                        if header_block(lines, m).is_some() || matches!(self.marks[m], Mark::Original | Mark::Forward) {
                            let kind = if self.marks[m] == Mark::Forward { Cut::Forward } else { Cut::Header };
                            return (i, kind, ctx_attrs);
                        }
                        if self.attr[m].is_some() {
                            return (i, Cut::Attribution, ctx_attrs);
                        }
                    }
                    match self.marks[i] {
                        Mark::Underscores => {
                            let kind = if mentions_list(&lines[i..]) { Cut::Footer } else { Cut::Signature };
                            return (i, kind, ctx_attrs);
                        }
                        Mark::EmDash if next.is_some_and(|m| self.marks[m] == Mark::ListFooter) => {
                            return (i, Cut::Footer, ctx_attrs);
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            i += 1;
        }
        (n, Cut::None, ctx_attrs)
    }
}

/// Trim one decoded body.
fn trim(text: &str) -> Visible {
    let lines = split_lines(text);
    let marks: Vec<Mark> = lines.iter().map(mark_of).collect();
    let attr = find_attributions(&lines);
    let ctx = Ctx { lines, marks, attr };
    let n = ctx.lines.len();

    let mut start = 0;
    let (mut cut, mut kind, mut ctx_attrs) = ctx.find_cut(0);
    let first = next_nonblank(&ctx.lines, 0);
    if first.is_some_and(|f| f >= cut) {
        // Nothing new above the history: never remove the only content.
        match kind {
            // A forward with no note: the forwarded text is the content (corpus README).
            Cut::Forward | Cut::Header => return keep_all(&ctx, n),
            // "On … wrote:" over unmarked text: drop the attribution, read on.
            Cut::Attribution => {
                let e = ctx.attr[cut].unwrap_or(cut + 1);
                if next_nonblank(&ctx.lines, e).is_some_and(|j| !ctx.lines[j].quoted()) {
                    start = e;
                    (cut, kind, ctx_attrs) = ctx.find_cut(e);
                }
            }
            // A bare quote that is not quoted history (no attribution, no header): keep it.
            Cut::Quote if !quoted_history(&ctx.lines[cut..], false) => {
                (cut, kind) = ctx.find_cut_in_quote(cut);
            }
            _ => {}
        }
    }
    assemble(&ctx, start, cut, kind, &ctx_attrs)
}

impl Ctx<'_> {
    /// For a message that is only a quote: keep the quote, still dropping a trailing signature.
    fn find_cut_in_quote(&self, from: usize) -> (usize, Cut) {
        let n = self.lines.len();
        for i in from..n {
            if !self.lines[i].quoted() && !self.lines[i].blank() && self.marks[i] != Mark::Text {
                let kind = match self.marks[i] {
                    Mark::Mobile | Mark::ListFooter => Cut::Footer,
                    _ => Cut::Signature,
                };
                return (i, kind);
            }
        }
        (n, Cut::None)
    }
}

/// Does a quote carry attribution or header lines (history, not a quotation)? With
/// `own_heading`, an attribution on the block's first line is the heading of the quoted context
/// itself and does not count.
fn quoted_history(lines: &[Line<'_>], own_heading: bool) -> bool {
    let first = lines.iter().position(|l| !l.body.is_empty());
    lines.iter().enumerate().take(4000).any(|(k, l)| {
        if !l.quoted() || l.body.is_empty() || l.body.len() >= MAX_MATCH_LEN {
            return false;
        }
        if own_heading && Some(k) == first {
            return matches!(mark_of(&make_line(l.body)), Mark::Original | Mark::Forward);
        }
        let inner = make_line(l.body);
        let s = strip_decoration(l.body);
        let f = Features::of(&s);
        (may_end_attribution(&inner) && attribution_text(&s, &f, false)) || matches!(mark_of(&inner), Mark::Original | Mark::Forward)
    }) || quoted_header_block(lines)
}

/// A header block ("> From: … / > Sent: …") inside quoted lines.
fn quoted_header_block(lines: &[Line<'_>]) -> bool {
    let mut run: Vec<HeaderKey> = Vec::new();
    for l in lines.iter().take(4000) {
        let inner = make_line(l.body);
        match header_key(&inner).filter(|_| l.quoted()) {
            Some(k) => {
                if !run.contains(&k) {
                    run.push(k);
                }
                if run.contains(&HeaderKey::From) && run.len() >= 2 {
                    return true;
                }
            }
            None => run.clear(),
        }
    }
    false
}

fn keep_all(ctx: &Ctx<'_>, n: usize) -> Visible {
    let keep = vec![true; n];
    let text = render(&ctx.lines, &keep);
    Visible { text, removed: Vec::new() }
}

/// Build the result from the kept range `start..cut` and label everything removed.
fn assemble(ctx: &Ctx<'_>, start: usize, cut: usize, kind: Cut, ctx_attrs: &[(usize, usize)]) -> Visible {
    let lines = &ctx.lines;
    let n = lines.len();
    let mut label: Vec<Option<RemovedKind>> = vec![None; n];
    // Lines before `start` (an attribution dropped by the fallback).
    for l in label.iter_mut().take(start) {
        *l = Some(RemovedKind::Attribution);
    }
    // A context attribution stays only when it opens the message (the quote is the heading of an
    // interleaved reply); below new text it is dropped and its quote kept.
    let first = next_nonblank(lines, start);
    for &(a, e) in ctx_attrs {
        if first != Some(a) {
            for l in label.iter_mut().take(e).skip(a) {
                *l = Some(RemovedKind::Attribution);
            }
        }
    }
    label_history(ctx, cut, kind, &mut label);
    trailing_cleanup(ctx, start, cut, &mut label);

    let keep: Vec<bool> = label.iter().map(Option::is_none).collect();
    let text = render(lines, &keep);
    Visible { text, removed: removed_spans(lines, &label) }
}

/// Label every line from the cut to the end with why it goes.
fn label_history(ctx: &Ctx<'_>, cut: usize, kind: Cut, label: &mut [Option<RemovedKind>]) {
    let lines = &ctx.lines;
    let n = lines.len();
    let mut state = match kind {
        Cut::None => return,
        Cut::Quote => RemovedKind::Quote,
        Cut::Attribution | Cut::Header | Cut::Original => RemovedKind::Attribution,
        Cut::Forward => RemovedKind::Forwarded,
        Cut::Signature if mentions_list(&lines[cut..]) => RemovedKind::Footer,
        Cut::Signature => RemovedKind::Signature,
        Cut::Footer => RemovedKind::Footer,
    };
    let forwarded = kind == Cut::Forward;
    let mut i = cut;
    while i < n {
        let l = &lines[i];
        if forwarded {
            label[i] = Some(RemovedKind::Forwarded);
            i += 1;
            continue;
        }
        if let Some(e) = ctx.attr[i] {
            for x in label.iter_mut().take(e).skip(i) {
                *x = Some(RemovedKind::Attribution);
            }
            state = RemovedKind::Quote;
            i = e;
            continue;
        }
        if !l.quoted() && !l.blank() {
            if let Some(e) = header_block(lines, i) {
                for x in label.iter_mut().take(e).skip(i) {
                    *x = Some(RemovedKind::Attribution);
                }
                state = RemovedKind::Quote;
                i = e;
                continue;
            }
            match ctx.marks[i] {
                Mark::SigDelim if state != RemovedKind::Quote => {
                    state = if mentions_list(&lines[i..]) { RemovedKind::Footer } else { RemovedKind::Signature };
                }
                Mark::Mobile | Mark::ListFooter => state = RemovedKind::Footer,
                Mark::Underscores if mentions_list(&lines[i..]) => state = RemovedKind::Footer,
                Mark::Original | Mark::Rule | Mark::Underscores if i == cut => state = RemovedKind::Attribution,
                _ => {}
            }
        }
        label[i] = Some(if l.quoted() && state == RemovedKind::Attribution { RemovedKind::Quote } else { state });
        if state == RemovedKind::Attribution && !l.blank() && i > cut && !l.quoted() {
            label[i] = Some(RemovedKind::Quote);
        }
        i += 1;
    }
}

/// Drop mobile footers, "-Name" sign-offs and blank lines that end the kept text.
fn trailing_cleanup(ctx: &Ctx<'_>, start: usize, cut: usize, label: &mut [Option<RemovedKind>]) {
    let mut i = cut;
    let mut content_seen = false;
    while i > start {
        i -= 1;
        if label[i].is_some() || ctx.lines[i].blank() {
            continue;
        }
        match ctx.marks[i] {
            Mark::Mobile => label[i] = Some(RemovedKind::Footer),
            Mark::NameSig if !content_seen => label[i] = Some(RemovedKind::Signature),
            _ => break,
        }
        content_seen = true;
    }
}

/// Join kept lines; drop leading/trailing blank lines; keep indentation.
fn render(lines: &[Line<'_>], keep: &[bool]) -> String {
    let kept: Vec<&str> = lines.iter().zip(keep).filter(|(_, k)| **k).map(|(l, _)| l.raw).collect();
    let first = kept.iter().position(|l| !l.trim().is_empty());
    let last = kept.iter().rposition(|l| !l.trim().is_empty());
    match (first, last) {
        (Some(a), Some(b)) => kept[a..=b].join("\n"),
        _ => String::new(),
    }
}

/// Group removed lines into spans of one kind, in order.
fn removed_spans(lines: &[Line<'_>], label: &[Option<RemovedKind>]) -> Vec<Removed> {
    let mut out: Vec<Removed> = Vec::new();
    let mut open = false;
    for (l, k) in lines.iter().zip(label) {
        match k {
            Some(kind) => {
                if l.raw.trim().is_empty() && !open {
                    continue;
                }
                match out.last_mut() {
                    Some(last) if open && last.kind == *kind => {
                        last.text.push('\n');
                        last.text.push_str(l.raw);
                    }
                    _ => {
                        out.push(Removed { kind: *kind, text: l.raw.to_string() });
                        open = true;
                    }
                }
            }
            None => open = false,
        }
    }
    for r in &mut out {
        let t = r.text.trim_end().to_string();
        r.text = t;
    }
    out.retain(|r| !r.text.trim().is_empty());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn check(input: &str, want: &str) {
        let got = visible_text(Some(input), None);
        assert_eq!(got.text, want, "input:\n{input}\nremoved: {:?}", got.removed);
    }

    /// Is `line` (alone, with a quote below it) an attribution?
    fn attribution(line: &str) -> bool {
        let body = format!("x\n\n{line}\n> q\n");
        let lines = split_lines(&body);
        find_attributions(&lines).iter().any(Option::is_some)
    }

    fn mark(line: &str) -> Mark {
        mark_of(&make_line(line))
    }

    #[test]
    fn top_bottom_interleaved() {
        check("Hi\n\nOn Tue, 3 Dec 2024 at 10:01, Jane Doe <\njane@x.org> wrote:\n> q", "Hi");
        check(
            "On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n> q\n\nbelow",
            "On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n> q\n\nbelow",
        );
        check("above\nOn Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n> q\n\nbelow", "above\n> q\n\nbelow");
        check("> q\n\nanswer\n\n> q2\n", "> q\n\nanswer");
        check("> q\nanswer\n> q2\nanswer2", "> q\nanswer\n> q2\nanswer2");
        check("top\n\n> q\n> On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n>> old\n\nmore history", "top");
    }

    #[test]
    fn interleaved_quote_with_its_own_attribution() {
        let body = "Hi Bob,\n\n> On Tue, 3 Dec 2024, Jane <jane@x.org> wrote:\n>> Should we?\n> Yes.\n\nAgreed.";
        check(body, body);
    }

    #[test]
    fn only_content_is_kept() {
        check("> only a quote", "> only a quote");
        check("> On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n>> old", "");
        check("On 8 May 2017 17:34, \"Andy\" <andy@x.org> wrote:\n\n    code\n\nIt should be:", "    code\n\nIt should be:");
        check(
            "---------- Forwarded message ---------\nFrom: a@b.example\nDate: Mon\n\nbody",
            "---------- Forwarded message ---------\nFrom: a@b.example\nDate: Mon\n\nbody",
        );
        check("one line\n\n> q\n> q", "one line");
        check("", "");
    }

    #[test]
    fn signatures_and_footers() {
        check("Hi\n-- \nJane", "Hi"); // RFC 3676 §4.3
        check("Hi\n--\nJane", "Hi");
        check("Hi\n\n-Jane", "Hi");
        check("Hi\n\nSent from my iPhone", "Hi");
        check("Hi\n\nSent from my desk, where the keyboard is.", "Hi\n\nSent from my desk, where the keyboard is.");
        check("Hi\n\n___\nlist mailing list\nhttps://x.example/mailman/listinfo/list", "Hi");
        check("a -- b\nc", "a -- b\nc");
        check("- a\n- b", "- a\n- b");
    }

    #[test]
    fn attributions() {
        for yes in [
            "On Tue, Dec 3, 2024 at 10:01 AM Jane Doe <jane@x.org> wrote:",
            "---- On Tue, 03 Dec 2024 10:01:00 +0100 Jane&lt;jane@x.org&gt; wrote ----",
            "---- Jane Doe wrote ----",
            "Jane Doe wrote:",
            "Am Di., 3. Dez. 2024 um 10:01 Uhr schrieb Jana <jana@x.de>:",
            "Jana <jana@x.de> schrieb am Di., 3. Dez. 2024, 10:01:",
            "Le mar. 3 déc. 2024 à 10:01, Claire <claire@x.fr> a écrit :",
            "El mar, 3 dic 2024 a las 10:01, Lucía (<lucia@x.es>) escribió:",
            "Il giorno mar 3 dic 2024 alle ore 10:01 Giulia <g@x.it> ha scritto:",
            "Op di 3 dec. 2024 om 10:01 schreef Daan <daan@x.nl>:",
            "Em ter., 3 de dez. de 2024 às 10:01, João <joao@x.br> escreveu:",
            "Den tis 3 dec. 2024 kl 10:01 skrev Erik <erik@x.se>:",
            "W dniu 3.12.2024 o 10:01, Anna pisze:",
            "3 декабря 2024 г., 10:01 пользователь Иван <ivan@x.ru> написал:",
            "вт, 3 дек. 2024 г. в 10:01, Иван <ivan@x.ru>:",
            "2024年12月3日(火) 10:01 山田太郎 <taro@x.jp>:",
            "在 2024年12月3日，上午10:01，王伟 <wang@x.cn> 写道：",
            "2011/4/7 Nathan <support@x.com>",
            "On 11-Apr-2011, at 6:54 PM, Roman <romant@x.com> sent:",
            "Quoting Jane Doe <jane@x.org>:",
            "* Erik Lund <erik@x.se> [2024-12-02 22:14]:",
            "Jane Doe/ACME@ACME wrote on 12/03/2024 10:01:00 AM:",
        ] {
            assert!(attribution(yes), "should be an attribution: {yes}");
        }
        for no in [
            "On your staging host you can run:",
            "On Monday, at 10:00 we meet. Jane wrote the agenda:",
            "On blah-blah-blah",
            "Here is the list:",
            "See <https://x.example/a>",
        ] {
            assert!(!attribution(no), "should not be an attribution: {no}");
        }
    }

    #[test]
    fn line_marks() {
        assert_eq!(mark("-- "), Mark::SigDelim);
        assert_eq!(mark("__________"), Mark::Underscores);
        assert_eq!(mark("-----Original Message-----"), Mark::Original);
        assert_eq!(mark("*-------- Original Message --------*"), Mark::Original);
        assert_eq!(mark("-----Ursprüngliche Nachricht-----"), Mark::Original);
        assert_eq!(mark("---------- Forwarded message ---------"), Mark::Forward);
        assert_eq!(mark("-------- Message transféré --------"), Mark::Forward);
        assert_eq!(mark("Begin forwarded message:"), Mark::Forward);
        assert_eq!(mark("--------- Enter Feedback Below ---------"), Mark::Text);
        assert_eq!(mark("Get Outlook for iOS<https://aka.ms/o0ukef>"), Mark::Mobile);
        assert_eq!(mark("Von meinem iPhone gesendet"), Mark::Mobile);
        assert_eq!(mark("发自我的iPhone"), Mark::Mobile);
        assert_eq!(mark("To unsubscribe from this group and stop receiving emails from it, send"), Mark::ListFooter);
        assert_eq!(mark("-Abhishek Kona"), Mark::NameSig);
        assert_eq!(mark("- item"), Mark::Text);
        assert_eq!(mark("> -- "), Mark::Text);
    }

    #[test]
    fn header_blocks() {
        let block = |s: &str| header_block(&split_lines(s), 0);
        assert_eq!(block("From: a\nSent: b\nTo: c\nSubject: d\n\nbody"), Some(4));
        assert_eq!(block("*From:* a\n*Sent:* b"), Some(2));
        assert_eq!(block("De : a\nEnvoyé : b\nÀ : c\nObjet : d"), Some(4));
        assert_eq!(block("发件人：a\n发送时间：b\n收件人：c\n主题：d"), Some(4));
        assert_eq!(block("From: a\n\nSent: b\n\nTo: c"), Some(5));
        assert_eq!(block("Date: Friday\nTime: 10:00\nRoom: 4"), None);
        assert_eq!(block("Date: Friday 6 Dec\nTo: all staff"), None);
        assert_eq!(block("Date: Wed, 16 May 2012 00:15:02 -0600\nTo: x@y.example"), Some(2));
        assert_eq!(block("Q: when?\nA: Friday"), None);
    }

    #[test]
    fn stub_text_parts() {
        assert!(is_stub(""));
        assert!(is_stub(" \n "));
        assert!(is_stub("This message is in HTML format."));
        assert!(!is_stub("I fixed the HTML bug in the footer."));
        assert_eq!(visible_text(Some(""), Some("<p>real</p>")).text, "real");
        assert_eq!(visible_text(Some("plain"), Some("<p>html</p>")).text, "plain");
    }

    #[test]
    fn removed_spans_say_why() {
        let v = visible_text(Some("Yes\n\nOn Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n> q\n"), None);
        let kinds: Vec<RemovedKind> = v.removed.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [RemovedKind::Attribution, RemovedKind::Quote]);
        assert_eq!(v.removed[1].text, "> q");
        let json = serde_json::to_string(&v.removed[0].kind).unwrap();
        assert_eq!(json, "\"attribution\"");
    }
}
