//! Import benchmark: `cargo bench --bench import` imports ../shared/corpus/mail/*.mbox into a fresh
//! SQLite data dir (parse + visible text + thread + store) and prints messages/s and peak memory;
//! then imports again to time the no-op re-import. Skips, saying so, when the corpus is absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use docket::app::App;
use docket::config::Config;
use docket::ingest::import::{ImportOptions, import};
use std::path::PathBuf;
use std::time::Instant;

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

fn main() {
    let Some(files) = corpus() else {
        println!("import bench skipped: ../shared/corpus/mail not present");
        return;
    };
    let bytes: u64 = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(Config::defaults_in(dir.path()).unwrap()).await.unwrap();
        app.store.add_space("corpus", "corpus", 0).await.unwrap();
        let opts = ImportOptions { space: Some("corpus".into()), progress: false };
        let rss_before = peak_rss_kib();
        let start = Instant::now();
        let report = import(&app, &files, &opts).await.unwrap();
        let secs = start.elapsed().as_secs_f64();
        let threads = app.store.threads(Some("corpus"), None, 3).await.unwrap().len();
        println!(
            "import: {} messages ({:.1} MB) in {:.2} s = {:.0} messages/s; {} stored, {} duplicates, {} problems, {} threads",
            report.messages,
            bytes as f64 / 1e6,
            secs,
            report.messages as f64 / secs,
            report.stored,
            report.duplicates,
            report.problems.len(),
            threads
        );
        println!("peak RSS: {} MiB (before import {} MiB)", peak_rss_kib() / 1024, rss_before / 1024);
        let db = dir.path().join("docket.db");
        println!("database size: {:.1} MB", std::fs::metadata(db).map(|m| m.len()).unwrap_or(0) as f64 / 1e6);
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
