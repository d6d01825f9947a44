//! Natural due dates (`friday 5pm`, `in 3 days`, `Dec 3`, `eod`) resolved to UTC instants in the
//! sender's zone (docs/tags.md "Dates"). Pure: the caller passes the message's Date as `now`.
//!
//! A small hand parser rather than `interim`: docs/tags.md fixes semantics that general parsers choose
//! differently (a weekday is the next one *strictly after* today, `next week` is its Monday,
//! `12/03` is ambiguous without a member date order, a phrase that is not understood is an error
//! and never a guess), and the accepted forms are few. Grammar, case-insensitive, in any order,
//! with fillers `on`, `at`, `the`, `this`, `of`, `due`, `by` ignored, and at most one day part and
//! one time part:
//!
//! * day part: `today`, `tomorrow`/`tmrw`/`tmr`, `eod`/`cob`/`eob`/`end of [the] day` (that
//!   day: today, or the other day given, as in `Friday EOD`),
//!   `eow`/`end of [the|this] week` (this week's Friday; on Saturday/Sunday the next Friday),
//!   `end of next week` (next week's Friday), `end of [the] month` (its last day),
//!   weekday (`fri`, `friday`, optionally `next`/`this`: the next one strictly after today; with
//!   an explicit date, as in `Fri Dec 4`, it must match that date's weekday or it is an error),
//!   `next week` (next Monday of the following calendar week), `next month` (its 1st),
//!   `in|within N days|weeks|months` (a date), `in N hours|minutes` (an instant, no time part allowed),
//!   `Dec 3`, `December 3rd 2026`, `3 Dec`, `3rd of December, 2026`, `2026-12-03`,
//!   `2026-12-03T14:00`, `12/03` and `12/03/2026` (day/month order: unambiguous when one part
//!   is > 12 or both are equal, else [`DateContext::date_order`], else [`DateError::AmbiguousDayMonth`]),
//!   `3.12.` and `3.12.2026` (dotted: always day first).
//!   A date without a year is the occurrence (last, this or next year) closest to today, ties to
//!   the future: `Nov 1` written on Nov 25 is this year's (in the past, which the caller warns
//!   about), `Jan 5` written on Dec 20 is next year's.
//! * time part: `5pm`, `5:30 pm`, `5 p.m.`, `17:00`, `17h`, `17h30`, `noon`/`midday`.
//!   A trailing `UTC`/`GMT` reads the whole phrase in UTC instead of the sender's zone.
//!   A time without a day part is its next occurrence (today if still ahead, else tomorrow).
//!   A day without a time gets [`DateContext::default_due_time`] (docs/tags.md: 17:00 by default).
//!
//! DST policy (deterministic): a local time inside a spring-forward gap is shifted forward by the
//! gap's length (02:30 on a day that jumps 02:00→03:00 becomes 03:30 new time, as RFC 5545
//! §3.3.5 does); an ambiguous fall-back time takes the earlier instant (the first occurrence).
//! Results more than [`MAX_DISTANCE_DAYS`] days from `now` (year 9999, `in 100000 days`) are
//! [`DateError::OutOfRange`]. A past result is returned as is: the tag layer warns about it.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc,
    Weekday,
};

/// How far (in days, either direction) a due time may be from the message date before it is
/// treated as absurd rather than as a real deadline.
pub const MAX_DISTANCE_DAYS: i64 = 3660;

/// A date phrase with more words than this is not a date (bounds the work on long lines).
const MAX_WORDS: usize = 8;

/// The sender's time zone: the member's IANA zone, else the Date header's fixed offset
/// (docs/tags.md: member setting, else the Date header's offset, else the server default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Named(chrono_tz::Tz),
    Fixed(FixedOffset),
}

impl Zone {
    /// An IANA zone name such as `Europe/Berlin`; `None` when unknown.
    pub fn named(name: &str) -> Option<Zone> {
        name.parse::<chrono_tz::Tz>().ok().map(Zone::Named)
    }

    /// The zone of a message's Date header (`+0100`), kept as a fixed offset.
    pub fn of_header<Tz: TimeZone>(date: &DateTime<Tz>) -> Zone {
        Zone::Fixed(date.offset().fix())
    }

