//! Mail to the commands address (`docket@DOMAIN`) as an intake stage. Once the SMTP/LMTP intake
//! has committed it (`command_mail`, state `received`), each mail meets the DKIM check
//! (`security.require_dkim`), the DMARC check (`security.dmarc`) and the sender policy, its command is parsed (`parse`, pure) and
//! run (`answer`: mutes and unsubscribes change here), and what was asked and the reply owed are
//! recorded (state `pending`), or why nothing is owed (`ignored`: automata, loops, forgeries get
//! nothing, RFC 3834 §2). The outbound run only renders and queues the recorded reply.
//! A mail whose DKIM or DMARC check cannot run now stays `received`; the next tick looks at it again.

mod answer;
mod parse;

pub use answer::{Answer, answer, help};
pub use parse::{Command, Scope, parse};

use super::auth::Client;
use super::policy::{self, Facts, Reason, Verdict};
use crate::app::App;
use crate::parse::{mime, reply};
use crate::store::StoreError;
use crate::store::intake::CommandReply;

/// Decides every logged mail to the commands address not looked at yet; returns how many were
/// decided (a reply owed, or ignored).
pub async fn catch_up(app: &App) -> Result<usize, StoreError> {
    let mut decided = 0;
    for (id, raw, mail_from) in app.store.received_commands().await? {
        if decide(app, id, &raw, mail_from.as_deref()).await? {
            decided += 1;
        }
    }
    Ok(decided)
}

