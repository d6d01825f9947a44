//! The archive measure of visible text, without labels: runs the real trim (`mime::trim_eml`) over
//! every message of the real mailing-list archives in `../shared/corpus/mail` and classifies each
//! visible text (clean, interleaved, bottom-post history left, trailing quote left, attribution
//! left, answer lost), then prints counts, percentages and messages/s.
//!
//! `cargo bench --bench archive_trim` (release), or `cargo test --bench archive_trim` for a debug
//! build. `ARCHIVE_TRIM_SHOW=bottom_post` (any class name) prints up to `ARCHIVE_TRIM_SHOW_N` (5)
//! visible texts of that class. Skips, saying so, when the archives are absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use docket::parse::{html, mime, reply};
use regex::Regex;

/// What a visible text still carries (the classes of the shared `residual_history.py`, plus
/// "answer lost").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// New text only.
    Clean,
    /// One short quote with no attribution above, then the answer (kept as context by convention).
    QuoteThenText,
    /// Quotes and answers alternate (kept as context by convention).
    Interleaved,
    /// Attribution, one quoted block, then the answer: history left in.
    BottomPost,
    /// Ends in a quoted block: top-posted history left in.
    Trailing,
    /// An attribution line whose quote was removed but the line itself was left.
    Attribution,
    /// Empty, and the message has nothing but quotes, attributions and signatures.
    Empty,
    /// Empty although the body has unquoted text: the answer was lost.
    AnswerLost,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Clean => "clean",
            Class::QuoteThenText => "quote_then_text",
            Class::Interleaved => "interleaved",
            Class::BottomPost => "bottom_post",
            Class::Trailing => "trailing",
            Class::Attribution => "attribution",
            Class::Empty => "empty",
            Class::AnswerLost => "answer_lost",
        }
    }
}

/// An attribution line, as `residual_history.py` recognises one.
fn attribution_re() -> Regex {
    Regex::new(
        r"(?i)^\s*(on\b.{3,200}\bwrote\s*:|.{0,120}\b(wrote|writes|schrieb|a écrit|escribió|scrisse|skrev|napisał|schreef|escreveu|написал)\s*:|\d{4}-\d\d-\d\d .{0,80}<[^>]+>\s*:)\s*$",
    )
    .unwrap_or_else(|e| panic!("attribution pattern: {e}"))
}

fn quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn classify(text: &str, body: &str, attr: &Regex) -> Class {
    // Runs of non-blank lines of one kind: quoted (true) or not.
    let mut segs: Vec<(bool, Vec<&str>)> = Vec::new();
    for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
        let q = quoted(line);
        match segs.last_mut() {
            Some((k, lines)) if *k == q => lines.push(line),
            _ => segs.push((q, vec![line])),
        }
    }
    // Nothing, or only a greeting ("Hi Elliott,"), while the sender wrote more: the answer is lost.
    static GREETING: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"(?i)^\s*(hi|hello|hey|dear|hallo|bonjour|hola|ciao)\b[^.!?:;]{0,40}[,!]?\s*$").ok());
    let greeting = |l: &str| GREETING.as_ref().is_some_and(|g| g.is_match(l));
    let only_greeting = segs.len() == 1 && !segs[0].0 && segs[0].1.iter().all(|l| greeting(l));
    if segs.is_empty() || only_greeting {
        let answered = if only_greeting { unquoted_lines(body, attr) > segs[0].1.len() } else { unquoted_lines(body, attr) > 0 };
        return if answered { Class::AnswerLost } else { Class::Empty };
    }
    let quotes = segs.iter().filter(|(q, _)| *q).count();
    if segs.last().is_some_and(|(q, _)| *q) {
        return Class::Trailing;
    }
    if quotes >= 2 {
        return Class::Interleaved;
    }
    if quotes == 1 {
        let i = segs.iter().position(|(q, _)| *q).unwrap_or(0);
        let before = if i > 0 { segs[i - 1].1.as_slice() } else { &[] };
        if i == 1 && before.len() <= 2 && before.last().is_some_and(|l| attr.is_match(l)) {
            return Class::BottomPost;
        }
        return Class::QuoteThenText;
    }
    if segs.last().and_then(|(_, l)| l.last()).is_some_and(|l| attr.is_match(l)) {
        return Class::Attribution;
    }
    Class::Clean
}

/// How many lines of the body the trimmer read the sender wrote: unquoted, with a letter or
/// digit, not an attribution, and above any "-- " signature delimiter or list footer.
fn unquoted_lines(body: &str, attr: &Regex) -> usize {
    let mut n = 0;
    for line in body.lines() {
        let t = line.trim();
        // A signature, or a mailing-list footer below a line of underscores.
        if t == "--" || (t.len() >= 2 && t.bytes().all(|b| b == b'_')) {
            break;
        }
        if !quoted(line) && t.chars().any(char::is_alphanumeric) && !attr.is_match(t) {
            n += 1;
        }
    }
    n
}

