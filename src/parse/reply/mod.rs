//! Visible text of a message: only what the sender newly wrote (docs/mail-flow.md "visible text").
//!
//! Pure and sync. Input is the decoded text/plain body and/or the text/html body of one message;
//! output is the new text plus every removed span with the reason it was removed, so the web view
//! can offer "show quoted text". Conventions (corpus README): trailing quoted history, attribution
//! lines, Outlook header blocks, forwarded blocks, signatures and mobile / mailing-list footers go;
//! in an interleaved reply the quoted lines that new text answers stay as `>` context; a message
//! that is only a forward keeps the forwarded text; a bare quote with no attribution is kept.
//!
//! Shape: split into lines -> classify each line (quote / attribution / header block / separator /
//! signature / footer / text) -> one forward pass finds where the new text ends -> trailing cleanup
//! -> fallbacks that never remove the only content. Every step is linear in the input: regexes run
//! only on short lines (< `MAX_MATCH_LEN`) and attribution windows span at most `MAX_WINDOW` lines.

mod attribution;
mod cut;
mod header_block;
mod lines;
mod vocab;

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::html;
use cut::trim;

/// Why a span of the body was removed from the visible text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovedKind {
    /// Quoted history (`>` lines, or unmarked text below an attribution / header block).
    Quote,
    /// "On … wrote:" lines and Outlook "From: / Sent: / To: / Subject:" header blocks.
    Attribution,
    /// A forwarded message below a note ("---------- Forwarded message ---------").
    #[serde(rename = "forward")]
    Forwarded,
    /// A signature: RFC 3676 §4.3 "-- " delimiter and what follows, or a "-Name" sign-off.
    Signature,
    /// Mobile ("Sent from my iPhone") and mailing-list footers.
    Footer,
}

/// One removed span, in message order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub kind: RemovedKind,
    pub text: String,
}

/// The visible text of a message and what was cut from it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Visible {
    pub text: String,
    pub removed: Vec<Removed>,
}

/// Lines at least this long are never matched as attribution, header or footer (linear time).
const MAX_MATCH_LEN: usize = 300;
/// An attribution wraps over at most this many lines (Polymail puts one over five).
const MAX_WINDOW: usize = 5;
/// Quote depth is saturated here; only "quoted or not" matters downstream.
const MAX_DEPTH: u16 = 1000;

/// The visible text of a message, from its text/plain body, else (or when that is a stub) its
/// text/html body.
pub fn visible_text(text: Option<&str>, html: Option<&str>) -> Visible {
    match (text, html) {
        (Some(t), Some(h)) if is_stub(t) => trim(&html::to_quoted_text(h)),
        (Some(t), Some(h)) => {
            // A list that appends its footer as a text part beside an HTML-only message: the
            // text part trims to nothing, and the answer is in the HTML. Never lose it.
            let v = trim(t);
            if v.text.is_empty() {
                let from_html = trim(&html::to_quoted_text(h));
                if !from_html.text.is_empty() {
                    return from_html;
                }
            }
            v
        }
        (Some(t), None) => trim(t),
        (None, Some(h)) => trim(&html::to_quoted_text(h)),
        (None, None) => Visible::default(),
    }
}

/// A text part that only stands in for the HTML part ("view this in an HTML mail reader").
fn is_stub(text: &str) -> bool {
    static STUB: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)html[- ](format|version|e-?mail|message|capable|compatible|mail)|in (a|your) (web )?browser|(client|program|reader|software) (does not|doesn't|cannot|can't) (support|display)|plain[- ]text (version|alternative|part)|text/html",
        )
    });
    let t = text.trim();
    if !t.chars().any(char::is_alphanumeric) {
        return true;
    }
    t.len() < 200 && hit(&STUB, t)
}

/// Compile a regex literal of this file. Each one has a positive case in the tests below, so a
/// pattern that failed to compile (`None`: never matches, never panics) fails a test.
fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

