//! The `docket` command line (docs/cli.md): parses arguments, opens the app, runs one command, and turns
//! every error into one line that says what is wrong and what to do. anyhow lives only here.

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// `[log]` (docs/configuration.md): text or JSON lines on stderr. `DOCKET_LOG` or `RUST_LOG` (an EnvFilter)
/// override the level; one-shot commands other than `serve` write warnings only unless asked.
fn init_logging(args: &cli::Cli) {
    use tracing_subscriber::EnvFilter;
    let (log, serving) = args.log_settings();
    let default = if serving { log.level.clone() } else { "warn".to_string() };
    let filter = EnvFilter::try_from_env("DOCKET_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(format!("docket={default},warn")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match log.format {
        docket::config::LogFormat::Json => builder.json().flatten_event(true).init(),
        docket::config::LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_logging(&args);
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
