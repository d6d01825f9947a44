//! `docket serve` end to end on 127.0.0.1:0, on SQLite and PostgreSQL: real clients (lettre, and a
//! raw socket for exact reply codes), every refusal code, quarantine, tokens, LMTP, STARTTLS,
//! limits, store failure (451, nothing lost) and a graceful stop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::app::App;
use docket::ingest::token::{self, ReplySlot};
use docket::serve::{self, Running};
use docket::space::MemberSettings;
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use support::{Mail, TestApp, t0};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const DOMAIN: &str = "docket.test";

/// The test app reconfigured for serving: our domain, ephemeral ports, and `tweak` on top.
fn serving(t: &TestApp, tweak: impl FnOnce(&mut docket::config::Config)) -> App {
    let mut c = (*t.app.config).clone();
    c.server.domain = DOMAIN.into();
    c.smtp.listen = "127.0.0.1:0".parse().unwrap();
    c.security.accept_from = docket::config::AcceptFrom::Members;
    tweak(&mut c);
    App { config: Arc::new(c), ..t.app.clone() }
}

/// A space `eng` with member alice, and the server running.
async fn setup(t: &TestApp, tweak: impl FnOnce(&mut docket::config::Config)) -> (App, Running) {
    let app = serving(t, tweak);
    let space = app.store.add_space("eng", "Engineering", t0().timestamp()).await.unwrap();
    let s = MemberSettings::default();
    app.store.add_member(&space, "alice@example.org", "alice", &s, t0().timestamp()).await.unwrap();
    let running = serve::start(app.clone()).await.unwrap();
    (app, running)
}

/// A raw SMTP client: sends lines, returns the final line of each reply.
struct Client {
    read: BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: &str) -> (Client, String) {
        let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut c = Client { read: BufReader::new(r), write: w };
        let greeting = c.reply().await;
        (c, greeting)
    }

    async fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(20), self.read.read_line(&mut line)).await.expect("reply timed out").unwrap();
            if n == 0 {
                return "<closed>".into();
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return line.trim_end().to_string();
            }
        }
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.write.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
        self.reply().await
    }

    /// MAIL, RCPT(s), DATA and the message; the reply to the first refused step or to the data.
    async fn send(&mut self, from: &str, to: &[&str], raw: &[u8]) -> String {
        let r = self.cmd(&format!("MAIL FROM:<{from}>")).await;
        if !r.starts_with("250") {
            return r;
        }
        let mut any = false;
        let mut last = String::new();
        for rcpt in to {
            last = self.cmd(&format!("RCPT TO:<{rcpt}>")).await;
            any |= last.starts_with("250");
        }
        if !any {
            self.cmd("RSET").await;
            return last;
        }
        assert!(self.cmd("DATA").await.starts_with("354"));
        let mut body = raw.to_vec();
        body.extend_from_slice(b"\r\n.\r\n");
        self.write.write_all(&body).await.unwrap();
        self.reply().await
    }
}

async fn session(addr: &str) -> Client {
    let (mut c, greeting) = Client::connect(addr).await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(c.cmd("EHLO client.example.org").await.starts_with("250 "));
    c
}

async fn count(app: &App, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(app.store.pool()).await.unwrap();
    n
}

/// Polls `done` every 20 ms until it holds, for up to 60 s (a generous bound on an event, never a
/// timing assertion).
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    for _ in 0..3000 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("gave up waiting for {what}");
}

/// A session as soon as a connection slot is free again (a closed session gives its slot back
/// just after the client sees the close).
async fn session_when_free(addr: &str) -> Client {
    for _ in 0..3000 {
        let (mut c, greeting) = Client::connect(addr).await;
        if greeting.starts_with("220 ") {
            assert!(c.cmd("EHLO client.example.org").await.starts_with("250 "));
            return c;
        }
        assert!(greeting.starts_with("421 4.3.2"), "{greeting}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no connection slot came free");
}

/// Waits until the background worker has processed `n` messages (up to 60 s, like `until`).
async fn processed(app: &App, n: i64) {
    for _ in 0..3000 {
        if count(app, "SELECT COUNT(*) FROM messages").await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("messages were not processed: {} of {n}", count(app, "SELECT COUNT(*) FROM messages").await);
}

fn lettre_client(addr: &str) -> AsyncSmtpTransport<Tokio1Executor> {
    let (host, port) = addr.rsplit_once(':').unwrap();
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port.parse().unwrap()).build()
}

fn envelope(from: &str, to: &str) -> Envelope {
    Envelope::new(Some(from.parse().unwrap()), vec![to.parse().unwrap()]).unwrap()
}

#[tokio::test]
async fn members_post_with_lettre_and_replies_follow_their_token() {
    for t in support::backends().await {
        let (app, running) = setup(&t, |_| {}).await;
        let mailer = lettre_client(&running.smtp);
        let first = Mail::new("start@example.org", "Release plan").body("Let's ship on Friday.\n#decision ship friday\n").raw();
        let r = mailer.send_raw(&envelope("alice@example.org", "eng@docket.test"), &first).await.unwrap();
        assert_eq!(r.code().to_string(), "250", "[{}]", t.backend);
        processed(&app, 1).await;
        let thread = app.store.threads(Some("eng"), None, 3).await.unwrap().remove(0);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM decisions").await, 1, "[{}] tags recorded", t.backend);

        // A reply without any threading headers and a new subject still lands in the thread,
        // because it came through the member's reply address.
        let alice = app.store.member(app.store.require_space("eng").await.unwrap().id, "alice@example.org").await.unwrap().unwrap();
        let tok = token::sign(app.secret.bytes(), ReplySlot { thread_id: thread.id, member_id: alice.id });
        let reply = Mail::new("reply@example.org", "different words").body("Agreed.\n").raw();
        mailer.send_raw(&envelope("alice@example.org", &format!("eng+{tok}@docket.test")), &reply).await.unwrap();
        processed(&app, 2).await;
        let threads = app.store.threads(Some("eng"), None, 3).await.unwrap();
        assert_eq!(threads.len(), 1, "[{}] the token threads the reply: {threads:?}", t.backend);

        // The same message again is stored once.
        mailer.send_raw(&envelope("alice@example.org", "eng@docket.test"), &first).await.unwrap();
        running.stop().await;
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound").await, 2, "[{}]", t.backend);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM messages").await, 2, "[{}]", t.backend);
    }
}

