//! Calendar dates: `Dec 3 [2026]`, `3rd of December`, ISO `2026-12-03[T14:00]`, numeric
//! `12/03[/2026]` (day/month order by context) and dotted `3.12.[2026]` (day first).

use chrono::{Datelike, NaiveDate, NaiveTime};

use super::phrase::Day;
use super::time::clock_24;
use super::{DateContext, DateError, DateOrder, short};

fn month(word: &str) -> Option<u32> {
    Some(match word {
        "jan" | "january" => 1,
        "feb" | "february" => 2,
        "mar" | "march" => 3,
        "apr" | "april" => 4,
        "may" => 5,
        "jun" | "june" => 6,
        "jul" | "july" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" => 10,
        "nov" | "november" => 11,
        "dec" | "december" => 12,
        _ => return None,
    })
}

/// `3`, `03`, `3rd`, `21st` → a day of the month (1..=31).
fn day_number(word: &str) -> Option<u32> {
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))
        .unwrap_or(word);
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// A 4-digit year.
fn year(word: &str) -> Option<i32> {
    (word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit())).then(|| word.parse().ok()).flatten()
}

/// `Dec 3 [2026]`, `December 3rd`, `3 Dec [2026]`, `3rd of December`.
pub(super) fn month_day(w: &[String], today: NaiveDate, shown: &str) -> Result<Option<(Day, Option<NaiveTime>, usize)>, DateError> {
    let get = |i: usize| w.get(i).map(String::as_str).unwrap_or("");
    let (m, d, mut used) = if let (Some(m), Some(d)) = (month(get(0)), day_number(get(1))) {
        (m, d, 2)
    } else if let Some(d) = day_number(get(0)) {
        if let Some(m) = month(get(1)) {
            (m, d, 2)
        } else if get(1) == "of"
            && let Some(m) = month(get(2))
        {
            (m, d, 3)
        } else {
            return Ok(None);
        }
    } else {
        return Ok(None);
    };
    let date = if let Some(y) = year(get(used)) {
        used += 1;
        NaiveDate::from_ymd_opt(y, m, d)
    } else {
        closest(today, m, d)
    };
    date.map(|d| Some((Day::Date(d), None, used))).ok_or_else(|| DateError::NoSuchDate(short(shown)))
}

/// The valid `month/day` nearest to `today` among last, this and next year (ties: the future).
fn closest(today: NaiveDate, m: u32, d: u32) -> Option<NaiveDate> {
    let y = today.year();
    [y, y + 1, y - 1].into_iter().filter_map(|y| NaiveDate::from_ymd_opt(y, m, d)).min_by_key(|c| {
        let diff = (*c - today).num_days();
        // Future dates win ties: past distances count half a day more.
        diff.abs() * 2 + i64::from(diff < 0)
    })
}

/// `2026-12-03`, `2026-12-03t14:00` (tokens are lower-cased).
pub(super) fn iso(word: &str, shown: &str) -> Result<Option<(NaiveDate, Option<NaiveTime>)>, DateError> {
    let (date_part, time_part) = match word.split_once('t') {
        Some((d, t)) => (d, Some(t)),
        None => (word, None),
    };
    let parts: Vec<&str> = date_part.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Ok(None);
    };
    let numeric = |s: &str, len: std::ops::RangeInclusive<usize>| len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !(numeric(y, 4..=5) && numeric(m, 1..=2) && numeric(d, 1..=2)) {
        return Ok(None);
    }
    let time = match time_part {
        Some(t) => match clock_24(t) {
            Some(t) => Some(t),
            None => return Ok(None),
        },
        None => None,
    };
    let date = match (y.parse(), m.parse(), d.parse()) {
        (Ok(y), Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(y, m, d),
        _ => None,
    };
    match date {
        Some(date) => Ok(Some((date, time))),
        None if y.len() > 4 || y.starts_with('9') => Err(DateError::OutOfRange(short(shown))),
        None => Err(DateError::NoSuchDate(short(shown))),
    }
}

/// `12/03`, `12/03/2026`, `12/3/26` (order by context) and `3.12.`, `3.12.2026` (day first).
pub(super) fn numeric(word: &str, today: NaiveDate, shown: &str, ctx: &DateContext) -> Result<Option<NaiveDate>, DateError> {
    let (sep, dotted) = if word.contains('/') {
        ('/', false)
    } else if word.contains('.') {
        ('.', true)
    } else {
        return Ok(None);
    };
    let parts: Vec<&str> = word.split(sep).collect();
    let (a, b, y) = match parts.as_slice() {
        [a, b] if !dotted => (*a, *b, None),
        [a, b, ""] if dotted => (*a, *b, None),
        [a, b, y] if !y.is_empty() => (*a, *b, Some(*y)),
        _ => return Ok(None),
    };
    let small = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !small(a) || !small(b) {
        return Ok(None);
    }
    let year = match y {
        None => None,
        Some(y) if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => y.parse().ok(),
        Some(y) if y.len() == 2 && y.bytes().all(|b| b.is_ascii_digit()) => y.parse::<i32>().ok().map(|y| 2000 + y),
        Some(_) => return Ok(None),
    };
    let (a, b): (u32, u32) = match (a.parse(), b.parse()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Ok(None),
    };
    let make = |m: u32, d: u32| match year {
        Some(y) => NaiveDate::from_ymd_opt(y, m, d),
        None => closest(today, m, d),
    };
    let no_such = || DateError::NoSuchDate(short(shown));
    let order = if dotted || a > 12 || a == b {
        DateOrder::DayFirst
    } else if b > 12 {
        DateOrder::MonthFirst
    } else if let Some(order) = ctx.date_order {
        order
    } else {
        let fmt = |d: Option<NaiveDate>| match d {
            Some(d) => d.format("%-d %B %Y").to_string(),
            None => "no such date".to_owned(),
        };
        return Err(DateError::AmbiguousDayMonth { text: short(shown), day_first: fmt(make(b, a)), month_first: fmt(make(a, b)) });
    };
    let date = match order {
        DateOrder::DayFirst => make(b, a),
        DateOrder::MonthFirst => make(a, b),
    };
    date.map(Some).ok_or_else(no_such)
}
