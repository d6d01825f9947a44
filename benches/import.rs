//! Import and search benchmark: `cargo bench --bench import` over ../shared/corpus/mail/*.mbox.
//! 1. Import with the search index held elsewhere (parse + visible text + thread + store only),
//!    and import into a fresh data dir with indexing (parse + store + index), alternately, best of
//!    three each; then `reindex` alone.
//! 2. Index size on disk against the raw mail.
//! 3. Latency of 1,000 mixed queries (p50/p99): in-process on the open index, and as
//!    `docket search` with a process per query.
//! 4. When `notmuch` is installed, `notmuch new` and `notmuch search` (a process per query) on the
//!    same messages, and the ratios, process per query against process per query.
//! 5. The no-op re-import.
//!
//! Skips, saying so, when the corpus is absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use docket::app::App;
use docket::config::Config;
use docket::index::{Index, SearchOptions, Sort};
use docket::ingest::import::{ImportOptions, MboxReader, import};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn corpus() -> Option<Vec<PathBuf>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mail");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mbox"))
        .collect();
    files.sort();
    (!files.is_empty()).then_some(files)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() { dir_size(&p) } else { e.metadata().map(|m| m.len()).unwrap_or(0) }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A deterministic pseudo-random sequence (no dependency needed for picking words).
struct Lcg(u64);

impl Lcg {
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        &items[((self.0 >> 33) as usize) % items.len()]
    }
}

/// One query in docket's language and notmuch's, and the order asked for.
struct Q {
    docket: String,
    notmuch: String,
    sort: Sort,
}

