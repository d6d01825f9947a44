//! The `docket` command line (docs/cli.md): parses arguments, opens the app, runs one command, and turns
//! every error into one line that says what is wrong and what to do. anyhow lives only here.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOCKET_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("docket: cannot start the async runtime: {e}");
            return ExitCode::from(70);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("docket: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}
