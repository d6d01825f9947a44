//! Input decoding the `dates` and `tags` targets share: one byte picks the sender's zone (DST
//! gaps and a 30-minute shift included) and the day/month order of numeric dates.

use chrono::{DateTime, NaiveTime, Utc};
use docket::parse::dates::{DateContext, DateOrder, Zone};

const ZONES: [&str; 4] = ["UTC", "Europe/Berlin", "America/Los_Angeles", "Australia/Lord_Howe"];

/// The date context of a message written at `now` in the zone and order `pick` names
/// (bits 0–1: zone, bits 2–3: order), with the default due time 17:00.
pub fn date_context(pick: u8, now: DateTime<Utc>) -> Option<DateContext> {
    Some(DateContext {
        now,
        zone: Zone::named(ZONES[usize::from(pick & 3)])?,
        default_due_time: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
        date_order: match pick >> 2 & 3 {
            1 => Some(DateOrder::DayFirst),
            2 => Some(DateOrder::MonthFirst),
            _ => None,
        },
    })
}
