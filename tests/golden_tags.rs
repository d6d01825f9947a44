//! Golden tests for the tag language (`tests/golden/tags/`): the SPEC §5 parse output (visible
//! text, items, warnings) of whole messages. Senders' zones come from a member table, as in
//! production: berlin@ → Europe/Berlin, la@ → America/Los_Angeles, akl@ → Pacific/Auckland; any
//! other sender resolves in the Date header's offset.

mod support;

use chrono::{TimeZone, Utc};
use docket::config::Config;
use docket::parse::{mime, reply};
use docket::record;
use serde_json::json;
use std::collections::HashMap;

#[test]
fn golden_tags() {
    let config = Config::load_with_env(None, HashMap::new()).unwrap_or_else(|e| panic!("{e}"));
    let zones = HashMap::from([
        ("berlin@example.org", "Europe/Berlin"),
        ("la@example.org", "America/Los_Angeles"),
        ("akl@example.org", "Pacific/Auckland"),
    ]);
    let fallback = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).single().unwrap_or_default();
    support::golden::check_suite("tags", |raw| {
        let m = mime::parse(raw);
        let visible = reply::visible_text(m.text.as_deref(), m.html.as_deref()).text;
        let tz = m.from.as_ref().and_then(|f| zones.get(f.email.as_str())).copied();
        let dates = record::date_context(&config, tz, m.date, fallback);
        let ex = record::extract(&visible, &m.subject, &dates);
        json!({ "zone": tz, "visible_text": visible, "items": ex.items, "goal": ex.goal, "warnings": ex.warnings })
    });
}
