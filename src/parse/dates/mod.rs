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
mod calendar;
mod days;
mod phrase;
mod time;
mod zone;

use chrono::{DateTime, NaiveTime, Offset, Utc};

use phrase::Phrase;
pub use zone::Zone;

/// How far (in days, either direction) a due time may be from the message date before it is
/// treated as absurd rather than as a real deadline.
pub const MAX_DISTANCE_DAYS: i64 = 3660;

/// A date phrase with more words than this is not a date (bounds the work on long lines).
const MAX_WORDS: usize = 8;
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
pub(super) fn short(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

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