/// Does the lazily compiled `r` match `s`?
fn hit(r: &Option<Regex>, s: &str) -> bool {
    crate::parse::work::add(s.len());
    r.as_ref().is_some_and(|r| r.is_match(s))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::attribution::find_attributions;
    use super::header_block::header_block;
    use super::lines::{make_line, split_lines};
    use super::vocab::{Mark, mark_of};
    use super::*;

    fn check(input: &str, want: &str) {
        let got = visible_text(Some(input), None);
        assert_eq!(got.text, want, "input:\n{input}\nremoved: {:?}", got.removed);
    }

    /// Is `line` (alone, with a quote below it) an attribution?
    fn attribution(line: &str) -> bool {
        let body = format!("x\n\n{line}\n> q\n");
        let lines = split_lines(&body);
        find_attributions(&lines).iter().any(Option::is_some)
    }

    fn mark(line: &str) -> Mark {
        mark_of(&make_line(line))
    }

    #[test]
    fn top_bottom_interleaved() {
        check("Hi\n\nOn Tue, 3 Dec 2024 at 10:01, Jane Doe <\njane@x.org> wrote:\n> q", "Hi");
        // Bottom-posting (issue 15): attribution, one quote, the answer → only the answer.
        check("On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n> q\n\nbelow", "below");
        check("above\nOn Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n> q\n\nbelow", "above\n\nbelow");
        check("> q\n\nanswer\n\n> q2\n", "> q\n\nanswer");
        check("> q\nanswer\n> q2\nanswer2", "> q\nanswer\n> q2\nanswer2");
        check("top\n\n> q\n> On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n>> old\n\nmore history", "top");
    }

    #[test]
    fn issue_15_bottom_posting() {
        let attr = "On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:";
        // History cut below the answer does not make it interleaved when the attribution (or only
        // a greeting) comes first.
        check(&format!("{attr}\n> patch\n\nApplied.\n\n> rest of patch\n> --\n> 2.42"), "Applied.");
        check(&format!("Hi Jane,\n\n{attr}\n> patch\n\nApplied.\n\n> rest of patch"), "Hi Jane,\n\nApplied.");
        // A quote after the answer below other text, or a second answered quote: interleaved.
        check(&format!("Note.\n{attr}\n> a\n\nreply\n\n> more"), "Note.\n> a\n\nreply");
        check(&format!("{attr}\n> a\n\nreply a\n\n> b\n\nreply b"), &format!("{attr}\n> a\n\nreply a\n\n> b\n\nreply b"));
        // A greeting is not the answer: the reply below an attribution over unmarked text, or
        // between quotes full of history, is still found.
        check(&format!("Hi Bob,\n\n{attr}\n\nApplied.\n\nAlex\n\n> ---\n> patch"), "Hi Bob,\n\nApplied.\n\nAlex");
        check(
            &format!("Hi Bob,\n\n{attr}\n> {attr}\n>> old\n\nmine\n\n> more\n\nmine too"),
            "Hi Bob,\n\n> On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n>> old\n\nmine\n\n> more\n\nmine too",
        );
        // "From: / Date:" lines used as the attribution of a bottom-posted review.
        check(
            "From: Alexey <a@x.example>\nDate: Wed, 20 Dec 2023 18:28:34 +0100\n> the patch\n\nReviewed-by: K <k@x.example>\n\n> ---\n> diff",
            "Reviewed-by: K <k@x.example>",
        );
        // No attribution: a bare quote answered below stays as context.
        check("> q\n\nanswer", "> q\n\nanswer");
        let v = visible_text(Some(&format!("{attr}\n> q\n\nbelow")), None);
        let kinds: Vec<RemovedKind> = v.removed.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [RemovedKind::Attribution, RemovedKind::Quote]);
    }

    #[test]
    fn greetings() {
        use super::vocab::is_greeting;
        for yes in ["Hi Axel,", "Hi,", "Hello all,", "Good morning,", "Hi наб!", "Bonjour Claire,", "Olá Ana,"] {
            assert!(is_greeting(yes), "{yes}");
        }
        for no in ["Good news: it works.", "Hi there. I fixed it.", "History of the patch", "Hey, can you merge it?", ""] {
            assert!(!is_greeting(no), "{no}");
        }
    }

    #[test]
    fn issue_15_sign_offs_and_invisible_lines() {
        for footer in [
            "Get Outlook for iOS<https://aka.ms/o0ukef>",
            "Sent from [Proton Mail](https://proton.me/mail/home) for Android.",
            "(sent from a phone)",
            "<<sent by galaxy>>",
            "Verzonden met mijn iPhone",
            "Verzonden met Outlook",
            "從我的 iPhone 傳送",
        ] {
            assert_eq!(mark(footer), Mark::Mobile, "{footer}");
        }
        check("Hi\n\nSent from my iPhone\n(sent from a phone)\n<<sent by galaxy>>", "Hi");
        check("Hi\n\n\u{1427}\n\u{200b}\u{200c}\n", "Hi");
        check("Hi\n\u{200b}\nthere", "Hi\n\nthere");
        // A "--" block with an app's footer stays (talon); a plain one goes.
        check(
            "Hi\n\n--\nTom\nSent with Sparrow (http://www.sparrowmailapp.com/?sig)",
            "Hi\n\n--\nTom\nSent with Sparrow (http://www.sparrowmailapp.com/?sig)",
        );
        check("Hi\n\n--\nTom", "Hi");
    }

    #[test]
    fn issue_15_answer_in_html_beside_a_footer_text_part() {
        let footer = "___\nteam mailing list\nhttps://x.example/mailman/listinfo/team";
        assert_eq!(visible_text(Some(footer), Some("<p>The answer.</p>")).text, "The answer.");
        assert_eq!(visible_text(Some(footer), Some("<p></p>")).text, "");
    }

    #[test]
    fn interleaved_quote_with_its_own_attribution() {
        let body = "Hi Bob,\n\n> On Tue, 3 Dec 2024, Jane <jane@x.org> wrote:\n>> Should we?\n> Yes.\n\nAgreed.";
        check(body, body);
    }

    #[test]
    fn only_content_is_kept() {
        check("> only a quote", "> only a quote");
        check("> On Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n>> old", "");
        check("On 8 May 2017 17:34, \"Andy\" <andy@x.org> wrote:\n\n    code\n\nIt should be:", "    code\n\nIt should be:");
        check(
            "---------- Forwarded message ---------\nFrom: a@b.example\nDate: Mon\n\nbody",
            "---------- Forwarded message ---------\nFrom: a@b.example\nDate: Mon\n\nbody",
        );
        check("one line\n\n> q\n> q", "one line");
        check("", "");
    }

    #[test]
    fn signatures_and_footers() {
        check("Hi\n-- \nJane", "Hi"); // RFC 3676 §4.3
        check("Hi\n--\nJane", "Hi");
        check("Hi\n\n-Jane", "Hi");
        check("Hi\n\nSent from my iPhone", "Hi");
        check("Hi\n\nSent from my desk, where the keyboard is.", "Hi\n\nSent from my desk, where the keyboard is.");
        check("Hi\n\n___\nlist mailing list\nhttps://x.example/mailman/listinfo/list", "Hi");
        check("a -- b\nc", "a -- b\nc");
        check("- a\n- b", "- a\n- b");
    }

    #[test]
    fn attributions() {
        for yes in [
            "On Tue, Dec 3, 2024 at 10:01 AM Jane Doe <jane@x.org> wrote:",
            "---- On Tue, 03 Dec 2024 10:01:00 +0100 Jane&lt;jane@x.org&gt; wrote ----",
            "---- Jane Doe wrote ----",
            "Jane Doe wrote:",
            "Am Di., 3. Dez. 2024 um 10:01 Uhr schrieb Jana <jana@x.de>:",
            "Jana <jana@x.de> schrieb am Di., 3. Dez. 2024, 10:01:",
            "Le mar. 3 déc. 2024 à 10:01, Claire <claire@x.fr> a écrit :",
            "El mar, 3 dic 2024 a las 10:01, Lucía (<lucia@x.es>) escribió:",
            "Il giorno mar 3 dic 2024 alle ore 10:01 Giulia <g@x.it> ha scritto:",
            "Op di 3 dec. 2024 om 10:01 schreef Daan <daan@x.nl>:",
            "Em ter., 3 de dez. de 2024 às 10:01, João <joao@x.br> escreveu:",
            "Den tis 3 dec. 2024 kl 10:01 skrev Erik <erik@x.se>:",
            "W dniu 3.12.2024 o 10:01, Anna pisze:",
            "3 декабря 2024 г., 10:01 пользователь Иван <ivan@x.ru> написал:",
            "вт, 3 дек. 2024 г. в 10:01, Иван <ivan@x.ru>:",
            "2024年12月3日(火) 10:01 山田太郎 <taro@x.jp>:",
            "在 2024年12月3日，上午10:01，王伟 <wang@x.cn> 写道：",
            "2011/4/7 Nathan <support@x.com>",
            "On 11-Apr-2011, at 6:54 PM, Roman <romant@x.com> sent:",
            "Quoting Jane Doe <jane@x.org>:",
            "* Erik Lund <erik@x.se> [2024-12-02 22:14]:",
            "* Erik Lund <erik@x.se> [241202 22:14]:",
            "* Erik Lund:",
            "* Erik Lund <erik@x.se>, 2024-12-02 22:14:",
            "Quoth Erik Lund:",
            "Jane Doe/ACME@ACME wrote on 12/03/2024 10:01:00 AM:",
        ] {
            assert!(attribution(yes), "should be an attribution: {yes}");
        }
        for no in [
            "On your staging host you can run:",
            "On Monday, at 10:00 we meet. Jane wrote the agenda:",
            "On blah-blah-blah",
            "* Changes:",
            "Here is the list:",
            "See <https://x.example/a>",
        ] {
            assert!(!attribution(no), "should not be an attribution: {no}");
        }
    }

    #[test]
    fn line_marks() {
        assert_eq!(mark("-- "), Mark::SigDelim);
        assert_eq!(mark("__________"), Mark::Underscores);
        assert_eq!(mark("-----Original Message-----"), Mark::Original);
        assert_eq!(mark("*-------- Original Message --------*"), Mark::Original);
        assert_eq!(mark("-----Ursprüngliche Nachricht-----"), Mark::Original);
        assert_eq!(mark("---------- Forwarded message ---------"), Mark::Forward);
        assert_eq!(mark("-------- Message transféré --------"), Mark::Forward);
        assert_eq!(mark("Begin forwarded message:"), Mark::Forward);
        assert_eq!(mark("--------- Enter Feedback Below ---------"), Mark::Text);
        assert_eq!(mark("Get Outlook for iOS<https://aka.ms/o0ukef>"), Mark::Mobile);
        assert_eq!(mark("Von meinem iPhone gesendet"), Mark::Mobile);
        assert_eq!(mark("发自我的iPhone"), Mark::Mobile);
        assert_eq!(mark("To unsubscribe from this group and stop receiving emails from it, send"), Mark::ListFooter);
        assert_eq!(mark("-Abhishek Kona"), Mark::NameSig);
        assert_eq!(mark("- item"), Mark::Text);
        assert_eq!(mark("> -- "), Mark::Text);
    }

    #[test]
    fn header_blocks() {
        let block = |s: &str| header_block(&split_lines(s), 0);
        assert_eq!(block("From: a\nSent: b\nTo: c\nSubject: d\n\nbody"), Some(4));
        assert_eq!(block("*From:* a\n*Sent:* b"), Some(2));
        assert_eq!(block("De : a\nEnvoyé : b\nÀ : c\nObjet : d"), Some(4));
        assert_eq!(block("发件人：a\n发送时间：b\n收件人：c\n主题：d"), Some(4));
        assert_eq!(block("From: a\n\nSent: b\n\nTo: c"), Some(5));
        assert_eq!(block("Date: Friday\nTime: 10:00\nRoom: 4"), None);
        assert_eq!(block("Date: Friday 6 Dec\nTo: all staff"), None);
        assert_eq!(block("Date: Wed, 16 May 2012 00:15:02 -0600\nTo: x@y.example"), Some(2));
        assert_eq!(block("Q: when?\nA: Friday"), None);
    }

    #[test]
    fn stub_text_parts() {
        assert!(is_stub(""));
        assert!(is_stub(" \n "));
        assert!(is_stub("This message is in HTML format."));
        assert!(!is_stub("I fixed the HTML bug in the footer."));
        assert_eq!(visible_text(Some(""), Some("<p>real</p>")).text, "real");
        assert_eq!(visible_text(Some("plain"), Some("<p>html</p>")).text, "plain");
    }

    #[test]
    fn removed_spans_say_why() {
        let v = visible_text(Some("Yes\n\nOn Tue, 3 Dec 2024 at 10:01, Jane <jane@x.org> wrote:\n> q\n"), None);
        let kinds: Vec<RemovedKind> = v.removed.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [RemovedKind::Attribution, RemovedKind::Quote]);
        assert_eq!(v.removed[1].text, "> q");
        let json = serde_json::to_string(&v.removed[0].kind).unwrap();
        assert_eq!(json, "\"attribution\"");
    }
}
