//! The SMTP door: a thin tokio loop around the sans-IO `session` (read, step, ask the intake,
//! write once per read so PIPELINING works) plus the limits a mail-facing server needs: connection
//! cap, a deadline on every read, write and TLS handshake (all set in `Deadline`, as mox does with
//! SetDeadline) and on the whole session, the shared memory budget for DATA, STARTTLS, and a
//! graceful stop. LMTP reuses it.

use super::Source;
use super::auth::Client;
use super::budget::{self, Budget, Reservation};
use super::intake::{Intake, Rcpt};
use super::session::{Reply, Session, SessionConfig, Step};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// Bytes read from the socket at a time (per connection; idle sessions cost about this much).
const READ_CHUNK: usize = 16 * 1024;
/// Longest wait for a parting reply (the 421 to a client over the cap, or after a timeout) to be
/// taken by the client.
const GOODBYE: Duration = Duration::from_secs(5);

/// A client stream: TCP, a unix socket, or either inside TLS.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// How one listener talks.
#[derive(Clone)]
pub struct Door {
    pub session: SessionConfig,
    pub source: Source,
    /// Longest wait for one read, one write or the TLS handshake (RFC 5321 §4.5.3.2 suggests
    /// 5 minutes for a command).
    pub timeout: Duration,
    /// Longest whole session (`smtp.session_timeout`).
    pub session_limit: Duration,
    pub tls: Option<TlsAcceptor>,
    /// Shared by every door: what all sessions may buffer of the messages they receive.
    pub budget: Arc<Budget>,
}

impl std::fmt::Debug for Door {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Door").field("session", &self.session).field("source", &self.source).field("tls", &self.tls.is_some()).finish()
    }
}

/// A bound listener.
#[derive(Debug)]
pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    /// The address to tell people (`127.0.0.1:2525`, `unix:/run/docket/lmtp`).
    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            Listener::Unix(l) => {
                l.local_addr().ok().and_then(|a| a.as_pathname().map(|p| format!("unix:{}", p.display()))).unwrap_or_default()
            }
        }
    }

    /// A client connection, its address for the log, and its IP (none on a unix socket).
    async fn accept(&self) -> std::io::Result<(Box<dyn Conn>, String, Option<IpAddr>)> {
        match self {
            Listener::Tcp(l) => {
                let (s, peer) = l.accept().await?;
                let _ = s.set_nodelay(true);
                Ok((Box::new(s), peer.to_string(), Some(peer.ip())))
            }
            Listener::Unix(l) => {
                let (s, _) = l.accept().await?;
                Ok((Box::new(s), "unix".into(), None))
            }
        }
    }
}

/// Accepts connections until `stop` turns true; each gets a task and one of `slots`' permits
/// (connections beyond the cap are told 421 and closed).
pub async fn accept_loop(listener: Listener, door: Arc<Door>, intake: Intake, slots: Arc<Semaphore>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopping(&mut stop) => break,
        };
        let (mut conn, peer, ip) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            let busy = Reply::new(421, (4, 3, 2), format!("{} too many connections; try again later", door.session.hostname));
            let deadline = Deadline::goodbye(door.timeout);
            tokio::spawn(async move {
                let _ = deadline.run(conn.write_all(&busy.to_bytes())).await;
                let _ = deadline.run(conn.shutdown()).await;
            });
            continue;
        };
        let (door, intake, stop) = (door.clone(), intake.clone(), stop.clone());
        tokio::spawn(async move {
            if let Err(e) = handle(conn, ip, &door, &intake, stop).await {
                tracing::debug!(peer, error = %e, "session ended with an error");
            }
            drop(permit);
        });
    }
}

/// How a stretch of conversation ended.
enum End {
    Closed,
    StartTls,
}

/// The one place a session's network operations get their deadline: each read, write or
/// handshake waits at most `step`, and none runs past `end`, the end of the whole session.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    step: Duration,
    end: Instant,
}

impl Deadline {
    fn session(door: &Door) -> Deadline {
        Deadline { step: door.timeout, end: Instant::now() + door.session_limit }
    }

    /// For the parting words only: a short wait of its own, also after the session's end.
    fn goodbye(step: Duration) -> Deadline {
        Deadline { step: step.min(GOODBYE), end: Instant::now() + step.min(GOODBYE) }
    }

    /// `op`, or `TimedOut` once the deadline passes.
    async fn run<T>(&self, op: impl Future<Output = io::Result<T>>) -> io::Result<T> {
        let until = self.end.min(Instant::now() + self.step);
        match tokio::time::timeout_at(until, op).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "peer too slow")),
        }
    }

    fn session_over(&self) -> bool {
        Instant::now() >= self.end
    }
}

/// One client session, start to end; `ip` is the client's address when it is known.
pub async fn handle(
    mut conn: Box<dyn Conn>,
    ip: Option<IpAddr>,
    door: &Door,
    intake: &Intake,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let _open = crate::metrics::session(door.source == Source::Lmtp);
    let mut session = Session::new(door.session.clone());
    let deadline = Deadline::session(door);
    deadline.run(conn.write_all(&session.greeting().to_bytes())).await?;
    let reserved = Reservation::new(door.budget.clone());
    // Behind LMTP the connecting host is the MTA in front, not the sender: SPF cannot judge it.
    let ip = ip.filter(|_| door.source == Source::Smtp);
    let mut talk = Talk { door, intake, deadline, reserved, rcpts: HashMap::new(), ip };
    match talk.converse(&mut session, &mut conn, &mut stop).await? {
        End::Closed => Ok(()),
        End::StartTls => {
            let Some(acceptor) = &door.tls else { return Ok(()) };
            // A client that asks for TLS and then stalls is dropped like one that stalls anywhere.
            let mut tls = deadline.run(acceptor.accept(conn)).await?;
            session.tls_started();
            talk.rcpts.clear();
            talk.converse(&mut session, &mut tls, &mut stop).await?;
            Ok(())
        }
    }
}

