//! The sender's time zone and how a wall-clock time in it becomes an instant (DST gaps and
//! overlaps resolved deterministically).

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};

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