#[tokio::test]
async fn every_refusal_has_a_precise_code() {
    for t in support::backends().await {
        let (app, running) = setup(&t, |c| {
            c.smtp.max_message_bytes = 4096;
            c.security.per_sender_per_hour = 3;
        })
        .await;
        let mut c = session(&running.smtp).await;
        let ok = Mail::new("ok@example.org", "hi").raw();
        let bt = t.backend;
        // RCPT time
        assert!(c.cmd("MAIL FROM:<alice@example.org>").await.starts_with("250"));
        for (rcpt, want) in [
            ("ghost@docket.test", "550 5.1.1"),
            ("eng@elsewhere.org", "550 5.7.1"),
            ("eng+aaaaaaaaaaaaaaaaaaaaaaa@docket.test", "550 5.7.1"),
            ("eng+x+y@docket.test", "550 5.1.1"),
        ] {
            let r = c.cmd(&format!("RCPT TO:<{rcpt}>")).await;
            assert!(r.starts_with(want), "[{bt}] {rcpt}: {r}");
        }
        assert!(c.cmd("RSET").await.starts_with("250"));
        assert!(c.cmd("VRFY alice").await.starts_with("252 2.5.0"), "VRFY reveals nothing");
        // After DATA: strangers, no author, loops, size
        let stranger = Mail::new("s@example.org", "hi").from("Mallory <mallory@evil.example>").raw();
        let r = c.send("mallory@evil.example", &["eng@docket.test"], &stranger).await;
        assert!(r.starts_with("550 5.7.1") && r.contains("not a member"), "[{bt}] {r}");
        let no_from = b"Subject: who\r\nMessage-ID: <nf@example.org>\r\n\r\nbody\r\n".to_vec();
        let r = c.send("alice@example.org", &["eng@docket.test"], &no_from).await;
        assert!(r.starts_with("550 5.6.0"), "[{bt}] {r}");
        let hops = format!(
            "{}{}",
            "Received: from a by b; Tue, 24 Nov 2026 08:00:00 +0000\r\n".repeat(31),
            String::from_utf8(ok.clone()).unwrap()
        );
        let r = c.send("alice@example.org", &["eng@docket.test"], hops.as_bytes()).await;
        assert!(r.starts_with("554 5.4.6"), "[{bt}] {r}");
        let big = Mail::new("big@example.org", "big").body(&"x".repeat(5000)).raw();
        let r = c.send("alice@example.org", &["eng@docket.test"], &big).await;
        assert!(r.starts_with("552 5.3.4"), "[{bt}] {r}");
        assert!(c.cmd("MAIL FROM:<alice@example.org> SIZE=5000").await.starts_with("552 5.3.4"));
        // Rate limit: the 4th message of the hour from one sender is deferred, not refused.
        for i in 0..3 {
            let m = Mail::new(&format!("r{i}@example.org"), "rate").raw();
            let r = c.send("alice@example.org", &["eng@docket.test"], &m).await;
            assert!(r.starts_with("250 2.0.0"), "[{bt}] {r}");
        }
        let r = c.cmd("MAIL FROM:<alice@example.org>").await;
        assert!(r.starts_with("450 4.7.1"), "[{bt}] {r}");
        assert!(c.cmd("QUIT").await.starts_with("221"));
        running.stop().await;
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound").await, 3, "[{bt}] only accepted mail is stored");
    }
}

#[tokio::test]
async fn automata_are_quarantined_and_a_release_posts_them() {
    for mut t in support::backends().await {
        let sent = t.record();
        let (app, running) = setup(&t, |_| {}).await;
        let mut c = session(&running.smtp).await;
        let bt = t.backend;
        let ooo = Mail::new("ooo@example.org", "Out of office").header("Auto-Submitted: auto-replied").raw();
        let r = c.send("alice@example.org", &["eng@docket.test"], &ooo).await;
        assert!(r.starts_with("250 2.6.0") && r.contains("Auto-Submitted"), "[{bt}] {r}");
        let bounce =
            Mail::new("dsn@example.org", "Undelivered Mail Returned to Sender").from("MAILER-DAEMON <postmaster@example.org>").raw();
        assert!(c.send("", &["eng@docket.test"], &bounce).await.starts_with("250 2.6.0"));
        // A member's reply address used by someone else: held, and that human is owed one notice.
        let thread = {
            let m = Mail::new("t@example.org", "topic").raw();
            assert!(c.send("alice@example.org", &["eng@docket.test"], &m).await.starts_with("250 2.0.0"));
            processed(&app, 1).await;
            app.store.threads(Some("eng"), None, 3).await.unwrap().remove(0)
        };
        let alice = app.store.member(app.store.require_space("eng").await.unwrap().id, "alice@example.org").await.unwrap().unwrap();
        let tok = token::sign(app.secret.bytes(), ReplySlot { thread_id: thread.id, member_id: alice.id });
        for i in 0..2 {
            let leaked = Mail::new(&format!("leak{i}@example.org"), "Re: topic").from("Bob <bob@example.org>").raw();
            let r = c.send("bob@example.org", &[&format!("eng+{tok}@docket.test")], &leaked).await;
            // Issue 12: what happened, without naming whose address it was.
            assert!(r.starts_with("250 2.6.0") && r.contains("bob@example.org is not a member"), "[{bt}] {r}");
            assert!(!r.contains("alice@example.org"), "[{bt}] the reply leaks the token's owner: {r}");
        }
        running.stop().await;
        docket::tick::tick(&app, t0()).await.unwrap();
        let notice: Vec<support::Sent> = sent.all().into_iter().filter(|s| s.kind() == "notice").collect();
        assert_eq!(notice.len(), 1, "[{bt}]");
        assert_eq!(notice[0].to, "bob@example.org");
        assert!(notice[0].raw.contains("not a member") && !notice[0].raw.contains("alice@example.org"), "[{bt}] {}", notice[0].raw);

        let held = app.store.quarantined(None).await.unwrap();
        let reasons: Vec<&str> = held.iter().map(|q| q.reason.as_str()).collect();
        assert_eq!(reasons, ["token-mismatch", "token-mismatch", "null-sender", "auto-submitted"], "[{bt}]");
        let notices = app.store.pending_notices().await.unwrap();
        assert!(notices.is_empty(), "[{bt}] the one notice went out: {notices:?}");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM messages").await, 1, "[{bt}] nothing held was posted");

        let ooo_id = held[3].id;
        let space = app.store.require_space("eng").await.unwrap();
        let mut tx = app.store.begin().await.unwrap();
        assert!(tx.release(ooo_id).await.unwrap());
        tx.commit().await.unwrap();
        let raw = app.store.quarantined_one(ooo_id).await.unwrap();
        assert!(raw.is_none(), "released mail is no longer held");
        let (_, raw, rcpt): (i64, Vec<u8>, String) =
            sqlx::query_as(&format!("SELECT id, raw, rcpt_to FROM inbound WHERE id = {ooo_id}")).fetch_one(app.store.pool()).await.unwrap();
        let rcpt: Vec<String> = serde_json::from_str(&rcpt).unwrap();
        let stored = docket::ingest::process_logged(&app, &space, ooo_id, &docket::ingest::prepare(&raw), &rcpt, 0).await.unwrap();
        assert!(stored.is_some(), "[{bt}] released mail is processed normally");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM messages").await, 2);
    }
}

