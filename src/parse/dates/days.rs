//! Day parts: `today`, `tomorrow`, `eod`, `eow`, `end of …`, weekdays, `next week|month`,
//! `in N days|weeks|months|hours`, and the calendar dates of [`super::calendar`].

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveTime, Weekday};

use super::calendar::{iso, month_day, numeric};
use super::phrase::Day;
use super::{DateContext, DateError, MAX_DISTANCE_DAYS, short};

/// Matches a day part at the start of `w`: (day, time carried by the same token, words used).
pub(super) fn day_part(
    w: &[String],
    today: NaiveDate,
    shown: &str,
    ctx: &DateContext,
) -> Result<Option<(Day, Option<NaiveTime>, usize)>, DateError> {
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
pub(super) fn end_of_day(w: &[String]) -> Option<usize> {
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

pub(super) fn weekday(word: &str) -> Option<Weekday> {
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
pub(super) fn next_weekday(today: NaiveDate, wd: Weekday) -> Option<NaiveDate> {
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
