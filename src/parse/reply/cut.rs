//! The pass that decides what stays: find where the new text ends, label every removed line with
//! why it goes, and fall back so that the only content of a message is never removed.

use super::attribution::{Features, attribution_text, find_attributions, may_end_attribution, strip_decoration};
use super::header_block::{header_block, quoted_header_block};
use super::lines::{Line, make_line, next_nonblank, quote_block_end, split_lines};
use super::vocab::{Mark, is_app_footer, is_greeting, mark_of, mentions_list};
use super::{MAX_MATCH_LEN, Removed, RemovedKind, Visible};

/// What kind of history begins at the cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cut {
    None,
    Quote,
    Attribution,
    Header,
    Original,
    Forward,
    Signature,
    Footer,
}

pub(super) struct Ctx<'a> {
    pub(super) lines: Vec<Line<'a>>,
    pub(super) marks: Vec<Mark>,
    pub(super) attr: Vec<Option<usize>>,
}

impl Ctx<'_> {
    /// Is line `j` new text from the sender (so a quote above it is interleaved context)?
    pub(super) fn is_new_text(&self, j: usize) -> bool {
        let l = &self.lines[j];
        !l.quoted() && !l.blank() && self.marks[j] == Mark::Text && self.attr[j].is_none() && header_block(&self.lines, j).is_none()
    }

    /// A header block at `i` directly over a quote that new text answers: (block end, quote end).
    fn header_attribution(&self, i: usize) -> Option<(usize, usize)> {
        let lines = &self.lines;
        let he = header_block(lines, i)?;
        let q = next_nonblank(lines, he).filter(|&q| lines[q].quoted())?;
        let qe = quote_block_end(lines, q);
        next_nonblank(lines, qe).filter(|&m| self.is_new_text(m)).map(|_| (he, qe))
    }

    /// Does the "--" signature block at `i` carry an app footer ("Sent with Sparrow (url)")?
    fn app_signature(&self, i: usize) -> bool {
        let lines = &self.lines;
        (i + 1..lines.len().min(i + 8))
            .take_while(|&j| !lines[j].blank() && !lines[j].quoted() && self.attr[j].is_none())
            .any(|j| is_app_footer(lines[j].body))
    }

    /// The first history marker at or after `start`: (cut line, kind), and the context
    /// attributions passed on the way (kept as `>` headings when they open the message).
    pub(super) fn find_cut(&self, start: usize) -> (usize, Cut, Vec<(usize, usize)>) {
        let lines = &self.lines;
        let n = lines.len();
        let mut ctx_attrs = Vec::new();
        let mut seen_text = false; // new text above: a later quote full of history is history
        let mut i = start;
        while i < n {
            let l = &lines[i];
            if l.blank() {
                i += 1;
                continue;
            }
            if let Some(e) = self.attr[i] {
                if let Some(q) = next_nonblank(lines, e).filter(|&q| lines[q].quoted()) {
                    let qe = quote_block_end(lines, q);
                    if next_nonblank(lines, qe).is_some_and(|m| self.is_new_text(m)) && !(seen_text && quoted_history(&lines[q..qe], true))
                    {
                        ctx_attrs.push((i, e));
                        i = qe;
                        continue;
                    }
                }
                return (i, Cut::Attribution, ctx_attrs);
            }
            if l.quoted() {
                let qe = quote_block_end(lines, i);
                if next_nonblank(lines, qe).is_some_and(|m| self.is_new_text(m)) && !(seen_text && quoted_history(&lines[i..qe], true)) {
                    i = qe;
                    continue;
                }
                return (i, Cut::Quote, ctx_attrs);
            }
            if header_block(lines, i).is_some() {
                return (i, Cut::Header, ctx_attrs);
            }
            // A greeting ("Hi Elliott,") is not an answer: the quote below it may still be context.
            seen_text |= self.marks[i] == Mark::Text && !is_greeting(l.body);
            match self.marks[i] {
                // A "--" block that ends in an app's footer ("Sent with Sparrow (url)") is what the
                // app appends to every reply: kept with the reply, as talon's labels keep it.
                Mark::SigDelim if !self.app_signature(i) => return (i, Cut::Signature, ctx_attrs),
                Mark::Original => return (i, Cut::Original, ctx_attrs),
                Mark::Forward => return (i, Cut::Forward, ctx_attrs),
                Mark::ListFooter => return (i, Cut::Footer, ctx_attrs),
                Mark::Underscores | Mark::Rule | Mark::EmDash => {
                    let next = next_nonblank(lines, i + 1);
                    if let Some(m) = next {
                        if header_block(lines, m).is_some() || matches!(self.marks[m], Mark::Original | Mark::Forward) {
                            let kind = if self.marks[m] == Mark::Forward { Cut::Forward } else { Cut::Header };
                            return (i, kind, ctx_attrs);
                        }
                        if self.attr[m].is_some() {
                            return (i, Cut::Attribution, ctx_attrs);
                        }
                    }
                    match self.marks[i] {
                        Mark::Underscores => {
                            let kind = if mentions_list(&lines[i..]) { Cut::Footer } else { Cut::Signature };
                            return (i, kind, ctx_attrs);
                        }
                        Mark::EmDash if next.is_some_and(|m| self.marks[m] == Mark::ListFooter) => {
                            return (i, Cut::Footer, ctx_attrs);
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            i += 1;
        }
        (n, Cut::None, ctx_attrs)
    }
}

/// Trim one decoded body.
pub(super) fn trim(text: &str) -> Visible {
    let lines = split_lines(text);
    let marks: Vec<Mark> = lines.iter().map(mark_of).collect();
    let attr = find_attributions(&lines);
    let ctx = Ctx { lines, marks, attr };
    let n = ctx.lines.len();

    let mut start = 0;
    let (mut cut, mut kind, mut ctx_attrs) = ctx.find_cut(0);
    let first = next_nonblank(&ctx.lines, 0);
    if first.is_some_and(|f| f >= cut) {
        // Nothing new above the history: never remove the only content.
        match kind {
            // "From: … / Date: …" over a quote answered below: a header block used as attribution.
            Cut::Header if ctx.header_attribution(cut).is_some() => {
                if let Some((he, qe)) = ctx.header_attribution(cut) {
                    let attr = (cut, he);
                    (cut, kind, ctx_attrs) = ctx.find_cut(qe);
                    ctx_attrs.insert(0, attr);
                }
            }
            // A forward with no note: the forwarded text is the content (corpus README).
            Cut::Forward | Cut::Header => return keep_all(&ctx, n),
            // "On … wrote:" over unmarked text: drop the attribution, read on.
            Cut::Attribution => {
                let e = ctx.attr[cut].unwrap_or(cut + 1);
                if next_nonblank(&ctx.lines, e).is_some_and(|j| !ctx.lines[j].quoted()) {
                    start = e;
                    (cut, kind, ctx_attrs) = ctx.find_cut(e);
                }
            }
            // A bare quote that is not quoted history (no attribution, no header): keep it.
            Cut::Quote if !quoted_history(&ctx.lines[cut..], false) => {
                (cut, kind) = ctx.find_cut_in_quote(cut);
            }
            _ => {}
        }
    } else if kind == Cut::Attribution && (0..cut).all(|j| ctx.lines[j].blank() || is_greeting(ctx.lines[j].body)) {
        // "Hi Branden," then "On … wrote:" over unmarked text: the greeting is not the answer.
        // Drop the attribution and read on, keeping the greeting.
        let e = ctx.attr[cut].unwrap_or(cut + 1);
        if next_nonblank(&ctx.lines, e).is_some_and(|j| !ctx.lines[j].quoted()) {
            let attr = (cut, e);
            (cut, kind, ctx_attrs) = ctx.find_cut(e);
            ctx_attrs.insert(0, attr);
        }
    }
    let bottom = bottom_post(&ctx, start, cut, &ctx_attrs);
    assemble(&ctx, start, cut, kind, &ctx_attrs, bottom)
}

/// A reply written under the whole quoted message: an attribution, ONE quoted block, then new
/// text, and no quote after it (bottom-posting, or a reply wrapped around one quote). The quote is
/// history, so it goes with its attribution: `(attribution start, quote start, quote end)`.
/// Quotes that alternate with answers, and a bare quote with no attribution, stay as context.
fn bottom_post(ctx: &Ctx<'_>, start: usize, cut: usize, ctx_attrs: &[(usize, usize)]) -> Option<(usize, usize, usize)> {
    let lines = &ctx.lines;
    let q = (start..cut).find(|&j| lines[j].quoted())?;
    let qe = quote_block_end(lines, q).min(cut);
    let &(a, _) = ctx_attrs.iter().find(|&&(_, e)| next_nonblank(lines, e) == Some(q))?;
    // More than one quoted block is an interleaved reply, with one exception: when the
    // attribution opens the message, quoted history cut below the answer does not count.
    let opens = (start..a).all(|j| lines[j].blank() || is_greeting(lines[j].body));
    if lines[qe..if opens { cut } else { lines.len() }].iter().any(|l| l.quoted()) {
        return None;
    }
    if !(qe..cut).any(|j| ctx.is_new_text(j)) {
        return None;
    }
    // One blank line keeps the paragraphs apart: the one above the attribution, if any.
    let blank_above = a == start || lines[a - 1].blank();
    let end = if blank_above { next_nonblank(lines, qe).unwrap_or(qe).min(cut) } else { qe };
    Some((a, q, end))
}

impl Ctx<'_> {
    /// For a message that is only a quote: keep the quote, still dropping a trailing signature.
    pub(super) fn find_cut_in_quote(&self, from: usize) -> (usize, Cut) {
        let n = self.lines.len();
        for i in from..n {
            if !self.lines[i].quoted() && !self.lines[i].blank() && self.marks[i] != Mark::Text {
                let kind = match self.marks[i] {
                    Mark::Mobile | Mark::ListFooter => Cut::Footer,
                    _ => Cut::Signature,
                };
                return (i, kind);
            }
        }
        (n, Cut::None)
    }
}

/// Does a quote carry attribution or header lines (history, not a quotation)? With
/// `own_heading`, an attribution on the block's first line is the heading of the quoted context
/// itself and does not count.
pub(super) fn quoted_history(lines: &[Line<'_>], own_heading: bool) -> bool {
    let first = lines.iter().position(|l| !l.body.is_empty());
    lines.iter().enumerate().take(4000).any(|(k, l)| {
        if !l.quoted() || l.body.is_empty() || l.body.len() >= MAX_MATCH_LEN {
            return false;
        }
        if own_heading && Some(k) == first {
            return matches!(mark_of(&make_line(l.body)), Mark::Original | Mark::Forward);
        }
        let inner = make_line(l.body);
        let s = strip_decoration(l.body);
        let f = Features::of(&s);
        (may_end_attribution(&inner) && attribution_text(&s, &f, false)) || matches!(mark_of(&inner), Mark::Original | Mark::Forward)
    }) || quoted_header_block(lines)
}

pub(super) fn keep_all(ctx: &Ctx<'_>, n: usize) -> Visible {
    let keep = vec![true; n];
    let text = render(&ctx.lines, &keep);
    Visible { text, removed: Vec::new() }
}

/// Build the result from the kept range `start..cut` and label everything removed.
pub(super) fn assemble(
    ctx: &Ctx<'_>,
    start: usize,
    cut: usize,
    kind: Cut,
    ctx_attrs: &[(usize, usize)],
    bottom: Option<(usize, usize, usize)>,
) -> Visible {
    let lines = &ctx.lines;
    let n = lines.len();
    let mut label: Vec<Option<RemovedKind>> = vec![None; n];
    // Lines before `start` (an attribution dropped by the fallback).
    for l in label.iter_mut().take(start) {
        *l = Some(RemovedKind::Attribution);
    }
    // A context attribution stays only when it opens the message (the quote is the heading of an
    // interleaved reply); below new text it is dropped and its quote kept.
    let first = next_nonblank(lines, start);
    for &(a, e) in ctx_attrs {
        if first != Some(a) {
            for l in label.iter_mut().take(e).skip(a) {
                *l = Some(RemovedKind::Attribution);
            }
        }
    }
    if let Some((a, q, qe)) = bottom {
        for l in label.iter_mut().take(q).skip(a) {
            *l = Some(RemovedKind::Attribution);
        }
        for l in label.iter_mut().take(qe).skip(q) {
            *l = Some(RemovedKind::Quote);
        }
    }
    label_history(ctx, cut, kind, &mut label);
    trailing_cleanup(ctx, start, cut, &mut label);

    let keep: Vec<bool> = label.iter().map(Option::is_none).collect();
    let text = render(lines, &keep);
    Visible { text, removed: removed_spans(lines, &label) }
}

/// Label every line from the cut to the end with why it goes.
pub(super) fn label_history(ctx: &Ctx<'_>, cut: usize, kind: Cut, label: &mut [Option<RemovedKind>]) {
    let lines = &ctx.lines;
    let n = lines.len();
    let mut state = match kind {
        Cut::None => return,
        Cut::Quote => RemovedKind::Quote,
        Cut::Attribution | Cut::Header | Cut::Original => RemovedKind::Attribution,
        Cut::Forward => RemovedKind::Forwarded,
        Cut::Signature if mentions_list(&lines[cut..]) => RemovedKind::Footer,
        Cut::Signature => RemovedKind::Signature,
        Cut::Footer => RemovedKind::Footer,
    };
    let forwarded = kind == Cut::Forward;
    let mut i = cut;
    while i < n {
        let l = &lines[i];
        if forwarded {
            label[i] = Some(RemovedKind::Forwarded);
            i += 1;
            continue;
        }
        if let Some(e) = ctx.attr[i] {
            for x in label.iter_mut().take(e).skip(i) {
                *x = Some(RemovedKind::Attribution);
            }
            state = RemovedKind::Quote;
            i = e;
            continue;
        }
        if !l.quoted() && !l.blank() {
            if let Some(e) = header_block(lines, i) {
                for x in label.iter_mut().take(e).skip(i) {
                    *x = Some(RemovedKind::Attribution);
                }
                state = RemovedKind::Quote;
                i = e;
                continue;
            }
            match ctx.marks[i] {
                Mark::SigDelim if state != RemovedKind::Quote => {
                    state = if mentions_list(&lines[i..]) { RemovedKind::Footer } else { RemovedKind::Signature };
                }
                Mark::Mobile | Mark::ListFooter => state = RemovedKind::Footer,
                Mark::Underscores if mentions_list(&lines[i..]) => state = RemovedKind::Footer,
                Mark::Original | Mark::Rule | Mark::Underscores if i == cut => state = RemovedKind::Attribution,
                _ => {}
            }
        }
        label[i] = Some(if l.quoted() && state == RemovedKind::Attribution { RemovedKind::Quote } else { state });
        if state == RemovedKind::Attribution && !l.blank() && i > cut && !l.quoted() {
            label[i] = Some(RemovedKind::Quote);
        }
        i += 1;
    }
}

/// Drop mobile footers, "-Name" sign-offs and blank lines that end the kept text.
pub(super) fn trailing_cleanup(ctx: &Ctx<'_>, start: usize, cut: usize, label: &mut [Option<RemovedKind>]) {
    let mut i = cut;
    let mut content_seen = false;
    while i > start {
        i -= 1;
        if label[i].is_some() || ctx.lines[i].blank() {
            continue;
        }
        match ctx.marks[i] {
            Mark::Mobile => label[i] = Some(RemovedKind::Footer),
            Mark::NameSig if !content_seen => label[i] = Some(RemovedKind::Signature),
            _ => break,
        }
        content_seen = true;
    }
}

/// Join kept lines; drop leading/trailing blank lines; keep indentation.
pub(super) fn render(lines: &[Line<'_>], keep: &[bool]) -> String {
    // A removed span between two blank lines leaves one blank line, not two.
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut gap = false;
    for (l, k) in lines.iter().zip(keep) {
        if !*k {
            gap = true;
            continue;
        }
        let blank = l.raw.trim().is_empty();
        if !(blank && gap && kept.last().is_some_and(|p| p.trim().is_empty())) {
            kept.push(l.raw);
        }
        gap = false;
    }
    let first = kept.iter().position(|l| !l.trim().is_empty());
    let last = kept.iter().rposition(|l| !l.trim().is_empty());
    match (first, last) {
        (Some(a), Some(b)) => kept[a..=b].join("\n"),
        _ => String::new(),
    }
}

/// Group removed lines into spans of one kind, in order.
pub(super) fn removed_spans(lines: &[Line<'_>], label: &[Option<RemovedKind>]) -> Vec<Removed> {
    let mut out: Vec<Removed> = Vec::new();
    let mut open = false;
    for (l, k) in lines.iter().zip(label) {
        match k {
            Some(kind) => {
                if l.raw.trim().is_empty() && !open {
                    continue;
                }
                match out.last_mut() {
                    Some(last) if open && last.kind == *kind => {
                        last.text.push('\n');
                        last.text.push_str(l.raw);
                    }
                    _ => {
                        out.push(Removed { kind: *kind, text: l.raw.to_string() });
                        open = true;
                    }
                }
            }
            None => open = false,
        }
    }
    for r in &mut out {
        let t = r.text.trim_end().to_string();
        r.text = t;
    }
    out.retain(|r| !r.text.trim().is_empty());
    out
}