    /// The wall-clock time in this zone at `instant`.
    pub fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Zone::Named(tz) => instant.with_timezone(tz).naive_local(),
            Zone::Fixed(off) => instant.with_timezone(off).naive_local(),
        }
    }

    /// The instant of a wall-clock time in this zone; `None` only when out of chrono's range.
    /// Gap (spring forward): shifted forward by the gap's length. Ambiguous (fall back): the
    /// earlier instant.
    pub fn to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Zone::Fixed(off) => resolve(off, local),
            Zone::Named(tz) => resolve(tz, local),
        }
    }

    /// Wall-clock rendering for warnings and receipts, e.g. `Fri 2026-11-27 17:00 CET`.
    pub fn display(&self, instant: DateTime<Utc>) -> String {
        match self {
            Zone::Named(tz) => instant.with_timezone(tz).format("%a %Y-%m-%d %H:%M %Z").to_string(),
            Zone::Fixed(off) => instant.with_timezone(off).format("%a %Y-%m-%d %H:%M %:z").to_string(),
        }
    }
}

fn resolve<Tz: TimeZone>(tz: &Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.with_timezone(&Utc).min(b.with_timezone(&Utc))),
        LocalResult::None => {
            // In a gap: use the offset in force just before it (RFC 5545 §3.3.5), which moves the
            // wall time forward by the gap's length. Gaps are at most a day long.
            let mut probe = local;
            for _ in 0..48 {
                probe = probe.checked_sub_signed(Duration::minutes(30))?;
                if let Some(before) = tz.from_local_datetime(&probe).earliest() {
                    let offset = before.offset().fix();
                    let utc = local.checked_sub_signed(Duration::seconds(i64::from(offset.local_minus_utc())))?;
                    return Some(Utc.from_utc_datetime(&utc));
                }
            }
            None
        }
    }
}

/// Day/month order for numeric dates like `12/03` (a member setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    DayFirst,
    MonthFirst,
}

/// Everything a due phrase is resolved against.
#[derive(Debug, Clone)]
pub struct DateContext {
    /// The message's Date (or `--now` for `parse` when there is none).
    pub now: DateTime<Utc>,
    /// The sender's zone (member tz, else the Date header's offset, else the server default).
    pub zone: Zone,
    /// `reminders.default_due_time` (17:00 by default): the time of a date without a time.
    pub default_due_time: NaiveTime,
    /// The member's day/month order for `12/03`, when set.
    pub date_order: Option<DateOrder>,
}

/// Why a phrase gave no due time. `Display` is the user-facing warning text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("missing date")]
    Empty,
    #[error("could not understand '{0}' as a date")]
    Unrecognised(String),
    #[error("'{text}' is ambiguous: {day_first} or {month_first}? write it as YYYY-MM-DD or set your date order")]
    AmbiguousDayMonth { text: String, day_first: String, month_first: String },
    #[error("'{0}' is not a real date")]
    NoSuchDate(String),
    #[error("'{text}' does not add up: {date} is a {actual}")]
    WeekdayMismatch { text: String, date: String, actual: String },
    #[error("'{0}' is too far from the message date (more than 10 years)")]
    OutOfRange(String),
}

/// Resolves a due phrase (without its `due`/`by` keyword) to an instant. docs/tags.md "Dates".
pub fn parse_due(text: &str, ctx: &DateContext) -> Result<DateTime<Utc>, DateError> {
    crate::parse::work::add(text.len());
    let shown = text.trim();
    if shown.is_empty() {
        return Err(DateError::Empty);
    }
    let words = tokens(shown);
    if words.is_empty() {
        return Err(DateError::Empty);
    }
    if words.len() > MAX_WORDS {
        return Err(DateError::Unrecognised(short(shown)));
    }
    // A trailing `UTC`/`GMT` says the phrase is in UTC rather than the sender's zone.
    let utc_ctx;
    let (words, ctx) = match words.split_last() {
        Some((last, rest)) if matches!(last.as_str(), "utc" | "gmt" | "z") => {
            utc_ctx = DateContext { zone: Zone::Fixed(Utc.fix()), ..ctx.clone() };
            (rest, &utc_ctx)
        }
        _ => (&words[..], ctx),
    };
    let phrase = Phrase::read(words, shown, ctx)?;
    let instant = phrase.resolve(shown, ctx)?;
    if (instant - ctx.now).num_days().abs() > MAX_DISTANCE_DAYS {
        return Err(DateError::OutOfRange(short(shown)));
    }
    Ok(instant)
}

