//! The inbound pipeline end to end on every backend: threading policy, idempotency, bad input and
//! crash recovery, through `ingest::accept` as the pipe and the servers call it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::ingest::{IngestError, Outcome};
use support::{Mail, backends};

#[tokio::test]
async fn replies_join_their_parent_and_new_subjects_start_threads() {
    for t in backends().await {
        let s = t.space("eng").await;
        let root = t.thread_of(&Mail::new("r@x", "Launch plan").raw(), &s).await;
        let reply = t.thread_of(&Mail::new("a@x", "Re: Launch plan").reply_to("r@x").raw(), &s).await;
        let deep = t.thread_of(&Mail::new("b@x", "Re: Re: Launch plan").refs(&["r@x", "a@x"]).raw(), &s).await;
        let other = t.thread_of(&Mail::new("o@x", "Launch plan").raw(), &s).await;
        assert_eq!((reply, deep), (root, root), "[{}]", t.backend);
        assert_ne!(other, root, "[{}] a non-reply with the same subject starts a new thread", t.backend);
        let view = t.app.store.thread(root, 3).await.unwrap();
        assert_eq!(view.message_count, 3);
        assert_eq!(view.subject, "Launch plan");
    }
}

#[tokio::test]
async fn a_late_parent_joins_its_children() {
    for t in backends().await {
        let s = t.space("eng").await;
        // Two replies to a root we have not seen, each naming only the root: JWZ puts them together.
        let c1 = t.thread_of(&Mail::new("c1@x", "Re: Budget").reply_to("root@x").date("Tue, 24 Nov 2026 10:00:00 +0000").raw(), &s).await;
        let c2 = t.thread_of(&Mail::new("c2@x", "Re: Budget").reply_to("root@x").date("Tue, 24 Nov 2026 11:00:00 +0000").raw(), &s).await;
        assert_eq!(c1, c2, "[{}] siblings of an unknown parent share a thread", t.backend);
        // A grandchild whose References name only its own parent, and a separate thread for it.
        let g = t.thread_of(&Mail::new("g@x", "Other words").reply_to("mid@x").raw(), &s).await;
        assert_ne!(g, c1);
        // The missing middle message links both: it names root@x and is named by g@x.
        let mid = t.thread_of(&Mail::new("mid@x", "Re: Budget").reply_to("root@x").raw(), &s).await;
        let root = t.thread_of(&Mail::new("root@x", "Budget").date("Tue, 24 Nov 2026 07:00:00 +0000").raw(), &s).await;
        assert_eq!(mid, root);
        let threads = t.app.store.threads(Some(&s), None, 3).await.unwrap();
        assert_eq!(threads.len(), 1, "[{}] everything folded into one thread: {threads:?}", t.backend);
        assert_eq!(threads[0].message_count, 5);
        assert_eq!(threads[0].subject, "Budget", "the late root names the thread");
        assert_eq!(threads[0].started_at.to_rfc3339(), "2026-11-24T07:00:00+00:00");
    }
}

#[tokio::test]
async fn subject_threading_only_for_replies_with_unknown_parents_in_the_same_space() {
    for t in backends().await {
        let eng = t.space("eng").await;
        let ops = t.space("ops").await;
        let root = t.thread_of(&Mail::new("s1@x", "Offsite dates").raw(), &eng).await;
        // A reply from a client that drops References: base subject (multilingual prefixes).
        assert_eq!(t.thread_of(&Mail::new("s2@x", "AW: Offsite dates").raw(), &eng).await, root);
        assert_eq!(t.thread_of(&Mail::new("s3@x", "回复：Offsite dates").raw(), &eng).await, root);
        assert_eq!(t.thread_of(&Mail::new("s4@x", "Re: [eng] offsite   DATES").raw(), &eng).await, root);
        // Another space never matches.
        assert_ne!(t.thread_of(&Mail::new("s5@x", "Re: Offsite dates").raw(), &ops).await, root);
        // A forward is not a reply.
        assert_ne!(t.thread_of(&Mail::new("s6@x", "Fwd: Offsite dates").raw(), &eng).await, root);
        // A reply whose parent is known goes by reference, whatever its subject.
        assert_eq!(t.thread_of(&Mail::new("s7@x", "Re: something else").reply_to("s1@x").raw(), &eng).await, root);
    }
}

