//! Hostile and degenerate input for `reply::visible_text` and `mime::trim_eml`: no panic, bounded
//! (linear) work, best-effort text. Plus proptests that arbitrary text / HTML never panics and that
//! the visible text only ever contains text of the input. Linear work is measured, not assumed:
//! `parse::work` counts what the scans look at, and input ten times longer must cost less than
//! twenty times as much (a quadratic step costs about a hundred times).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use docket::parse::mime;
use docket::parse::reply::{RemovedKind, visible_text};
use docket::parse::work;
use proptest::prelude::*;

fn text(input: &str) -> String {
    visible_text(Some(input), None).text
}

fn check(input: &str, want: &str) {
    assert_eq!(text(input), want, "input: {input:?}");
}

#[test]
fn empty_body() {
    check("", "");
    check("\n\r\n\n", "");
    assert_eq!(visible_text(None, None).text, "");
    assert_eq!(visible_text(None, Some("")).text, "");
    assert_eq!(mime::trim_eml(b"").text, "");
    assert_eq!(mime::trim_eml(b"Subject: x\r\n\r\n").text, "");
}

#[test]
fn body_that_is_only_a_quote() {
    // A bare quotation is content; quoted history (with its attribution) is not.
    check("> just a quote\n> two lines", "> just a quote\n> two lines");
    check("> On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n>> old\n", "");
    let v = visible_text(Some("On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n> old\n"), None);
    assert_eq!(v.text, "");
    assert_eq!(v.removed.iter().map(|r| r.kind).collect::<Vec<_>>(), [RemovedKind::Attribution, RemovedKind::Quote]);
}

#[test]
fn five_mb_single_line_html() {
    let mut html = String::from("<div>reply ");
    while html.len() < 5 * 1024 * 1024 {
        html.push_str("word <b>bold</b> &amp; <i>it</i> ");
    }
    html.push_str("</div>");
    let v = visible_text(None, Some(&html));
    assert!(v.text.starts_with("reply word bold & it"));
    // The same 5 MB on one text line, and one unterminated tag / comment / entity run.
    let line = "x".repeat(5 * 1024 * 1024);
    assert_eq!(text(&line).len(), line.len());
    let _ = visible_text(None, Some(&format!("<div title=\"{line}")));
    let _ = visible_text(None, Some(&format!("<!-- {line}")));
    let _ = visible_text(None, Some(&format!("&{line}&{line};")));
    let _ = visible_text(None, Some(&"<a".repeat(1024 * 1024)));
}

#[test]
fn deeply_nested_blockquotes() {
    let depth = 1000;
    let html = format!("<div>My answer.</div>{}deep{}", "<blockquote>level ".repeat(depth), "</blockquote>".repeat(depth));
    assert_eq!(visible_text(None, Some(&html)).text, "My answer.");
    // Unbalanced: opened, never closed; closed, never opened.
    let _ = visible_text(None, Some(&"<blockquote>".repeat(100_000)));
    let _ = visible_text(None, Some(&"</blockquote>x".repeat(100_000)));
}

#[test]
fn invalid_utf8() {
    let raw = b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok \xff\xfe\xc3 fine\r\n\r\nOn Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\r\n> \xe2\x28\xa1 old\r\n";
    let v = mime::trim_eml(raw);
    assert!(v.text.starts_with("ok "), "{:?}", v.text);
    assert!(v.text.ends_with("fine"));
    let _ = mime::trim_eml(&[0xff; 4096]);
    let _ = mime::trim_eml(b"\xff\xfe\r\n\r\n\xff");
}

#[test]
fn mixed_line_endings() {
    check("Hi\r\n\nthere\r\rOn Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\r\n> q\n> r\r\n", "Hi\n\nthere");
    check("a\r\n-- \rsig\n", "a");
}

