//! A tiny SMTP sink on 127.0.0.1:0 for outbound tests: records what real lettre sends, and can
//! refuse recipients with a chosen reply (451 temporary, 550 permanent).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Sink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Reply to RCPT TO (e.g. "250 ok", "550 5.1.1 no such user").
    pub rcpt_reply: Arc<Mutex<String>>,
    /// SMTP connections accepted so far.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    /// When set, a mail is recorded at the end of DATA but its `250` never comes (the relay
    /// has it, the sender does not know).
    pub hold_after_data: Arc<std::sync::atomic::AtomicBool>,
}

impl Sink {
    pub async fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener)
    }

    /// A sink on a port chosen before (to bring a "down" relay back up).
    pub async fn start_on(port: u16) -> Sink {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        Self::serve(listener)
    }

    fn serve(listener: TcpListener) -> Sink {
        let sink = Sink {
            port: listener.local_addr().unwrap().port(),
            received: Arc::default(),
            rcpt_reply: Arc::new(Mutex::new("250 2.1.5 ok".into())),
            connections: Arc::default(),
            hold_after_data: Arc::default(),
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                s.connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(stream).await;
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn refuse_with(&self, reply: &str) {
        *self.rcpt_reply.lock().unwrap() = reply.into();
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink ESMTP\r\n").await?;
        let mut current = Received { mail_from: String::new(), rcpt_to: Vec::new(), data: Vec::new() };
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let upper = line.to_ascii_uppercase();
            let reply = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                "250-sink\r\n250 8BITMIME\r\n".to_string()
            } else if upper.starts_with("MAIL FROM:") {
                current = Received { mail_from: addr(&line), rcpt_to: Vec::new(), data: Vec::new() };
                "250 2.1.0 ok\r\n".into()
            } else if upper.starts_with("RCPT TO:") {
                let reply = self.rcpt_reply.lock().unwrap().clone();
                if reply.starts_with('2') {
                    current.rcpt_to.push(addr(&line));
                }
                format!("{reply}\r\n")
            } else if upper.starts_with("DATA") {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if lines.read_until(b'\n', &mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == b".\r\n" {
                        break;
                    }
                    let l = if l.starts_with(b"..") { l[1..].to_vec() } else { l };
                    data.extend_from_slice(&l);
                }
                current.data = data;
                self.received.lock().unwrap().push(current.clone());
                if self.hold_after_data.load(std::sync::atomic::Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                "250 2.0.0 queued\r\n".into()
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                "250 ok\r\n".into()
            };
            write.write_all(reply.as_bytes()).await?;
        }
    }
}

fn addr(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line.find('>').unwrap_or(line.len());
    line[start..end].to_string()
}
