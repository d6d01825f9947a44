//! Web speed benchmark: `cargo bench --bench web` imports the archive corpus
//! (../shared/corpus/mail/*.mbox, when present; without it, saying so, only synthetic mail) and synthetic
//! messages (`DOCKET_BENCH_MESSAGES`, default 100,000, in threads of 50 with a decision in every
//! tenth message) into one space on SQLite, serves the real router on 127.0.0.1:0, and drives it
//! from 50 concurrent keep-alive connections (a load generator in this process, HTTP/1.1 over
//! TCP) for a few seconds per route: the stylesheet (a static file through the same axum stack:
//! the ceiling), a 50-message thread `/t/ID`, `/decisions` and `/search?q=`. Prints p50/p99
//! latency and requests per second per route. On 2 cores the generator and the server share the
//! machine: the figures are a floor, compared with the static-file ceiling of the same run.
//! `DOCKET_BENCH_ROUTES=thread,decisions` runs only the named routes (css, thread, decisions, search).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use docket::app::App;
use docket::config::Config;
use docket::ingest::import::{ImportOptions, import};
use docket::space::MemberSettings;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENTS: usize = 50;
const RUN: Duration = Duration::from_secs(4);
const THREAD_LEN: usize = 50;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mail");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "mbox")).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// An mbox of `n` messages in threads of [`THREAD_LEN`]; every tenth records a decision.
fn synthetic(path: &std::path::Path, n: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let words = ["release", "budget", "offsite", "schema", "cache", "rollout", "pager", "venue", "review", "migration"];
    for i in 0..n {
        let thread = i / THREAD_LEN;
        let topic = words[thread % words.len()];
        let (subject, parent) = if i % THREAD_LEN == 0 {
            (format!("Plan {thread} for the {topic}"), String::new())
        } else {
            (format!("Re: Plan {thread} for the {topic}"), format!("In-Reply-To: <m{}@bench.test>\n", i - 1))
        };
        let (day, minute) = (1 + (i / 1440) % 28, i % 1440);
        let decision = if i % 10 == 9 { format!("\n#decision Go with option {i} for the {topic}\n") } else { String::new() };
        write!(
            out,
            "From bench@bench.test Mon Nov  2 00:00:00 2026\nFrom: Writer {w} <w{w}@bench.test>\nTo: eng@docket.test\n\
             Subject: {subject}\nDate: {day:02} Nov 2026 {:02}:{:02}:00 +0000\nMessage-ID: <m{i}@bench.test>\n{parent}\n\
             Message {i} about the {topic}: we looked at the numbers again and the {topic} needs one more pass.\n\
             Who can take it this week?\n{decision}\n",
            minute / 60,
            minute % 60,
            w = i % 37,
        )
        .unwrap();
    }
    out.flush().unwrap();
}

/// GETs `path` over one keep-alive connection until `until`; returns each answer's latency and
/// status.
async fn client(addr: String, path: String, cookie: String, until: Instant) -> Vec<(Duration, u16)> {
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n");
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut out = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        stream.write_all(request.as_bytes()).await.unwrap();
        buf.clear();
        // Headers, then a body of Content-Length bytes.
        let (head_end, length, status) = loop {
            let mut chunk = [0u8; 16 * 1024];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).expect("an HTTP/1.1 status line");
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
                    .expect("a content-length");
                break (end + 4, length, status);
            }
        };
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 64 * 1024];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
        }
        out.push((started.elapsed(), status));
    }
    out
}

async fn load(addr: &str, path: &str, cookie: &str) {
    let until = Instant::now() + RUN;
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS).map(|_| tokio::spawn(client(addr.to_string(), path.to_string(), cookie.to_string(), until))).collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    let failed = all.iter().filter(|(_, status)| *status != 200).count();
    let mut times: Vec<Duration> = all.iter().map(|(t, _)| *t).collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{path:<40} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} requests, {failed} not 200, {CLIENTS} clients)",
        all.len() as f64 / secs,
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        all.len()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let files = corpus();
    if files.is_empty() {
        println!("no archive corpus at ../shared/corpus/mail: synthetic messages only");
    }
    let n: usize = std::env::var("DOCKET_BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults_in(dir.path()).unwrap();
    config.security.accept_from = docket::config::AcceptFrom::Anyone;
    let app = App::open(config).await.unwrap();
    let eng = app.store.add_space("eng", "Engineering", 0).await.unwrap();
    app.store.add_member(&eng, "alice@example.org", "alice", &MemberSettings::default(), 0).await.unwrap();
    let mbox = dir.path().join("synthetic.mbox");
    synthetic(&mbox, n);
    let opts = ImportOptions { space: Some("eng".into()), progress: false };
    let started = Instant::now();
    let mut paths = files.clone();
    paths.push(mbox);
    let report = import(&app, &paths, &opts).await.unwrap();
    app.index.catch_up(&app.store, app.now().timestamp()).await.unwrap();
    println!(
        "setup: {} messages stored ({} archive files + {n} synthetic) in {:.1} s",
        report.stored,
        files.len(),
        started.elapsed().as_secs_f64()
    );
    let threads = app.store.threads(Some("eng"), Some(200), 3).await.unwrap();
    let thread = threads.iter().max_by_key(|t| t.message_count).unwrap();
    println!("thread page: #{} with {} messages", thread.id, thread.message_count);

    let token = docket::web::viewer::new_token().unwrap();
    let now = app.now().timestamp();
    app.store.create_web_session(&docket::web::viewer::token_hash(&token), "alice@example.org", "csrf", now, now + 3600).await.unwrap();
    let cookie = format!("{}={token}", docket::web::viewer::SESSION_COOKIE);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let router = docket::web::router(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let only = std::env::var("DOCKET_BENCH_ROUTES").unwrap_or_default();
    let routes = [
        ("css", "/static/docket.css".to_string()),
        ("thread", format!("/t/{}", thread.id)),
        ("decisions", "/decisions".into()),
        ("search", "/search?q=migration".into()),
    ];
    for (name, path) in routes {
        if only.is_empty() || only.split(',').any(|r| r.trim() == name) {
            load(&addr, &path, &cookie).await;
        }
    }
}
