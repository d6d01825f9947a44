//! `docket serve` as systemd runs it: a separate process that says READY/STOPPING over
//! NOTIFY_SOCKET and stops cleanly on SIGTERM, and that loses no accepted message when SIGKILLed
//! in the middle of a load run (every 250 is in the database; a restart finishes the rest).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Mail;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

fn docket(data: &Path) -> Command {
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

fn setup(data: &Path) {
    for args in [&["space", "add", "eng"][..], &["member", "add", "alice@example.org", "--space", "eng"]] {
        let out = docket(data).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Starts `docket serve` and returns it with its SMTP address.
fn serve(cmd: &mut Command) -> (Child, String) {
    serve_with(cmd, Stdio::inherit())
}

fn serve_with(cmd: &mut Command, stderr: Stdio) -> (Child, String) {
    let mut child = cmd.arg("serve").stdout(Stdio::piped()).stderr(stderr).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("smtp listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
    (child, addr)
}

fn signal(child: &Child, sig: &str) {
    assert!(Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success());
}

/// One message per session, like most MTAs; the final reply line.
async fn send(addr: &str, raw: &[u8]) -> std::io::Result<String> {
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

async fn count(data: &Path, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", data.join("docket.db").display());
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

/// Issue 12: with `[log] format = "json"` serve writes one JSON line per message (message id,
/// space, sender, code), per threading, per send (kind, recipient, relay) and per tick; never the secret.
#[tokio::test]
async fn serve_logs_json_lines_and_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    setup(&data);
    let out = docket(&data).args(["member", "add", "bob@example.org", "--space", "eng"]).output().unwrap();
    assert!(out.status.success());
    let config = dir.path().join("docket.toml");
    std::fs::write(&config, "[log]\nformat = \"json\"\nlevel = \"info\"\n").unwrap();
    let secret = "logtest-secret-0123456789abcdef0123456789abcdef";
    let mut cmd = docket(&data);
    cmd.env_remove("RUST_LOG").env("DOCKET__SECURITY__SECRET", secret).arg("--config").arg(&config);
    let (child, addr) = serve_with(&mut cmd, Stdio::piped());
    let reply = send(&addr, &Mail::new("logged@example.org", "hello").raw()).await.unwrap();
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    for _ in 0..400 {
        if count(&data, "SELECT COUNT(*) FROM outbound WHERE state = 'sent'").await >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(secret), "the secret is logged: {stderr}");
    let lines: Vec<serde_json::Value> =
        stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect();
    let find = |message: &str| lines.iter().find(|v| v["message"] == message).unwrap_or_else(|| panic!("no {message:?} line in {stderr}"));
    let accepted = find("accepted");
    assert_eq!(
        (&accepted["msg.id"], &accepted["space"], &accepted["sender"], &accepted["code"]),
        (
            &serde_json::json!("logged@example.org"),
            &serde_json::json!("eng"),
            &serde_json::json!("alice@example.org"),
            &serde_json::json!(250)
        ),
        "{accepted}"
    );
    assert!(find("stored")["thread.id"].is_i64());
    let sent = find("sent");
    assert_eq!((&sent["kind"], &sent["recipient"]), (&serde_json::json!("fanout"), &serde_json::json!("bob@example.org")), "{sent}");
    assert!(sent["relay"].as_str().is_some_and(|r| r.starts_with("outbox")), "{sent}");
    assert!(find("tick")["sent"].is_u64());
}

#[tokio::test]
async fn sigterm_stops_cleanly_and_tells_systemd() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    setup(&data);
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (child, addr) = serve(docket(&data).env("NOTIFY_SOCKET", &notify_path));
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("READY=1"));

    let reply = send(&addr, &Mail::new("one@example.org", "hello").raw()).await.unwrap();
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    signal(&child, "-TERM");
    let n = notify.recv(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1"));
    let status = child.wait_with_output().unwrap().status;
    assert!(status.success(), "{status:?}");
    assert_eq!(count(&data, "SELECT COUNT(*) FROM messages").await, 1, "the queue was flushed before exit");
}

#[tokio::test]
async fn sigkill_during_a_load_run_loses_no_accepted_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    setup(&data);
    let (child, addr) = serve(&mut docket(&data));
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (addr, accepted) = (addr.clone(), accepted.clone());
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let id = format!("load-{c}-{i}@example.org");
                let raw = Mail::new(&id, &format!("load {c} {i}")).body(&format!("message {i}\n{}\n", "x".repeat(2000))).raw();
                match send(&addr, &raw).await {
                    Ok(r) if r.starts_with("250") => accepted.lock().unwrap().push(id),
                    _ => return,
                }
            }
        }));
    }
    for _ in 0..600 {
        if accepted.lock().unwrap().len() >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&child, "-KILL");
    for c in clients {
        c.await.unwrap();
    }
    let mut child = child;
    child.wait().unwrap();
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() >= 300, "only {} accepted before the kill", accepted.len());

    for id in &accepted {
        let sql = format!("SELECT COUNT(*) FROM inbound WHERE dedup_key = 'mid:{id}'");
        assert_eq!(count(&data, &sql).await, 1, "{id} got a 250 but is not stored exactly once");
    }
    // A restart finishes what the kill interrupted; a clean stop flushes the rest.
    let (child, _) = serve(&mut docket(&data));
    signal(&child, "-TERM");
    assert!(child.wait_with_output().unwrap().status.success());
    assert_eq!(count(&data, "SELECT COUNT(*) FROM inbound WHERE state <> 'stored'").await, 0);
    let stored = count(&data, "SELECT COUNT(*) FROM messages").await;
    assert_eq!(stored, count(&data, "SELECT COUNT(*) FROM inbound").await);
    assert!(stored >= accepted.len() as i64);
}

#[tokio::test]
async fn takes_its_socket_from_systemd() {
    if Command::new("systemd-socket-activate").arg("--version").output().is_err() {
        println!("skipped: systemd-socket-activate not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    setup(&data);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let cmd = docket(&data);
    let program = cmd.get_program().to_owned();
    let mut activate = Command::new("systemd-socket-activate");
    activate.args(["-l", &listen]);
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            activate.env(k, v).arg("-E").arg(k);
        }
    }
    activate.arg(program);
    // systemd-socket-activate starts the service on the first connection: make one, and read the
    // greeting the started server sends on it.
    let poke = std::thread::spawn(move || {
        for _ in 0..100 {
            if let Ok(mut s) = std::net::TcpStream::connect(&listen) {
                let mut greeting = [0u8; 3];
                std::io::Read::read_exact(&mut s, &mut greeting).unwrap();
                return (listen, greeting);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("systemd-socket-activate never listened on {listen}");
    });
    let (child, addr) = serve(&mut activate);
    let (listen, greeting) = poke.join().unwrap();
    assert_eq!(&greeting, b"220");
    assert_eq!(addr, listen, "serve used the socket systemd bound, not smtp.listen");
    let reply = send(&addr, &Mail::new("sa@example.org", "activated").raw()).await.unwrap();
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    signal(&child, "-TERM");
    assert!(child.wait_with_output().unwrap().status.success());
}
