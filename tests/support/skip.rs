//! The one rule for tests that need something the machine may lack (a client program, PostgreSQL,
//! the corpus): outside CI they say "skipped" and pass; under CI (`CI` set, as CI services and
//! `.ci/run` do) a missing dependency is a failure, so a green CI run means every test ran.

/// True when running under CI: `CI` is set to anything but `""`, `0` or `false`.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// Reports a test that cannot run because `why`: prints "skipped: why" and returns, or panics
/// under CI. Call it and `return` from the test.
#[track_caller]
pub fn skip(why: &str) {
    assert!(!under_ci(), "CI is set, so this test may not be skipped: {why}");
    println!("skipped: {why}");
}

/// Whether `program arg` runs and exits 0 (e.g. `have("swaks", "--version")`).
pub fn have(program: &str, arg: &str) -> bool {
    std::process::Command::new(program).arg(arg).output().is_ok_and(|o| o.status.success())
}
