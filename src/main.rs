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
        // The reader of our output went away (`docket threads | head -1`): stop quietly, as Unix tools do.
        Err(failure) if closed_pipe(&failure.error) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("docket: {}", docket::display::text(&format!("{:#}", failure.error)));
            ExitCode::from(failure.code)
        }
    }
}

fn closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
