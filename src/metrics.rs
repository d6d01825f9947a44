//! In-process metrics for `/metrics`: SMTP/LMTP session counts and the ingest and search latency
//! histograms, kept in atomics (one registry per process, fed by one line at each call site), and
//! the Prometheus text exposition format 0.0.4 that renders them beside what the store counts at
//! scrape time (docs/monitoring.md lists every metric).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the latency buckets: 1 ms to 10 s.
pub const LATENCY_BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A latency histogram: per-bucket counts (not cumulative; cumulated when rendered), the sum in
/// nanoseconds and the count.
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    const fn new() -> Histogram {
        Histogram { buckets: [const { AtomicU64::new(0) }; LATENCY_BUCKETS.len()], sum_nanos: AtomicU64::new(0), count: AtomicU64::new(0) }
    }

    pub fn observe(&self, seconds: f64) {
        if let Some(i) = LATENCY_BUCKETS.iter().position(|le| seconds <= *le) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        let nanos = (seconds.max(0.0) * 1e9) as u64;
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Cumulative counts per bucket (the `+Inf` bucket is the count), the sum in seconds, the count.
    pub fn snapshot(&self) -> (Vec<u64>, f64, u64) {
        let mut running = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                running += b.load(Ordering::Relaxed);
                running
            })
            .collect();
        let count = self.count.load(Ordering::Relaxed).max(running);
        (cumulative, self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9, count)
    }

    /// A timer that records its lifetime here when dropped.
    pub fn start(&'static self) -> Timer {
        Timer { histogram: self, started: Instant::now() }
    }
}

/// Records the time from its creation to its drop.
#[derive(Debug)]
pub struct Timer {
    histogram: &'static Histogram,
    started: Instant,
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.histogram.observe(self.started.elapsed().as_secs_f64());
    }
}

/// What this process counts itself (the store counts the rest).
#[derive(Debug)]
pub struct Registry {
    /// Sessions open now and ever opened, SMTP then LMTP.
    sessions_open: [AtomicI64; 2],
    sessions_total: [AtomicU64; 2],
    /// From the end of DATA (or a piped message's arrival) to its durable commit and answer.
    pub ingest: Histogram,
    /// One search query, index and store included.
    pub search: Histogram,
}

static REGISTRY: Registry = Registry {
    sessions_open: [const { AtomicI64::new(0) }; 2],
    sessions_total: [const { AtomicU64::new(0) }; 2],
    ingest: Histogram::new(),
    search: Histogram::new(),
};

/// This process's registry.
pub fn registry() -> &'static Registry {
    &REGISTRY
}

/// Counts an SMTP (or LMTP) session as open until the guard drops.
pub fn session(lmtp: bool) -> SessionGuard {
    let door = usize::from(lmtp);
    REGISTRY.sessions_open[door].fetch_add(1, Ordering::Relaxed);
    REGISTRY.sessions_total[door].fetch_add(1, Ordering::Relaxed);
    SessionGuard { door }
}

#[derive(Debug)]
pub struct SessionGuard {
    door: usize,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        REGISTRY.sessions_open[self.door].fetch_sub(1, Ordering::Relaxed);
    }
}

/// Times one delivery into the ingest histogram.
pub fn ingest_timer() -> Timer {
    REGISTRY.ingest.start()
}

/// Times one search into the search histogram.
pub fn search_timer() -> Timer {
    REGISTRY.search.start()
}

/// A text exposition being written: each family's `# HELP` and `# TYPE`, then its samples.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

/// A sample's labels, as (name, value) pairs.
pub type Labels<'a> = &'a [(&'a str, &'a str)];

