//! Shared test scaffolding: an `App` per backend (SQLite in a temp dir always; PostgreSQL in a fresh
//! schema when `DATABASE_URL` points at one), a fake clock, message builders and the golden runner.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod cluster;
pub mod golden;
pub mod http;
pub mod process;
pub mod sink;
pub mod skip;

use chrono::{DateTime, TimeZone, Utc};
use docket::app::App;
use docket::clock::FakeClock;
use docket::config::Config;
use docket::ingest::{self, Envelope, InboundMessage, Outcome, Source};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct TestApp {
    pub app: App,
    pub clock: Arc<FakeClock>,
    pub backend: &'static str,
    pub dir: tempfile::TempDir,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

/// One app per available backend, each on an empty database.
pub async fn backends() -> Vec<TestApp> {
    let mut out = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        out.push(pg);
    }
    out
}

pub async fn sqlite() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::defaults_in(dir.path()).unwrap();
    open(config, dir, "sqlite").await
}

/// A fresh schema in the database `DATABASE_URL` names, or none when it is not PostgreSQL.
pub async fn postgres() -> Option<TestApp> {
    let url = std::env::var("DATABASE_URL").ok().filter(|u| u.starts_with("postgres"))?;
    static N: AtomicU64 = AtomicU64::new(0);
    let schema = format!("t{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.expect("DATABASE_URL is set but PostgreSQL is not reachable");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&pool).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&pool).await.unwrap();
    pool.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let dir = tempfile::tempdir().unwrap();
    let env = HashMap::from([
        ("DOCKET__SERVER__DATA_DIR".to_string(), dir.path().display().to_string()),
        ("DOCKET__DATABASE__URL".to_string(), scoped),
    ]);
    let config = Config::load_with_env(None, env).unwrap();
    Some(open(config, dir, "postgres").await)
}

/// Spaces in tests take mail from anyone, so that threading and tag tests need no member lists;
/// the sender policy's own tests (tests/serve.rs, tests/cli.rs) set `members` back. The sender
/// verifier never asks DNS: a name not put in its cache has no record (so DMARC, on by default,
/// finds no policy for the test domains). Nudge receipts are off (`notify.nudges`), so tests count
/// only the mail they are about; tests/nudges.rs turns them on.
async fn open(mut config: Config, dir: tempfile::TempDir, backend: &'static str) -> TestApp {
    config.security.accept_from = docket::config::AcceptFrom::Anyone;
    config.notify.nudges = false;
    config.http.listen = ([127, 0, 0, 1], 0).into();
    let clock = Arc::new(FakeClock::new(t0()));
    let app = App::open_with_clock(config, clock.clone()).await.unwrap();
    let app = App { dkim: Arc::new(docket::ingest::auth::Dkim::offline()), ..app };
    TestApp { app, clock, backend, dir }
}

impl TestApp {
    /// Creates a space (and returns its slug).
    pub async fn space(&self, slug: &str) -> String {
        self.app.store.add_space(slug, slug, t0().timestamp()).await.unwrap();
        slug.to_string()
    }

    pub async fn ingest(&self, raw: &[u8], space: &str) -> Outcome {
        self.try_ingest(raw, space).await.unwrap_or_else(|e| panic!("[{}] ingest failed: {e}", self.backend))
    }

    pub async fn try_ingest(&self, raw: &[u8], space: &str) -> Result<Outcome, ingest::IngestError> {
        let msg = InboundMessage { raw: raw.to_vec(), envelope: Envelope::default(), source: Source::Pipe };
        ingest::accept(&self.app, msg, Some(space)).await
    }

    /// Thread id of a stored message (panics on a duplicate).
    pub async fn thread_of(&self, raw: &[u8], space: &str) -> i64 {
        match self.ingest(raw, space).await {
            Outcome::Stored(m) => m.thread_id,
            other => panic!("[{}] expected a stored message, got {other:?}", self.backend),
        }
    }
}

/// A small RFC 5322 message.
pub struct Mail {
    pub from: String,
    pub subject: String,
    pub id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub date: String,
    pub body: String,
    pub extra: Vec<String>,
}

impl Mail {
    pub fn new(id: &str, subject: &str) -> Self {
        Mail {
            from: "Alice <alice@example.org>".into(),
            subject: subject.into(),
            id: Some(id.into()),
            in_reply_to: None,
            references: Vec::new(),
            date: "Tue, 24 Nov 2026 08:00:00 +0000".into(),
            body: "Hello team.\n".into(),
            extra: Vec::new(),
        }
    }

    pub fn reply_to(mut self, parent: &str) -> Self {
        self.in_reply_to = Some(parent.into());
        self.references.push(parent.into());
        self
    }

    pub fn refs(mut self, refs: &[&str]) -> Self {
        self.references = refs.iter().map(|s| s.to_string()).collect();
        self.in_reply_to = refs.last().map(|s| s.to_string());
        self
    }

    pub fn from(mut self, from: &str) -> Self {
        self.from = from.into();
        self
    }

    pub fn date(mut self, date: &str) -> Self {
        self.date = date.into();
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }

    pub fn header(mut self, line: &str) -> Self {
        self.extra.push(line.into());
        self
    }

    pub fn no_id(mut self) -> Self {
        self.id = None;
        self
    }

    pub fn raw(&self) -> Vec<u8> {
        let mut s = format!("From: {}\r\nTo: team@docket.test\r\nSubject: {}\r\nDate: {}\r\n", self.from, self.subject, self.date);
        if let Some(id) = &self.id {
            s.push_str(&format!("Message-ID: <{id}>\r\n"));
        }
        if let Some(p) = &self.in_reply_to {
            s.push_str(&format!("In-Reply-To: <{p}>\r\n"));
        }
        if !self.references.is_empty() {
            let refs: Vec<String> = self.references.iter().map(|r| format!("<{r}>")).collect();
            s.push_str(&format!("References: {}\r\n", refs.join(" ")));
        }
        for h in &self.extra {
            s.push_str(h);
            s.push_str("\r\n");
        }
        s.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
        s.push_str(&self.body.replace('\n', "\r\n"));
        s.into_bytes()
    }
}

/// A mailer that records what it is given, with the (fake) time of sending.
#[derive(Debug, Default)]
pub struct Recorder {
    pub sent: std::sync::Mutex<Vec<Sent>>,
    pub clock: std::sync::Mutex<Option<Arc<FakeClock>>>,
}

#[derive(Debug, Clone)]
pub struct Sent {
    pub to: String,
    pub raw: String,
    pub at: DateTime<Utc>,
}

impl Sent {
    /// The value of a header (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        let mut out: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = out.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if out.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                out = Some(v.trim().to_string());
            }
        }
        out
    }

    pub fn subject(&self) -> String {
        docket::parse::mime::parse(self.raw.as_bytes()).subject
    }

    pub fn kind(&self) -> String {
        self.header("X-Docket-Kind").unwrap_or_else(|| "fanout".into())
    }
}

