//! Validated configuration (docs/configuration.md): built from the raw table in `raw.rs`; every field has a default
//! so zero configuration works, and every problem is reported at once with its key.

pub mod raw;

use chrono::{NaiveTime, Weekday};
use raw::{RawTable, Reader};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist (check --config or DOCKET_CONFIG)")]
    Missing(PathBuf),
    #[error("config file is not valid TOML: {0}")]
    Syntax(String),
    #[error("invalid configuration:\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub server: Server,
    pub smtp: Smtp,
    pub lmtp: Lmtp,
    pub http: Http,
    pub database: Database,
    pub outbound: Outbound,
    pub digest: Digest,
    pub reminders: Reminders,
    pub threads: Threads,
    pub notify: Notify,
    pub security: Security,
    pub log: Log,
}

/// `[log]`: what `serve` (and every command) writes to stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    pub format: LogFormat,
    /// The least severe level written: error, warn, info, debug or trace.
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line (for journald/Loki/jq).
    Json,
}

#[derive(Debug, Clone)]
pub struct Server {
    /// Mail domain of the space addresses (`SPACE@DOMAIN`).
    pub domain: String,
    /// Where the database, outbox, index and secret live.
    pub data_dir: PathBuf,
    /// Default time zone for senders with no member zone and no Date offset.
    pub timezone: chrono_tz::Tz,
    /// This node's name on the outbound claims it takes (default: the host name), so a restarted
    /// node takes its own unfinished claims back at once and two nodes never write each other's.
    pub node_id: String,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub listen: SocketAddr,
    /// Largest message accepted, in bytes (SIZE, RFC 1870).
    pub max_message_bytes: u64,
    pub max_connections: u64,
    /// Per-command idle timeout: the longest wait for one read, write or TLS handshake.
    pub timeout: Duration,
    /// Longest whole session, however active the client is.
    pub session_timeout: Duration,
    /// Bytes of message data all sessions together may hold while receiving; past it DATA is
    /// answered 452 4.3.1 (RFC 3463: mail system full) and the client retries later.
    pub memory_budget: u64,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Lmtp {
    /// TCP `HOST:PORT` or a unix socket path; none = LMTP off.
    pub listen: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Http {
    pub listen: SocketAddr,
    /// Public URL of the web view, used in links inside mail.
    pub base_url: String,
}

#[derive(Debug, Clone)]
pub struct Database {
    /// `sqlite://…` (default, in data_dir) or `postgres://…`.
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct Outbound {
    /// Sender of generated mail (From and envelope); empty = `docket@DOMAIN`.
    pub from: String,
    /// None = write to DATA_DIR/outbox (Maildir).
    pub smtp_url: Option<String>,
    pub max_per_minute: u64,
}

#[derive(Debug, Clone)]
pub struct Digest {
    pub time: NaiveTime,
    pub days: Weekdays,
}

#[derive(Debug, Clone)]
pub struct Reminders {
    pub before: Duration,
    pub default_due_time: NaiveTime,
    pub overdue_every: Duration,
    pub overdue_max: u64,
}

#[derive(Debug, Clone)]
pub struct Threads {
    pub loop_rounds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipts {
    Changes,
    Always,
    Never,
}

#[derive(Debug, Clone)]
pub struct Notify {
    pub receipts: Receipts,
    /// Working hours of members with none of their own (`crate::hours`).
    pub working_hours: crate::hours::Hours,
    /// A due or closing time leaving someone fewer working hours than this is warned about; 0 = never.
    pub min_response_hours: u64,
    /// Whether a thread-starting message that lacks context, an ask, a deadline or what happens on
    /// silence gets a receipt naming what is missing (`notify.nudges`).
    pub nudges: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptFrom {
    Members,
    Anyone,
}

#[derive(Debug, Clone)]
pub struct Security {
    /// None = generated into DATA_DIR/secret on first run.
    pub secret: Option<String>,
    pub accept_from: AcceptFrom,
    pub require_dkim: bool,
    /// Honour the From domain's DMARC policy: mail not aligned with a `p=reject` domain is
    /// refused, with `p=quarantine` held (replies through a valid reply token excepted).
    pub dmarc: bool,
    /// The authserv-id of an MTA in front of docket whose Authentication-Results header is trusted
    /// instead of verifying DKIM here (RFC 8601).
    pub trusted_authserv_id: Option<String>,
    pub per_sender_per_hour: u64,
}

impl Config {
    /// Loads `file` (or `./docket.toml` when present) plus the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let default = Path::new("docket.toml");
        let file = file.or_else(|| default.exists().then_some(default));
        Self::from_raw(&RawTable::load(file, None)?)
    }

    /// Loads with an explicit environment instead of the process's (tests).
    pub fn load_with_env(file: Option<&Path>, env: HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_raw(&RawTable::load(file, Some(env))?)
    }

    /// Zero configuration with the data directory moved (tests, `--data-dir`-style callers).
    pub fn defaults_in(data_dir: &Path) -> Result<Self, ConfigError> {
        let env = HashMap::from([("DOCKET__SERVER__DATA_DIR".to_string(), data_dir.display().to_string())]);
        Self::load_with_env(None, env)
    }

    pub fn from_raw(table: &RawTable) -> Result<Self, ConfigError> {
        let r = Reader::new(table);
        let data_dir = r.get("server.data_dir", PathBuf::from("./docket-data"), |s| Ok(PathBuf::from(s)));
        let default_db = format!("sqlite://{}?mode=rwc", data_dir.join("docket.db").display());
        let config = Config {
            server: Server {
                domain: r.get("server.domain", "localhost".into(), domain),
                timezone: r.get("server.timezone", chrono_tz::UTC, time_zone),
                node_id: r.get("server.node_id", default_node_id(), node_id),
                data_dir,
            },
            smtp: Smtp {
                listen: r.get("smtp.listen", SocketAddr::from(([127, 0, 0, 1], 2525)), raw::socket_addr),
                max_message_bytes: r.get("smtp.max_message_bytes", 50 * 1024 * 1024, raw::positive),
                max_connections: r.get("smtp.max_connections", 500, raw::positive),
                timeout: r.get("smtp.timeout", Duration::from_secs(300), raw::duration),
                session_timeout: r.get("smtp.session_timeout", Duration::from_secs(600), raw::duration),
                memory_budget: r.get("smtp.memory_budget", 512 * 1024 * 1024, raw::positive),
                tls_cert: r.opt("smtp.tls_cert", |s| Ok(PathBuf::from(s))),
                tls_key: r.opt("smtp.tls_key", |s| Ok(PathBuf::from(s))),
            },
            lmtp: Lmtp { listen: r.opt("lmtp.listen", raw::string) },
            http: Http {
                listen: r.get("http.listen", SocketAddr::from(([127, 0, 0, 1], 8080)), raw::socket_addr),
                base_url: r.get("http.base_url", "http://127.0.0.1:8080".into(), url),
            },
            database: Database { url: r.get("database.url", default_db, database_url) },
            outbound: Outbound {
                from: r.get("outbound.from", String::new(), address),
                smtp_url: r.opt("outbound.smtp_url", smtp_url),
                max_per_minute: r.get("outbound.max_per_minute", 600, raw::positive),
            },
            digest: Digest {
                time: r.get("digest.time", at(8, 0), time_of_day),
                days: r.get("digest.days", Weekdays::MON_FRI, Weekdays::parse),
            },
            reminders: Reminders {
                before: r.get("reminders.before", Duration::from_secs(24 * 3600), raw::duration),
                default_due_time: r.get("reminders.default_due_time", at(17, 0), time_of_day),
                overdue_every: r.get("reminders.overdue_every", Duration::from_secs(24 * 3600), raw::duration),
                overdue_max: r.get("reminders.overdue_max", 3, raw::uint),
            },
            threads: Threads { loop_rounds: r.get("threads.loop_rounds", 3, raw::positive) },
            notify: Notify {
                receipts: r.get(
                    "notify.receipts",
                    Receipts::Changes,
                    raw::one_of(&[("changes", Receipts::Changes), ("always", Receipts::Always), ("never", Receipts::Never)]),
                ),
                working_hours: r.get("notify.working_hours", crate::hours::Hours::nine_to_five(), crate::hours::Hours::parse),
                min_response_hours: r.get("notify.min_response_hours", 4, raw::uint),
                nudges: r.get("notify.nudges", true, raw::boolean),
            },
            security: Security {
                secret: r.opt("security.secret", secret),
                accept_from: r.get(
                    "security.accept_from",
                    AcceptFrom::Members,
                    raw::one_of(&[("members", AcceptFrom::Members), ("anyone", AcceptFrom::Anyone)]),
                ),
                require_dkim: r.get("security.require_dkim", false, raw::boolean),
                dmarc: r.get("security.dmarc", true, raw::boolean),
                trusted_authserv_id: r.opt("security.trusted_authserv_id", authserv_id),
                per_sender_per_hour: r.get("security.per_sender_per_hour", 120, raw::positive),
            },
            log: Log {
                format: r.get("log.format", LogFormat::Text, raw::one_of(&[("text", LogFormat::Text), ("json", LogFormat::Json)])),
                level: r.get("log.level", "info".to_string(), log_level),
            },
        };
        if config.smtp.tls_cert.is_some() != config.smtp.tls_key.is_some() {
            r.error("smtp.tls_cert", "tls_cert and tls_key must be set together".into());
        }
        // Storing a message takes `COST_FACTOR` times its size at the peak (its bytes, the parse,
        // the database's copies), and the readers after the store keep `READERS_FACTOR` times the
        // largest: a budget below both could never take the largest message allowed.
        let (budget, largest) = (config.smtp.memory_budget, config.smtp.max_message_bytes);
        let least = crate::ingest::budget::least_budget(largest);
        if budget < least {
            r.error(
                "smtp.memory_budget",
                format!(
                    "{budget} bytes cannot hold a message of smtp.max_message_bytes ({largest}) while it is stored, which takes \
                     {} times its size: set smtp.memory_budget to at least {least} or lower smtp.max_message_bytes",
                    least / largest.max(1)
                ),
            );
        }
        r.finish()?;
        Ok(config)
    }

    /// The address of a space: `SLUG@DOMAIN`.
    pub fn space_address(&self, slug: &str) -> String {
        format!("{slug}@{}", self.server.domain)
    }
}

fn log_level(s: &str) -> Result<String, String> {
    let level = s.to_ascii_lowercase();
    match level.as_str() {
        "error" | "warn" | "info" | "debug" | "trace" => Ok(level),
        _ => Err(format!("'{s}' is not a log level (error, warn, info, debug, trace)")),
    }
}

fn at(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

/// The host name (`/etc/hostname`, else `$HOSTNAME`), else "docket".
fn default_node_id() -> String {
    let from_file = std::fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string());
    let from_env = || std::env::var("HOSTNAME").ok().map(|s| s.trim().to_string());
    from_file.filter(|s| node_id(s).is_ok()).or_else(|| from_env().filter(|s| node_id(s).is_ok())).unwrap_or_else(|| "docket".to_string())
}

fn node_id(s: &str) -> Result<String, String> {
    if s.is_empty() || s.contains(|c: char| c.is_whitespace() || c.is_control()) {
        Err(format!("'{s}' is not a node id (non-empty, no spaces)"))
    } else {
        Ok(s.to_string())
    }
}

fn domain(s: &str) -> Result<String, String> {
    let ok = s.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if ok { Ok(s.to_ascii_lowercase()) } else { Err(format!("'{s}' is not a domain name")) }
}

fn url(s: &str) -> Result<String, String> {
    if s.starts_with("http://") || s.starts_with("https://") {
        Ok(s.trim_end_matches('/').to_string())
    } else {
        Err(format!("expected an http:// or https:// URL, got '{s}'"))
    }
}

fn database_url(s: &str) -> Result<String, String> {
    if s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(s.to_string())
    } else {
        Err(format!("expected sqlite://PATH or postgres://…, got '{}'", crate::store::redact(s)))
    }
}

fn smtp_url(s: &str) -> Result<String, String> {
    if !(s.starts_with("smtp://") || s.starts_with("smtps://")) {
        return Err("expected smtp://host:port or smtps://host:465 (leave empty for the outbox)".into());
    }
    if sends_credentials_in_clear(s) {
        return Err(format!(
            "{} would send its password without TLS (plain smtp:// falls back to clear text); use smtps://host:465 or add ?tls=required",
            crate::store::redact(s)
        ));
    }
    Ok(s.to_string())
}

/// A relay URL with user info that does not insist on TLS (`smtps://` or `?tls=required`), to a
/// host other than this machine: lettre would send `AUTH PLAIN` in clear text to a relay that
/// offers no STARTTLS, or to anyone in the middle who strips it.
fn sends_credentials_in_clear(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("smtp://") else { return false };
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a.trim_end_matches('/'), q),
        None => (rest.trim_end_matches('/'), ""),
    };
    let Some((_, host_port)) = authority.rsplit_once('@') else { return false };
    let tls_required = query.split('&').any(|p| p.eq_ignore_ascii_case("tls=required"));
    !tls_required && !is_loopback_host(host_port)
}

/// `localhost`, 127.0.0.0/8 or ::1, with or without a port.
fn is_loopback_host(host_port: &str) -> bool {
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn authserv_id(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() || s.contains([';', ' ', '(']) { Err("must be a host name like mx.example.org".into()) } else { Ok(s.to_string()) }
}

/// A bare address (`docket@team.example.org`), lower-cased.
fn address(s: &str) -> Result<String, String> {
    match s.rsplit_once('@') {
        Some((local, host)) if !local.is_empty() && domain(host).is_ok() && !s.contains(char::is_whitespace) && !s.contains(['<', '>']) => {
            Ok(s.to_ascii_lowercase())
        }
        _ => Err(format!("expected an address like docket@team.example.org, got '{s}'")),
    }
}

fn secret(s: &str) -> Result<String, String> {
    if s.len() < 16 { Err("must be at least 16 characters".into()) } else { Ok(s.to_string()) }
}

/// An IANA time zone name, checked against the embedded tz database.
pub fn time_zone(s: &str) -> Result<chrono_tz::Tz, String> {
    s.parse::<chrono_tz::Tz>().map_err(|_| format!("unknown time zone '{s}' (use an IANA name like Europe/Berlin or America/New_York)"))
}

/// `HH:MM` on a 24-hour clock.
pub fn time_of_day(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("expected a time like 08:00, got '{s}'"))
}

/// A set of weekdays: `mon-fri`, `mon,wed,fri`, `daily`, `sat-sun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weekdays(u8);

impl Weekdays {
    pub const MON_FRI: Weekdays = Weekdays(0b0001_1111);

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub fn parse(s: &str) -> Result<Weekdays, String> {
        let bad = || format!("expected days like mon-fri or mon,wed,fri, got '{s}'");
        let s = s.trim().to_ascii_lowercase();
        if s == "daily" || s == "every day" {
            return Ok(Weekdays(0b0111_1111));
        }
        let mut bits = 0u8;
        for part in s.split(',').map(str::trim) {
            let (from, to) = part.split_once('-').unwrap_or((part, part));
            let from = from.trim().parse::<Weekday>().map_err(|_| bad())?.num_days_from_monday();
            let to = to.trim().parse::<Weekday>().map_err(|_| bad())?.num_days_from_monday();
            let mut d = from;
            loop {
                bits |= 1 << d;
                if d == to {
                    break;
                }
                d = (d + 1) % 7;
            }
        }
        Ok(Weekdays(bits))
    }
}

impl std::fmt::Display for Weekdays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let days: Vec<_> = (0..7).filter(|d| self.0 & (1 << d) != 0).map(|d| NAMES[d]).collect();
        f.write_str(&days.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn zero_config_has_spec_defaults() {
        let c = Config::load_with_env(None, HashMap::new()).unwrap();
        assert_eq!(c.server.data_dir, PathBuf::from("./docket-data"));
        assert_eq!(c.smtp.listen.to_string(), "127.0.0.1:2525");
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database.url, "sqlite://./docket-data/docket.db?mode=rwc");
        assert_eq!(c.digest.days.to_string(), "mon,tue,wed,thu,fri");
        assert_eq!(c.threads.loop_rounds, 3);
        assert_eq!(c.security.per_sender_per_hour, 120);
        assert_eq!(c.reminders.default_due_time, at(17, 0));
        assert!(c.outbound.smtp_url.is_none());
        assert_eq!(c.outbound.max_per_minute, 600);
        assert_eq!(c.notify.receipts, Receipts::Changes);
        assert!(c.notify.nudges);
        assert_eq!(c.reminders.overdue_max, 3);
        assert_eq!((c.notify.working_hours.to_string(), c.notify.min_response_hours), ("09:00-17:00".into(), 4));
        let err = Config::load_with_env(
            None,
            env(&[("DOCKET__NOTIFY__WORKING_HOURS", "9 to 5"), ("DOCKET__NOTIFY__MIN_RESPONSE_HOURS", "four")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("notify.working_hours") && err.contains("notify.min_response_hours"), "{err}");
    }

    #[test]
    fn outbound_keys_are_checked() {
        let ok = Config::load_with_env(
            None,
            env(&[("DOCKET__OUTBOUND__FROM", "Docket@Team.Example.org"), ("DOCKET__OUTBOUND__SMTP_URL", "smtps://relay.example.org:465")]),
        )
        .unwrap();
        assert_eq!(ok.outbound.from, "docket@team.example.org");
        let err = Config::load_with_env(
            None,
            env(&[
                ("DOCKET__OUTBOUND__FROM", "Docket <d@x.org>"),
                ("DOCKET__OUTBOUND__SMTP_URL", "http://relay"),
                ("DOCKET__OUTBOUND__MAX_PER_MINUTE", "0"),
            ]),
        )
        .unwrap_err()
        .to_string();
        for key in ["outbound.from", "outbound.smtp_url", "outbound.max_per_minute"] {
            assert!(err.contains(key), "{key} missing from: {err}");
        }
    }

    #[test]
    fn a_malformed_database_url_does_not_echo_its_password() {
        for url in ["mysql://docket:s3cret@db.example.org/docket", "postgres//docket:s3cret@db/docket", "pg://db/x?password=s3cret"] {
            let err = Config::load_with_env(None, env(&[("DOCKET__DATABASE__URL", url)])).unwrap_err().to_string();
            assert!(err.contains("database.url"), "{err}");
            assert!(!err.contains("s3cret"), "password echoed: {err}");
        }
    }

    #[test]
    fn relay_credentials_need_tls_unless_the_relay_is_this_machine() {
        let check = |url: &str, ok: bool| {
            let got = Config::load_with_env(None, env(&[("DOCKET__OUTBOUND__SMTP_URL", url)]));
            assert_eq!(got.is_ok(), ok, "{url}: {got:?}");
            if let Err(e) = got {
                let e = e.to_string();
                assert!(e.contains("outbound.smtp_url") && e.contains("without TLS") && !e.contains("s3cret"), "{e}");
            }
        };
        check("smtp://user:s3cret@relay.example.org:587", false);
        check("smtp://user:s3cret@relay.example.org:587?tls=opportunistic", false);
        check("smtp://user:s3cret@relay.example.org", false);
        check("smtp://user:s3cret@relay.example.org:587?tls=required", true);
        check("smtps://user:s3cret@relay.example.org:465", true);
        check("smtp://relay.example.org:25", true);
        check("smtp://user:s3cret@127.0.0.1:2525", true);
        check("smtp://user:s3cret@127.8.9.10:25", true);
        check("smtp://user:s3cret@localhost:25", true);
        check("smtp://user:s3cret@[::1]:25", true);
        check("smtp://user:s3cret@[2001:db8::1]:25", false);
    }

    #[test]
    fn a_memory_budget_below_ten_messages_is_refused_naming_both_keys() {
        let vars = |budget: &str| env(&[("DOCKET__SMTP__MEMORY_BUDGET", budget), ("DOCKET__SMTP__MAX_MESSAGE_BYTES", "1000")]);
        let text = Config::load_with_env(None, vars("9999")).unwrap_err().to_string();
        assert!(text.contains("smtp.memory_budget") && text.contains("smtp.max_message_bytes"), "{text}");
        assert!(text.contains("at least 10000"), "{text}");
        assert_eq!(Config::load_with_env(None, vars("10000")).unwrap().smtp.memory_budget, 10000);
    }

    #[test]
    fn env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("docket.toml");
        std::fs::write(&file, "[server]\ntimezone = \"Europe/Berlin\"\n[threads]\nloop_rounds = 5\n").unwrap();
        let c = Config::load_with_env(Some(&file), env(&[("DOCKET__THREADS__LOOP_ROUNDS", "7")])).unwrap();
        assert_eq!(c.server.timezone, chrono_tz::Europe::Berlin);
        assert_eq!(c.threads.loop_rounds, 7);
    }

    #[test]
    fn every_problem_is_listed_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("docket.toml");
        std::fs::write(
            &file,
            "[server]\ntimezone = \"Mars/Olympus\"\ncolour = \"red\"\n[digest]\ntime = \"25:99\"\n[smtpp]\nlisten = \"x\"\n",
        )
        .unwrap();
        let err = Config::load_with_env(Some(&file), env(&[("DOCKET__SMTP__MAX_CONNECTIONS", "many")])).unwrap_err();
        let text = err.to_string();
        for key in ["server.timezone", "server.colour", "digest.time", "smtpp.listen", "smtp.max_connections"] {
            assert!(text.contains(key), "{key} missing from: {text}");
        }
    }

    #[test]
    fn missing_file_and_bad_toml_are_clear() {
        let err = Config::load_with_env(Some(Path::new("/nonexistent/docket.toml")), HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("docket.toml");
        std::fs::write(&file, "[server\n").unwrap();
        let err = Config::load_with_env(Some(&file), HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("not valid TOML"), "{err}");
    }

    #[test]
    fn weekdays() {
        let check = |s: &str, want: &str| assert_eq!(Weekdays::parse(s).unwrap().to_string(), want, "{s}");
        check("mon-fri", "mon,tue,wed,thu,fri");
        check("Mon,Wed,Fri", "mon,wed,fri");
        check("sat-sun", "sat,sun");
        check("fri-mon", "mon,fri,sat,sun");
        check("daily", "mon,tue,wed,thu,fri,sat,sun");
        assert!(Weekdays::parse("someday").is_err());
    }
}