impl Exposition {
    pub fn counter(&mut self, name: &str, help: &str, samples: &[(Labels<'_>, u64)]) {
        self.family(name, help, "counter");
        for (labels, v) in samples {
            self.sample(name, labels, &v.to_string());
        }
    }

    pub fn gauge(&mut self, name: &str, help: &str, samples: &[(Labels<'_>, i64)]) {
        self.family(name, help, "gauge");
        for (labels, v) in samples {
            self.sample(name, labels, &v.to_string());
        }
    }

    pub fn histogram(&mut self, name: &str, help: &str, h: &Histogram) {
        self.family(name, help, "histogram");
        let (cumulative, sum, count) = h.snapshot();
        let bucket = format!("{name}_bucket");
        for (le, n) in LATENCY_BUCKETS.iter().zip(&cumulative) {
            self.sample(&bucket, &[("le", &le.to_string())], &n.to_string());
        }
        self.sample(&bucket, &[("le", "+Inf")], &count.to_string());
        self.sample(&format!("{name}_sum"), &[], &sum.to_string());
        self.sample(&format!("{name}_count"), &[], &count.to_string());
    }

    /// The in-process families: sessions and latencies.
    pub fn process(&mut self) {
        let r = registry();
        let doors = [[("door", "smtp")], [("door", "lmtp")]];
        let open: Vec<(Labels<'_>, i64)> = doors.iter().zip(&r.sessions_open).map(|(l, n)| (&l[..], n.load(Ordering::Relaxed))).collect();
        self.gauge("docket_smtp_sessions_open", "SMTP and LMTP sessions open now in this process.", &open);
        let total: Vec<(Labels<'_>, u64)> = doors.iter().zip(&r.sessions_total).map(|(l, n)| (&l[..], n.load(Ordering::Relaxed))).collect();
        self.counter("docket_smtp_sessions_total", "SMTP and LMTP sessions opened since this process started.", &total);
        self.histogram(
            "docket_ingest_duration_seconds",
            "Time from a message's arrival (end of DATA, or the pipe) to its durable commit and answer.",
            &r.ingest,
        );
        self.histogram("docket_search_duration_seconds", "Time to answer one search query (index and store).", &r.search);
    }

    pub fn finish(self) -> String {
        self.out
    }

    fn family(&mut self, name: &str, help: &str, kind: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: Labels<'_>, value: &str) {
        self.out.push_str(name);
        if !labels.is_empty() {
            let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect();
            let _ = write!(self.out, "{{{}}}", parts.join(","));
        }
        let _ = writeln!(self.out, " {value}");
    }
}

/// A label value as the format writes it: backslash, double quote and newline escaped.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_in_the_count() {
        let h = Histogram::new();
        for s in [0.0005, 0.003, 0.003, 20.0] {
            h.observe(s);
        }
        let (cumulative, sum, count) = h.snapshot();
        assert_eq!(cumulative[0], 1);
        assert_eq!(cumulative[2], 3);
        assert_eq!(*cumulative.last().unwrap(), 3, "20 s is only in +Inf");
        assert_eq!(count, 4);
        assert!((sum - 20.0065).abs() < 1e-6, "{sum}");
    }

    #[test]
    fn exposition_writes_help_type_and_escaped_labels() {
        let mut e = Exposition::default();
        e.gauge("x_now", "Now.\nReally", &[(&[("reason", "a\"b\\c")], 2)]);
        let h = Histogram::new();
        h.observe(0.002);
        e.histogram("lat_seconds", "Latency.", &h);
        let text = e.finish();
        assert!(text.starts_with("# HELP x_now Now.\\nReally\n# TYPE x_now gauge\nx_now{reason=\"a\\\"b\\\\c\"} 2\n"), "{text}");
        assert!(text.contains("lat_seconds_bucket{le=\"0.001\"} 0\nlat_seconds_bucket{le=\"0.0025\"} 1\n"), "{text}");
        assert!(text.contains("lat_seconds_bucket{le=\"+Inf\"} 1\nlat_seconds_sum 0.002\nlat_seconds_count 1\n"), "{text}");
    }

    #[test]
    fn sessions_count_open_and_total() {
        let before = REGISTRY.sessions_total[1].load(Ordering::Relaxed);
        let guard = session(true);
        assert!(REGISTRY.sessions_open[1].load(Ordering::Relaxed) >= 1);
        drop(guard);
        assert!(REGISTRY.sessions_total[1].load(Ordering::Relaxed) > before);
    }
}