/// At most 60 characters of the user's text, for warnings.
fn short(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if text.chars().nth(60).is_some() {
        out.push('…');
    }
    out
}

/// Lower-cased words; commas split words; trailing sentence punctuation is dropped except the
/// final dot of a dotted date (`3.12.`).
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(|w| {
            let w = w.trim_start_matches(['(', '[', '"', '\'']);
            let w = w.trim_end_matches([')', ']', '"', '!', '?', ';', ':']);
            let w = if is_dotted_date(w) { w } else { w.trim_end_matches('.') };
            (!w.is_empty()).then(|| w.to_lowercase())
        })
        .collect()
}

/// `3.12.` or `3.12.2026`: digits with two dots, whose final dot is part of the date.
pub(crate) fn is_dotted_date(word: &str) -> bool {
    word.bytes().all(|b| b.is_ascii_digit() || b == b'.') && word.bytes().filter(|b| *b == b'.').count() == 2
}

/// The day part of a phrase, before it is placed on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Day {
    Date(NaiveDate),
    /// `in 2 hours`: an exact offset from now; no time part allowed.
    After(Duration),
}

struct Phrase {
    day: Option<Day>,
    time: Option<NaiveTime>,
}

impl Phrase {
    fn read(words: &[String], shown: &str, ctx: &DateContext) -> Result<Phrase, DateError> {
        let today = ctx.zone.local(ctx.now).date();
        let unknown = || DateError::Unrecognised(short(shown));
        let mut phrase = Phrase { day: None, time: None };
        // A bare weekday and `eod` combine with an explicit date (`Fri Dec 4`, `Friday EOD`).
        let mut named_weekday = None;
        let mut eod = false;
        let mut i = 0;
        while i < words.len() {
            let rest = &words[i..];
            if let Some(wd) = weekday(&rest[0]) {
                if named_weekday.replace(wd).is_some() {
                    return Err(unknown());
                }
                i += 1;
            } else if let Some(used) = end_of_day(rest) {
                eod = true;
                i += used;
            } else if let Some((day, time, used)) = day_part(rest, today, shown, ctx)? {
                if phrase.day.is_some() || (time.is_some() && phrase.time.is_some()) {
                    return Err(unknown());
                }
                phrase.day = Some(day);
                phrase.time = phrase.time.or(time);
                i += used;
            } else if let Some((time, used)) = time_part(rest) {
                if phrase.time.is_some() {
                    return Err(unknown());
                }
                phrase.time = Some(time);
                i += used;
            } else if FILLERS.contains(&rest[0].as_str()) {
                i += 1;
            } else {
                return Err(unknown());
            }
        }
        match (named_weekday, phrase.day) {
            (Some(wd), None) => {
                let next = next_weekday(today, wd).ok_or_else(|| DateError::OutOfRange(short(shown)))?;
                phrase.day = Some(Day::Date(next));
            }
            (Some(wd), Some(Day::Date(d))) if d.weekday() != wd => {
                return Err(DateError::WeekdayMismatch {
                    text: short(shown),
                    date: d.format("%-d %B %Y").to_string(),
                    actual: d.format("%A").to_string(),
                });
            }
            (Some(_), Some(Day::After(_))) => return Err(unknown()),
            _ => {}
        }
        if eod && phrase.day.is_none() {
            phrase.day = Some(Day::Date(today));
        }
        if phrase.day.is_none() && phrase.time.is_none() {
            return Err(unknown());
        }
        Ok(phrase)
    }