#[test]
fn ten_thousand_quote_levels() {
    let deep = format!("{} deep", ">".repeat(10_000));
    check(&format!("Reply.\n\n{deep}\n"), "Reply.");
    check(&format!("{deep}\nanswer"), &format!("{deep}\nanswer"));
    let spaced = format!("{} deep", "> ".repeat(10_000));
    check(&format!("Reply.\n{spaced}"), "Reply.");
    // Ten thousand nested attribution + quote levels, as a real spam thread would grow.
    let mut body = String::from("Top.\n");
    for i in 0..10_000 {
        body.push_str(&">".repeat(i.min(50)));
        body.push_str(" On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n");
    }
    check(&body, "Top.");
}

#[test]
fn many_lines_of_candidate_attributions() {
    // Every line ends like an attribution but none is one: windows stay bounded.
    let body = "On the list:\n".repeat(200_000);
    assert_eq!(text(&body).lines().count(), 200_000);
    let body = "Jane <jane@x.org>\n".repeat(100_000);
    let _ = text(&body);
    let body = "From: x\nTo: y\n\n".repeat(100_000);
    let _ = text(&body);
}

/// The work `run` counts on `make(n)` and on `make(10 * n)`; fails unless the larger input costs
/// less than 20 times the smaller one (linear: about 10 times).
fn assert_linear(what: &str, n: usize, make: impl Fn(usize) -> String, run: impl Fn(&str)) {
    let (small, large) = (make(n), make(10 * n));
    let ((), w1) = work::measure(|| run(&small));
    let ((), w10) = work::measure(|| run(&large));
    assert!(w1 > 0, "{what}: no work counted");
    assert!(
        w10 < 20 * w1,
        "{what}: {} bytes cost {w1}, {} bytes cost {w10} (x{:.1}; linear is about x10)",
        small.len(),
        large.len(),
        w10 as f64 / w1 as f64
    );
}

fn plain(s: &str) {
    let _ = visible_text(Some(s), None);
}

fn html(s: &str) {
    let _ = visible_text(None, Some(s));
}

#[test]
#[rustfmt::skip]
fn work_is_linear_in_the_input() {
    let n = 2_000;
    assert_linear("candidate attribution ends", n, |n| "On the list:\n".repeat(n), plain);
    assert_linear("addresses", n, |n| "Jane <jane@x.org>\n".repeat(n), plain);
    assert_linear("header-like pairs", n, |n| "From: x\nTo: y\n\n".repeat(n), plain);
    assert_linear("wrote: then blank lines", n, |n| "Jane wrote:\n\n\n\n".repeat(n), plain);
    assert_linear("attributions over quotes", n, |n| "On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n> q\ntext\n".repeat(n), plain);
    assert_linear("nested attribution levels", n, |n| {
        let mut body = String::from("Top.\n");
        for i in 0..n {
            body.push_str(&">".repeat(i % 50));
            body.push_str(" On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n");
        }
        body
    }, plain);
    assert_linear("wrapped attribution starts", n, |n| "On Tue, 3 Dec 2024 at 10:01, Jane Doe <\n".repeat(n), plain);
    assert_linear("Outlook header keys", n, |n| "From: a@b.example\nSent: Tuesday\nSubject: x\n".repeat(n), plain);
    assert_linear("signature markers", n, |n| "-- \nSent from my iPhone\n-Jane\n".repeat(n), plain);
    assert_linear("quote depth", 20 * n, |n| format!("Reply.\n\n{} deep\n", ">".repeat(n)), plain);
    assert_linear("one long line", 100 * n, |n| "x".repeat(n), plain);
    assert_linear("html words", n, |n| format!("<div>reply {}</div>", "word <b>bold</b> &amp; <i>it</i> ".repeat(n)), html);
    assert_linear("unterminated tags", n, |n| "<a".repeat(n), html);
    assert_linear("open blockquotes", n, |n| "<blockquote>".repeat(n), html);
    assert_linear("closed blockquotes", n, |n| "</blockquote>x".repeat(n), html);
    assert_linear("nested blockquotes", n, |n| format!("<div>My answer.</div>{}deep{}", "<blockquote>level ".repeat(n), "</blockquote>".repeat(n)), html);
    assert_linear("gmail quotes", n, |n| "<div class=\"gmail_quote\">On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:<br><blockquote>q</blockquote></div>".repeat(n), html);
}

