//! Fuzz target: `parse::mime::parse` and the visible text of whatever it finds, on arbitrary bytes.
//! Parsing never fails, so the checks are: no panic, bounded time, and normalised Message-IDs.
#![no_main]

use docket::parse::mime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = mime::parse(data);
    for id in parsed.message_id.iter().chain(&parsed.in_reply_to).chain(&parsed.references) {
        assert!(!id.is_empty() && id.len() <= 998, "id {id:?}");
        assert!(!id.starts_with('<') && !id.ends_with('>'), "id {id:?} keeps its brackets");
    }
    let _ = parsed.text_or_html();
    let _ = mime::trim_eml(data);
});
