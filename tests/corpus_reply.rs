//! Scores reply trimming on the shared labelled corpus (`shared/corpus/replies`), like
//! `shared/tools/eval_replies.py`: exact match after normalising line endings, trailing spaces and
//! blank-line runs, and mean token F1, overall and per source. Skips when the corpus is absent.
//! Run with `cargo test --release --test corpus_reply -- --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use docket::parse::mime;

/// `shared/corpus/replies` seen from this crate (`/work/scratch/reply`) or the main one (`/work/main`).
fn corpus_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../shared/corpus/replies", "../../shared/corpus/replies"].iter().map(|rel| root.join(rel)).find(|p| p.is_dir())
}

fn normalise(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out: Vec<&str> = Vec::new();
    for line in s.split('\n').map(str::trim_end) {
        if line.is_empty() && out.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

fn counts(s: &str) -> HashMap<&str, usize> {
    let mut m: HashMap<&str, usize> = HashMap::new();
    for t in s.split_whitespace() {
        *m.entry(t).or_default() += 1;
    }
    m
}

fn token_f1(pred: &str, exp: &str) -> f64 {
    let (p, e) = (counts(pred), counts(exp));
    if p.is_empty() && e.is_empty() {
        return 1.0;
    }
    let common: usize = p.iter().map(|(t, n)| (*n).min(*e.get(t).unwrap_or(&0))).sum();
    if common == 0 {
        return 0.0;
    }
    let prec = common as f64 / p.values().sum::<usize>() as f64;
    let rec = common as f64 / e.values().sum::<usize>() as f64;
    2.0 * prec * rec / (prec + rec)
}

#[test]
fn corpus_scores() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: corpus not present");
        return;
    };
    let mut stems: Vec<String> =
        std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".eml").map(str::to_string)).collect();
    stems.sort();
    let mut by_source: BTreeMap<String, (usize, usize, f64)> = BTreeMap::new();
    let (mut exact, mut f1) = (0usize, 0f64);
    for stem in &stems {
        let raw = std::fs::read(dir.join(format!("{stem}.eml"))).unwrap();
        let want = std::fs::read_to_string(dir.join(format!("{stem}.expected.txt"))).unwrap_or_default();
        let got = normalise(&mime::trim_eml(&raw).text);
        let want = normalise(&want);
        let ok = got == want;
        let score = token_f1(&got, &want);
        if !ok {
            println!("FAIL {stem} (f1 {score:.2})");
        }
        exact += usize::from(ok);
        f1 += score;
        let src = stem.split('-').next().unwrap_or("").to_string();
        let e = by_source.entry(src).or_default();
        e.0 += 1;
        e.1 += usize::from(ok);
        e.2 += score;
    }
    let n = stems.len().max(1) as f64;
    for (src, (cases, ok, f)) in &by_source {
        println!("  {src:10} cases {cases:4}  exact {:.3}  f1 {:.3}", *ok as f64 / *cases as f64, f / *cases as f64);
    }
    println!("exact {:.3} f1 {:.3} cases {}", exact as f64 / n, f1 / n, stems.len());
}
