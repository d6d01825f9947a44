//! Time parts: `5pm`, `5:30 pm`, `5 p.m.`, `17:00`, `17h30`, `noon`.

use chrono::NaiveTime;

/// `17:00`, `9:30`, `17h`, `17h30` → a 24-hour time.
pub(super) fn clock_24(word: &str) -> Option<NaiveTime> {
    let (h, m) = word.split_once(':').or_else(|| word.split_once('h')).unwrap_or((word, ""));
    if word.contains(':') && m.is_empty() {
        return None;
    }
    if !word.contains(':') && !word.contains('h') {
        return None;
    }
    let m = if m.is_empty() { "00" } else { m };
    let m = m.strip_suffix(":00").unwrap_or(m);
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    if !h.bytes().all(|b| b.is_ascii_digit()) || !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// `5pm`, `5:30pm`, `5 pm`, `5 p.m.`, `17:00`, `noon` at the start of `w`: (time, words used).
pub(super) fn time_part(w: &[String]) -> Option<(NaiveTime, usize)> {
    let first = w[0].as_str();
    if matches!(first, "noon" | "midday") {
        return NaiveTime::from_hms_opt(12, 0, 0).map(|t| (t, 1));
    }
    for suffix in ["am", "a.m", "pm", "p.m"] {
        if let Some(clock) = first.strip_suffix(suffix)
            && let Some(t) = clock_12(clock, suffix.starts_with('p'))
        {
            return Some((t, 1));
        }
    }
    if let Some(next) = w.get(1).map(String::as_str)
        && matches!(next, "am" | "a.m" | "pm" | "p.m")
        && let Some(t) = clock_12(first, next.starts_with('p'))
    {
        return Some((t, 2));
    }
    clock_24(first).map(|t| (t, 1))
}

/// `5`, `5:30` with am/pm → a time (12am = 00:00, 12pm = 12:00).
fn clock_12(clock: &str, pm: bool) -> Option<NaiveTime> {
    let (h, m) = clock.split_once(':').unwrap_or((clock, "00"));
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if !(1..=12).contains(&h) {
        return None;
    }
    let h = match (h, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, true) => h + 12,
        (h, false) => h,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}
