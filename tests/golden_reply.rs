//! Golden files for reply trimming: `tests/golden/reply/NNN-slug.eml` → `NNN-slug.expected.json`.
//!
//! Each fixture is ours (written for docket), never a corpus file. The expectation is
//! `{"text": VISIBLE, "removed": [KIND, …]}` where `removed` lists the kinds of the removed spans in
//! message order with consecutive repeats collapsed (e.g. `["attribution", "quote"]`). The shared
//! runner (`support/golden.rs`) runs each fixture in LF and CRLF and honours `BLESS=1`.

mod support;

use docket::parse::mime;

#[test]
fn golden_reply() {
    support::golden::check_suite("reply", |raw| {
        let v = mime::trim_eml(raw);
        let mut kinds: Vec<serde_json::Value> = Vec::new();
        for r in &v.removed {
            let k = serde_json::to_value(r.kind).unwrap_or_default();
            if kinds.last() != Some(&k) {
                kinds.push(k);
            }
        }
        serde_json::json!({ "text": v.text.replace("\r\n", "\n"), "removed": kinds })
    });
}
