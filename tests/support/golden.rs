//! Golden-file runner: `tests/golden/<suite>/NNN-slug.eml` + `NNN-slug.expected.json`. Each fixture
//! runs as written and with its line endings flipped (LF ↔ CRLF) and must give the same JSON. A
//! failure writes `NNN-slug.actual.json` beside the fixture; `BLESS=1` rewrites the expectations.

use std::path::{Path, PathBuf};

/// Runs every fixture of `suite` through `run`; panics listing all failures.
pub fn check_suite(suite: &str, run: impl Fn(&[u8]) -> serde_json::Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(suite);
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty(), "no fixtures found in {}", dir.display());
    let bless = std::env::var("BLESS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for eml in &fixtures {
        let raw = std::fs::read(eml).unwrap();
        let expected_path = eml.with_extension("expected.json");
        let actual_path = eml.with_extension("actual.json");
        let got = run(&raw);
        let flipped = run(&flip_line_endings(&raw));
        if got != flipped {
            failures.push(format!("{}: LF and CRLF give different results:\n{got:#}\nvs\n{flipped:#}", eml.display()));
        }
        let pretty = format!("{}\n", serde_json::to_string_pretty(&got).unwrap());
        if bless {
            std::fs::write(&expected_path, &pretty).unwrap();
            let _ = std::fs::remove_file(&actual_path);
            continue;
        }
        let want: Option<serde_json::Value> = std::fs::read_to_string(&expected_path).ok().and_then(|s| serde_json::from_str(&s).ok());
        if want.as_ref() == Some(&got) {
            let _ = std::fs::remove_file(&actual_path);
        } else {
            std::fs::write(&actual_path, &pretty).unwrap();
            failures.push(format!("{}: differs from {} (see {})", eml.display(), expected_path.display(), actual_path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed (BLESS=1 to accept):\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n")
    );
}

/// LF → CRLF, or CRLF → LF when the input already uses CRLF.
pub fn flip_line_endings(raw: &[u8]) -> Vec<u8> {
    if raw.windows(2).any(|w| w == b"\r\n") {
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'\r' && raw.get(i + 1) == Some(&b'\n') {
                i += 1;
                continue;
            }
            out.push(raw[i]);
            i += 1;
        }
        out
    } else {
        let mut out = Vec::with_capacity(raw.len() + raw.len() / 20);
        for &b in raw {
            if b == b'\n' {
                out.push(b'\r');
            }
            out.push(b);
        }
        out
    }
}

/// Compares a rendered mail with `tests/golden/outbound/NAME.eml` after redacting what changes
/// per run (Date, generated Message-IDs, MIME boundaries, signed tokens). A mismatch writes
/// `NAME.actual.eml` beside it; `BLESS=1` rewrites the snapshot.
pub fn snapshot(name: &str, raw: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/outbound");
    std::fs::create_dir_all(&dir).unwrap();
    let want_path = dir.join(format!("{name}.eml"));
    let actual_path = dir.join(format!("{name}.actual.eml"));
    let got = redact(raw);
    if std::env::var("BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&want_path, &got).unwrap();
        let _ = std::fs::remove_file(&actual_path);
        return;
    }
    let want = std::fs::read_to_string(&want_path).unwrap_or_default();
    if want == got {
        let _ = std::fs::remove_file(&actual_path);
    } else {
        std::fs::write(&actual_path, &got).unwrap();
        panic!("{} differs from {} (BLESS=1 rewrites it)", actual_path.display(), want_path.display());
    }
}

pub fn redact(raw: &str) -> String {
    let mut s = raw.replace("\r\n", "\n");
    let mut boundaries: Vec<String> =
        regex::Regex::new(r#"boundary="?([^";\s]+)"?"#).unwrap().captures_iter(&s).map(|c| c[1].to_string()).collect();
    boundaries.dedup();
    for (n, b) in boundaries.iter().enumerate() {
        s = s.replace(b.as_str(), &format!("BOUNDARY-{n}"));
    }
    let rules = [
        (r"(?m)^Date: .*$", "Date: [date]"),
        (r"docket\.([a-z]+)\.[0-9a-f]{20}@", "docket.$1.[id]@"),
        // A reply token, also where quoted-printable broke the line inside it (`=` soft breaks).
        (r"\+(?:[a-z2-7]|=\r?\n){8,}@", "+[token]@"),
        (r"/unsubscribe/([a-z0-9-]+)/[a-z2-7]+", "/unsubscribe/$1/[token]"),
    ];
    for (pattern, with) in rules {
        s = regex::Regex::new(pattern).unwrap().replace_all(&s, with).into_owned();
    }
    s
}
