//! `docket serve`: the long-running process. Binds the SMTP door (`smtp.listen`, or the socket
//! systemd passes), the optional LMTP door, starts the intake workers and the scheduler, tells
//! the web door (`http.listen`), tells systemd READY, and on SIGTERM/SIGINT stops accepting, lets
//! sessions and requests in flight finish (bounded), flushes the queues and tells systemd STOPPING.

use crate::app::App;
use crate::ingest::budget::Budget;
use crate::ingest::intake::{Intake, Workers};
use crate::ingest::session::SessionConfig;
use crate::ingest::smtp::{self, Door, Listener, stopping};
use crate::ingest::{self, IngestError, Source, lmtp};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// How long sessions in flight may take to finish once a stop is asked for.
pub const GRACE: Duration = Duration::from_secs(30);
/// Most recipients per message (RFC 5321 §4.5.3.1.8 asks servers to take at least 100).
const MAX_RECIPIENTS: usize = 100;
/// How often the scheduler runs every planner (digests, reminders, proposals, loops).
const TICK_EVERY: Duration = Duration::from_secs(60);
/// How often the search index catches up with the database (new mail is searchable within ~0.5 s).
const INDEX_EVERY: Duration = Duration::from_millis(500);
/// How often it checks for new messages, due mail and commands to answer (cheap queries), so a
/// fan-out copy or a command reply leaves within about a second.
const POLL_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen for {door} on {addr}: {source} (is another server using it? set {key})")]
    Bind { door: &'static str, addr: String, key: &'static str, source: std::io::Error },
    #[error("cannot use the TLS certificate {path}: {detail} (check smtp.tls_cert and smtp.tls_key)")]
    Tls { path: PathBuf, detail: String },
    #[error("cannot finish deliveries logged before the last stop: {0}")]
    Recover(#[from] IngestError),
    #[error("cannot take back the outbound mail an earlier run was sending: {0}")]
    Reclaim(#[from] crate::store::StoreError),
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    /// Where the doors listen (`127.0.0.1:2525`, `unix:/run/docket/lmtp`).
    pub smtp: String,
    pub lmtp: Option<String>,
    /// Where the web door listens (`127.0.0.1:8080`).
    pub http: String,
    stop: watch::Sender<bool>,
    done: JoinHandle<()>,
    budget: Arc<Budget>,
}

impl Running {
    /// Bytes of `smtp.memory_budget` the sessions hold right now (what tests wait on instead of
    /// sleeping while the server reads).
    pub fn memory_in_use(&self) -> u64 {
        self.budget.used()
    }

    /// Stops accepting, waits up to `GRACE` for sessions in flight, flushes the queues.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }
}

/// Binds the doors and starts every worker; returns once mail can be accepted.
pub async fn start(app: App) -> Result<Running, ServeError> {
    let recovered = ingest::recover(&app).await?;
    if recovered > 0 {
        tracing::info!(count = recovered, "finished deliveries logged before the last stop");
    }
    let cfg = &app.config;
    let tls = match (&cfg.smtp.tls_cert, &cfg.smtp.tls_key) {
        (Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
        _ => None,
    };
    let mut passed = listenfd::ListenFd::from_env();
    let smtp_listener = match passed.take_tcp_listener(0) {
        Ok(Some(std)) => from_std(std).map_err(|source| bind_error("SMTP", "socket from systemd", "smtp.listen", source))?,
        _ => {
            let addr = cfg.smtp.listen;
            let l =
                tokio::net::TcpListener::bind(addr).await.map_err(|source| bind_error("SMTP", &addr.to_string(), "smtp.listen", source))?;
            Listener::Tcp(l)
        }
    };
    // A second socket from systemd (docket.socket's second Listen line) is the LMTP door.
    let passed_lmtp = match passed.take_unix_listener(1) {
        Ok(Some(l)) => Some(l.set_nonblocking(true).and_then(|()| tokio::net::UnixListener::from_std(l)).map(Listener::Unix)),
        _ => passed.take_tcp_listener(1).ok().flatten().map(from_std),
    };
    let lmtp_listener = match (passed_lmtp, &cfg.lmtp.listen) {
        (Some(l), _) => Some(l.map_err(|source| bind_error("LMTP", "socket from systemd", "lmtp.listen", source))?),
        (None, Some(spec)) => Some(lmtp::bind(spec).await.map_err(|source| bind_error("LMTP", spec, "lmtp.listen", source))?),
        (None, None) => None,
    };
    let http_listener = tokio::net::TcpListener::bind(cfg.http.listen)
        .await
        .map_err(|source| bind_error("HTTP", &cfg.http.listen.to_string(), "http.listen", source))?;
    let http_addr = http_listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| cfg.http.listen.to_string());
    // Only once the doors are ours: a second `serve` started by mistake on this host fails to
    // bind above and never takes back the claims of the one that is running.
    crate::notify::outbound::reclaim(&app).await?;
    let hostname = cfg.server.domain.clone();
    let session = |lmtp: bool, tls: bool| SessionConfig {
        hostname: hostname.clone(),
        max_message_bytes: cfg.smtp.max_message_bytes,
        max_recipients: MAX_RECIPIENTS,
        lmtp,
        tls_available: tls,
    };
    let (timeout, session_limit) = (cfg.smtp.timeout, cfg.smtp.session_timeout);
    let budget = Budget::new(crate::ingest::budget::for_sessions(cfg.smtp.memory_budget, cfg.smtp.max_message_bytes));
    let smtp_door =
        Door { session: session(false, tls.is_some()), source: Source::Smtp, timeout, session_limit, tls, budget: budget.clone() };
    let lmtp_door = Door { session: session(true, false), source: Source::Lmtp, timeout, session_limit, tls: None, budget: budget.clone() };

    let max = u32::try_from(cfg.smtp.max_connections).unwrap_or(u32::MAX).min(Semaphore::MAX_PERMITS as u32);
    let slots = Arc::new(Semaphore::new(max as usize));
    let (stop, stopped) = watch::channel(false);
    let (intake, workers) = Intake::start(app.clone());
    let smtp_addr = smtp_listener.describe();
    let lmtp_addr = lmtp_listener.as_ref().map(Listener::describe);
    let mut doors =
        vec![tokio::spawn(smtp::accept_loop(smtp_listener, Arc::new(smtp_door), intake.clone(), slots.clone(), stopped.clone()))];
    if let Some(l) = lmtp_listener {
        doors.push(tokio::spawn(smtp::accept_loop(l, Arc::new(lmtp_door), intake.clone(), slots.clone(), stopped.clone())));
    }
    let web = tokio::spawn(web_door(http_listener, app.clone(), stopped.clone()));
    let ticker = tokio::spawn(scheduler(app.clone(), stopped.clone()));
    let indexer = tokio::spawn(indexer(app.clone(), stopped.clone()));
    let done = tokio::spawn(shut_down(doors, vec![web, ticker, indexer], intake, workers, slots, max, stopped));
    tracing::info!(smtp = %smtp_addr, lmtp = ?lmtp_addr, http = %http_addr, "accepting mail");
    Ok(Running { smtp: smtp_addr, lmtp: lmtp_addr, http: http_addr, stop, done, budget })
}

/// `docket serve`: runs until SIGTERM or SIGINT.
pub async fn run(app: App) -> Result<(), ServeError> {
    // Handlers first: a SIGTERM that arrives as soon as we say we listen must stop us cleanly.
    let stop_signal = stop_signal();
    let running = start(app).await?;
    println!("smtp listening on {}", running.smtp);
    if let Some(l) = &running.lmtp {
        println!("lmtp listening on {l}");
    }
    println!("http listening on {}", running.http);
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    stop_signal.await;
    tracing::info!("stopping: finishing sessions in flight");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    running.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT; both handlers are installed when this returns, not when it is
/// first polled.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

async fn shut_down(
    doors: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
    intake: Intake,
    workers: Workers,
    slots: Arc<Semaphore>,
    max: u32,
    mut stopped: watch::Receiver<bool>,
) {
    stopping(&mut stopped).await;
    for door in doors {
        let _ = door.await;
    }
    for task in background {
        let _ = task.await;
    }
    // Every session holds a permit: having them all back means every session ended.
    if tokio::time::timeout(GRACE, slots.acquire_many(max)).await.is_err() {
        tracing::warn!("sessions still open after {GRACE:?}; closing them");
    }
    drop(intake);
    if tokio::time::timeout(GRACE, workers.flush()).await.is_err() {
        tracing::warn!("intake queues not empty after {GRACE:?}; `serve` finishes them at the next start");
    }
}

/// Serves the web pages, API and feeds until the stop; requests in flight finish (bounded by
/// `GRACE` in `shut_down`, since the stop waits for this task).
async fn web_door(listener: tokio::net::TcpListener, app: App, mut stopped: watch::Receiver<bool>) {
    let router = crate::web::router(app);
    let served = axum::serve(listener, router).with_graceful_shutdown(async move { stopping(&mut stopped).await });
    if tokio::time::timeout(GRACE, served.into_future()).await.is_err() {
        tracing::warn!("web requests still open after the grace period; closing them");
    }
}

/// Runs `tick` at start, every `TICK_EVERY` on the app's clock, and sooner whenever the store
/// says outbound work is waiting.
async fn scheduler(app: App, mut stopped: watch::Receiver<bool>) {
    let every = chrono::Duration::from_std(TICK_EVERY).unwrap_or(chrono::Duration::seconds(60));
    let mut last_full: Option<chrono::DateTime<chrono::Utc>> = None;
    loop {
        let now = app.now();
        let full = last_full.is_none_or(|at| now - at >= every || now < at);
        let run = full || app.store.outbound_work(now.timestamp()).await.unwrap_or(false);
        if run {
            match crate::tick::tick(&app, now).await {
                Ok(report) => {
                    let d = &report.outbound.delivery;
                    let queued: usize = report.outbound.queued.iter().map(|(_, n)| n).sum();
                    tracing::info!(
                        queued,
                        sent = d.sent,
                        retrying = d.retrying,
                        failed = d.failed,
                        adopted = report.adopted.len(),
                        blocked = report.blocked.len(),
                        "tick"
                    );
                    if full {
                        last_full = Some(now);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "scheduler run failed; trying again at the next tick"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL_EVERY) => {}
            _ = stopping(&mut stopped) => return,
        }
    }
}

/// Keeps the search index current: catches up every `INDEX_EVERY` (one commit per round, however
/// many messages arrived), and lets the index go at the stop.
async fn indexer(app: App, mut stopped: watch::Receiver<bool>) {
    let mut failing = false;
    loop {
        let result = app.index.catch_up(&app.store, app.now().timestamp()).await;
        match &result {
            Ok(done) if done.rebuilt => tracing::info!(documents = done.documents, "search index built from the database"),
            Err(e) if !failing => tracing::warn!(error = %e, "search index not updated; trying again shortly"),
            _ => {}
        }
        failing = result.is_err();
        tokio::select! {
            _ = tokio::time::sleep(INDEX_EVERY) => {}
            _ = stopping(&mut stopped) => break,
        }
    }
    app.index.release().await;
}

fn from_std(l: std::net::TcpListener) -> std::io::Result<Listener> {
    l.set_nonblocking(true)?;
    Ok(Listener::Tcp(tokio::net::TcpListener::from_std(l)?))
}

fn bind_error(door: &'static str, addr: &str, key: &'static str, source: std::io::Error) -> ServeError {
    ServeError::Bind { door, addr: addr.to_string(), key, source }
}

/// A rustls acceptor from PEM files (certificate chain and private key).
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let tls_err = |path: &Path, detail: String| ServeError::Tls { path: path.to_path_buf(), detail };
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert).and_then(|it| it.collect::<Result<_, _>>()).map_err(|e| tls_err(cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(tls_err(cert, "no certificate in the file".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| tls_err(key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| tls_err(cert, e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
