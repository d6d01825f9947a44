//! Golden tests for MIME parsing (`tests/golden/mime/`): what `parse::mime::parse` makes of real
//! client shapes, charsets and malformed input. See `support/golden.rs` for the runner.

mod support;

use docket::parse::mime::parse;
use serde_json::json;

#[test]
fn golden_mime() {
    support::golden::check_suite("mime", |raw| {
        let m = parse(raw);
        json!({
            "message_id": m.message_id,
            "parents": m.parents(),
            "from": m.from,
            "to": m.to,
            "cc": m.cc,
            "subject": m.subject,
            "date": m.date.map(|d| d.to_rfc3339()),
            "text": m.text.as_deref().map(normalise),
            "html": m.html.is_some(),
            "readable": m.text_or_html().as_deref().map(normalise),
            "attachments": m.attachments,
            "auto_submitted": m.auto_submitted,
            "precedence": m.precedence,
            "x_loop": m.x_loop,
            "received_count": m.received_count,
            "flags": m.flags,
        })
    });
}

/// Bodies are compared without line-ending differences (the runner flips them).
fn normalise(s: &str) -> String {
    s.replace("\r\n", "\n").trim_end().to_string()
}