/// Lines that exercise every classifier branch.
fn vocabulary() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("On Tue, 3 Dec 2024 at 10:01, Jane Doe <".to_string()),
        Just("jane@x.org> wrote:".to_string()),
        Just("> quoted".to_string()),
        Just(">> deeper".to_string()),
        Just("".to_string()),
        Just("-- ".to_string()),
        Just("__________".to_string()),
        Just("-----Original Message-----".to_string()),
        Just("---------- Forwarded message ---------".to_string()),
        Just("From: a@b.example".to_string()),
        Just("Sent: Tuesday".to_string()),
        Just("Subject: x".to_string()),
        Just("Sent from my iPhone".to_string()),
        Just("-Jane".to_string()),
        Just("Am 3. Dez. 2024 schrieb Jana <j@x.de>:".to_string()),
        Just("reply--- On Wed, Apr 4, 2012 at 3:59 PM, me@x.org wrote:".to_string()),
        Just("#decision ship it".to_string()),
        "[a-zA-Z ,.:>-]{0,40}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let v = visible_text(Some(&s), None);
        for line in v.text.lines() {
            prop_assert!(s.contains(line.trim_end()), "line {:?} not in input", line);
        }
    }

    #[test]
    fn arbitrary_html_never_panics(s in any::<String>()) {
        let _ = visible_text(None, Some(&s));
        let _ = visible_text(Some(""), Some(&s));
    }

    #[test]
    fn structured_mail_never_panics(lines in prop::collection::vec(vocabulary(), 0..40), crlf in any::<bool>()) {
        let s = lines.join(if crlf { "\r\n" } else { "\n" });
        let v = visible_text(Some(&s), None);
        for line in v.text.lines() {
            prop_assert!(s.contains(line.trim_end()), "line {:?} not in input", line);
        }
        // Removed spans are text of the input too.
        for r in &v.removed {
            for line in r.text.lines() {
                prop_assert!(s.contains(line.trim_end()), "removed line {:?} not in input", line);
            }
        }
    }

    /// A hundred copies of any structured body cost less than twenty times ten copies (ten, not
    /// one: a single short copy may never reach the windows the copies after it open).
    #[test]
    fn structured_mail_work_is_linear(lines in prop::collection::vec(vocabulary(), 1..40)) {
        let one = lines.join("\n");
        let ten = [one.as_str(); 10].join("\n\n");
        let hundred = [one.as_str(); 100].join("\n\n");
        let (_, w10) = work::measure(|| visible_text(Some(&ten), None));
        let (_, w100) = work::measure(|| visible_text(Some(&hundred), None));
        prop_assert!(w100 < 20 * w10.max(1), "ten copies cost {}, a hundred {}", w10, w100);
    }

    #[test]
    fn structured_html_never_panics(parts in prop::collection::vec(prop_oneof![
        Just("<blockquote>"), Just("</blockquote>"), Just("<div class=\"gmail_quote\">"), Just("</div>"),
        Just("<br>"), Just("<p class=MsoNormal>"), Just("</p>"), Just("&nbsp;"), Just("&#x1F600;"), Just("&#99999999;"),
        Just("<!--"), Just("-->"), Just("<style>"), Just("</style>"), Just("<pre>"), Just("</pre>"), Just("text "),
        Just("On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:"), Just("<"), Just(">"), Just("\""),
    ], 0..60)) {
        let _ = visible_text(None, Some(&parts.concat()));
    }

    #[test]
    fn arbitrary_bytes_as_message_never_panic(raw in prop::collection::vec(any::<u8>(), 0..2000)) {
        let _ = mime::trim_eml(&raw);
    }
}
