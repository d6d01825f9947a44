//! The search schema (one tantivy document per message, decision or task) and its analyzers:
//! words split on non-alphanumerics, CJK ideographs and kana one per token (so any run of them is
//! found as a phrase), folded to ASCII, lower-cased and, for text, stemmed as English.

use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer, TokenizerManager,
};

/// Bumped whenever the schema or an analyzer changes: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 1;
/// Analyzer of `subject` and `body`: words, CJK characters, folded, lower-cased, English stems.
pub const TEXT: &str = "docket_text";
/// Analyzer of `from`: like TEXT without stemming (addresses and names).
pub const NAME: &str = "docket_name";

/// The fields of the schema, resolved once.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// `message:12`, `decision:3`, `task:4`: the unique key used to replace a document.
    pub key: Field,
    /// `message` | `decision` | `task`.
    pub kind: Field,
    /// The row id (message id, or the number of `D-n` / `T-n`).
    pub id: Field,
    pub space: Field,
    pub thread: Field,
    /// The Message-ID header of the message (or of the message an item came from).
    pub message_id: Field,
    pub from: Field,
    /// Unix seconds: message date, decision time, task creation time.
    pub date: Field,
    pub subject: Field,
    pub body: Field,
    /// Task status (`open` | `done` | `cancelled`); empty for others.
    pub status: Field,
    /// Goal slug of an item.
    pub goal: Field,
}

impl Fields {
    pub fn build() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let text = |analyzer: &str, stored: bool| {
            let indexing = TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqsAndPositions);
            let options = TextOptions::default().set_indexing_options(indexing);
            if stored { options.set_stored() } else { options }
        };
        let fields = Fields {
            key: b.add_text_field("key", STRING | STORED),
            kind: b.add_text_field("kind", STRING | STORED),
            id: b.add_i64_field("id", INDEXED | STORED),
            space: b.add_text_field("space", STRING | STORED),
            thread: b.add_i64_field("thread", INDEXED | STORED),
            message_id: b.add_text_field("message_id", STORED),
            from: b.add_text_field("from", text(NAME, true)),
            date: b.add_i64_field("date", INDEXED | FAST | STORED),
            subject: b.add_text_field("subject", text(TEXT, true)),
            body: b.add_text_field("body", text(TEXT, true)),
            status: b.add_text_field("status", STRING | STORED),
            goal: b.add_text_field("goal", STRING | STORED),
        };
        (b.build(), fields)
    }
}

/// Registers our analyzers on an index's tokenizer manager.
pub fn register(manager: &TokenizerManager) {
    manager.register(TEXT, text_analyzer());
    manager.register(NAME, name_analyzer());
}

pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

pub fn name_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Scripts written without spaces between words: each character is a token of its own.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x20000..=0x3FFFF) // CJK Extensions B..H
}

/// Splits on anything that is not alphanumeric, and emits CJK characters one by one.
#[derive(Debug, Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

#[derive(Debug)]
pub struct WordStream<'a> {
    text: &'a str,
    at: usize,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream { text, at: 0, token: &mut self.token }
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        let rest = &self.text[self.at..];
        let Some((skip, first)) = rest.char_indices().find(|(_, c)| c.is_alphanumeric()) else {
            self.at = self.text.len();
            return false;
        };
        let start = self.at + skip;
        let end = if is_cjk(first) {
            start + first.len_utf8()
        } else {
            let tail = &self.text[start..];
            start + tail.char_indices().find(|(_, c)| !c.is_alphanumeric() || is_cjk(*c)).map(|(i, _)| i).unwrap_or(tail.len())
        };
        self.token.offset_from = start;
        self.token.offset_to = end;
        self.token.position = self.token.position.wrapping_add(1);
        self.token.text.push_str(&self.text[start..end]);
        self.at = end;
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// The tokens an analyzer makes of `text` (query words go through the same analyzer as documents).
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(t.text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(analyzer: fn() -> TextAnalyzer, input: &str, want: &[&str]) {
        assert_eq!(tokens(&mut analyzer(), input), want, "input {input:?}");
    }

    #[test]
    fn analyzers() {
        check(text_analyzer, "Deciding the budgets, decided!", &["decid", "the", "budget", "decid"]);
        check(text_analyzer, "Café crème", &["cafe", "creme"]);
        check(text_analyzer, "会议记录 meeting", &["会", "议", "记", "录", "meet"]);
        check(text_analyzer, "東京タワーでranking", &["東", "京", "タ", "ワ", "ー", "で", "rank"]);
        check(text_analyzer, "한국어 텍스트", &["한국어", "텍스트"]);
        check(name_analyzer, "Alice Smith <alice@example.org>", &["alice", "smith", "alice", "example", "org"]);
        check(text_analyzer, "", &[]);
        check(text_analyzer, "!!! --- ...", &[]);
    }

    #[test]
    fn positions_count_from_zero() {
        let mut a = text_analyzer();
        let mut s = a.token_stream("one two");
        let mut positions = Vec::new();
        while let Some(t) = s.next() {
            positions.push(t.position);
        }
        assert_eq!(positions, [0, 1]);
    }
}
