//! `docket serve` as systemd runs it: a separate process that says READY/STOPPING over
//! NOTIFY_SOCKET, stops cleanly on SIGTERM, takes its socket from systemd, logs one line per
//! message, send and tick, and sends no outbound mail twice but the one the relay had when it was
//! SIGKILLed mid-send. SIGKILL under inbound load and the other faults are in tests/faults.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use support::Mail;
use support::process::{count, docket, send, serve, serve_with, setup, signal, sqlite_url};

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
        if count(&sqlite_url(&data), "SELECT COUNT(*) FROM outbound WHERE state = 'sent'").await >= 1 {
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
    assert_eq!(count(&sqlite_url(&data), "SELECT COUNT(*) FROM messages").await, 1, "the queue was flushed before exit");
}

#[tokio::test]
async fn takes_its_socket_from_systemd() {
    if !support::skip::have("systemd-socket-activate", "--version") {
        return support::skip::skip("systemd-socket-activate not found (Debian package systemd; .ci/run installs it)");
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

/// The one duplicate window, end to end: the relay has a mail but `serve` is SIGKILLed before it
/// hears the `250`. The restarted node takes its claims back at once (no lease wait), every
/// queued mail arrives, exactly one twice and with the same Message-ID, and nothing is left in
/// `sending`.
#[tokio::test]
async fn sigkill_mid_send_repeats_at_most_the_mail_in_flight() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    setup(&data);
    let out = docket(&data).args(["member", "add", "bob@example.org", "--space", "eng"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sink = support::sink::Sink::start().await;
    sink.hold_after_data.store(true, Ordering::SeqCst);
    let relay = |cmd: &mut Command| {
        cmd.env("DOCKET__OUTBOUND__SMTP_URL", sink.url()).env("DOCKET__SERVER__NODE_ID", "node-1");
    };
    let mut cmd = docket(&data);
    relay(&mut cmd);
    let (child, addr) = serve(&mut cmd);
    for i in 0..3 {
        let raw = Mail::new(&format!("kill-{i}@example.org"), &format!("kill {i}")).raw();
        assert!(send(&addr, &raw).await.unwrap().starts_with("250"));
    }
    for _ in 0..600 {
        if !sink.messages().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sink.messages().len(), 1, "the relay holds the first mail");
    signal(&child, "-KILL");
    let mut child = child;
    child.wait().unwrap();
    assert!(count(&sqlite_url(&data), "SELECT COUNT(*) FROM outbound WHERE state = 'sending'").await >= 1);

    sink.hold_after_data.store(false, Ordering::SeqCst);
    let mut cmd = docket(&data);
    relay(&mut cmd);
    let (child, _) = serve(&mut cmd);
    for _ in 0..600 {
        if count(&sqlite_url(&data), "SELECT COUNT(*) FROM outbound WHERE state IN ('queued', 'sending')").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal(&child, "-TERM");
    assert!(child.wait_with_output().unwrap().status.success());
    assert_eq!(count(&sqlite_url(&data), "SELECT COUNT(*) FROM outbound WHERE state <> 'sent'").await, 0);
    let rows = count(&sqlite_url(&data), "SELECT COUNT(*) FROM outbound").await;
    assert!(rows >= 3, "{rows} outbound rows");

    let got = sink.messages();
    assert_eq!(got.len() as i64, rows + 1, "every mail once, the one in flight twice");
    let key = |m: &support::sink::Received| {
        let text = String::from_utf8_lossy(&m.data).to_string();
        let id = text.lines().find_map(|l| l.strip_prefix("Message-ID: ").map(str::to_string)).unwrap();
        (m.rcpt_to.clone(), id)
    };
    let mut seen = std::collections::HashMap::new();
    for m in &got {
        *seen.entry(key(m)).or_insert(0) += 1;
    }
    assert_eq!(seen.len() as i64, rows, "each copy has its own Message-ID");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert_eq!(twice.len(), 1, "{twice:?}");
    assert_eq!(*twice[0].0, key(&got[0]), "the repeat is the mail the relay held, same Message-ID");
}