/// Issue 12: Anna answers Kenji's post with Reply-All, so her mail goes to Kenji's reply address
/// (first, alone, or beside the space address) and her own: every one of them is her post in the
/// thread, and the copies everyone gets show the space address, never somebody's token.
#[tokio::test]
async fn reply_all_through_another_members_token_is_a_post() {
    for mut t in support::backends().await {
        let sent = t.record();
        let (app, running) = setup(&t, |_| {}).await;
        let bt = t.backend;
        let space = app.store.require_space("eng").await.unwrap();
        for who in ["anna", "kenji"] {
            app.store.add_member(&space, &format!("{who}@example.org"), who, &MemberSettings::default(), 0).await.unwrap();
        }
        let mut c = session(&running.smtp).await;
        let root = Mail::new("root@example.org", "Launch").raw();
        assert!(c.send("alice@example.org", &["eng@docket.test"], &root).await.starts_with("250 2.0.0"));
        processed(&app, 1).await;
        let thread = app.store.threads(Some("eng"), None, 3).await.unwrap().remove(0);
        let mut address = HashMap::new();
        for who in ["anna", "kenji"] {
            let m = app.store.member(space.id, &format!("{who}@example.org")).await.unwrap().unwrap();
            let tok = token::sign(app.secret.bytes(), ReplySlot { thread_id: thread.id, member_id: m.id });
            address.insert(who, format!("eng+{tok}@docket.test"));
        }
        // Kenji answers from his copy: his To: is his own reply address.
        let kenji = String::from_utf8(Mail::new("k1@example.org", "Re: Launch").from("Kenji <kenji@example.org>").raw())
            .unwrap()
            .replace("To: team@docket.test", &format!("To: {}", address["kenji"]));
        assert!(c.send("kenji@example.org", &[address["kenji"].as_str()], kenji.as_bytes()).await.starts_with("250 2.0.0"));
        processed(&app, 2).await;
        let envelopes: [Vec<&str>; 3] = [
            vec![address["kenji"].as_str(), address["anna"].as_str()],
            vec![address["kenji"].as_str()],
            vec!["eng@docket.test", address["kenji"].as_str()],
        ];
        for (i, to) in envelopes.iter().enumerate() {
            let m = Mail::new(&format!("a{i}@example.org"), "Re: Launch").from("Anna <anna@example.org>").body("Sounds good.\n").raw();
            let r = c.send("anna@example.org", to, &m).await;
            assert!(r.starts_with("250 2.0.0"), "[{bt}] {to:?}: {r}");
        }
        processed(&app, 5).await;
        running.stop().await;
        assert!(app.store.quarantined(None).await.unwrap().is_empty(), "[{bt}] nothing held");
        let threads = app.store.threads(Some("eng"), None, 3).await.unwrap();
        assert_eq!(threads.len(), 1, "[{bt}] every reply is in the thread: {threads:?}");
        docket::tick::tick(&app, t0()).await.unwrap();
        let copies: Vec<support::Sent> = sent.all().into_iter().filter(|s| s.kind() == "fanout").collect();
        let of_kenji: Vec<&support::Sent> = copies.iter().filter(|s| s.raw.contains("<k1@example.org>")).collect();
        assert_eq!(of_kenji.len(), 2, "[{bt}] alice and anna get kenji's post");
        for copy in &copies {
            let (to, cc) = (copy.header("To").unwrap_or_default(), copy.header("Cc").unwrap_or_default());
            assert!(!to.contains('+') && !cc.contains('+'), "[{bt}] a token in To/Cc of the copy for {}: {to} / {cc}", copy.to);
        }
        assert_eq!(of_kenji[0].header("To").as_deref(), Some("eng@docket.test"));
    }
}

