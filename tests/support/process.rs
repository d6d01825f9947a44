//! The real `docket` binary as a separate process for end-to-end tests: a command on a data dir,
//! `serve` started with its SMTP address, signals, one-message SMTP sessions and SQLite counts.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

pub fn docket(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docket"));
    cmd.env_remove("DOCKET_CONFIG")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("LISTEN_FDS")
        .env("DOCKET__SERVER__DATA_DIR", data)
        .env("DOCKET__SERVER__DOMAIN", "docket.test")
        .env("DOCKET__SMTP__LISTEN", "127.0.0.1:0")
        .env("DOCKET__SECURITY__PER_SENDER_PER_HOUR", "100000")
        .env("RUST_LOG", "warn");
    cmd
}

pub fn setup(data: &Path) {
    for args in [&["space", "add", "eng"][..], &["member", "add", "alice@example.org", "--space", "eng"]] {
        let out = docket(data).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Starts `docket serve` and returns it with its SMTP address.
pub fn serve(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.arg("serve").stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("smtp listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
    (child, addr)
}

pub fn signal(child: &Child, sig: &str) {
    assert!(Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success());
}

/// One message per session, like most MTAs; the final reply line.
pub async fn send(addr: &str, raw: &[u8]) -> std::io::Result<String> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (r, mut w) = stream.into_split();
    let mut r = tokio::io::BufReader::new(r);
    let mut last = String::new();
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
    read(&mut r).await?;
    w.write_all(b"EHLO c\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<eng@docket.test>\r\nDATA\r\n").await?;
    for _ in 0..4 {
        last = read(&mut r).await?;
    }
    assert!(last.starts_with("354"), "{last}");
    w.write_all(raw).await?;
    w.write_all(b"\r\n.\r\nQUIT\r\n").await?;
    read(&mut r).await
}

pub async fn count(data: &Path, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", data.join("docket.db").display());
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}