#[tokio::test]
async fn the_same_message_is_stored_once() {
    for t in backends().await {
        let s = t.space("eng").await;
        let mail = Mail::new("dup@x", "Hello");
        assert!(matches!(t.ingest(&mail.raw(), &s).await, Outcome::Stored(_)));
        assert!(matches!(t.ingest(&mail.raw(), &s).await, Outcome::Duplicate { .. }), "[{}]", t.backend);
        // Relayed again by another hop: new trace headers, LF endings. Still the same message.
        let relayed =
            [b"Received: from relay2 by mx\n".as_slice(), &mail.raw().iter().copied().filter(|b| *b != b'\r').collect::<Vec<_>>()].concat();
        assert!(matches!(t.ingest(&relayed, &s).await, Outcome::Duplicate { .. }), "[{}]", t.backend);
        // No Message-ID: the same bytes are the same message.
        let anon = Mail::new("", "No id").no_id().raw();
        assert!(matches!(t.ingest(&anon, &s).await, Outcome::Stored(_)));
        assert!(matches!(t.ingest(&anon, &s).await, Outcome::Duplicate { .. }));
        // A reused Message-ID with other content is kept (flagged by being a second row), once.
        let reused = Mail::new("dup@x", "Hello").body("Entirely different text.\n").raw();
        assert!(matches!(t.ingest(&reused, &s).await, Outcome::Stored(_)), "[{}] a reused id must not lose mail", t.backend);
        assert!(matches!(t.ingest(&reused, &s).await, Outcome::Duplicate { .. }));
        let counts = t.app.store.counts().await.unwrap();
        assert!(counts.contains(&("messages".to_string(), 3)), "[{}] {counts:?}", t.backend);
    }
}

#[tokio::test]
async fn malformed_mail_is_stored_and_flagged() {
    for t in backends().await {
        let s = t.space("eng").await;
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("truncated headers", b"From: a@x\r\nSubject: cut off mid-hea".to_vec(), "no_date"),
            ("no message-id", Mail::new("", "x").no_id().raw(), "no_message_id"),
            (
                "8-bit header",
                b"From: J\xf6rg <j@x>\r\nSubject: Gr\xfc\xdfe\r\nMessage-ID: <8bit@x>\r\n\r\nbody\r\n".to_vec(),
                "eight_bit_headers",
            ),
            (
                "invalid charset",
                b"From: a@x\r\nMessage-ID: <cs@x>\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nhello \xff\xfe\r\n"
                    .to_vec(),
                "no_date",
            ),
        ];
        for (name, raw, flag) in cases {
            match t.try_ingest(&raw, &s).await {
                Ok(Outcome::Stored(m)) => assert!(m.flags.iter().any(|f| f.as_str() == flag), "[{}] {name}: {:?}", t.backend, m.flags),
                other => panic!("[{}] {name}: {other:?}", t.backend),
            }
        }
        assert!(matches!(t.try_ingest(b"", &s).await, Err(IngestError::Empty)));
        assert!(matches!(t.try_ingest(b"\r\n\r\n", &s).await, Err(IngestError::Empty)));
    }
}

#[tokio::test]
async fn deep_multiparts_and_large_attachments() {
    let t = support::sqlite().await;
    let s = t.space("eng").await;
    // 50 nested multiparts around one text part.
    let mut body = String::from("Content-Type: text/plain\r\n\r\ndeep hello\r\n");
    for depth in 0..50 {
        body = format!("Content-Type: multipart/mixed; boundary=\"b{depth}\"\r\n\r\n--b{depth}\r\n{body}\r\n--b{depth}--\r\n");
    }
    let raw = format!("From: a@x\r\nMessage-ID: <deep@x>\r\nSubject: deep\r\nMIME-Version: 1.0\r\n{body}");
    assert!(matches!(t.ingest(raw.as_bytes(), &s).await, Outcome::Stored(_)));

    // A 30 MB attachment (base64): stored, with its name, type and decoded size recorded.
    let payload = vec![b'A'; 30 * 1024 * 1024 / 4 * 3];
    let encoded = base64_lines(&payload);
    let raw = format!(
        "From: a@x\r\nMessage-ID: <big@x>\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--B\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n\
Content-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--B--\r\n"
    );
    assert!(raw.len() > 30_000_000);
    let Outcome::Stored(m) = t.ingest(raw.as_bytes(), &s).await else { panic!("not stored") };
    let view = t.app.store.thread(m.thread_id, 3).await.unwrap();
    let att = &view.messages.unwrap()[0].attachments[0];
    assert_eq!(
        (att.filename.as_deref(), att.content_type.as_str(), att.size),
        (Some("data.bin"), "application/octet-stream", payload.len() as i64)
    );
}

fn base64_lines(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len() * 4 / 3 + data.len() / 38);
    for (i, chunk) in data.chunks(3).enumerate() {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8) | u32::from(*chunk.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if i % 19 == 18 {
            out.push_str("\r\n");
        }
    }
    out
}

#[tokio::test]
async fn unknown_space_and_over_size_are_refused() {
    let t = support::sqlite().await;
    let err = t.try_ingest(&Mail::new("u@x", "x").raw(), "nope").await.unwrap_err();
    assert_eq!(err.exit_code(), 67);
    assert!(err.to_string().contains("docket space add nope"), "{err}");
    let s = t.space("eng").await;
    let huge = vec![b'x'; (t.app.config.smtp.max_message_bytes + 1) as usize];
    let err = t.try_ingest(&[b"From: a@x\r\n\r\n".as_slice(), &huge].concat(), &s).await.unwrap_err();
    assert_eq!(err.exit_code(), 65);
}