#[tokio::test]
async fn a_failing_store_answers_451_and_loses_nothing() {
    for t in support::backends().await {
        let (app, running) = setup(&t, |_| {}).await;
        let bt = t.backend;
        // Every insert into the raw log fails inside the transaction, as a broken disk would.
        let (create, drop): (&[&str], &[&str]) = if bt == "sqlite" {
            (&["CREATE TRIGGER broken BEFORE INSERT ON inbound BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"], &["DROP TRIGGER broken"])
        } else {
            (
                &[
                    "CREATE FUNCTION broken() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql",
                    "CREATE TRIGGER broken BEFORE INSERT ON inbound FOR EACH ROW EXECUTE FUNCTION broken()",
                ],
                &["DROP TRIGGER broken ON inbound", "DROP FUNCTION broken()"],
            )
        };
        for sql in create {
            sqlx::query(sql).execute(app.store.pool()).await.unwrap();
        }
        let mut c = session(&running.smtp).await;
        let m = Mail::new("keep@example.org", "keep me").raw();
        let r = c.send("alice@example.org", &["eng@docket.test"], &m).await;
        assert!(r.starts_with("451 4.3.0"), "[{bt}] {r}");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound").await, 0);
        for sql in drop {
            sqlx::query(sql).execute(app.store.pool()).await.unwrap();
        }
        // The sender retries (as every MTA does after a 4xx) and it is stored, once.
        assert!(c.send("alice@example.org", &["eng@docket.test"], &m).await.starts_with("250"));
        processed(&app, 1).await;
        running.stop().await;
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound").await, 1);
    }
}

#[tokio::test]
async fn lmtp_answers_per_recipient_on_a_unix_socket() {
    let t = support::sqlite().await;
    let sock = t.dir.path().join("lmtp.sock");
    let (app, running) = setup(&t, |c| c.lmtp.listen = Some(format!("unix:{}", sock.display()))).await;
    app.store.add_space("ops", "Ops", 0).await.unwrap();
    assert_eq!(running.lmtp.as_deref(), Some(format!("unix:{}", sock.display()).as_str()));
    let stream = tokio::net::UnixStream::connect(&sock).await.unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut lines = Vec::new();
    w.write_all(
        b"LHLO mta.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<eng@docket.test>\r\nRCPT TO:<ops@docket.test>\r\nDATA\r\n",
    )
    .await
    .unwrap();
    let m = Mail::new("l@example.org", "via lmtp").raw();
    w.write_all(&m).await.unwrap();
    w.write_all(b"\r\n.\r\nQUIT\r\n").await.unwrap();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.unwrap() == 0 {
            break;
        }
        if line.as_bytes()[3] == b' ' {
            lines.push(line[..9].to_string());
        }
    }
    // alice is a member of eng, not of ops: one reply per recipient (RFC 2033 §4.2)
    assert_eq!(
        lines,
        ["220 docke", "250 ENHAN", "250 2.1.0", "250 2.1.5", "250 2.1.5", "354 end d", "250 2.0.0", "550 5.7.1", "221 2.0.0"]
    );
    running.stop().await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound WHERE source = 'lmtp'").await, 1);
}

