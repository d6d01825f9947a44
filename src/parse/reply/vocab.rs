//! Vocabulary of one unquoted line: signature delimiters, separators ("Original Message",
//! "Forwarded message", localised), mobile sign-offs and mailing-list footers.

use std::sync::LazyLock;

use regex::Regex;

use super::lines::Line;
use super::{MAX_MATCH_LEN, hit, re};

/// What an unquoted line is, apart from attributions (which may span several lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
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

pub(super) fn mark_of(line: &Line<'_>) -> Mark {
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
pub(super) fn separator_phrase(phrase: &str) -> Option<Mark> {
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
pub(super) fn begin_forwarded(inner: &str) -> Option<Mark> {
    static BEGIN: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)^(begin forwarded message|forwarded message|anfang der weitergeleiteten (nachricht|e-mail)|weitergeleitete nachricht|début du message (réexpédié|transféré)|message transféré|inicio del mensaje reenviado|mensaje reenviado|inizio messaggio inoltrato|messaggio inoltrato|begin doorgestuurd bericht|doorgestuurd bericht|início da mensagem (reencaminhada|encaminhada)|mensagem encaminhada|vidarebefordrat (brev|meddelande)|videresendt (besked|meddelelse|melding)|начало переадресованного сообщения|пересылаемое сообщение|転送されたメッセージ|转发的邮件|原始邮件)\s*[:：]?$",
        )
    });
    (inner.ends_with([':', '：']) && hit(&BEGIN, inner)).then_some(Mark::Forward)
}

pub(super) fn is_mobile_footer(body: &str) -> bool {
    static MOBILE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(r"(?ix)^(
            sent\ from\ my\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,4}
          | sent\ from\ [\w'’®™&.-]+(\ [\w'’®™&.-]+){0,4}
          | sent\ (with|via)\ (proton\ ?mail|blackberry|spark|superhuman|airmail|fastmail|tutanota)[\w\ .-]{0,30}
          | sent\ using\ [\w\ .-]{1,30}
          | sent\ (from|via|with|on|by)\ (the\ |my\ |an?\ )?(samsung|galaxy|iphone|ipad|android|blackberry|verizon|at&t|huawei|htc|motorola|nokia|windows\ phone|xperia|pixel|tablet|smartphone)\b.{0,60}
          | get\ outlook\ for\ (ios|android|mac|windows)
          | envoy[ée]\ (de|depuis)\ (mon|ma)\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | (von|gesendet\ von|gesendet\ mit)\ meine[mr]?\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,2}(\ gesendet)?
          | enviado\ (desde|do|de)\ (mi|meu|o\ meu)\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | inviato\ da\ (il\ mio\ |mio\ )?[\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | (verzonden|verstuurd)\ (vanaf|met|van)\ (mijn\ |een\ )?[\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | (skickat|sendt)\ (fra|från)\ (min|mi|mitt)\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | wysłane\ z\ (mojego\ |mojej\ )?[\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | отправлено\ (с|из)\ (моего\ )?[\w'’®™&-]+(\ [\w'’®™&-]+){0,2}
          | lähetetty\ [\w'’®™&-]+(\ [\w'’®™&-]+){0,3}
          | (iphone|ipad|android)から送信
          | 从我的\ ?(iphone|ipad|android|手机)发送
          | 发自我的\ ?(iphone|ipad|手机|android)
          | 發自我的\ ?(iphone|ipad|android)
          | 從我的\ ?(iphone|ipad|android|手機)\ ?傳送
        )[.!]?$")
    });
    if body.len() >= 200 {
        return false;
    }
    let unwrapped = unwrap_footer(body);
    let b = strip_trailing_link(&unwrapped);
    const PREFIXES: [&str; 21] = [
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
        "從我的",
    ];
    let head: String = b.chars().take(12).flat_map(char::to_lowercase).collect();
    b.len() < 80 && PREFIXES.iter().any(|p| head.starts_with(p)) && hit(&MOBILE, b)
}