#[tokio::test]
async fn a_delivery_logged_before_a_crash_is_finished_by_recover() {
    for t in backends().await {
        let s = t.space("eng").await;
        let space = t.app.store.require_space(&s).await.unwrap();
        let raw = Mail::new("crash@x", "Crash test").raw();
        let prepared = docket::ingest::prepare(&raw);
        let msg = docket::ingest::InboundMessage { raw: raw.clone(), envelope: Default::default(), source: docket::ingest::Source::Smtp };
        let mut tx = t.app.store.begin().await.unwrap();
        tx.insert_inbound(&docket::ingest::inbound_row(&space, &prepared, &msg, "[]", 0)).await.unwrap();
        tx.commit().await.unwrap(); // the process "dies" here
        assert!(t.app.store.threads(Some(&s), None, 3).await.unwrap().is_empty());
        assert_eq!(docket::ingest::recover(&t.app).await.unwrap(), 1);
        let threads = t.app.store.threads(Some(&s), None, 3).await.unwrap();
        assert_eq!(threads.len(), 1, "[{}]", t.backend);
        assert_eq!(docket::ingest::recover(&t.app).await.unwrap(), 0, "recovered once");
        assert!(matches!(t.ingest(&raw, &s).await, Outcome::Duplicate { .. }));
    }
}

#[tokio::test]
async fn spaces_and_members() {
    use docket::space::MemberSettings;
    use docket::store::StoreError;
    for t in backends().await {
        let st = &t.app.store;
        let eng = st.add_space("eng", "Engineering", 0).await.unwrap();
        assert!(matches!(st.add_space("eng", "again", 0).await, Err(StoreError::Conflict(_))));
        let berlin = MemberSettings { tz: Some(chrono_tz::Europe::Berlin), ..Default::default() };
        st.add_member(&eng, "alice@x.org", "alice", &berlin, 0).await.unwrap();
        let err = st.add_member(&eng, "al@y.org", "alice", &MemberSettings::default(), 0).await.unwrap_err();
        assert!(err.to_string().contains("handle 'alice' is taken"), "{err}");
        let changed = MemberSettings { delivery: Some(docket::space::Delivery::Digest), ..Default::default() };
        let m = st.set_member(&eng, "alice@x.org", &changed).await.unwrap();
        assert_eq!((m.delivery.as_str(), m.tz.as_deref()), ("digest", Some("Europe/Berlin")), "[{}] unset flags stay", t.backend);
        st.remove_member(&eng, "alice@x.org").await.unwrap();
        assert!(matches!(st.remove_member(&eng, "alice@x.org").await, Err(StoreError::NotFound(_))));
    }
}

/// Issue 13: a stored message keeps no second copy of its bodies or Date header (they were written
/// and never read); the raw message in `inbound` stays the one source, and the visible text is kept.
#[tokio::test]
async fn messages_keep_no_copy_of_the_bodies() {
    for t in backends().await {
        t.space("eng").await;
        t.ingest(&Mail::new("b@x", "Bodies").body("Hello there.\n").raw(), "eng").await;
        let pool = t.app.store.pool();
        for column in ["text_body", "html_body", "date_header"] {
            let read = sqlx::query(&format!("SELECT {column} FROM messages")).fetch_all(pool).await;
            assert!(read.is_err(), "[{}] messages.{column} is still there", t.backend);
        }
        let (raw, visible): (Vec<u8>, String) =
            sqlx::query_as("SELECT i.raw, m.visible_text FROM messages m JOIN inbound i ON i.id = m.inbound_id")
                .fetch_one(pool)
                .await
                .unwrap();
        assert!(String::from_utf8_lossy(&raw).contains("Hello there."), "[{}]", t.backend);
        assert!(visible.contains("Hello there."), "[{}] {visible}", t.backend);
    }
}

/// Issue 15: what the visible text leaves out is stored with the message and read back with the
/// thread, so a reader can show the quoted text; the visible text is only the answer.
#[tokio::test]
async fn the_removed_quote_is_stored_with_the_message() {
    use docket::parse::reply::{Removed, RemovedKind};
    for t in backends().await {
        let s = t.space("eng").await;
        let body = "On Tue, Dec 3, 2024 at 8:02 AM Ravi <ravi@x.example> wrote:\n> Can someone own the notes?\n\nI will.\n\n-- \nJane\n";
        let thread = t.thread_of(&Mail::new("rm@x", "Re: notes").body(body).raw(), &s).await;
        let view = t.app.store.thread(thread, 3).await.unwrap();
        let m = &view.messages.as_ref().unwrap()[0];
        assert_eq!(m.visible_text, "I will.", "[{}]", t.backend);
        let want = [
            Removed { kind: RemovedKind::Attribution, text: "On Tue, Dec 3, 2024 at 8:02 AM Ravi <ravi@x.example> wrote:".into() },
            Removed { kind: RemovedKind::Quote, text: "> Can someone own the notes?".into() },
            Removed { kind: RemovedKind::Signature, text: "--\nJane".into() },
        ];
        assert_eq!(m.removed, want, "[{}]", t.backend);
    }
}