#[tokio::test]
async fn starttls_with_a_configured_certificate() {
    let t = support::sqlite().await;
    let cert = rcgen::generate_simple_self_signed(vec![DOMAIN.to_string()]).unwrap();
    let (cert_path, key_path) = (t.dir.path().join("cert.pem"), t.dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let (app, running) = setup(&t, |c| {
        c.smtp.tls_cert = Some(cert_path.clone());
        c.smtp.tls_key = Some(key_path.clone());
    })
    .await;
    let port: u16 = running.smtp.rsplit_once(':').unwrap().1.parse().unwrap();
    let root = lettre::transport::smtp::client::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let tls = lettre::transport::smtp::client::TlsParameters::builder(DOMAIN.into()).add_root_certificate(root).build_rustls().unwrap();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .tls(lettre::transport::smtp::client::Tls::Required(tls))
        .build();
    let m = Mail::new("tls@example.org", "secret plans").raw();
    let r = mailer.send_raw(&envelope("alice@example.org", "eng@docket.test"), &m).await.unwrap();
    assert!(r.is_positive());
    processed(&app, 1).await;
    running.stop().await;
}

#[tokio::test]
async fn limits_timeouts_and_a_graceful_stop() {
    let t = support::sqlite().await;
    let (app, running) = setup(&t, |c| {
        c.smtp.max_connections = 2;
        c.smtp.timeout = Duration::from_secs(1);
    })
    .await;
    let mut a = session(&running.smtp).await;
    let mut b = session(&running.smtp).await;
    let (_, busy) = Client::connect(&running.smtp).await;
    assert!(busy.starts_with("421 4.3.2"), "{busy}");
    // An idle session is closed after smtp.timeout: waiting for the reply is waiting for that.
    assert!(a.reply().await.starts_with("421 4.4.2"));
    assert!(b.reply().await.starts_with("421 4.4.2"));
    // The commands address takes mail (answered by the outbound worker).
    let mut c = session_when_free(&running.smtp).await;
    let help = Mail::new("cmd@example.org", "help").raw();
    assert!(c.send("alice@example.org", &["docket@docket.test"], &help).await.starts_with("250"));
    // Mid-transaction at stop: the transaction finishes, then the session is told 421.
    assert!(c.cmd("MAIL FROM:<alice@example.org>").await.starts_with("250"));
    let addr = running.smtp.clone();
    let stopping = tokio::spawn(running.stop());
    // The stop has begun once the door no longer takes connections.
    until("the SMTP door to close", || async { TcpStream::connect(&addr).await.is_err() }).await;
    assert!(c.cmd("RCPT TO:<eng@docket.test>").await.starts_with("250"));
    assert!(c.cmd("DATA").await.starts_with("354"));
    c.write.write_all(&Mail::new("last@example.org", "last one").raw()).await.unwrap();
    c.write.write_all(b"\r\n.\r\n").await.unwrap();
    assert!(c.reply().await.starts_with("250 2.0.0"));
    assert!(c.reply().await.starts_with("421 4.3.2"));
    stopping.await.unwrap();
    assert_eq!(app.store.command_mail().await.unwrap().len(), 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM messages").await, 1, "flushed before stop returned");
}

/// `security.require_dkim`: a member's mail needs a passing DKIM signature of its From domain
/// (mail-auth verifies it; the key is served from the DNS cache, so no test touches DNS).
#[tokio::test]
async fn require_dkim_refuses_unsigned_forged_and_tampered_mail() {
    use mail_auth::common::crypto::Ed25519Key;
    use mail_auth::common::headers::HeaderWriter;
    use mail_auth::dkim::DkimSigner;
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pair.serialize_der()).unwrap();
    let record = format!("v=DKIM1; k=ed25519; p={}", data_encoding::BASE64.encode(pair.public_key_raw()));
    let signer = DkimSigner::from_key(key).domain("example.org").selector("s1").headers(["From", "To", "Subject", "Date", "Message-ID"]);
    let sign = |raw: Vec<u8>| {
        let signature = signer.sign(&raw).unwrap();
        let mut signed = signature.to_header().into_bytes();
        signed.extend_from_slice(&raw);
        signed
    };
    for t in support::backends().await {
        let (app, running) = setup(&t, |c| c.security.require_dkim = true).await;
        let until = std::time::Instant::now() + Duration::from_secs(3600);
        app.dkim.keys().add_key("s1._domainkey.example.org", &record, until).unwrap();
        let bt = t.backend;
        let mut c = session(&running.smtp).await;
        let signed = sign(Mail::new("signed@example.org", "signed").raw());
        let r = c.send("alice@example.org", &["eng@docket.test"], &signed).await;
        assert!(r.starts_with("250 2.0.0"), "[{bt}] {r}");
        let unsigned = Mail::new("unsigned@example.org", "unsigned").raw();
        let r = c.send("alice@example.org", &["eng@docket.test"], &unsigned).await;
        assert!(r.starts_with("550 5.7.20") && r.contains("no DKIM signature from example.org"), "[{bt}] {r}");
        let mut tampered = sign(Mail::new("tampered@example.org", "tampered").raw());
        let at = tampered.len() - 4;
        tampered[at] ^= 1;
        let r = c.send("alice@example.org", &["eng@docket.test"], &tampered).await;
        assert!(r.starts_with("550 5.7.20"), "[{bt}] {r}");
        // Signed by a domain that is not the From domain: not aligned.
        let other = sign(Mail::new("other@example.org", "other").from("Alice <alice@elsewhere.test>").raw());
        let r = c.send("alice@example.org", &["eng@docket.test"], &other).await;
        assert!(r.starts_with("550 5.7.20"), "[{bt}] {r}");
        assert!(c.cmd("QUIT").await.starts_with("221"));
        processed(&app, 1).await;
        running.stop().await;
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound").await, 1, "[{bt}] only the signed message is stored");
    }
}

/// Behind an MTA that verifies DKIM itself, its Authentication-Results (for the configured
/// authserv-id only) decide, for the pipe as for SMTP; forged results of other hosts count for nothing.
#[tokio::test]
async fn require_dkim_trusts_the_configured_authserv_id() {
    for t in support::backends().await {
        let app = serving(&t, |c| {
            c.security.require_dkim = true;
            c.security.trusted_authserv_id = Some("mx.team.test".into());
        });
        let space = app.store.add_space("eng", "Engineering", t0().timestamp()).await.unwrap();
        app.store.add_member(&space, "alice@example.org", "alice", &MemberSettings::default(), 0).await.unwrap();
        let bt = t.backend;
        let pipe = |raw: Vec<u8>| {
            let app = app.clone();
            async move {
                let envelope = docket::ingest::Envelope { mail_from: Some("alice@example.org".into()), rcpt_to: vec![] };
                docket::ingest::pipe::ingest(&app, raw, Some("eng"), envelope).await
            }
        };
        let with = |id: &str, results: &str| {
            let mut m = Mail::new(id, "auth");
            m.extra.push(format!("Authentication-Results: {results}"));
            m.raw()
        };
        let ok = pipe(with("a1@example.org", "mx.team.test; dkim=pass header.d=example.org; spf=pass")).await.unwrap();
        assert!(matches!(ok, docket::ingest::Outcome::Stored(_)), "[{bt}] {ok:?}");
        let forged = pipe(with("a2@example.org", "evil.test; dkim=pass header.d=example.org")).await.unwrap();
        assert!(
            matches!(&forged, docket::ingest::Outcome::Quarantined { reason, .. } if reason.contains("reported no DKIM result")),
            "[{bt}] {forged:?}"
        );
        let failed = pipe(with("a3@example.org", "mx.team.test; dkim=fail header.d=example.org")).await.unwrap();
        assert!(matches!(failed, docket::ingest::Outcome::Quarantined { .. }), "[{bt}] {failed:?}");
        let temp = pipe(with("a4@example.org", "mx.team.test; dkim=temperror header.d=example.org")).await.unwrap_err();
        assert_eq!(temp.exit_code(), 75, "[{bt}] the MTA keeps it and retries");
    }
}

/// An Ed25519 DKIM key for `domain` (selector `s1`): its DNS record, and a signer of raw messages.
fn dkim_signer(domain: &str) -> (String, impl Fn(Vec<u8>) -> Vec<u8>) {
    use mail_auth::common::crypto::Ed25519Key;
    use mail_auth::common::headers::HeaderWriter;
    use mail_auth::dkim::DkimSigner;
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pair.serialize_der()).unwrap();
    let record = format!("v=DKIM1; k=ed25519; p={}", data_encoding::BASE64.encode(pair.public_key_raw()));
    let signer = DkimSigner::from_key(key).domain(domain).selector("s1").headers(["From", "To", "Subject", "Date", "Message-ID"]);
    let sign = move |raw: Vec<u8>| {
        let mut signed = signer.sign(&raw).unwrap().to_header().into_bytes();
        signed.extend_from_slice(&raw);
        signed
    };
    (record, sign)
}