    fn resolve(&self, shown: &str, ctx: &DateContext) -> Result<DateTime<Utc>, DateError> {
        let too_far = || DateError::OutOfRange(short(shown));
        let local_now = ctx.zone.local(ctx.now);
        let at = |date: NaiveDate, time: NaiveTime| ctx.zone.to_utc(date.and_time(time));
        let instant = match (self.day, self.time) {
            (Some(Day::After(d)), None) => ctx.now.checked_add_signed(d),
            (Some(Day::After(_)), Some(_)) => return Err(DateError::Unrecognised(short(shown))),
            (Some(Day::Date(date)), time) => at(date, time.unwrap_or(ctx.default_due_time)),
            (None, Some(time)) => {
                let today = local_now.date();
                let date = if time > local_now.time() { Some(today) } else { today.succ_opt() };
                date.and_then(|d| at(d, time))
            }
            (None, None) => return Err(DateError::Unrecognised(short(shown))),
        };
        instant.and_then(|t| t.with_nanosecond(0)).ok_or_else(too_far)
    }
}

const FILLERS: &[&str] = &["on", "at", "the", "this", "of", "due", "by", "until", "before"];

/// Matches a day part at the start of `w`: (day, time carried by the same token, words used).
fn day_part(w: &[String], today: NaiveDate, shown: &str, ctx: &DateContext) -> Result<Option<(Day, Option<NaiveTime>, usize)>, DateError> {
    let first = w[0].as_str();
    let second = w.get(1).map(String::as_str);
    let third = w.get(2).map(String::as_str);
    let date = |d: Option<NaiveDate>, used: usize| -> Result<_, DateError> {
        d.map(|d| Some((Day::Date(d), None, used))).ok_or_else(|| DateError::OutOfRange(short(shown)))
    };
    match first {
        "today" | "tod" => return date(Some(today), 1),
        "tomorrow" | "tmrw" | "tmr" | "tomorow" => return date(today.succ_opt(), 1),
        "eow" => return date(end_of_week(today), 1),
        "end" if second == Some("of") => {
            let fourth = w.get(3).map(String::as_str);
            let (third, used) = match (third, fourth) {
                (Some("the" | "this"), Some(x)) => (x, 4),
                (Some(x), _) => (x, 3),
                (None, _) => ("", 0),
            };
            match third {
                "week" => return date(end_of_week(today), used),
                "month" => {
                    let next_first = today.with_day(1).and_then(|d| d.checked_add_months(Months::new(1)));
                    return date(next_first.and_then(|d| d.pred_opt()), used);
                }
                "next" if w.get(used).map(String::as_str) == Some("week") => {
                    let friday = next_week_monday(today).and_then(|mon| mon.checked_add_signed(Duration::days(4)));
                    return date(friday, used + 1);
                }
                _ => {}
            }
        }
        "next" => match second {
            Some("week") => return date(next_week_monday(today), 2),
            Some("month") => {
                let first_of_month = today.with_day(1);
                return date(first_of_month.and_then(|d| d.checked_add_months(Months::new(1))), 2);
            }
            Some(day) => {
                if let Some(wd) = weekday(day) {
                    return date(next_weekday(today, wd), 2);
                }
            }
            None => {}
        },
        "in" | "within" => {
            if let (Some(n), Some(unit)) = (second.and_then(count), third) {
                return in_duration(n, unit, today, shown);
            }
        }
        _ => {}
    }
    if let Some(found) = month_day(w, today, shown)? {
        return Ok(Some(found));
    }
    if let Some((d, time)) = iso(first, shown)? {
        return Ok(Some((Day::Date(d), time, 1)));
    }
    if let Some(d) = numeric(first, today, shown, ctx)? {
        return Ok(Some((Day::Date(d), None, 1)));
    }
    Ok(None)
}