/// 1,000 queries mixing single words, word pairs, phrases, senders, kind and date filters, and
/// date order, drawn from the corpus's own subjects and participants.
fn queries(subjects: &[String], senders: &[String]) -> Vec<Q> {
    let words: Vec<String> = subjects
        .iter()
        .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect::<Vec<_>>())
        .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .collect();
    let pairs: Vec<String> = subjects
        .iter()
        .flat_map(|s| {
            let w: Vec<&str> = s.split_whitespace().filter(|w| w.chars().all(|c| c.is_ascii_alphabetic()) && w.len() > 2).collect();
            w.windows(2).map(|p| format!("{} {}", p[0], p[1])).collect::<Vec<_>>()
        })
        .collect();
    let mut r = Lcg(42);
    (0..1000)
        .map(|i| {
            let w = r.pick(&words).clone();
            let (docket, notmuch, sort) = match i % 10 {
                0..=3 => (w.clone(), w, Sort::Relevance),
                4 | 5 => {
                    let v = r.pick(&words);
                    (format!("{w} {v}"), format!("{w} and {v}"), Sort::Relevance)
                }
                6 => {
                    let p = r.pick(&pairs);
                    (format!("\"{p}\""), format!("\"{p}\""), Sort::Relevance)
                }
                7 => {
                    let s = r.pick(senders);
                    (format!("from:{s}"), format!("from:{s}"), Sort::Relevance)
                }
                8 => (format!("{w} kind:message after:2022-01-01"), format!("{w} and date:2022-01-01.."), Sort::Relevance),
                _ => (w.clone(), w, Sort::Date),
            };
            Q { docket, notmuch, sort }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let Some(files) = corpus() else {
        println!("import bench skipped: ../shared/corpus/mail not present");
        return;
    };
    let bytes: u64 = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let opts = ImportOptions { space: Some("corpus".into()), progress: false };

        // 1 and 2, alternately, three times each; the best run of each counts (the machine is shared).
        // Store only: another holder of the index lock makes import skip indexing.
        let mut store_secs = f64::MAX;
        let mut best = None;
        let mut rss_before = 0;
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let app = App::open(Config::defaults_in(dir.path()).unwrap()).await.unwrap();
            app.store.add_space("corpus", "corpus", 0).await.unwrap();
            rss_before = peak_rss_kib();
            let start = Instant::now();
            let report = import(&app, &files, &opts).await.unwrap();
            // Counted until the index's background merges are done too.
            app.index.release().await;
            let secs = start.elapsed().as_secs_f64();
            if best.as_ref().is_none_or(|(_, _, _, s)| secs < *s) {
                best = Some((dir, app, report, secs));
            }
            let plain = tempfile::tempdir().unwrap();
            let app = App::open(Config::defaults_in(plain.path()).unwrap()).await.unwrap();
            app.store.add_space("corpus", "corpus", 0).await.unwrap();
            let holder = Index::new(app.index.dir().to_path_buf());
            holder.catch_up(&app.store, 0).await.unwrap();
            let start = Instant::now();
            let report = import(&app, &files, &opts).await.unwrap();
            store_secs = store_secs.min(start.elapsed().as_secs_f64());
            assert_eq!(report.indexed, 0);
            holder.release().await;
            app.store.close().await;
        }
        let (dir, app, report, secs) = best.unwrap();
        let threads = app.store.threads(Some("corpus"), None, 3).await.unwrap();
        let n = report.messages as f64;
        println!(
            "import (parse + store):         {} messages ({:.1} MB) in {:.2} s = {:.0} messages/s",
            report.messages,
            bytes as f64 / 1e6,
            store_secs,
            n / store_secs
        );
        println!(
            "import (parse + store + index): {} messages in {:.2} s = {:.0} messages/s; {} stored, {} duplicates, {} problems, {} threads, {} documents indexed",
            report.messages,
            secs,
            n / secs,
            report.stored,
            report.duplicates,
            report.problems.len(),
            threads.len(),
            report.indexed
        );
        println!("peak RSS: {} MiB (before import {} MiB)", peak_rss_kib() / 1024, rss_before / 1024);
        let db = dir.path().join("docket.db");
        println!("database size: {:.1} MB", std::fs::metadata(db).map(|m| m.len()).unwrap_or(0) as f64 / 1e6);

        let start = Instant::now();
        let rebuilt = app.index.reindex(&app.store, 0, &|_| {}).await.unwrap();
        let index_secs = start.elapsed().as_secs_f64();
        println!(
            "reindex alone: {} documents in {:.2} s = {:.0} documents/s",
            rebuilt.documents,
            index_secs,
            rebuilt.documents as f64 / index_secs
        );
        // Let background merges finish before measuring the size.
        app.index.release().await;
        let index_bytes = dir_size(app.index.dir());
        println!(
            "index size: {:.1} MB = {:.0}% of the raw mail ({:.1} MB)",
            index_bytes as f64 / 1e6,
            100.0 * index_bytes as f64 / bytes as f64,
            bytes as f64 / 1e6
        );

        // 3. Query latency, end to end (parse, search, snippets, thread lookup in the store).
        app.index.catch_up(&app.store, 0).await.unwrap();
        let subjects: Vec<String> = threads.iter().map(|t| t.subject.clone()).collect();
        let mut senders: Vec<String> = threads.iter().flat_map(|t| t.participants.clone()).collect();
        senders.sort();
        senders.dedup();
        let qs = queries(&subjects, &senders);
        for q in qs.iter().take(50) {
            let _ = app.index.search(&app.store, &q.docket, &SearchOptions { limit: 20, sort: q.sort }).await;
        }
        let mut times = Vec::with_capacity(qs.len());
        let (mut hits, mut errors) = (0usize, 0usize);
        for q in &qs {
            let start = Instant::now();
            match app.index.search(&app.store, &q.docket, &SearchOptions { limit: 20, sort: q.sort }).await {
                Ok(h) => hits += h.len(),
                Err(_) => errors += 1,
            }
            times.push(start.elapsed());
        }
        times.sort();
        let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        println!(
            "queries in-process (one open index, no process start): {} mixed, top 20: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} hits, {} errors",
            qs.len(),
            ms(p50),
            ms(p99),
            ms(times[times.len() - 1]),
            hits,
            errors
        );
        // The same queries as `docket search`, a process each (start, open the database and the
        // index, search, print): the figure to hold against notmuch's process per query.
        let cli = docket_cli_queries(dir.path(), &qs);
        println!(
            "queries as `docket search` (a process each): p50 {:.2} ms, p99 {:.2} ms (of which process start + open: p50 {:.2} ms)",
            ms(cli.p50),
            ms(cli.p99),
            ms(cli.base_p50)
        );

        // 4. notmuch on the same messages.
        notmuch(&files, report.messages, secs, &qs, &cli);

        // 5. Re-import.
        let start = Instant::now();
        let again = import(&app, &files, &opts).await.unwrap();
        println!(
            "re-import: {} files already complete, {} new messages, {:.3} s",
            again.already_imported,
            again.stored,
            start.elapsed().as_secs_f64()
        );
    });
}

/// Query latency of a process per query: p50, p99, and the p50 of a query that finds nothing
/// (what starting the process and opening its index costs alone).
struct PerProcess {
    p50: Duration,
    p99: Duration,
    base_p50: Duration,
}

