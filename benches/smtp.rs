//! SMTP load benchmark: `cargo bench --bench smtp` starts `docket serve` on 127.0.0.1 and sends it
//! SMTP_BENCH_MESSAGES (default 20,000) messages of 4–40 KB over 50 concurrent one-message sessions,
//! then prints accepted messages/s, p50/p99 time to 250, peak memory, the exactly-once check against
//! the database, memory at 500 idle connections, and Postfix `smtp-source` runs
//! (SMTP_BENCH_ANCHOR_MESSAGES, default 5,000, 8 KB each) against docket and two anchors: aiosmtpd
//! writing and fsyncing each message, and Postfix `smtp-sink`, which keeps nothing. Ratios divide
//! only runs of the same client, count and size (the smtp-source runs); the 4–40 KB figure stands
//! alone. Missing anchors are skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

const CONCURRENCY: usize = 50;
const IDLE_CONNECTIONS: usize = 500;
const SENDER: &str = "sender@example.org";
const RCPT: &str = "load@bench.test";
/// Filler lines are 76 characters and CRLF.
const LINE: usize = 78;
const SMTP_SOURCE: &str = "/usr/sbin/smtp-source";
const SMTP_SINK: &str = "/usr/sbin/smtp-sink";
const AIOSMTPD_SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/tools/aiosmtpd_fsync_sink.py");

fn env_count(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn lcg(s: u64) -> u64 {
    s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407)
}

/// A field of /proc/PID/status (VmRSS, VmHWM) in KiB.
fn proc_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':')?.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

fn sigterm(child: &Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
}

