//! Outlook-style header blocks ("From: … / Sent: … / To: … / Subject: …", localised) above
//! quoted history, unquoted or inside a quote.

use std::sync::LazyLock;

use regex::Regex;

use super::lines::{Line, make_line};
use super::{MAX_MATCH_LEN, re};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeaderKey {
    From,
    Date,
    To,
    Cc,
    Subject,
    Other,
}

/// Header names of quoted header blocks, by client language (Outlook, Apple Mail, Gmail forwards…).
pub(super) const HEADER_KEYS: &[(HeaderKey, &[&str])] = &[
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

pub(super) fn header_key(l: &Line<'_>) -> Option<HeaderKey> {
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
pub(super) fn header_block(lines: &[Line<'_>], i: usize) -> Option<usize> {
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
pub(super) fn has_clock_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(4).any(|w| w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit() && w[3].is_ascii_digit())
}

/// A header block ("> From: … / > Sent: …") inside quoted lines.
pub(super) fn quoted_header_block(lines: &[Line<'_>]) -> bool {
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