/// Times `docket search` on `data` (the data dir the bench imported into) for every query.
fn docket_cli_queries(data: &Path, qs: &[Q]) -> PerProcess {
    let run = |query: &str, sort: Sort| {
        let sort = match sort {
            Sort::Relevance => "relevance",
            Sort::Date => "date",
        };
        let out = Command::new(env!("CARGO_BIN_EXE_docket"))
            .env_remove("DOCKET_CONFIG")
            .env("DOCKET__SERVER__DATA_DIR", data)
            .args(["search", "--json", "--limit", "20", "--sort", sort, "--", query])
            .output()
            .unwrap();
        assert!(out.status.success() || out.status.code() == Some(64), "docket search {query:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let mut times: Vec<Duration> = qs
        .iter()
        .map(|q| {
            let start = Instant::now();
            run(&q.docket, q.sort);
            start.elapsed()
        })
        .collect();
    times.sort();
    let mut base: Vec<Duration> = (0..50)
        .map(|_| {
            let start = Instant::now();
            run("zzqqxxnone", Sort::Relevance);
            start.elapsed()
        })
        .collect();
    base.sort();
    PerProcess { p50: percentile(&times, 0.5), p99: percentile(&times, 0.99), base_p50: percentile(&base, 0.5) }
}

/// Times `notmuch new` over a Maildir of the same messages, then `notmuch search` (a process per
/// query, as a user or script runs it) over the same queries, and compares it with `docket search`
/// run the same way (a process per query), never with docket's in-process figure.
fn notmuch(files: &[PathBuf], messages: u64, docket_secs: f64, qs: &[Q], docket: &PerProcess) {
    if Command::new("notmuch").arg("--version").output().is_err() {
        println!("notmuch comparison skipped: notmuch is not installed");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let maildir = work.path().join("mail");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let mut n = 0;
    for f in files {
        for m in MboxReader::new(BufReader::new(std::fs::File::open(f).unwrap()), 0) {
            let m = m.unwrap();
            std::fs::write(maildir.join("cur").join(format!("{n}.bench:2,")), &m.raw).unwrap();
            n += 1;
        }
    }
    let cfg = work.path().join("cfg");
    std::fs::write(
        &cfg,
        format!("[database]\npath={}\n[new]\ntags=new\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n", maildir.display()),
    )
    .unwrap();
    let run = |args: &[&str]| Command::new("notmuch").args(args).env("NOTMUCH_CONFIG", &cfg).output().unwrap();
    let start = Instant::now();
    let out = run(&["new", "--quiet"]);
    let nm_secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        println!("notmuch new failed: {}", String::from_utf8_lossy(&out.stderr));
        return;
    }
    let nm_size = dir_size(&maildir.join(".notmuch"));
    println!("notmuch new: {n} messages in {nm_secs:.2} s = {:.0} messages/s; index {:.1} MB", n as f64 / nm_secs, nm_size as f64 / 1e6);
    let mut times = Vec::with_capacity(qs.len());
    for q in qs {
        // notmuch has no relevance order: newest first for every query.
        let start = Instant::now();
        let _ = run(&["search", "--output=messages", "--limit=20", "--sort=newest-first", &q.notmuch]);
        times.push(start.elapsed());
    }
    times.sort();
    let (np50, np99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    // What starting a notmuch process and opening its database costs alone.
    let mut base: Vec<Duration> = (0..50)
        .map(|_| {
            let start = Instant::now();
            let _ = run(&["search", "--output=messages", "--limit=20", "id:none@bench"]);
            start.elapsed()
        })
        .collect();
    base.sort();
    println!(
        "notmuch search: {} queries, a process each: p50 {:.2} ms, p99 {:.2} ms (of which process start + open: p50 {:.2} ms)",
        qs.len(),
        ms(np50),
        ms(np99),
        ms(percentile(&base, 0.5))
    );
    println!(
        "ratios docket/notmuch: indexing speed {:.2}x (docket {:.0} vs notmuch {:.0} messages/s, docket also parses, threads and stores); \
         query latency, a process per query on both sides: p50 {:.2}x, p99 {:.2}x (lower is faster for docket)",
        (messages as f64 / docket_secs) / (n as f64 / nm_secs),
        messages as f64 / docket_secs,
        n as f64 / nm_secs,
        ms(docket.p50) / ms(np50),
        ms(docket.p99) / ms(np99)
    );
}
