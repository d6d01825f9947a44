//! A due phrase read word by word into at most one day part and one time part, then placed on
//! the calendar in the sender's zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc};

use super::days::{day_part, end_of_day, next_weekday, weekday};
use super::time::time_part;
use super::{DateContext, DateError, short};

/// The day part of a phrase, before it is placed on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Day {
    Date(NaiveDate),
    /// `in 2 hours`: an exact offset from now; no time part allowed.
    After(Duration),
}

pub(super) struct Phrase {
    day: Option<Day>,
    time: Option<NaiveTime>,
}

impl Phrase {
    pub(super) fn read(words: &[String], shown: &str, ctx: &DateContext) -> Result<Phrase, DateError> {
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

    pub(super) fn resolve(&self, shown: &str, ctx: &DateContext) -> Result<DateTime<Utc>, DateError> {
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
