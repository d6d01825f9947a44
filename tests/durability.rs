//! A full disk under `docket serve` (issue 11): the data dir on a small tmpfs, twenty concurrent
//! SMTP clients sending ~28 KB messages until the disk is full. Every 250 must be a message in
//! `inbound` (also after a restart), and once space returns the server takes mail again by itself.
//! Mounting needs root: CI runs as root, so there the test fails instead of skipping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::Mail;
use support::process::{count, docket, send, serve, setup, signal, sqlite_url};

/// Size of the file system, and of the filler written first so the disk fills after a few hundred
/// messages (and deleting it gives the space back).
const TMPFS: &str = "size=24m";
const FILLER: usize = 12 << 20;
const CLIENTS: usize = 20;
/// Messages sent at most; the disk is full long before.
const MAX_SENDS: usize = 3000;
/// Messages sent after the first refusal: the defect acknowledged these without storing them.
const AFTER_FULL: usize = 200;

/// A tmpfs mounted on a temp dir, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// None when not root outside CI (the test is skipped and says so).
    fn mount() -> Option<Tmpfs> {
        let uid = Command::new("id").arg("-u").output().unwrap();
        let root = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        if !root && !support::skip::under_ci() {
            support::skip::skip("mounting a tmpfs needs root (the test runs under CI, which is root)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", TMPFS, "tmpfs"]).arg(dir.path()).output().unwrap();
        assert!(out.status.success(), "cannot mount a tmpfs (the disk-full test needs root): {}", String::from_utf8_lossy(&out.stderr));
        Some(Tmpfs { dir })
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn raw(id: &str, n: usize) -> Vec<u8> {
    let line = "x".repeat(76);
    let body: String = (0..360).map(|_| format!("{line}\n")).collect();
    Mail::new(id, &format!("full {n}")).body(&body).raw()
}

async fn stored_once(data: &Path, id: &str) -> bool {
    count(&sqlite_url(data), &format!("SELECT COUNT(*) FROM inbound WHERE dedup_key = 'mid:{id}'")).await == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_acknowledges_only_what_it_stored_and_recovers_when_space_returns() {
    let Some(fs) = Tmpfs::mount() else { return };
    let filler = fs.path().join("filler");
    std::fs::write(&filler, vec![7u8; FILLER]).unwrap();
    let data = fs.path().join("data");
    setup(&data);
    let (child, addr) = serve(&mut docket(&data));

    // Twenty clients until the disk is full, then AFTER_FULL more messages between them.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(AtomicBool::new(false));
    let (sent, after) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (addr, acked, refused, sent, after) = (addr.clone(), acked.clone(), refused.clone(), sent.clone(), after.clone());
        clients.push(tokio::spawn(async move {
            loop {
                let n = sent.fetch_add(1, Ordering::SeqCst);
                if n >= MAX_SENDS || (refused.load(Ordering::SeqCst) && after.fetch_add(1, Ordering::SeqCst) >= AFTER_FULL) {
                    return;
                }
                let id = format!("full-{n}@example.org");
                let reply = send(&addr, &raw(&id, n)).await.unwrap();
                if reply.starts_with("250") {
                    acked.lock().unwrap().push(id);
                } else {
                    assert!(reply.starts_with('4'), "a full disk is a temporary failure: {reply}");
                    refused.store(true, Ordering::SeqCst);
                }
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    assert!(refused.load(Ordering::SeqCst), "the disk never filled within {MAX_SENDS} messages");
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    let mut missing = Vec::new();
    for id in &acked {
        if !stored_once(&data, id).await {
            missing.push(id.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages are not stored: {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );

    // Space comes back: new mail is taken and stored without a restart.
    std::fs::remove_file(&filler).unwrap();
    let mut replies = Vec::new();
    for n in 0..20 {
        let id = format!("after-{n}@example.org");
        let reply = send(&addr, &raw(&id, n)).await.unwrap();
        if reply.starts_with("250") {
            assert!(stored_once(&data, &id).await, "{id} got a 250 once space returned but is not stored");
            replies.clear();
            break;
        }
        replies.push(reply);
    }
    assert!(replies.is_empty(), "still refused once space returned: {replies:?}");
    for n in 0..5 {
        let id = format!("later-{n}@example.org");
        let reply = send(&addr, &raw(&id, n)).await.unwrap();
        assert!(reply.starts_with("250"), "{reply}");
        assert!(stored_once(&data, &id).await, "{id}");
    }

    // And all of it survives a restart.
    signal(&child, "-TERM");
    let mut child = child;
    assert!(child.wait().unwrap().success());
    let (child, _) = serve(&mut docket(&data));
    signal(&child, "-TERM");
    assert!(child.wait_with_output().unwrap().status.success());
    for id in &acked {
        assert!(stored_once(&data, id).await, "{id} was acknowledged but is gone after a restart");
    }
    assert_eq!(
        count(&sqlite_url(&data), "SELECT COUNT(*) FROM inbound WHERE state <> 'stored'").await,
        0,
        "a restart finishes every delivery"
    );
}
