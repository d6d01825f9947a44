//! The user-facing reference stands on its own: nothing under src/, docs/ or the README points at
//! the project's private contract (`../shared`, "SPEC §…"), and every configuration key docket
//! reads is documented in docs/configuration.md.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn issue12_nothing_points_at_the_private_spec() {
    let mut all = vec![root().join("README.md")];
    files(&root().join("src"), &mut all);
    files(&root().join("docs"), &mut all);
    assert!(all.len() > 20, "found only {all:?}");
    let mut offenders = Vec::new();
    for file in &all {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        for (n, line) in text.lines().enumerate() {
            if line.contains("../shared") || line.contains("SPEC §") {
                offenders.push(format!("{}:{}: {}", file.strip_prefix(root()).unwrap_or(file).display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "point users at docs/ instead:\n{}", offenders.join("\n"));
}

/// The dotted keys `config::Config::from_raw` reads (`r.get("smtp.listen", …)`, `r.opt(…)`).
fn config_keys() -> Vec<String> {
    let source = std::fs::read_to_string(root().join("src/config/mod.rs")).unwrap_or_default();
    let mut keys = Vec::new();
    for call in ["r.get(\"", "r.opt(\""] {
        for piece in source.split(call).skip(1) {
            let key = piece.split('"').next().unwrap_or_default();
            if key.contains('.') && !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
            }
        }
    }
    keys
}

#[test]
fn issue12_every_config_key_is_in_docs_configuration_md() {
    let keys = config_keys();
    assert!(keys.len() >= 25 && keys.contains(&"server.domain".to_string()), "{keys:?}");
    let doc = std::fs::read_to_string(root().join("docs/configuration.md")).unwrap_or_default();
    let missing: Vec<&String> = keys.iter().filter(|k| !doc.contains(&format!("`{k}`"))).collect();
    assert!(missing.is_empty(), "docs/configuration.md does not document {missing:?}");
}