struct Talk<'a> {
    door: &'a Door,
    intake: &'a Intake,
    deadline: Deadline,
    /// This session's share of the memory budget: what it buffers, message data included.
    reserved: Reservation,
    /// What each accepted RCPT address resolved to, for the delivery that follows.
    rcpts: HashMap<String, Rcpt>,
    /// The SMTP client's address (SPF); none for LMTP.
    ip: Option<IpAddr>,
}

impl Talk<'_> {
    async fn converse<S: Conn + ?Sized>(
        &mut self,
        session: &mut Session,
        io: &mut S,
        stop: &mut watch::Receiver<bool>,
    ) -> std::io::Result<End> {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            loop {
                match session.step() {
                    Step::NeedInput => break,
                    Step::MailFrom { from, .. } => session.answer(self.intake.check_sender(&from).await),
                    Step::Rcpt { to } => match self.intake.check_recipient(&to).await {
                        Ok(rcpt) => {
                            self.rcpts.insert(to, rcpt);
                            session.answer(Ok(()));
                        }
                        Err(reply) => session.answer(Err(reply)),
                    },
                    Step::Deliver { mail_from, rcpt_to, data } => {
                        // Receiving reserved the message's whole cost already (`hold`): storing
                        // needs no more than that.
                        let storing = budget::cost(session.buffered()) + budget::cost(data.len());
                        if !self.reserved.resize(storing) {
                            let full = Reply::new(452, (4, 3, 1), "too much mail in flight; try again later");
                            session.delivered(vec![full; rcpt_to.len()]);
                            continue;
                        }
                        let mut rcpts = Vec::with_capacity(rcpt_to.len());
                        for to in rcpt_to {
                            let rcpt = match self.rcpts.get(&to) {
                                Some(r) => r.clone(),
                                None => match self.intake.check_recipient(&to).await {
                                    Ok(r) => r,
                                    Err(_) => continue,
                                },
                            };
                            rcpts.push((to, rcpt));
                        }
                        self.rcpts.clear();
                        // The message waits for its commit and its threading after the session
                        // moves on: its whole share goes with it.
                        let queued = self.reserved.split(budget::cost(data.len()));
                        let client = Client {
                            ip: self.ip,
                            helo: session.helo().filter(|_| self.ip.is_some()).map(str::to_string),
                            mail_from: Some(mail_from.clone()),
                        };
                        let replies = self.intake.deliver(&mail_from, &rcpts, data, self.door.source, queued, &client).await;
                        session.delivered(replies);
                    }
                    Step::StartTls => {
                        self.write(io, session).await?;
                        return Ok(End::StartTls);
                    }
                    Step::Close => {
                        self.write(io, session).await?;
                        let _ = self.deadline.run(io.shutdown()).await;
                        return Ok(End::Closed);
                    }
                }
            }
            // The message handed over is stored (or refused) by now: only what is buffered stays.
            self.reserved.resize(budget::cost(session.buffered()));
            self.write(io, session).await?;
            let read = tokio::select! {
                r = self.deadline.run(io.read(&mut buf)) => r,
                _ = stopping(stop), if !session.in_transaction() => {
                    return self.close(io, Reply::new(421, (4, 3, 2), "shutting down; try again later")).await;
                }
            };
            match read {
                Err(e) if e.kind() == io::ErrorKind::TimedOut && self.deadline.session_over() => {
                    return self.close(io, Reply::new(421, (4, 4, 2), "session too long; closing the connection")).await;
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return self.close(io, Reply::new(421, (4, 4, 2), "timeout; closing the connection")).await;
                }
                Ok(0) => return Ok(End::Closed),
                Ok(n) => {
                    session.receive(&buf[..n]);
                    self.hold(session);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reserves what the session now buffers, at what storing it will cost (`budget::cost`), so
    /// a message that arrives whole can be stored. Over the budget, the message being received is
    /// dropped and will be answered 452 4.3.1 (RFC 3463: mail system full; RFC 5321 §4.2.5: the
    /// client keeps it and retries).
    fn hold(&mut self, session: &mut Session) {
        // The message so far plus this read (unstuffing only shrinks it).
        if !self.reserved.resize(budget::cost(session.buffered())) {
            session.refuse_data(Reply::new(452, (4, 3, 1), "too much mail in flight; try again later"));
        }
    }

    /// Writes the replies the session has ready, within the deadline: a client that stops reading
    /// is dropped instead of holding its task.
    async fn write<S: Conn + ?Sized>(&self, io: &mut S, session: &mut Session) -> io::Result<()> {
        let out = session.take_output();
        if !out.is_empty() {
            self.deadline.run(io.write_all(&out)).await?;
            self.deadline.run(io.flush()).await?;
        }
        Ok(())
    }

    async fn close<S: Conn + ?Sized>(&self, io: &mut S, mut reply: Reply) -> io::Result<End> {
        reply.text = format!("{} {}", self.door.session.hostname, reply.text);
        let goodbye = Deadline::goodbye(self.door.timeout);
        let _ = goodbye.run(io.write_all(&reply.to_bytes())).await;
        let _ = goodbye.run(io.shutdown()).await;
        Ok(End::Closed)
    }
}

/// Resolves once a stop was asked for (or the server is gone).
pub async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