/// Waits for `child` to exit, killing it after `limit`; returns whether it exited by itself.
fn wait_exit(child: &mut Child, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_listening(port: u16) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A child process that is killed if the bench ends early.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `docket serve` on an ephemeral port with its own data dir, space `load` and member SENDER.
struct Server {
    proc: Guard,
    port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    fn docket(dir: &Path) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_docket"));
        c.current_dir(dir)
            .env("RUST_LOG", "warn")
            .env("DOCKET__SERVER__DATA_DIR", dir)
            .env("DOCKET__SERVER__DOMAIN", "bench.test")
            .env("DOCKET__SMTP__LISTEN", "127.0.0.1:0")
            .env("DOCKET__SMTP__MAX_CONNECTIONS", "1000")
            .env("DOCKET__SMTP__MAX_MESSAGE_BYTES", "1048576")
            .env("DOCKET__SECURITY__PER_SENDER_PER_HOUR", "100000000")
            .env("DOCKET__SECURITY__DMARC", "false"); // measures docket, not DNS
        c
    }

    fn start() -> Server {
        Self::start_with(&[])
    }

    /// The server with `env` on top of the bench settings.
    fn start_with(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        for args in [&["space", "add", "load"][..], &["member", "add", SENDER, "--space", "load"]] {
            let out = Self::docket(dir.path()).args(args).output().unwrap();
            assert!(out.status.success(), "docket {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let mut child = Self::docket(dir.path()).envs(env.iter().copied()).arg("serve").stdout(Stdio::piped()).stderr(log).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps draining stdout so the server never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("smtp listening on ") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let proc = Guard(child);
        let addr = rx.recv_timeout(Duration::from_secs(60)).expect("docket serve did not say where it listens");
        Server { proc, port: addr.rsplit(':').next().unwrap().parse().unwrap(), dir }
    }

    fn kib(&self, key: &str) -> u64 {
        proc_kib(self.proc.0.id(), key)
    }

    /// SIGTERM and wait: the server finishes sessions in flight and flushes its queues first.
    fn stop(&mut self) -> f64 {
        let start = Instant::now();
        sigterm(&self.proc.0);
        if !wait_exit(&mut self.proc.0, Duration::from_secs(120)) {
            println!("  docket serve did not stop within 120 s after SIGTERM; killed");
        }
        start.elapsed().as_secs_f64()
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n    ")
    }
}

/// Deterministic text lines (76 characters + CRLF), none starting with '.'.
fn filler(lines: usize) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "decision", "agreed", "ship", "Friday", "review", "the", "draft", "budget", "owner", "next", "week", "please", "thanks", "notes",
        "from", "meeting",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d;
    let mut out = Vec::with_capacity(lines * LINE);
    for _ in 0..lines {
        let mut line = String::new();
        while line.len() < 76 {
            state = lcg(state);
            line.push_str(WORDS[(state >> 33) as usize % WORDS.len()]);
            line.push(' ');
        }
        line.truncate(76);
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn dedup_key(i: usize) -> String {
    format!("mid:load.{i}@example.org")
}

/// Message `i`: its own Message-ID, From the member, 4–40 KB (a deterministic spread), CRLF lines.
fn message(i: usize, filler: &[u8]) -> Vec<u8> {
    let size = 4 * 1024 + (lcg(i as u64 ^ 0x9e37_79b9) >> 33) as usize % (36 * 1024 + 1);
    let date = chrono::DateTime::from_timestamp(1_793_000_000 + i as i64, 0).unwrap().to_rfc2822();
    let head = format!(
        "From: Sender <{SENDER}>\r\nTo: {RCPT}\r\nSubject: load topic {}\r\nDate: {date}\r\nMessage-ID: <load.{i}@example.org>\r\n\r\n",
        i % 500
    );
    let start = (i % 64) * LINE;
    let lines = size.saturating_sub(head.len()) / LINE;
    let mut m = head.into_bytes();
    m.extend_from_slice(&filler[start..start + lines * LINE]);
    m
}

/// One SMTP client connection that reads whole replies (multi-line ones end with "NNN ").
struct Conn {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Conn {
    async fn open(port: u16) -> std::io::Result<(Conn, String)> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        let (r, w) = stream.into_split();
        let mut c = Conn { read: BufReader::new(r), write: w };
        let greeting = c.reply().await?;
        Ok((c, greeting))
    }

    /// The last line of the next reply.
    async fn reply(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        loop {
            line.clear();
            let n = tokio::time::timeout(Duration::from_secs(120), self.read.read_line(&mut line))
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply within 120 s"))??;
            if n == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(line.trim_end().to_string());
            }
        }
    }

    async fn cmd(&mut self, line: &str) -> std::io::Result<String> {
        self.write.write_all(format!("{line}\r\n").as_bytes()).await?;
        self.reply().await
    }
}

/// One session, like smtp-source: Ok(time from ".") on 250, Err(reply) on a refusal.
async fn send_one(port: u16, msg: &[u8]) -> std::io::Result<Result<Duration, String>> {
    let (mut c, greeting) = Conn::open(port).await?;
    if !greeting.starts_with("220") {
        return Ok(Err(greeting));
    }
    let steps = [
        ("EHLO client.example.org".to_string(), "250"),
        (format!("MAIL FROM:<{SENDER}>"), "250"),
        (format!("RCPT TO:<{RCPT}>"), "250"),
        ("DATA".to_string(), "354"),
    ];
    for (line, want) in steps {
        let r = c.cmd(&line).await?;
        if !r.starts_with(want) {
            return Ok(Err(r));
        }
    }
    c.write.write_all(msg).await?;
    let start = Instant::now();
    c.write.write_all(b".\r\n").await?;
    let r = c.reply().await?;
    let took = start.elapsed();
    let _ = c.cmd("QUIT").await;
    Ok(if r.starts_with("250") { Ok(took) } else { Err(r) })
}

#[derive(Default)]
struct Load {
    accepted: Vec<usize>,
    latencies: Vec<Duration>,
    bytes: u64,
    refused: Vec<String>,
    failed: Vec<String>,
}

async fn load(port: u16, n: usize, filler: Arc<Vec<u8>>) -> (Load, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (next, filler) = (next.clone(), filler.clone());
            tokio::spawn(async move {
                let mut mine = Load::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return mine;
                    }
                    let msg = message(i, &filler);
                    match send_one(port, &msg).await {
                        Ok(Ok(took)) => {
                            mine.accepted.push(i);
                            mine.latencies.push(took);
                            mine.bytes += msg.len() as u64;
                        }
                        Ok(Err(reply)) => mine.refused.push(reply),
                        Err(e) => mine.failed.push(format!("message {i}: {e}")),
                    }
                }
            })
        })
        .collect();
    let mut all = Load::default();
    for w in workers {
        let mine = w.await.unwrap();
        all.accepted.extend(mine.accepted);
        all.latencies.extend(mine.latencies);
        all.bytes += mine.bytes;
        all.refused.extend(mine.refused);
        all.failed.extend(mine.failed);
    }
    (all, start.elapsed().as_secs_f64())
}