/// The test domains' DMARC records (and example.org's DKIM key), in the verifier's DNS cache.
fn publish_dmarc(app: &App, dkim_record: &str) {
    let until = std::time::Instant::now() + Duration::from_secs(3600);
    let dns = app.dkim.keys();
    dns.add_record("_dmarc.example.org", "v=DMARC1; p=reject", until).unwrap();
    dns.add_record("_dmarc.held.test", "v=DMARC1; p=quarantine", until).unwrap();
    dns.add_record("_dmarc.relaxed.test", "v=DMARC1; p=none", until).unwrap();
    dns.add_failure("_dmarc.flaky.test", until);
    dns.add_record("s1._domainkey.example.org", dkim_record, until).unwrap();
}

/// Issue 11 (Header-From spoofing): `security.dmarc`, on by default. The From domain's DMARC policy
/// decides what mail that is not aligned with it gets: refused for p=reject, held for
/// p=quarantine; aligned mail (DKIM, or SPF for the SMTP client), replies through a valid reply
/// token and domains with p=none post. DNS answers come from the verifier's cache.
#[tokio::test]
async fn dmarc_policy_of_the_from_domain_decides_unaligned_mail() {
    let (record, sign) = dkim_signer("example.org");
    for t in support::backends().await {
        let (app, running) = setup(&t, |_| {}).await;
        let space = app.store.require_space("eng").await.unwrap();
        for (email, handle) in [("bob@held.test", "bob"), ("carol@relaxed.test", "carol"), ("dave@flaky.test", "dave")] {
            app.store.add_member(&space, email, handle, &MemberSettings::default(), 0).await.unwrap();
        }
        publish_dmarc(&app, &record);
        let bt = t.backend;
        let mut c = session(&running.smtp).await;
        // A stranger's server puts a member's address in From and records a decision in her name.
        let spoofed = Mail::new("spoof@evil.test", "Plan").from("Alice <alice@example.org>").body("#decision ship it\n").raw();
        let r = c.send("mallory@evil.test", &["eng@docket.test"], &spoofed).await;
        assert!(r.starts_with("550 5.7.26") && r.contains("example.org") && r.contains("p=reject"), "[{bt}] {r}");
        let signed = sign(Mail::new("signed@example.org", "signed").raw());
        let r = c.send("alice@example.org", &["eng@docket.test"], &signed).await;
        assert!(r.starts_with("250 2.0.0"), "[{bt}] aligned DKIM signature: {r}");
        processed(&app, 1).await;
        // A reply through alice's reply address, unsigned: the token proves the thread.
        let thread = app.store.threads(Some("eng"), None, 3).await.unwrap().remove(0);
        let alice = app.store.member(space.id, "alice@example.org").await.unwrap().unwrap();
        let tok = token::sign(app.secret.bytes(), ReplySlot { thread_id: thread.id, member_id: alice.id });
        let reply = Mail::new("reply@example.org", "Re: signed").reply_to("signed@example.org").raw();
        let r = c.send("alice@example.org", &[&format!("eng+{tok}@docket.test")], &reply).await;
        assert!(r.starts_with("250 2.0.0"), "[{bt}] reply through a valid token: {r}");
        let held = Mail::new("held@held.test", "held").from("Bob <bob@held.test>").raw();
        let r = c.send("bob@held.test", &["eng@docket.test"], &held).await;
        assert!(r.starts_with("250 2.6.0") && r.contains("p=quarantine"), "[{bt}] {r}");
        let relaxed = Mail::new("relaxed@relaxed.test", "relaxed").from("Carol <carol@relaxed.test>").raw();
        let r = c.send("carol@relaxed.test", &["eng@docket.test"], &relaxed).await;
        assert!(r.starts_with("250 2.0.0"), "[{bt}] p=none: {r}");
        let flaky = Mail::new("flaky@flaky.test", "flaky").from("Dave <dave@flaky.test>").raw();
        let r = c.send("dave@flaky.test", &["eng@docket.test"], &flaky).await;
        assert!(r.starts_with("451 4.4.3"), "[{bt}] DNS failure: {r}");
        // SPF: example.org names the client's address, so its envelope senders are aligned ...
        let until = std::time::Instant::now() + Duration::from_secs(3600);
        app.dkim.keys().add_record("example.org", "v=spf1 ip4:127.0.0.1 -all", until).unwrap();
        let via_spf = Mail::new("spf@example.org", "spf").raw();
        let r = c.send("alice@example.org", &["eng@docket.test"], &via_spf).await;
        assert!(r.starts_with("250 2.0.0"), "[{bt}] SPF-aligned: {r}");
        // ... but an envelope sender of another domain is not.
        let other = Mail::new("spf2@example.org", "spf2").raw();
        let r = c.send("mallory@evil.test", &["eng@docket.test"], &other).await;
        assert!(r.starts_with("550 5.7.26"), "[{bt}] {r}");
        assert!(c.cmd("QUIT").await.starts_with("221"));
        processed(&app, 4).await;
        running.stop().await;
        let quarantined = app.store.quarantined(None).await.unwrap();
        assert_eq!(quarantined.iter().map(|q| q.reason.as_str()).collect::<Vec<_>>(), ["dmarc"], "[{bt}]");
        assert!(quarantined[0].detail.contains("held.test"), "[{bt}] {:?}", quarantined[0]);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound").await, 5, "[{bt}] nothing refused is stored");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM messages").await, 4, "[{bt}]");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM decisions").await, 0, "[{bt}] no decision in alice's name");
    }
}

