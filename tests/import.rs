//! Archive import: mbox (with a corrupt middle message), Maildir, `.eml` directories, files that are
//! not mail, resuming and re-importing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use docket::ingest::import::{ImportOptions, import};
use support::Mail;

fn mbox(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        out.extend_from_slice(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        let lf: Vec<u8> = m.iter().copied().filter(|b| *b != b'\r').collect();
        out.extend_from_slice(&lf);
        out.extend_from_slice(b"\n");
    }
    out
}

fn opts(space: &str) -> ImportOptions {
    ImportOptions { space: Some(space.into()), progress: false }
}

#[tokio::test]
async fn mbox_with_a_corrupt_middle_message_imports_the_rest_and_reports_the_offset() {
    for t in support::backends().await {
        let s = t.space("list").await;
        let a = Mail::new("a@x", "First").raw();
        let b = Mail::new("b@x", "Re: First").reply_to("a@x").body(">From the archive, quoted\n").raw();
        let garbage = b"\x00\x01\x02\xff\xfe binary junk with no header\n".to_vec();
        let c = Mail::new("c@x", "Second").raw();
        let data = mbox(&[a, garbage, b, c]);
        let bad_offset = {
            let seps: Vec<usize> =
                data.windows(5).enumerate().filter(|(i, w)| *w == b"From " && (*i == 0 || data[i - 1] == b'\n')).map(|(i, _)| i).collect();
            seps[1] as u64
        };
        let path = t.dir.path().join("list.mbox");
        std::fs::write(&path, &data).unwrap();
        let report = import(&t.app, std::slice::from_ref(&path), &opts(&s)).await.unwrap();
        assert_eq!((report.stored, report.problems.len()), (3, 1), "[{}] {report:?}", t.backend);
        assert_eq!(report.problems[0].offset, Some(bad_offset));
        let threads = t.app.store.threads(Some(&s), None, 3).await.unwrap();
        assert_eq!(threads.len(), 2);
        // mboxrd quoting undone one level.
        let first = threads.iter().find(|t| t.subject == "First").unwrap();
        let view = t.app.store.thread(first.id, 3).await.unwrap();
        assert!(view.messages.unwrap()[1].visible_text.contains("From the archive"), "[{}]", t.backend);

        // Running again: the file is known to be complete, nothing is read or added.
        let again = import(&t.app, std::slice::from_ref(&path), &opts(&s)).await.unwrap();
        assert_eq!((again.already_imported, again.stored), (1, 0));

        // The archive grows: only the new message is read.
        let mut grown = data.clone();
        grown.extend(mbox(&[Mail::new("d@x", "Third").raw()]));
        std::fs::write(&path, &grown).unwrap();
        let more = import(&t.app, std::slice::from_ref(&path), &opts(&s)).await.unwrap();
        assert_eq!((more.messages, more.stored, more.problems.len()), (1, 1, 0), "[{}] {more:?}", t.backend);
    }
}

#[tokio::test]
async fn maildir_eml_directories_and_files_that_are_not_mail() {
    let t = support::sqlite().await;
    let s = t.space("box").await;
    let root = t.dir.path();
    let maildir = root.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::write(maildir.join("cur/1.host:2,S"), Mail::new("m1@x", "Maildir one").raw()).unwrap();
    std::fs::write(maildir.join("new/2.host"), Mail::new("m2@x", "Re: Maildir one").reply_to("m1@x").raw()).unwrap();
    std::fs::write(maildir.join("tmp/3.host"), Mail::new("m3@x", "half-delivered").raw()).unwrap();
    let emls = root.join("emls/nested");
    std::fs::create_dir_all(&emls).unwrap();
    std::fs::write(emls.join("a.eml"), Mail::new("e1@x", "Eml one").raw()).unwrap();
    std::fs::write(emls.join("notes.txt"), b"not picked up").unwrap();
    let single = root.join("single.eml");
    std::fs::write(&single, Mail::new("e2@x", "Single file").raw()).unwrap();
    let binary = root.join("program.bin");
    std::fs::write(&binary, b"\x7fELF\x02\x01\x01\x00\x00\x00binary").unwrap();
    let empty = root.join("empty.mbox");
    std::fs::write(&empty, b"").unwrap();
    let missing = root.join("missing.mbox");

    let paths = vec![maildir.clone(), root.join("emls"), single.clone(), binary, empty, missing];
    let report = import(&t.app, &paths, &opts(&s)).await.unwrap();
    assert_eq!(report.stored, 4, "{report:?}");
    let problems: Vec<&str> = report.problems.iter().map(|p| p.error.as_str()).collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("not an mbox, Maildir or .eml"), "{problems:?}");
    assert!(problems[1].contains("empty file"));
    assert!(problems[2].contains("cannot read"));
    let again = import(&t.app, &[maildir, single], &opts(&s)).await.unwrap();
    assert_eq!((again.stored, again.duplicates), (0, 3), "re-import adds nothing");
}

#[tokio::test]
async fn without_a_space_each_message_finds_its_own() {
    let t = support::sqlite().await;
    t.space("team").await;
    let path = t.dir.path().join("mixed.mbox");
    let to_team = Mail::new("t1@x", "For the team").raw(); // To: team@docket.test
    let raw = String::from_utf8(Mail::new("t2@x", "Elsewhere").raw()).unwrap().replace("team@docket.test", "someone@else.org");
    std::fs::write(&path, mbox(&[to_team, raw.into_bytes()])).unwrap();
    let app = {
        let mut config = (*t.app.config).clone();
        config.server.domain = "docket.test".into();
        docket::app::App { config: std::sync::Arc::new(config), ..t.app.clone() }
    };
    let report = import(&app, &[path], &ImportOptions::default()).await.unwrap();
    assert_eq!(report.stored, 1);
    assert!(report.problems[0].error.contains("no recipient names a space"), "{report:?}");
}

#[tokio::test]
async fn unknown_space_is_an_error_before_anything_is_read() {
    let t = support::sqlite().await;
    let err = import(&t.app, &[t.dir.path().join("x.mbox")], &opts("ghost")).await.unwrap_err();
    assert_eq!(err.exit_code(), 67);
}