fn ms_at(sorted: &[Duration], q: f64) -> f64 {
    sorted.get(((sorted.len().saturating_sub(1)) as f64 * q).round() as usize).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

fn first_distinct(items: &[String], n: usize) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for s in items {
        if seen.len() < n && !seen.contains(&s.as_str()) {
            seen.push(s);
        }
    }
    seen.join(" | ")
}

async fn open_db(dir: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", dir.join("docket.db").display())).await.unwrap()
}

/// Every accepted message is in `inbound` exactly once, nothing else is; and how many were threaded.
async fn check_stored(dir: &Path, accepted: &[usize]) {
    let db = open_db(dir).await;
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT dedup_key, COUNT(*) FROM inbound GROUP BY dedup_key").fetch_all(&db).await.unwrap();
    let (total, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT dedup_key) FROM inbound").fetch_one(&db).await.unwrap();
    let (threaded,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT inbound_id) FROM messages").fetch_one(&db).await.unwrap();
    let states: Vec<(String, i64)> = sqlx::query_as("SELECT state, COUNT(*) FROM inbound GROUP BY state").fetch_all(&db).await.unwrap();
    let stored: HashMap<String, i64> = rows.into_iter().collect();
    let wanted: HashSet<String> = accepted.iter().map(|&i| dedup_key(i)).collect();
    let missing = wanted.iter().filter(|k| !stored.contains_key(*k)).count();
    let repeated = stored.values().filter(|&&c| c > 1).count();
    let unasked = stored.keys().filter(|k| !wanted.contains(*k)).count();
    let ok = total == accepted.len() as i64 && distinct == total && missing == 0 && repeated == 0 && unasked == 0;
    let states: Vec<String> = states.iter().map(|(s, n)| format!("{s} {n}")).collect();
    println!(
        "exactly once: {} — {total} inbound rows, {distinct} distinct, {} accepted; {missing} accepted but missing, \
         {repeated} stored twice or more, {unasked} stored without a 250; {threaded} threaded into messages; states: {}",
        if ok { "OK" } else { "MISMATCH" },
        accepted.len(),
        states.join(", ")
    );
}

