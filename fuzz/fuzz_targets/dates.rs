//! Fuzz target: natural due dates (`parse::dates::parse_due`) on arbitrary phrases, at a message
//! time, zone and day/month order picked by the first bytes (zones with DST gaps and a 30-minute
//! shift included). A date that parses is never more than `MAX_DISTANCE_DAYS` from the message.
#![no_main]

use chrono::{TimeZone, Utc};
use docket::parse::dates::{self, MAX_DISTANCE_DAYS};
use libfuzzer_sys::fuzz_target;

mod input;

fuzz_target!(|data: &[u8]| {
    let [pick, a, b, rest @ ..] = data else { return };
    let Some(base) = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single() else { return };
    // Any quarter hour of 2026–2027, so the message can sit on either side of a DST change.
    let quarters = i64::from(u16::from_le_bytes([*a, *b]));
    let Some(ctx) = input::date_context(*pick, base + chrono::Duration::minutes(quarters * 15)) else { return };
    let phrase = String::from_utf8_lossy(rest);
    if let Ok(due) = dates::parse_due(&phrase, &ctx) {
        let days = (due - ctx.now).num_days().abs();
        assert!(days <= MAX_DISTANCE_DAYS, "{phrase:?} at {} gave {due}, {days} days away", ctx.now);
    }
});