fn in_duration(n: i64, unit: &str, today: NaiveDate, shown: &str) -> Result<Option<(Day, Option<NaiveTime>, usize)>, DateError> {
    let too_far = || DateError::OutOfRange(short(shown));
    if n > MAX_DISTANCE_DAYS * 24 * 60 {
        return Err(too_far());
    }
    let date = |days: i64| -> Result<_, DateError> {
        today.checked_add_signed(Duration::days(days)).map(|d| Some((Day::Date(d), None, 3))).ok_or_else(too_far)
    };
    match unit {
        "day" | "days" | "d" => date(n),
        "week" | "weeks" | "wk" | "wks" | "w" => date(n.saturating_mul(7)),
        "month" | "months" | "mo" => {
            let months = u32::try_from(n).map_err(|_| too_far())?;
            today.checked_add_months(Months::new(months)).map(|d| Some((Day::Date(d), None, 3))).ok_or_else(too_far)
        }
        "hour" | "hours" | "hr" | "hrs" | "h" => Ok(Some((Day::After(Duration::hours(n)), None, 3))),
        "minute" | "minutes" | "min" | "mins" => Ok(Some((Day::After(Duration::minutes(n)), None, 3))),
        _ => Ok(None),
    }
}

/// `eod`, `cob`, `eob`, `end of [the] day`, `end of today`: words used. docs/tags.md: `eod` is that
/// day (at the default due time unless a time is given).
fn end_of_day(w: &[String]) -> Option<usize> {
    let get = |i: usize| w.get(i).map(String::as_str);
    match (get(0)?, get(1), get(2), get(3)) {
        ("eod" | "cob" | "eob", ..) => Some(1),
        ("end", Some("of"), Some("day" | "today"), _) => Some(3),
        ("end", Some("of"), Some("the" | "this"), Some("day")) => Some(4),
        _ => None,
    }
}

/// `3`, `three`, `a`, `an` → a count for `in N days`.
fn count(word: &str) -> Option<i64> {
    const WORDS: &[&str] = &["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
    match word {
        "a" | "an" => Some(1),
        _ if word.len() <= 9 && !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) => word.parse().ok(),
        _ => WORDS.iter().position(|w| *w == word).and_then(|p| i64::try_from(p).ok()),
    }
}

fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "weds" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// The next `wd` strictly after `today` (docs/tags.md: a weekday means the next one after that day).
fn next_weekday(today: NaiveDate, wd: Weekday) -> Option<NaiveDate> {
    let ahead = (wd.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 { 7 } else { ahead };
    today.checked_add_signed(Duration::days(i64::from(ahead)))
}

/// `next week`: the Monday of the following calendar week (docs/tags.md).
fn next_week_monday(today: NaiveDate) -> Option<NaiveDate> {
    let monday = today.week(Weekday::Mon).first_day();
    monday.checked_add_signed(Duration::days(7))
}

/// `eow`: this week's Friday (today when it is Friday); on Saturday and Sunday, the next Friday.
fn end_of_week(today: NaiveDate) -> Option<NaiveDate> {
    if today.weekday() == Weekday::Fri { Some(today) } else { next_weekday(today, Weekday::Fri) }
}

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
fn month_day(w: &[String], today: NaiveDate, shown: &str) -> Result<Option<(Day, Option<NaiveTime>, usize)>, DateError> {
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
fn iso(word: &str, shown: &str) -> Result<Option<(NaiveDate, Option<NaiveTime>)>, DateError> {
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
fn numeric(word: &str, today: NaiveDate, shown: &str, ctx: &DateContext) -> Result<Option<NaiveDate>, DateError> {
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

/// `17:00`, `9:30`, `17h`, `17h30` → a 24-hour time.
fn clock_24(word: &str) -> Option<NaiveTime> {
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
fn time_part(w: &[String]) -> Option<(NaiveTime, usize)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Tue 2026-11-24 09:00 in Europe/Berlin (08:00 UTC).
    fn ctx(zone: &str, now: &str) -> DateContext {
        DateContext {
            now: DateTime::parse_from_rfc3339(now).map(|d| d.with_timezone(&Utc)).unwrap_or_default(),
            zone: Zone::named(zone).unwrap_or(Zone::Named(chrono_tz::UTC)),
            default_due_time: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
            date_order: None,
        }
    }

    fn check(c: &DateContext, input: &str, want: &str) {
        let got = match parse_due(input, c) {
            Ok(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, want, "input {input:?}");
    }

    #[test]
    #[rustfmt::skip]
    fn berlin_tuesday_morning() {
        let c = ctx("Europe/Berlin", "2026-11-24T08:00:00Z");
        check(&c, "friday", "2026-11-27T16:00:00Z");
        check(&c, "Friday 5pm", "2026-11-27T16:00:00Z");
        check(&c, "fri at 9:30am", "2026-11-27T08:30:00Z");
        check(&c, "tuesday", "2026-12-01T16:00:00Z");
        check(&c, "next tuesday", "2026-12-01T16:00:00Z");
        check(&c, "wednesday", "2026-11-25T16:00:00Z");
        check(&c, "tomorrow", "2026-11-25T16:00:00Z");
        check(&c, "tomorrow 5pm", "2026-11-25T16:00:00Z");
        check(&c, "tomorrow noon", "2026-11-25T11:00:00Z");
        check(&c, "today", "2026-11-24T16:00:00Z");
        check(&c, "eod", "2026-11-24T16:00:00Z");
        check(&c, "end of day", "2026-11-24T16:00:00Z");
        check(&c, "EOW", "2026-11-27T16:00:00Z");
        check(&c, "end of the week", "2026-11-27T16:00:00Z");
        check(&c, "next week", "2026-11-30T16:00:00Z");
        check(&c, "next month", "2026-12-01T16:00:00Z");
        check(&c, "in 3 days", "2026-11-27T16:00:00Z");
        check(&c, "in two weeks", "2026-12-08T16:00:00Z");
        check(&c, "in a week", "2026-12-01T16:00:00Z");
        check(&c, "in 2 hours", "2026-11-24T10:00:00Z");
        check(&c, "Dec 3", "2026-12-03T16:00:00Z");
        check(&c, "December 3rd, 2026", "2026-12-03T16:00:00Z");
        check(&c, "3 Dec", "2026-12-03T16:00:00Z");
        check(&c, "3rd of December", "2026-12-03T16:00:00Z");
        check(&c, "2026-12-03", "2026-12-03T16:00:00Z");
        check(&c, "2026-12-03 14:00", "2026-12-03T13:00:00Z");
        check(&c, "2026-12-03T14:00", "2026-12-03T13:00:00Z");
        check(&c, "25/12", "2026-12-25T16:00:00Z");
        check(&c, "12/25/2026", "2026-12-25T16:00:00Z");
        check(&c, "3.12.", "2026-12-03T16:00:00Z");
        check(&c, "03.12.2026 9:00", "2026-12-03T08:00:00Z");
        check(&c, "5pm", "2026-11-24T16:00:00Z");
        check(&c, "8am", "2026-11-25T07:00:00Z");
        check(&c, "17:00", "2026-11-24T16:00:00Z");
        check(&c, "17h30", "2026-11-24T16:30:00Z");
        check(&c, "on Friday.", "2026-11-27T16:00:00Z");
        check(&c, "Jan 5", "2027-01-05T16:00:00Z");
        check(&c, "Nov 1", "2026-11-01T16:00:00Z");
        check(&c, "Friday, Nov 27", "2026-11-27T16:00:00Z");
        check(&c, "fri 11/27 3pm", "2026-11-27T14:00:00Z");
        check(&c, "Friday EOD", "2026-11-27T16:00:00Z");
        check(&c, "eod friday", "2026-11-27T16:00:00Z");
        check(&c, "eod 3pm", "2026-11-24T14:00:00Z");
        check(&c, "end of next week", "2026-12-04T16:00:00Z");
        check(&c, "end of the month", "2026-11-30T16:00:00Z");
        check(&c, "within 2 days", "2026-11-26T16:00:00Z");
        check(&c, "2026-12-03 14:00 UTC", "2026-12-03T14:00:00Z");
        check(&c, "noon gmt", "2026-11-24T12:00:00Z");
    }

    #[test]
    #[rustfmt::skip]
    fn bad_phrases() {
        let c = ctx("Europe/Berlin", "2026-11-24T08:00:00Z");
        check(&c, "", "error: missing date");
        check(&c, "whenever", "error: could not understand 'whenever' as a date");
        check(&c, "friday-ish", "error: could not understand 'friday-ish' as a date");
        check(&c, "friday monday", "error: could not understand 'friday monday' as a date");
        check(&c, "5pm 6pm", "error: could not understand '5pm 6pm' as a date");
        check(&c, "in 2 hours 5pm", "error: could not understand 'in 2 hours 5pm' as a date");
        check(&c, "the team", "error: could not understand 'the team' as a date");
        check(&c, "Feb 30", "error: 'Feb 30' is not a real date");
        check(&c, "2026-02-30", "error: '2026-02-30' is not a real date");
        check(&c, "13:75", "error: could not understand '13:75' as a date");
        check(&c, "9999-12-31", "error: '9999-12-31' is too far from the message date (more than 10 years)");
        check(&c, "Dec 3 9999", "error: 'Dec 3 9999' is too far from the message date (more than 10 years)");
        check(&c, "in 100000 days", "error: 'in 100000 days' is too far from the message date (more than 10 years)");
        check(&c, "in 999999999 weeks", "error: 'in 999999999 weeks' is too far from the message date (more than 10 years)");
        check(&c, "12/03", "error: '12/03' is ambiguous: 12 March 2027 or 3 December 2026? write it as YYYY-MM-DD or set your date order");
        check(&c, "1 2 3 4 5 6 7 8 9", "error: could not understand '1 2 3 4 5 6 7 8 9' as a date");
    }

    #[test]
    #[rustfmt::skip]
    fn date_order_setting() {
        let mut c = ctx("America/New_York", "2026-11-24T14:00:00Z");
        c.date_order = Some(DateOrder::MonthFirst);
        check(&c, "12/03", "2026-12-03T22:00:00Z");
        c.date_order = Some(DateOrder::DayFirst);
        check(&c, "12/03", "2027-03-12T22:00:00Z"); // EST: US DST starts 2027-03-14
        check(&c, "03/03", "2027-03-03T22:00:00Z");
    }

    #[test]
    #[rustfmt::skip]
    fn weekday_is_strictly_after_today() {
        // Friday 2026-11-27 10:00 in Los Angeles: "friday" is the next week's.
        let c = ctx("America/Los_Angeles", "2026-11-27T18:00:00Z");
        check(&c, "friday", "2026-12-05T01:00:00Z");
        check(&c, "eow", "2026-11-28T01:00:00Z");
        check(&c, "saturday", "2026-11-29T01:00:00Z");
        // Sunday: next week starts tomorrow.
        let c = ctx("America/Los_Angeles", "2026-11-29T18:00:00Z");
        check(&c, "next week", "2026-12-01T01:00:00Z");
        check(&c, "end of next week", "2026-12-05T01:00:00Z");
        check(&c, "eow", "2026-12-05T01:00:00Z");
        // Late Thursday UTC is already Friday in Auckland.
        let c = ctx("Pacific/Auckland", "2026-11-26T20:00:00Z");
        check(&c, "friday", "2026-12-04T04:00:00Z");
        check(&c, "tomorrow", "2026-11-28T04:00:00Z");
    }

    #[test]
    #[rustfmt::skip]
    fn dst_gap_and_overlap() {
        // Europe/Berlin springs forward 2026-03-29 02:00 → 03:00.
        let c = ctx("Europe/Berlin", "2026-03-27T10:00:00Z");
        check(&c, "sunday 2:30am", "2026-03-29T01:30:00Z"); // 03:30 CEST
        check(&c, "sunday", "2026-03-29T15:00:00Z");
        check(&c, "monday", "2026-03-30T15:00:00Z");
        // Europe/Berlin falls back 2026-10-25 03:00 → 02:00: 02:30 happens twice, earlier wins.
        let c = ctx("Europe/Berlin", "2026-10-23T10:00:00Z");
        check(&c, "sunday 2:30am", "2026-10-25T00:30:00Z");
        check(&c, "in 3 days", "2026-10-26T16:00:00Z");
        // A fixed offset (Date header) has no DST.
        let c = DateContext {
            zone: Zone::Fixed(FixedOffset::east_opt(-5 * 3600).unwrap_or(Utc.fix())),
            ..ctx("UTC", "2026-11-24T14:00:00Z")
        };
        check(&c, "friday", "2026-11-27T22:00:00Z");
    }
}
