//! The real `docket` binary as a separate process: commands on a data dir, `serve` with its SMTP
//! address, signals, a one-message SMTP client and row counts read straight from the database.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// `docket` on `data`, with the environment of a test run (nothing inherited from the caller's
/// config, SMTP on a free port, no per-sender rate limit, and no DMARC check: the binary would ask
/// real DNS about the test domains, which tests never do), and no nudges (tests/nudges.rs turns them
/// on), so the outbox holds what each test counts.
pub fn docket(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docket"));
    cmd.env_remove("DOCKET_CONFIG")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("LISTEN_FDS")
        .env("DOCKET__SERVER__DATA_DIR", data)
        .env("DOCKET__SERVER__DOMAIN", "docket.test")
        .env("DOCKET__SMTP__LISTEN", "127.0.0.1:0")
        .env("DOCKET__HTTP__LISTEN", "127.0.0.1:0")
        .env("DOCKET__SECURITY__PER_SENDER_PER_HOUR", "100000")
        .env("DOCKET__SECURITY__DMARC", "false")
        .env("DOCKET__NOTIFY__NUDGES", "false")
        .env("RUST_LOG", "warn");
    cmd
}

/// Runs a command to the end; panics with its output when it fails.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed: {}", text(&out));
    text(&out)
}

/// stdout and stderr of a finished command.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Space `eng` with member alice@example.org.
pub fn setup(data: &Path) {
    ok(docket(data).args(["space", "add", "eng"]));
    ok(docket(data).args(["member", "add", "alice@example.org", "--space", "eng"]));
}

/// Starts `docket serve` and returns it with its SMTP address.
pub fn serve(cmd: &mut Command) -> (Child, String) {
    serve_with(cmd, Stdio::inherit())
}

/// `serve` with its stderr sent where the test wants it (piped to read the log).
pub fn serve_with(cmd: &mut Command, stderr: Stdio) -> (Child, String) {
    let mut child = cmd.arg("serve").stdout(Stdio::piped()).stderr(stderr).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("smtp listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
    (child, addr)
}

pub fn signal(child: &Child, sig: &str) {
    assert!(Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success());
}

/// Sends one message from alice@example.org to eng@docket.test in one session, like most MTAs,
/// and returns the reply that decided it: the first refusal of MAIL, RCPT or DATA, else the reply
/// after the final dot.
pub async fn send(addr: &str, raw: &[u8]) -> std::io::Result<String> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (r, mut w) = stream.into_split();
    let mut r = tokio::io::BufReader::new(r);
    let read = async |r: &mut tokio::io::BufReader<_>| -> std::io::Result<String> {
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(line);
            }
        }
    };
    let greeting = read(&mut r).await?;
    if !greeting.starts_with("220") {
        return Ok(greeting);
    }
    w.write_all(b"EHLO c\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<eng@docket.test>\r\nDATA\r\n").await?;
    let mut refusal = None;
    for want in ["250", "250", "250", "354"] {
        let reply = read(&mut r).await?;
        if !reply.starts_with(want) && refusal.is_none() {
            refusal = Some(reply);
        }
    }
    if let Some(reply) = refusal {
        w.write_all(b"QUIT\r\n").await?;
        return Ok(reply);
    }
    w.write_all(raw).await?;
    w.write_all(b"\r\n.\r\nQUIT\r\n").await?;
    read(&mut r).await
}

/// The SQLite database of a data dir, as a URL.
pub fn sqlite_url(data: &Path) -> String {
    format!("sqlite://{}", data.join("docket.db").display())
}

/// One number from the database at `url` (SQLite or PostgreSQL).
pub async fn count(url: &str, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

/// One text column of every row a query returns.
pub async fn strings(url: &str, sql: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows.into_iter().map(|(s,)| s).collect()
}