/// Behind LMTP the connecting host is the MTA in front: SPF is not judged on its address, so an
/// SPF record naming that address aligns SMTP mail but not LMTP mail.
#[tokio::test]
async fn dmarc_behind_lmtp_ignores_the_mtas_address() {
    let (record, _) = dkim_signer("example.org");
    let t = support::sqlite().await;
    let (app, running) = setup(&t, |c| c.lmtp.listen = Some("127.0.0.1:0".into())).await;
    publish_dmarc(&app, &record);
    let until = std::time::Instant::now() + Duration::from_secs(3600);
    app.dkim.keys().add_record("example.org", "v=spf1 ip4:127.0.0.1 -all", until).unwrap();
    let (mut lmtp, greeting) = Client::connect(running.lmtp.as_deref().unwrap()).await;
    assert!(greeting.contains("LMTP"), "{greeting}");
    assert!(lmtp.cmd("LHLO mta.docket.test").await.starts_with("250 "));
    let r = lmtp.send("alice@example.org", &["eng@docket.test"], &Mail::new("l1@example.org", "via lmtp").raw()).await;
    assert!(r.starts_with("550 5.7.26"), "{r}");
    let mut smtp = session(&running.smtp).await;
    let r = smtp.send("alice@example.org", &["eng@docket.test"], &Mail::new("s1@example.org", "via smtp").raw()).await;
    assert!(r.starts_with("250 2.0.0"), "{r}");
    running.stop().await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound").await, 1);
}

/// The pipe has no client address (no SPF): it quarantines what SMTP refuses, exits 75 when DNS
/// fails, and lets a reply through a valid token pass; behind a trusted MTA its
/// Authentication-Results decide alignment.
#[tokio::test]
async fn dmarc_through_the_pipe() {
    let (record, _) = dkim_signer("example.org");
    for t in support::backends().await {
        let app = serving(&t, |_| {});
        let space = app.store.add_space("eng", "Engineering", t0().timestamp()).await.unwrap();
        let alice = app.store.add_member(&space, "alice@example.org", "alice", &MemberSettings::default(), 0).await.unwrap();
        app.store.add_member(&space, "dave@flaky.test", "dave", &MemberSettings::default(), 0).await.unwrap();
        publish_dmarc(&app, &record);
        let bt = t.backend;
        let pipe = |app: &App, raw: Vec<u8>, rcpt: &str| {
            let app = app.clone();
            let envelope = docket::ingest::Envelope { mail_from: Some("alice@example.org".into()), rcpt_to: vec![rcpt.to_string()] };
            async move { docket::ingest::pipe::ingest(&app, raw, None, envelope).await }
        };
        let spoofed = pipe(&app, Mail::new("p1@example.org", "spoofed").raw(), "eng@docket.test").await.unwrap();
        assert!(
            matches!(&spoofed, docket::ingest::Outcome::Quarantined { reason, .. } if reason.contains("p=reject")),
            "[{bt}] {spoofed:?}"
        );
        let flaky = Mail::new("p2@flaky.test", "flaky").from("dave@flaky.test").raw();
        assert_eq!(pipe(&app, flaky, "eng@docket.test").await.unwrap_err().exit_code(), 75, "[{bt}]");
        // Through a valid reply token it stands (the thread it names need not exist for that).
        let tok = token::sign(app.secret.bytes(), ReplySlot { thread_id: 1, member_id: alice.id });
        let reply = pipe(&app, Mail::new("p4@example.org", "Re: x").raw(), &format!("eng+{tok}@docket.test")).await.unwrap();
        assert!(matches!(reply, docket::ingest::Outcome::Stored(_)), "[{bt}] {reply:?}");
        // With the sending host from the MTA (`--client-address`, `--helo`), SPF counts as at the SMTP door.
        let until = std::time::Instant::now() + Duration::from_secs(3600);
        app.dkim.keys().add_record("example.org", "v=spf1 ip4:192.0.2.7 -all", until).unwrap();
        for (ip, posted) in [("192.0.2.7", true), ("192.0.2.8", false)] {
            let client = docket::ingest::auth::Client {
                ip: Some(ip.parse().unwrap()),
                helo: Some("mx.example.org".into()),
                mail_from: Some("alice@example.org".into()),
            };
            let envelope =
                docket::ingest::Envelope { mail_from: Some("alice@example.org".into()), rcpt_to: vec!["eng@docket.test".into()] };
            let raw = Mail::new(&format!("spf-{ip}@example.org"), "spf").raw();
            let got = docket::ingest::pipe::ingest_from(&app, raw, None, envelope, client).await.unwrap();
            assert_eq!(matches!(got, docket::ingest::Outcome::Stored(_)), posted, "[{bt}] {ip}: {got:?}");
        }
        app.dkim.keys().add_missing("example.org", until);

        let trusting = App {
            config: Arc::new({
                let mut c = (*app.config).clone();
                c.security.trusted_authserv_id = Some("mx.team.test".into());
                c
            }),
            ..app.clone()
        };
        let with = |id: &str, results: &str| {
            let mut m = Mail::new(id, "auth");
            m.extra.push(format!("Authentication-Results: {results}"));
            m.raw()
        };
        for (id, results, posted) in [
            ("a1@example.org", "mx.team.test; dkim=pass header.d=example.org", true),
            ("a2@example.org", "mx.team.test; spf=pass smtp.mailfrom=alice@example.org", true),
            ("a3@example.org", "mx.team.test; dmarc=pass header.from=example.org", true),
            ("a4@example.org", "evil.test; dmarc=pass header.from=example.org", false),
            ("a5@example.org", "mx.team.test; dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=x@evil.test", false),
        ] {
            let got = pipe(&trusting, with(id, results), "eng@docket.test").await.unwrap();
            let stored = matches!(got, docket::ingest::Outcome::Stored(_));
            assert_eq!(stored, posted, "[{bt}] {results}: {got:?}");
        }
    }
}

