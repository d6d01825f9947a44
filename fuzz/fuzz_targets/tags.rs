//! Fuzz target: the tag language (`parse::tags::extract`) on arbitrary text, in a zone and at a
//! message time picked by the first bytes. Checks the documented caps: at most `MAX_ITEMS` items,
//! each text at most `MAX_TEXT_CHARS` characters.
#![no_main]

use chrono::{TimeZone, Utc};
use docket::parse::tags::{self, MAX_ITEMS, MAX_TEXT_CHARS, TagInput};
use libfuzzer_sys::fuzz_target;

mod input;

fuzz_target!(|data: &[u8]| {
    let [pick, day, rest @ ..] = data else { return };
    let Some(base) = Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).single() else { return };
    let Some(dates) = input::date_context(*pick, base + chrono::Duration::hours(i64::from(*day) * 7)) else { return };
    let text = String::from_utf8_lossy(rest);
    let (subject, body) = text.split_once('\n').unwrap_or(("", &text));
    let out = tags::extract(&TagInput { visible_text: body, subject, dates: &dates });
    assert!(out.items.len() <= MAX_ITEMS, "{} items", out.items.len());
    for item in &out.items {
        assert!(item.text.chars().count() <= MAX_TEXT_CHARS, "item text of {} chars", item.text.chars().count());
    }
});