/// The body `visible_text` reads: the text part, else (or when it has no letters) the HTML part.
fn trimmer_input(raw: &[u8]) -> String {
    match mime::bodies(raw) {
        (Some(t), Some(h)) if !t.chars().any(char::is_alphanumeric) => html::to_quoted_text(&h),
        (Some(t), _) => t,
        (None, Some(h)) => html::to_quoted_text(&h),
        (None, None) => String::new(),
    }
}

/// Messages of an mboxrd file: split at `From ` lines, `>From ` unquoted by one level.
fn split_mboxrd(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    for line in data.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b"From ") {
            out.extend(cur.take().filter(|m| !m.is_empty()));
            cur = Some(Vec::new());
            continue;
        }
        let Some(m) = cur.as_mut() else { continue };
        let gts = line.iter().take_while(|b| **b == b'>').count();
        if gts > 0 && line[gts..].starts_with(b"From ") {
            m.extend_from_slice(&line[1..]);
        } else {
            m.extend_from_slice(line);
        }
    }
    out.extend(cur.filter(|m| !m.is_empty()));
    out
}

fn archive_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../shared/corpus/mail", "../../shared/corpus/mail"].iter().map(|rel| root.join(rel)).find(|p| p.is_dir())
}

fn main() {
    let Some(dir) = archive_dir() else {
        println!("skipped: ../shared/corpus/mail not present");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "mbox")).collect())
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        println!("skipped: no .mbox files in {}", dir.display());
        return;
    }
    let show = std::env::var("ARCHIVE_TRIM_SHOW").ok();
    let show_n: usize = std::env::var("ARCHIVE_TRIM_SHOW_N").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let attr = attribution_re();
    let mut all: Vec<Vec<u8>> = Vec::new();
    let mut total: BTreeMap<Class, usize> = BTreeMap::new();
    let mut shown = 0;
    for file in &files {
        let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let data = std::fs::read(file).unwrap_or_default();
        let messages = split_mboxrd(&data);
        let mut counts: BTreeMap<Class, usize> = BTreeMap::new();
        for (i, raw) in messages.iter().enumerate() {
            let text = mime::trim_eml(raw).text;
            let class = classify(&text, &trimmer_input(raw), &attr);
            *counts.entry(class).or_default() += 1;
            if show.as_deref() == Some(class.name()) && shown < show_n {
                shown += 1;
                println!("==== {name}#{i:05} {} ====\n{text}\n", class.name());
            }
        }
        report(&name, &counts);
        for (c, n) in counts {
            *total.entry(c).or_default() += n;
        }
        all.extend(messages);
    }
    report("both archives", &total);

    // Throughput: the same trim, repeated until at least two seconds of work.
    let start = Instant::now();
    let mut count = 0usize;
    let mut sink = 0usize;
    while start.elapsed() < Duration::from_secs(2) {
        for m in &all {
            sink += std::hint::black_box(mime::trim_eml(std::hint::black_box(m))).text.len();
            count += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    // The visible-text step alone, on bodies decoded beforehand.
    let decoded: Vec<(Option<String>, Option<String>)> = all.iter().map(|m| mime::bodies(m)).collect();
    let trim_start = Instant::now();
    let mut trimmed = 0usize;
    while trim_start.elapsed() < Duration::from_secs(2) {
        for (t, h) in &decoded {
            sink += std::hint::black_box(reply::visible_text(t.as_deref(), h.as_deref())).text.len();
            trimmed += 1;
        }
    }
    let trim_secs = trim_start.elapsed().as_secs_f64();
    let bytes: usize = all.iter().map(Vec::len).sum();
    println!(
        "trim_eml over the archives: {count} messages ({} distinct, {:.1} KiB avg) in {secs:.2}s = {:.0} messages/s single-threaded (sink {})",
        all.len(),
        bytes as f64 / all.len().max(1) as f64 / 1024.0,
        count as f64 / secs,
        sink % 10
    );
    println!("visible text alone (reply::visible_text on decoded bodies): {:.0} messages/s", trimmed as f64 / trim_secs);
}

fn report(name: &str, counts: &BTreeMap<Class, usize>) {
    let n: usize = counts.values().sum();
    let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
    println!("{name}: {n} messages");
    for (c, k) in counts {
        println!("  {:16} {k:6}  {:5.1}%", c.name(), pct(*k));
    }
    let get = |c: Class| counts.get(&c).copied().unwrap_or(0);
    let history = get(Class::BottomPost) + get(Class::Trailing) + get(Class::Attribution);
    println!(
        "  history left {history} ({:.2}%: bottom_post + trailing + attribution), answers lost {} ({:.2}%)",
        pct(history),
        get(Class::AnswerLost),
        pct(get(Class::AnswerLost))
    );
}
