//! `docket token create|list|revoke` and `docket member feeds` through the real binary: the token
//! is printed once and never listed, only members get tokens or feeds, revoking and rotating work.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn docket(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docket"))
        .current_dir(dir)
        .args(args)
        .env_remove("DOCKET_CONFIG")
        .env("DOCKET__SERVER__DATA_DIR", dir.join("data"))
        .env("DOCKET__HTTP__BASE_URL", "https://docket.example.org/")
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = docket(dir, args);
    assert!(o.status.success(), "docket {args:?}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(dir, args)).unwrap()
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["space", "add", "eng"]);
    ok(dir.path(), &["member", "add", "ann@example.org", "--space", "eng"]);
    dir
}

#[test]
fn token_create_list_revoke() {
    let dir = setup();
    let d = dir.path();
    let printed = ok(d, &["token", "create", "Ann@Example.org", "--name", "script"]);
    let token = printed.trim();
    assert!(token.starts_with("dkt_") && token.len() == 68, "{printed}");
    let made = json(d, &["token", "create", "ann@example.org", "--json"]);
    assert_eq!(keys(&made), ["created_at", "email", "id", "label", "last_used_at", "token"]);
    assert_ne!(made["token"], token);
    let list = json(d, &["token", "list", "--json"]);
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(keys(row), ["created_at", "email", "id", "label", "last_used_at"]);
        assert_eq!(row["email"], "ann@example.org");
        assert!(row["last_used_at"].is_null());
    }
    assert_eq!(rows[0]["label"], "script");
    let text = ok(d, &["token", "list"]);
    assert!(text.contains("script") && !text.contains(token) && !text.contains(&token[4..]), "{text}");
    // The database keeps only the hash: the token's hex is nowhere in the file.
    let db = std::fs::read(d.join("data/docket.db")).unwrap();
    assert!(!db.windows(64).any(|w| w == &token.as_bytes()[4..]), "the token is stored in the clear");

    let id = rows[0]["id"].to_string();
    assert!(ok(d, &["token", "revoke", &id]).contains("revoked"));
    assert_eq!(json(d, &["token", "list", "--json"]).as_array().unwrap().len(), 1);
    let again = docket(d, &["token", "revoke", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("docket token list"), "{again:?}");
}

#[test]
fn strangers_get_no_token_and_no_feeds_and_nothing_changes() {
    let dir = setup();
    let d = dir.path();
    for args in [&["token", "create", "eve@example.org"][..], &["member", "feeds", "eve@example.org"]] {
        let o = docket(d, args);
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("not a member of any space"), "{err}");
        assert!(o.stdout.is_empty(), "{args:?} printed {:?}", String::from_utf8_lossy(&o.stdout));
    }
    assert_eq!(json(d, &["token", "list", "--json"]), serde_json::json!([]));
}

#[test]
fn member_feeds_prints_stable_urls_until_rotated() {
    let dir = setup();
    let d = dir.path();
    let first = json(d, &["member", "feeds", "ann@example.org", "--json"]);
    assert_eq!(keys(&first), ["decisions", "email", "tasks"]);
    let atom = first["decisions"].as_str().unwrap();
    let ics = first["tasks"].as_str().unwrap();
    assert!(atom.starts_with("https://docket.example.org/feeds/") && atom.ends_with("/decisions.atom"), "{atom}");
    assert!(ics.starts_with("https://docket.example.org/feeds/") && ics.ends_with("/tasks.ics"), "{ics}");
    let key = |url: &str| url.split('/').nth(4).unwrap().to_string();
    assert_eq!(key(atom), key(ics));
    assert_eq!(key(atom).len(), 64);
    assert_eq!(json(d, &["member", "feeds", "ann@example.org", "--json"]), first, "printing again gives the same URLs");
    let text = ok(d, &["member", "feeds", "ann@example.org"]);
    assert!(text.contains(atom) && text.contains(ics), "{text}");
    let rotated = json(d, &["member", "feeds", "ann@example.org", "--rotate", "--json"]);
    assert_ne!(key(rotated["decisions"].as_str().unwrap()), key(atom));
    assert_eq!(json(d, &["member", "feeds", "ann@example.org", "--json"]), rotated);
}