impl Recorder {
    pub fn new(clock: Arc<FakeClock>) -> Arc<Recorder> {
        Arc::new(Recorder { sent: Default::default(), clock: std::sync::Mutex::new(Some(clock)) })
    }

    pub fn all(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }

    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }
}

impl docket::notify::mailer::Mailer for Recorder {
    fn send<'a>(&'a self, envelope: &'a docket::notify::mailer::Envelope, raw: &'a [u8]) -> docket::notify::mailer::SendFuture<'a> {
        use docket::clock::Clock;
        let at = self.clock.lock().unwrap().as_ref().map(|c| c.now()).unwrap_or_default();
        self.sent.lock().unwrap().push(Sent { to: envelope.to.clone(), raw: String::from_utf8_lossy(raw).into_owned(), at });
        Box::pin(async { Ok(()) })
    }

    fn describe(&self) -> String {
        "recorder".into()
    }
}

impl TestApp {
    /// Sends through a recorder from now on.
    pub fn record(&mut self) -> Arc<Recorder> {
        let r = Recorder::new(self.clock.clone());
        self.app = self.app.clone().with_mailer(r.clone());
        r
    }

    pub async fn member(&self, space: &str, email: &str, settings: docket::space::MemberSettings) {
        let s = self.app.store.require_space(space).await.unwrap();
        let handle = settings.handle.clone().unwrap_or_else(|| docket::space::default_handle(email));
        self.app.store.add_member(&s, email, &handle, &settings, self.clock_now()).await.unwrap();
    }

    pub fn clock_now(&self) -> i64 {
        use docket::clock::Clock;
        self.clock.now().timestamp()
    }

    pub async fn tick(&self) -> docket::tick::TickReport {
        use docket::clock::Clock;
        docket::tick::tick(&self.app, self.clock.now()).await.unwrap_or_else(|e| panic!("[{}] tick failed: {e}", self.backend))
    }
}