/// Connects until a session gets its greeting (the slot of a dropped client is free again);
/// false when every attempt for ~20 s was turned away.
async fn greeted_eventually(addr: &str) -> bool {
    for _ in 0..200 {
        let (_, greeting) = Client::connect(addr).await;
        if greeting.starts_with("220 ") {
            return true;
        }
        assert!(greeting.starts_with("421 4.3.2"), "{greeting}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Issue 11: a client that says STARTTLS and then never starts the handshake is dropped after
/// smtp.timeout, and its slot takes the next client.
#[tokio::test]
async fn issue_11_starttls_then_stall_frees_the_slot() {
    let t = support::sqlite().await;
    let cert = rcgen::generate_simple_self_signed(vec![DOMAIN.to_string()]).unwrap();
    let (cert_path, key_path) = (t.dir.path().join("cert.pem"), t.dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let (_app, running) = setup(&t, |c| {
        c.smtp.tls_cert = Some(cert_path.clone());
        c.smtp.tls_key = Some(key_path.clone());
        c.smtp.max_connections = 1;
        c.smtp.timeout = Duration::from_millis(500);
    })
    .await;
    let mut staller = session(&running.smtp).await;
    assert!(staller.cmd("STARTTLS").await.starts_with("220 2.0.0"));
    assert!(greeted_eventually(&running.smtp).await, "the stalled handshake kept the only slot");
    assert_eq!(staller.reply().await, "<closed>");
    running.stop().await;
}

/// Issue 11: a client that sends commands and never reads the replies is dropped once a write
/// has waited smtp.timeout, instead of pinning its task and slot.
#[tokio::test]
async fn issue_11_a_client_that_never_reads_is_dropped() {
    let t = support::sqlite().await;
    let (_app, running) = setup(&t, |c| {
        c.smtp.max_connections = 1;
        c.smtp.timeout = Duration::from_millis(500);
    })
    .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(running.smtp.parse().unwrap()).await.unwrap();
    let (_unread, mut write) = stream.into_split();
    // Each EHLO line is answered with ~150 bytes: the replies fill both socket buffers fast.
    let flood = tokio::spawn(async move {
        let lines = "EHLO flood.example.org\r\n".repeat(1000);
        while write.write_all(lines.as_bytes()).await.is_ok() {}
    });
    assert!(greeted_eventually(&running.smtp).await, "the client that never reads kept the only slot");
    flood.abort();
    running.stop().await;
}

/// Issue 11: smtp.session_timeout ends a session that keeps talking, well before the old limit
/// of 6 × smtp.timeout.
#[tokio::test]
async fn issue_11_session_timeout_ends_an_active_session() {
    let t = support::sqlite().await;
    let (_app, running) = setup(&t, |c| {
        c.smtp.timeout = Duration::from_secs(10);
        c.smtp.session_timeout = Duration::from_secs(1);
    })
    .await;
    let mut c = session(&running.smtp).await;
    let mut last = String::new();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = c.cmd("NOOP").await;
        if !last.starts_with("250") {
            break;
        }
    }
    assert!(last.starts_with("421 4.4.2") && last.contains("session too long"), "{last}");
    running.stop().await;
}

/// Issue 11: refused recipients count as errors, so guessing addresses ends the session (421)
/// after the error limit instead of answering 550 forever.
#[tokio::test]
async fn issue_11_unknown_recipients_end_the_session() {
    let t = support::sqlite().await;
    let (_app, running) = setup(&t, |_| {}).await;
    let mut c = session(&running.smtp).await;
    assert!(c.cmd("MAIL FROM:<prober@example.org>").await.starts_with("250"));
    let mut refused = 0;
    let mut last = String::new();
    for i in 0..10_000 {
        last = c.cmd(&format!("RCPT TO:<guess{i}@docket.test>")).await;
        if !last.starts_with("550 5.1.1") {
            break;
        }
        refused += 1;
    }
    assert!(last.starts_with("421 4.7.0"), "after {refused} refusals: {last}");
    assert_eq!(refused, docket::ingest::session::MAX_ERRORS, "the last refusal is followed by the 421");
    assert_eq!(c.reply().await, "<closed>");
    running.stop().await;
}

/// Issue 11: message data in flight shares smtp.memory_budget; a message that does not fit is
/// answered 452 4.3.1 after its end of data, and the budget is free again once the others end.
#[tokio::test]
async fn issue_11_memory_budget_refuses_then_releases() {
    let t = support::sqlite().await;
    let (app, running) = setup(&t, |c| c.smtp.memory_budget = 300_000).await;
    let body = |n: usize| {
        let mut m = Mail::new("alice@example.org", "big").raw();
        m.extend_from_slice("x".repeat(76).as_bytes());
        for _ in 0..n / 78 {
            m.extend_from_slice(b"\r\n");
            m.extend_from_slice("y".repeat(76).as_bytes());
        }
        m
    };
    // a holds 90 KB of an unfinished message.
    let mut a = session(&running.smtp).await;
    assert!(a.cmd("MAIL FROM:<alice@example.org>").await.starts_with("250"));
    assert!(a.cmd("RCPT TO:<eng@docket.test>").await.starts_with("250"));
    assert!(a.cmd("DATA").await.starts_with("354"));
    a.write.write_all(&body(90_000)).await.unwrap();
    let mut b = session(&running.smtp).await;
    // The server has read what a sent once a's share of the budget holds it.
    until("the server to hold a's 90 KB", || async { running.memory_in_use() >= 90_000 }).await;
    // b's 250 KB do not fit beside a's 90 KB.
    let refused = b.send("alice@example.org", &["eng@docket.test"], &body(250_000)).await;
    assert!(refused.starts_with("452 4.3.1"), "{refused}");
    a.write.write_all(b"\r\n.\r\n").await.unwrap();
    assert!(a.reply().await.starts_with("250 2.0.0"));
    // a's share is given back: b's next message fits (storing needs about 3 × its size).
    let retried = b.send("alice@example.org", &["eng@docket.test"], &body(50_000)).await;
    assert!(retried.starts_with("250 2.0.0"), "{retried}");
    processed(&app, 2).await;
    running.stop().await;
}
