//! Throughput of `mime::trim_eml` (parse + visible text), single-threaded, over the shared corpus
//! replies repeated until at least two seconds of work; prints messages/s. `cargo bench --bench trim`.
//! Skips with a message when the corpus is absent.

use std::path::Path;
use std::time::{Duration, Instant};

use docket::parse::mime;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(dir) = ["../shared/corpus/replies", "../../shared/corpus/replies"].iter().map(|rel| root.join(rel)).find(|p| p.is_dir())
    else {
        println!("skipped: corpus not present");
        return;
    };
    let mut messages: Vec<Vec<u8>> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "eml")
                && let Ok(raw) = std::fs::read(&p)
            {
                messages.push(raw);
            }
        }
    }
    if messages.is_empty() {
        println!("skipped: no .eml files in {}", dir.display());
        return;
    }
    // Warm up (lazy regex compilation, caches).
    let mut sink = 0usize;
    for m in &messages {
        sink += mime::trim_eml(m).text.len();
    }
    let bytes: usize = messages.iter().map(Vec::len).sum();
    let start = Instant::now();
    let mut count = 0usize;
    while start.elapsed() < Duration::from_secs(2) {
        for m in &messages {
            sink += std::hint::black_box(mime::trim_eml(std::hint::black_box(m))).text.len();
            count += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "trim_eml: {} messages ({} distinct, {:.1} KiB avg) in {:.2}s = {:.0} messages/s single-threaded (sink {})",
        count,
        messages.len(),
        bytes as f64 / messages.len() as f64 / 1024.0,
        secs,
        count as f64 / secs,
        sink % 10
    );
}
