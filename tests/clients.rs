//! Other people's SMTP clients against `docket serve`: Python's smtplib (SMTP and LMTP) and
//! Debian's swaks. `.ci/run` installs both; each test says so and skips when its client is missing,
//! and fails instead under CI (`support::skip`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use docket::app::App;
use docket::serve::{self, Running};
use docket::space::MemberSettings;
use std::process::Command;
use std::sync::Arc;
use support::skip::{have, skip};
use support::t0;

async fn start(t: &support::TestApp) -> (App, Running) {
    let mut c = (*t.app.config).clone();
    c.server.domain = "docket.test".into();
    c.smtp.listen = "127.0.0.1:0".parse().unwrap();
    c.smtp.max_message_bytes = 10_000;
    c.lmtp.listen = Some("127.0.0.1:0".into());
    c.security.accept_from = docket::config::AcceptFrom::Members;
    let app = App { config: Arc::new(c), ..t.app.clone() };
    let space = app.store.add_space("eng", "Engineering", t0().timestamp()).await.unwrap();
    app.store.add_member(&space, "alice@example.org", "alice", &MemberSettings::default(), 0).await.unwrap();
    let running = serve::start(app.clone()).await.unwrap();
    (app, running)
}

const PYTHON: &str = r#"
import smtplib, sys
host, port, lport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
msg = b"From: Alice <alice@example.org>\r\nTo: eng@docket.test\r\nSubject: from python\r\nMessage-ID: <py1@example.org>\r\n\r\nHello from smtplib.\r\n..leading dot\r\n"
s = smtplib.SMTP(host, port)
code, _ = s.ehlo("py.example.org")
assert code == 250
for ext in ["pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes"]:
    assert s.has_extn(ext), ext
assert s.esmtp_features["size"] == "10000", s.esmtp_features
assert s.sendmail("alice@example.org", ["eng@docket.test"], msg) == {}
try:
    s.sendmail("alice@example.org", ["ghost@docket.test"], msg)
    raise SystemExit("unknown recipient accepted")
except smtplib.SMTPRecipientsRefused as e:
    code, text = e.recipients["ghost@docket.test"]
    assert code == 550 and text.startswith(b"5.1.1"), e.recipients
try:
    s.sendmail("alice@example.org", ["eng@docket.test"], msg + b"x" * 20000)
    raise SystemExit("oversize accepted")
except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
    assert e.smtp_code == 552, e
try:
    s.sendmail("mallory@evil.example", ["eng@docket.test"], msg.replace(b"alice@example.org", b"mallory@evil.example").replace(b"py1", b"py2"))
    raise SystemExit("stranger accepted")
except smtplib.SMTPDataError as e:
    assert e.smtp_code == 550 and e.smtp_error.startswith(b"5.7.1"), e
s.quit()
l = smtplib.LMTP(host, lport)
assert l.ehlo("py.example.org")[0] == 250  # smtplib.LMTP sends LHLO
assert l.sendmail("alice@example.org", ["eng@docket.test"], msg.replace(b"py1", b"py3")) == {}
l.quit()
print("python smtplib: ok")
"#;

#[tokio::test]
async fn python_smtplib_speaks_smtp_and_lmtp() {
    if !have("python3", "--version") {
        return skip("python3 not found");
    }
    let t = support::sqlite().await;
    let (app, running) = start(&t).await;
    let (host, port) = running.smtp.rsplit_once(':').unwrap();
    let lport = running.lmtp.as_deref().unwrap().rsplit_once(':').unwrap().1;
    let args: Vec<String> = ["-c", PYTHON, host, port, lport].iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || Command::new("python3").args(args).output().unwrap()).await.unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    running.stop().await;
    let texts: Vec<(String,)> = sqlx::query_as("SELECT visible_text FROM messages ORDER BY id").fetch_all(app.store.pool()).await.unwrap();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].0.contains(".leading dot"), "dot-unstuffed: {texts:?}");
}

#[tokio::test]
async fn swaks_delivers_and_sees_refusals() {
    if !have("swaks", "--version") {
        return skip("swaks not found (apt-get install swaks; .ci/run does)");
    }
    let t = support::sqlite().await;
    let (app, running) = start(&t).await;
    let (host, port) = running.smtp.rsplit_once(':').unwrap();
    let swaks = |to: &str, from: &str, id: &str| {
        let (host, port, to, from, id) = (host.to_string(), port.to_string(), to.to_string(), from.to_string(), id.to_string());
        tokio::task::spawn_blocking(move || {
            let header = format!("Message-ID: <{id}>");
            Command::new("swaks")
                .args(["--server", &host, "--port", &port, "--ehlo", "swaks.example.org", "--to", &to, "--from", &from])
                .args(["--h-From", &format!("Alice <{from}>"), "--h-Subject", "from swaks", "--add-header", &header])
                .args(["--body", "Hello from swaks.\n#action try swaks @alice\n"])
                .output()
                .unwrap()
        })
    };
    let ok = swaks("eng@docket.test", "alice@example.org", "sw1@example.org").await.unwrap();
    let log = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success() && log.contains("<-  250 2.0.0"), "{log}");
    let refused = swaks("ghost@docket.test", "alice@example.org", "sw2@example.org").await.unwrap();
    let log = String::from_utf8_lossy(&refused.stdout);
    assert!(!refused.status.success() && log.contains("<** 550 5.1.1"), "{log}");
    let stranger = swaks("eng@docket.test", "mallory@evil.example", "sw3@example.org").await.unwrap();
    let log = String::from_utf8_lossy(&stranger.stdout);
    assert!(!stranger.status.success() && log.contains("<** 550 5.7.1"), "{log}");
    running.stop().await;
    let (tasks,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tasks").fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(tasks, 1, "the #action tag was recorded");
}