/// Opens IDLE_CONNECTIONS sessions (220 + EHLO) and holds them; the server's RSS before and with them.
async fn idle_memory(server: &Server) {
    let before = server.kib("VmRSS");
    let mut held = Vec::with_capacity(IDLE_CONNECTIONS);
    let mut refused = Vec::new();
    for _ in 0..IDLE_CONNECTIONS {
        match Conn::open(server.port).await {
            Ok((mut c, g)) if g.starts_with("220") => match c.cmd("EHLO idle.example.org").await {
                Ok(r) if r.starts_with("250") => held.push(c),
                Ok(r) => refused.push(r),
                Err(e) => refused.push(e.to_string()),
            },
            Ok((_, g)) => refused.push(g),
            Err(e) => refused.push(e.to_string()),
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with = server.kib("VmRSS");
    let per = with.saturating_sub(before) as f64 / held.len().max(1) as f64;
    println!(
        "idle: {} connections held (220 + EHLO), {} refused{}; server RSS {:.1} MiB (before {:.1} MiB, {per:.1} KiB per connection); \
         target < 200 MB: {}",
        held.len(),
        refused.len(),
        if refused.is_empty() { String::new() } else { format!(" ({})", first_distinct(&refused, 2)) },
        with as f64 / 1024.0,
        before as f64 / 1024.0,
        if (with as f64) * 1024.0 < 200e6 { "met" } else { "NOT met" }
    );
}

/// `smtp-source -s 50 -l 8192` with `m` messages, one per session; messages/s.
fn smtp_source(port: u16, m: usize) -> Result<f64, String> {
    let start = Instant::now();
    let out = Command::new(SMTP_SOURCE)
        .args(["-s", "50", "-m", &m.to_string(), "-l", "8192", "-f", SENDER, "-t", RCPT, &format!("127.0.0.1:{port}")])
        .output()
        .map_err(|e| format!("cannot run {SMTP_SOURCE}: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || !err.trim().is_empty() {
        return Err(format!("smtp-source {}: {}", out.status, err.lines().take(3).collect::<Vec<_>>().join(" | ")));
    }
    Ok(m as f64 / secs)
}

/// aiosmtpd writing and fsyncing each message before 250, driven by smtp-source.
fn aiosmtpd_anchor(m: usize) -> Result<f64, String> {
    if !Path::new(AIOSMTPD_SINK).exists() {
        return Err(format!("{AIOSMTPD_SINK} not found"));
    }
    let have = Command::new("python3").args(["-c", "import aiosmtpd"]).status().map(|s| s.success()).unwrap_or(false);
    if !have {
        return Err("python3 module aiosmtpd not installed (pip install aiosmtpd)".into());
    }
    let (port, dir) = (free_port(), tempfile::tempdir().unwrap());
    let child = Command::new("python3")
        .args([AIOSMTPD_SINK, &port.to_string(), &dir.path().display().to_string(), "600", "fsync"])
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut sink = Guard(child);
    if !wait_listening(port) {
        return Err("aiosmtpd did not start listening".into());
    }
    let rate = smtp_source(port, m);
    sigterm(&sink.0);
    wait_exit(&mut sink.0, Duration::from_secs(30));
    let mut said = String::new();
    if let Some(mut e) = sink.0.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut said);
    }
    println!("  aiosmtpd says: {}", said.trim());
    rate
}

/// Postfix smtp-sink (throws every message away), driven by smtp-source.
fn smtp_sink_anchor(m: usize) -> Result<f64, String> {
    if !Path::new(SMTP_SINK).exists() {
        return Err(format!("{SMTP_SINK} not found (Debian package postfix)"));
    }
    let port = free_port();
    let child = Command::new(SMTP_SINK)
        .args(["-u", "nobody", "-m", "1000", &format!("127.0.0.1:{port}"), "1000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let _sink = Guard(child);
    if !wait_listening(port) {
        return Err("smtp-sink did not start listening".into());
    }
    smtp_source(port, m)
}

fn show(label: &str, r: &Result<f64, String>) {
    match r {
        Ok(rate) => println!("{label}: {rate:.0} msg/s"),
        Err(why) => println!("{label}: skipped ({why})"),
    }
}

fn ratio(a: &Result<f64, String>, b: &Result<f64, String>) -> String {
    match (a, b) {
        (Ok(a), Ok(b)) => format!("{:.2}", a / b),
        _ => "n/a".into(),
    }
}

/// Issue 11: BIG_SESSIONS concurrent sessions each sending a BIG_MESSAGE_MIB message, against the
/// default `smtp.memory_budget` (512 MiB): the server's peak RSS, and how many got 250 / 452.
async fn big_data(server: &Server) {
    const BIG_SESSIONS: usize = 20;
    const BIG_MESSAGE_MIB: usize = 40;
    let before = server.kib("VmHWM");
    let body = Arc::new(filler(BIG_MESSAGE_MIB * 1024 * 1024 / LINE));
    let sends: Vec<_> = (0..BIG_SESSIONS)
        .map(|i| {
            let head = format!("From: Sender <{SENDER}>\r\nTo: {RCPT}\r\nSubject: big {i}\r\nMessage-ID: <big{i}@example.org>\r\n\r\n");
            let mut m = head.into_bytes();
            m.extend_from_slice(&body);
            let port = server.port;
            tokio::spawn(async move { send_one(port, &m).await })
        })
        .collect();
    let (mut stored, mut full, mut other) = (0, 0, Vec::new());
    for send in sends {
        match send.await.unwrap() {
            Ok(Ok(_)) => stored += 1,
            Ok(Err(r)) if r.starts_with("452 4.3.1") => full += 1,
            Ok(Err(r)) => other.push(r),
            Err(e) => other.push(e.to_string()),
        }
    }
    let peak = server.kib("VmHWM");
    println!(
        "big DATA: {BIG_SESSIONS} concurrent sessions × {BIG_MESSAGE_MIB} MiB, memory_budget 512 MiB: {stored} stored (250), \
         {full} told 452 4.3.1, {} other ({}); server peak RSS {:.1} MiB (before {:.1} MiB); under 512 MiB: {}",
        other.len(),
        first_distinct(&other, 2),
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
        if peak < 512 * 1024 { "yes" } else { "NO" }
    );
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // 0: big concurrent DATA against the memory budget (SMTP_BENCH_ONLY=big runs only this).
    let mut big = Server::start_with(&[("DOCKET__SMTP__MAX_MESSAGE_BYTES", "52428800")]);
    rt.block_on(big_data(&big));
    big.stop();
    drop(big);
    if std::env::var("SMTP_BENCH_ONLY").is_ok_and(|v| v == "big") {
        return;
    }
    let n = env_count("SMTP_BENCH_MESSAGES", 20_000);
    let m = env_count("SMTP_BENCH_ANCHOR_MESSAGES", 5_000);
    let filler = Arc::new(filler(41 * 1024 / LINE + 64));

    // 1–3: docket under our own generator, then the exactly-once check after a graceful stop.
    let mut server = Server::start();
    let (run, secs) = rt.block_on(load(server.port, n, filler));
    let peak = server.kib("VmHWM");
    let stop_secs = server.stop();
    let mut lat = run.latencies.clone();
    lat.sort();
    let own = if run.accepted.is_empty() { Err("nothing accepted".to_string()) } else { Ok(run.accepted.len() as f64 / secs) };
    println!(
        "smtp load: {n} sent over {CONCURRENCY} connections, {} accepted (250), {} refused, {} failed, {secs:.1} s, {:.0} msg/s, \
         {:.1} MB/s; time to 250 p50 {:.1} ms p99 {:.1} ms; server peak RSS {:.1} MiB; graceful stop {stop_secs:.1} s",
        run.accepted.len(),
        run.refused.len(),
        run.failed.len(),
        own.as_ref().unwrap_or(&0.0),
        run.bytes as f64 / 1e6 / secs,
        ms_at(&lat, 0.5),
        ms_at(&lat, 0.99),
        peak as f64 / 1024.0,
    );
    if !run.refused.is_empty() || !run.failed.is_empty() {
        println!("  first refusals: {}", first_distinct(&run.refused, 3));
        println!("  first failures: {}", first_distinct(&run.failed, 3));
        println!("  server log tail:\n    {}", server.log_tail());
    }
    println!(
        "target >= 1500 msg/s durable (4–40 KB messages): {}",
        if own.as_ref().is_ok_and(|r| *r >= 1500.0) { "met" } else { "NOT met" }
    );
    rt.block_on(check_stored(server.dir.path(), &run.accepted));
    drop(server);

    // 4: memory at 500 idle connections, on a fresh server; 5: the same server under smtp-source.
    let mut server = Server::start();
    rt.block_on(idle_memory(&server));
    std::thread::sleep(Duration::from_millis(500));
    let docket_src = if Path::new(SMTP_SOURCE).exists() {
        smtp_source(server.port, m)
    } else {
        Err(format!("{SMTP_SOURCE} not found (Debian package postfix)"))
    };
    server.stop();
    show(&format!("smtp-source -s 50 -m {m} -l 8192 → docket"), &docket_src);
    if docket_src.is_ok() {
        let counts: (i64, i64) = rt.block_on(async {
            let db = open_db(server.dir.path()).await;
            sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT dedup_key) FROM inbound").fetch_one(&db).await.unwrap()
        });
        println!("  docket stored {} rows ({} distinct) of {m} sent", counts.0, counts.1);
    }
    drop(server);
    let aio = aiosmtpd_anchor(m);
    show(&format!("smtp-source -s 50 -m {m} -l 8192 → aiosmtpd (write + fsync)"), &aio);
    let sink = smtp_sink_anchor(m);
    show(&format!("smtp-source -s 50 -m {m} -l 8192 → smtp-sink (keeps nothing)"), &sink);
    // Like with like only: the three runs above are the same client (smtp-source), the same
    // message count and the same 8 KB messages. docket's own load (4–40 KB, above) has no anchor
    // run of that shape, so it is not divided by one.
    println!(
        "ratios (smtp-source -s 50 -m {m} -l 8192 for all three): docket / aiosmtpd {}; docket / smtp-sink {}",
        ratio(&docket_src, &aio),
        ratio(&docket_src, &sink)
    );
}