/// A sign-off as a client or a person wraps it: "(sent from a phone)", "<<sent by galaxy>>",
/// "Sent from [Proton Mail](https://proton.me) for Android" → the words alone.
fn unwrap_footer(body: &str) -> std::borrow::Cow<'_, str> {
    let mut b = body.trim();
    for (open, close) in [("<<", ">>"), ("(", ")"), ("[", "]"), ("«", "»"), ("*", "*"), ("_", "_")] {
        if let Some(inner) = b.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            b = inner.trim();
        }
    }
    if !b.contains("](") {
        return b.into();
    }
    // Markdown links: keep the link text, drop the target.
    let mut out = String::with_capacity(b.len());
    let mut rest = b;
    while let Some(open) = rest.find('[') {
        let Some(mid) = rest[open..].find("](").map(|m| open + m) else { break };
        let Some(close) = rest[mid..].find(')').map(|c| mid + c) else { break };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..mid]);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out.into()
}

/// "Get Outlook for iOS<https://aka.ms/o0ukef>" → "Get Outlook for iOS".
pub(super) fn strip_trailing_link(s: &str) -> &str {
    match s.find('<') {
        Some(p) if s.ends_with('>') && p > 0 => s[..p].trim_end(),
        _ => s,
    }
}

pub(super) fn is_list_footer(body: &str) -> bool {
    static FOOTER: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)^(you received this (message|email) because you are subscribed|to unsubscribe from this (group|list)|you are receiving this because|reply to this email directly|view it on github|to unsubscribe,? (send|visit|e-?mail|click|go)|unsubscribe:? ?<?(https?|mailto):|[\w.-]+ mailing list$)",
        )
    });
    let first = body.bytes().next().map(|c| c.to_ascii_lowercase());
    (matches!(first, Some(b'y' | b't' | b'r' | b'v' | b'u')) || body.ends_with("mailing list")) && hit(&FOOTER, body)
}

/// An app's own footer with its link, "Sent with Sparrow (http://www.sparrowmailapp.com/?sig)".
pub(super) fn is_app_footer(body: &str) -> bool {
    static APP: LazyLock<Option<Regex>> =
        LazyLock::new(|| re(r"(?i)^sent (with|from|via|using|by) [\w'’®™&. -]{1,40} ?[(<]https?://[^\s)>]+[)>]$"));
    body.len() < 200 && body.get(..5).is_some_and(|h| h.eq_ignore_ascii_case("sent ")) && hit(&APP, body)
}

/// A salutation on a line of its own ("Hi Axel,", "Hello all,", "Bonjour Claire,"). Plain string
/// work, no regex: it runs on every line of new text.
pub(super) fn is_greeting(body: &str) -> bool {
    const WORDS: [&str; 17] = [
        "hi",
        "hello",
        "hey",
        "dear",
        "hallo",
        "hej",
        "hoi",
        "bonjour",
        "salut",
        "hola",
        "ciao",
        "olá",
        "ola",
        "moin",
        "servus",
        "greetings",
        "good",
    ];
    if body.len() >= 60 {
        return false;
    }
    let word_end = body.find(|c: char| !c.is_alphabetic()).unwrap_or(body.len());
    let (word, rest) = body.split_at(word_end);
    if !WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
        return false;
    }
    if word.eq_ignore_ascii_case("good") {
        let next = rest.trim_start().split(|c: char| !c.is_alphabetic()).next().unwrap_or("");
        if !["morning", "afternoon", "evening"].iter().any(|w| w.eq_ignore_ascii_case(next)) {
            return false;
        }
    }
    let rest = rest.strip_suffix([',', '!']).unwrap_or(rest);
    rest.chars().count() <= 40 && !rest.contains(['.', '!', '?', ':', ';'])
}

/// Footer words in the block below an underscore line.
pub(super) fn mentions_list(lines: &[Line<'_>]) -> bool {
    lines.iter().take(8).any(|l| {
        let b = l.body.to_ascii_lowercase();
        b.contains("mailing list") || b.contains("listinfo") || b.contains("unsubscribe") || b.contains("mailman")
    })
}
