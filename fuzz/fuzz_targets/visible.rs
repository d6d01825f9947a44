//! Fuzz target: visible text (reply trimming, `parse::reply`) and HTML to quoted text
//! (`parse::html`) on arbitrary text. The first byte picks which bodies the message has; the rest
//! is the text/plain body, then (after the first NUL) the HTML body.
#![no_main]

use docket::parse::{html, reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [which, rest @ ..] = data else { return };
    let (text, markup) = match rest.iter().position(|b| *b == 0) {
        Some(nul) => (&rest[..nul], &rest[nul + 1..]),
        None => (rest, &rest[..0]),
    };
    let text = String::from_utf8_lossy(text);
    let markup = String::from_utf8_lossy(markup);
    let text = (which & 1 != 0).then_some(text.as_ref());
    let markup = (which & 2 != 0).then_some(markup.as_ref());
    let _ = reply::visible_text(text, markup);
    if let Some(m) = markup {
        let _ = html::to_quoted_text(m);
    }
});
