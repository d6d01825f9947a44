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

/// glibc's malloc keeps freed blocks of up to 32 MiB for reuse (its mmap threshold rises with each
/// large block freed), so the buffers of large messages stay in a server long after they are
/// dropped, and RSS outgrows `smtp.memory_budget` (issue 11: 4 MiB messages left 3 times the budget
/// resident). `serve` runs with the threshold fixed instead: a block of 128 KiB or more is a mapping
/// of its own, given back to the system when freed. glibc reads the setting only when a process
/// starts, so `serve` executes itself once more with it set: same pid, arguments and inherited
/// sockets (systemd's LISTEN_FDS stay valid). An operator's own setting is left alone.
#[cfg(target_os = "linux")]
fn tune_malloc(args: &cli::Cli) {
    use std::os::unix::process::CommandExt;
    const THRESHOLD: &str = "MALLOC_MMAP_THRESHOLD_";
    if !args.serving() || std::env::var_os(THRESHOLD).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut argv = std::env::args_os();
    let arg0 = argv.next().unwrap_or_else(|| exe.clone().into_os_string());
    // Returns only when the exec failed: then serve as we are.
    let _ = std::process::Command::new(exe).arg0(arg0).args(argv).env(THRESHOLD, "131072").exec();
}

#[cfg(not(target_os = "linux"))]
fn tune_malloc(_: &cli::Cli) {}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    tune_malloc(&args);
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
