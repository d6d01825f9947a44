//! Runs a parsed query (`query::Parsed`) on a searcher: builds the tantivy query, collects the top
//! documents by score or by date, and turns them into hits with a snippet of the matching text.

use super::hit::{Hit, HitId, Sort};
use super::query::{Clause, Parsed};
use super::schema::{self, Fields};
use crate::store::read::to_utc;
use std::ops::{Bound, Range};
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, EnableScoring, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, DocSet, Order, Searcher, TantivyDocument, Term};

/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 180;

/// The tantivy query for a parsed query; `None` when nothing in it can match (only punctuation).
pub fn build(parsed: &Parsed, f: &Fields) -> Option<Box<dyn Query>> {
    let mut text = schema::text_analyzer();
    let mut name = schema::name_analyzer();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for term in &parsed.terms {
        let q: Option<Box<dyn Query>> = match &term.clause {
            Clause::Text(s) => words(s, f, &mut text, &mut name),
            Clause::From(s) => tokens_query(f.from, &schema::tokens(&mut name, s)),
            Clause::Space(s) => Some(exact(f.space, s)),
            Clause::Kind(k) => Some(exact(f.kind, k.as_str())),
            Clause::Status(s) => Some(exact(f.status, s)),
            Clause::Goal(s) => Some(exact(f.goal, s)),
            Clause::Before(t) => Some(Box::new(RangeQuery::new(Bound::Unbounded, Bound::Excluded(Term::from_field_i64(f.date, *t))))),
            Clause::After(t) => Some(Box::new(RangeQuery::new(Bound::Included(Term::from_field_i64(f.date, *t)), Bound::Unbounded))),
        };
        match q {
            Some(q) => clauses.push((if term.negated { Occur::MustNot } else { Occur::Must }, q)),
            // A positive word with nothing searchable in it (`!!!`) cannot match anything.
            None if !term.negated => return None,
            None => {}
        }
    }
    if !clauses.iter().any(|(occur, _)| *occur == Occur::Must) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn exact(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

/// A word or phrase in the subject (weighted double), the body or the sender.
fn words(s: &str, f: &Fields, text: &mut TextAnalyzer, name: &mut TextAnalyzer) -> Option<Box<dyn Query>> {
    let text_tokens = schema::tokens(text, s);
    let name_tokens = schema::tokens(name, s);
    let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (field, tokens, boost) in [(f.subject, &text_tokens, 2.0), (f.body, &text_tokens, 1.0), (f.from, &name_tokens, 0.5)] {
        if let Some(q) = tokens_query(field, tokens) {
            any.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
        }
    }
    (!any.is_empty()).then(|| Box::new(BooleanQuery::new(any)) as Box<dyn Query>)
}

/// One token: a term; several: a phrase (positions are indexed).
fn tokens_query(field: Field, tokens: &[String]) -> Option<Box<dyn Query>> {
    match tokens {
        [] => None,
        [one] => Some(Box::new(TermQuery::new(Term::from_field_text(field, one), IndexRecordOption::WithFreqs))),
        many => Some(Box::new(PhraseQuery::new(many.iter().map(|t| Term::from_field_text(field, t)).collect()))),
    }
}

/// A document found, before its thread is checked against the store.
#[derive(Debug)]
pub struct Found {
    pub hit: Hit,
    /// The row id (message id or item number).
    pub row: i64,
}

/// The top `limit` documents, by relevance or newest first.
pub fn run(searcher: &Searcher, f: &Fields, query: &dyn Query, sort: Sort, limit: usize) -> tantivy::Result<Vec<Found>> {
    let docs: Vec<(f32, DocAddress)> = match sort {
        Sort::Relevance => searcher.search(query, &TopDocs::with_limit(limit).order_by_score())?,
        Sort::Date => {
            let by_date: Vec<(Option<i64>, DocAddress)> =
                searcher.search(query, &TopDocs::with_limit(limit).order_by_fast_field::<i64>("date", Order::Desc))?;
            let addrs: Vec<DocAddress> = by_date.into_iter().map(|(_, a)| a).collect();
            scores(searcher, query, &addrs)?.into_iter().zip(addrs).collect()
        }
    };
    let mut snippets = SnippetGenerator::create(searcher, query, f.body)?;
    snippets.set_max_num_chars(SNIPPET_CHARS);
    let mut out = Vec::with_capacity(docs.len());
    for (score, addr) in docs {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str().map(str::to_string));
        let number = |field: Field| doc.get_first(field).and_then(|v| v.as_i64()).unwrap_or_default();
        let kind = match text(f.kind).as_deref() {
            Some("decision") => "decision",
            Some("task") => "task",
            _ => "message",
        };
        let row = number(f.id);
        let id = match kind {
            "decision" => HitId::Item(format!("D-{row}")),
            "task" => HitId::Item(format!("T-{row}")),
            _ => HitId::Message(row),
        };
        let snippet = snippets.snippet_from_doc(&doc);
        let (snippet, highlights) = if snippet.fragment().trim().is_empty() {
            flatten(&lead(&text(f.body).unwrap_or_default()), &[])
        } else {
            flatten(snippet.fragment(), snippet.highlighted())
        };
        let hit = Hit {
            kind,
            id,
            message_id: text(f.message_id).filter(|s| !s.is_empty()),
            thread_id: number(f.thread),
            space: text(f.space).unwrap_or_default(),
            subject: text(f.subject).unwrap_or_default(),
            snippet,
            date: to_utc(number(f.date)),
            score,
            highlights,
        };
        out.push(Found { hit, row });
    }
    Ok(out)
}

/// Relevance scores of given documents (for results ordered by date).
fn scores(searcher: &Searcher, query: &dyn Query, docs: &[DocAddress]) -> tantivy::Result<Vec<f32>> {
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    docs.iter()
        .map(|addr| {
            let mut scorer = weight.scorer(searcher.segment_reader(addr.segment_ord), 1.0)?;
            Ok(if scorer.seek(addr.doc_id) == addr.doc_id { scorer.score() } else { 0.0 })
        })
        .collect()
}

/// The start of a text, cut at a character boundary.
fn lead(text: &str) -> String {
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Collapses whitespace runs (newlines too) into single spaces, moving the highlights with it.
fn flatten(text: &str, highlights: &[Range<usize>]) -> (String, Vec<Range<usize>>) {
    let mut out = String::with_capacity(text.len());
    // New offset for each old byte offset at a character boundary (and the end).
    let mut map = vec![0usize; text.len() + 1];
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        map[i] = out.len();
        if c.is_whitespace() {
            if !in_space && !out.is_empty() {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    map[text.len()] = out.len();
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    let ranges = highlights
        .iter()
        .filter(|r| r.end <= text.len() && r.start < r.end)
        .map(|r| map[r.start].min(trimmed)..map[r.end].min(trimmed))
        .filter(|r| r.start < r.end)
        .collect();
    (out, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_keeps_highlights_on_their_words() {
        let (s, r) = flatten("  budget\n\n for  Q3\n", &[2..8, 16..18]);
        assert_eq!(s, "budget for Q3");
        assert_eq!(r, [0..6, 11..13]);
        assert_eq!(&s[r[1].clone()], "Q3");
        let (s, r) = flatten("会议 记录", &[0..6, 7..13]);
        assert_eq!(s, "会议 记录");
        assert_eq!(&s[r[1].clone()], "记录");
    }

    #[test]
    fn lead_cuts_at_characters() {
        assert_eq!(lead("short"), "short");
        let long = "会".repeat(200);
        assert_eq!(lead(&long).chars().count(), SNIPPET_CHARS + 1);
    }
}