/// Decides the mail to the commands address the intake has just committed under `dedup_key`,
/// before the intake answers 250 (nothing to do when that mail was decided before: a
/// re-delivery). What fails here stays `received`, and the next tick looks at it again.
pub async fn after_commit(app: &App, dedup_key: &str) {
    let decided = match app.store.received_command(dedup_key).await {
        Ok(Some((id, raw, mail_from))) => decide(app, id, &raw, mail_from.as_deref()).await.map(|_| ()),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = decided {
        tracing::warn!(error = %e, "cannot look at mail to the commands address now; the next tick tries again");
    }
}

/// One mail: false when it stays `received` (its DKIM check cannot run now) or was decided by
/// another worker meanwhile.
async fn decide(app: &App, id: i64, raw: &[u8], mail_from: Option<&str>) -> Result<bool, StoreError> {
    let parsed = mime::parse(raw);
    // Commands meet the same sender checks as posts (`security.require_dkim`, `security.dmarc`):
    // a forged From must not mute or unsubscribe somebody. The client's address is not kept with
    // the mail, so DMARC aligns by DKIM here.
    let client = Client { ip: None, helo: None, mail_from: mail_from.map(str::to_string) };
    let verdicts = super::authenticate_sender(app, raw, &parsed, &client, false).await;
    let auth = verdicts.dkim;
    let facts = Facts {
        mail_from,
        parsed: &parsed,
        from_is_member: true,
        token_member: None,
        accept_from: crate::config::AcceptFrom::Anyone,
        domain: &app.config.server.domain,
        auth: auth.as_ref(),
    };
    let verdict = policy::judge(&facts, verdicts.dmarc.as_ref());
    if matches!(verdict, Verdict::Reject(Reason::AuthUnavailable(_))) {
        return Ok(false);
    }
    let sender = parsed.from.as_ref().map(|f| f.email.to_ascii_lowercase());
    let (Verdict::Accept, Some(sender)) = (&verdict, sender) else {
        let why = match verdict {
            Verdict::Quarantine(r) | Verdict::Reject(r) => r.describe(),
            Verdict::Accept => "no sender".into(),
        };
        let mut tx = app.store.begin().await?;
        let decided = tx.ignore_command(id, &why).await?;
        tx.commit().await?;
        return Ok(decided);
    };
    let visible = reply::visible_text(parsed.text.as_deref(), parsed.html.as_deref()).text;
    let command = parse(&parsed.subject, &visible);
    let answer = answer(app, &command, &sender, app.now().timestamp()).await?;
    let subject = if parsed.subject.is_empty() { command.name().to_string() } else { parsed.subject.clone() };
    let stranger = app.store.memberships(&sender).await?.is_empty();
    let owed = CommandReply {
        to: sender,
        subject: format!("Re: {}", crate::thread::base_subject(&subject).display),
        in_reply_to: parsed.message_id.clone(),
        title: answer.title,
        lines: answer.lines,
        send_digest: answer.send_digest,
        stranger,
    };
    let mut tx = app.store.begin().await?;
    let decided = tx.owe_command_reply(id, &command.to_string(), &owed).await?;
    tx.commit().await?;
    Ok(decided)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::app::App;
    use crate::config::Config;
    use crate::ingest::Source;
    use crate::ingest::budget::{Budget, Reservation};
    use crate::ingest::intake::{Intake, Rcpt};
    use crate::space::MemberSettings;
    use crate::store::spaces::MUTE_SPACE;

    async fn app(dir: &std::path::Path) -> App {
        let mut config = Config::defaults_in(dir).unwrap();
        config.server.domain = "docket.test".into();
        // No DNS in tests: DMARC finds no record unless a test publishes one.
        let app = App::open(config).await.unwrap();
        let app = App { dkim: std::sync::Arc::new(crate::ingest::auth::Dkim::offline()), ..app };
        let space = app.store.add_space("eng", "Engineering", 0).await.unwrap();
        app.store.add_member(&space, "alice@example.org", "alice", &MemberSettings::default(), 0).await.unwrap();
        app
    }

    async fn send(intake: &Intake, id: &str, subject: &str, extra: &str) -> u16 {
        let raw = format!("From: Alice <alice@example.org>\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}\r\nhi\r\n");
        let rcpt = vec![("docket@docket.test".to_string(), Rcpt::Commands)];
        let replies = intake
            .deliver("alice@example.org", &rcpt, raw.into_bytes(), Source::Smtp, Reservation::new(Budget::new(0)), &Default::default())
            .await;
        replies[0].code
    }

    async fn rows(app: &App) -> Vec<(Option<String>, String, Option<String>)> {
        sqlx::query_as("SELECT command, state, error FROM command_mail ORDER BY id").fetch_all(app.store.pool()).await.unwrap()
    }

    /// Issue 13: the intake decides mail to the commands address before its 250 — the command
    /// ran (the mute is on) and the reply it is owed is recorded — with no outbound run at all.
    #[tokio::test]
    async fn the_intake_runs_a_command_and_records_the_reply_owed() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        let (intake, workers) = Intake::start(app.clone());
        assert_eq!(send(&intake, "c1@example.org", "mute eng", "").await, 250);
        assert_eq!(send(&intake, "c2@example.org", "Out of office", "Auto-Submitted: auto-replied\r\n").await, 250);
        // A re-delivery of the same mail changes nothing.
        assert_eq!(send(&intake, "c1@example.org", "mute eng", "").await, 250);
        let alice = app.store.member(1, "alice@example.org").await.unwrap().unwrap();
        assert!(app.store.mutes(1).await.unwrap().contains(&(alice.id, MUTE_SPACE)), "the mute is on before any tick");
        let got = rows(&app).await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], (Some("mute eng".into()), "pending".into(), None));
        assert_eq!((got[1].0.as_deref(), got[1].1.as_str()), (None, "ignored"), "automata get nothing: {got:?}");
        let owed = app.store.owed_command_replies().await.unwrap();
        assert_eq!(owed.len(), 1);
        let reply = &owed[0].1;
        assert_eq!(
            (reply.to.as_str(), reply.subject.as_str(), reply.in_reply_to.as_deref()),
            ("alice@example.org", "Re: mute eng", Some("c1@example.org"))
        );
        assert_eq!(reply.title, "Muted");
        assert!(reply.lines[0].contains("No more copies of space eng"), "{:?}", reply.lines);
        assert!(!reply.stranger && !reply.send_digest);
        drop(intake);
        workers.flush().await;
    }

    /// Issue 11: mail to the commands address meets the From domain's DMARC policy like a post: a
    /// forged, unaligned `mute` from a `p=reject` domain changes nothing and is owed no reply; when
    /// the policy cannot be looked up now the mail waits (`received`) for the next tick.
    #[tokio::test]
    async fn a_forged_command_from_a_dmarc_domain_mutes_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        let until = std::time::Instant::now() + std::time::Duration::from_secs(3600);
        app.dkim.keys().add_record("_dmarc.example.org", "v=DMARC1; p=reject", until).unwrap();
        let (intake, workers) = Intake::start(app.clone());
        assert_eq!(send(&intake, "f1@example.org", "mute eng", "").await, 250);
        let alice = app.store.member(1, "alice@example.org").await.unwrap().unwrap();
        assert!(app.store.mutes(1).await.unwrap().is_empty(), "a forged command muted alice");
        let got = rows(&app).await;
        assert_eq!((got[0].0.as_deref(), got[0].1.as_str()), (None, "ignored"), "{got:?}");
        assert!(got[0].2.as_deref().is_some_and(|why| why.contains("DMARC")), "{got:?}");
        assert!(app.store.owed_command_replies().await.unwrap().is_empty());
        app.dkim.keys().add_failure("_dmarc.example.org", until);
        assert_eq!(send(&intake, "f2@example.org", "mute eng", "").await, 250);
        assert_eq!(rows(&app).await[1].1, "received", "a DNS failure leaves the command for the next tick");
        assert!(!app.store.mutes(1).await.unwrap().contains(&(alice.id, MUTE_SPACE)));
        drop(intake);
        workers.flush().await;
    }

    /// What the intake could not decide (logged, still `received`) the next tick decides.
    #[tokio::test]
    async fn the_tick_decides_what_the_intake_left() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        let raw = b"From: alice@example.org\r\nSubject: tasks\r\nMessage-ID: <left@example.org>\r\n\r\ntasks\r\n";
        let mut tx = app.store.begin().await.unwrap();
        assert!(tx.insert_command_mail("mid:left@example.org", raw, Some("alice@example.org"), 0).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(rows(&app).await[0].1, "received");
        crate::tick::tick(&app, app.now()).await.unwrap();
        assert_eq!(rows(&app).await, [(Some("tasks".into()), "answered".into(), None)]);
    }
}
