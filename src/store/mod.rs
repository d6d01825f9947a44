//! The source of truth, and the only module that touches sqlx. One `Store` over an `AnyPool`: SQLite
//! by default (WAL, so the CLI reads while `serve` writes), PostgreSQL for many nodes. Times are unix
//! seconds; JSON columns are TEXT (the Any driver carries only plain types).

mod filter;
pub mod gauges;
pub mod intake;
pub mod items;
pub mod login;
pub mod messages;
pub mod outbound;
pub mod read;
pub mod search;
pub mod spaces;
pub mod states;
pub mod tokens;
pub mod unrendered;
pub mod web;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Set on every SQLite connection: checkpoint after 1000 pages (about 4 MiB) of WAL, and cut the
/// WAL file back to 4 MiB after a checkpoint.
const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 1000; PRAGMA journal_size_limit = 4194304;";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or cannot write right now (down, locked, read-only, full):
    /// the caller should retry later (SMTP 451, sysexits 75).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

impl StoreError {
    pub fn is_temporary(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error as E;
        let unavailable = match &e {
            E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Protocol(_) => true,
            E::Database(db) => {
                let code = db.code().unwrap_or_default();
                match code.parse::<i64>() {
                    // SQLite primary result codes: BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
                    Ok(n) => matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14),
                    // PostgreSQL SQLSTATE classes: connection (08), resources (53), shutdown (57P),
                    // serialization (40001), read-only transaction (25006).
                    Err(_) => {
                        code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") || code == "40001" || code == "25006"
                    }
                }
            }
            _ => false,
        };
        if unavailable { StoreError::Unavailable(e.to_string()) } else { StoreError::Query(e) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects and brings the schema up to date. A SQLite file's directory must already exist.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let mut options =
            AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 4 } else { 8 }).acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            // A bounded WAL: checkpoint every WAL_AUTOCHECKPOINT pages, and truncate the file back to
            // WAL_SIZE_LIMIT after each checkpoint, so a long run (or a run on a nearly full disk)
            // does not leave a WAL that fills the disk.
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(SQLITE_CONNECTION_PRAGMAS).await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await.map_err(|e| StoreError::Unavailable(format!("{e} ({})", redact(url))))?;
        if backend == Backend::Sqlite {
            // WAL persists in the file: readers never block the writer. synchronous=FULL (the sqlx
            // default) makes every commit durable before it returns.
            pool.execute("PRAGMA journal_mode=WAL").await?;
            // What the last run left in the WAL goes into the database first, and the WAL file is
            // emptied (a restart on a nearly full disk does not start with a full WAL).
            pool.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Applied migration versions, newest last.
    pub async fn migration_versions(&self) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A URL without its password, for messages: the user info's password (`postgres://u:***@h`),
/// everything before an `@` when the URL is too malformed to tell (`***@h`), and a `password=`
/// query parameter.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = base[scheme + 3..at].split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &base[..scheme], user, &base[at + 1..])
        }
        (_, Some(at)) => format!("***@{}", &base[at + 1..]),
        _ => base.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => p.to_string(),
            })
            .collect();
        out = format!("{out}?{}", params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_passwords_of_well_and_badly_formed_urls() {
        let check = |url: &str, want: &str| assert_eq!(redact(url), want, "{url}");
        check("sqlite://./docket-data/docket.db?mode=rwc", "sqlite://./docket-data/docket.db?mode=rwc");
        check("postgres://docket:s3cret@db.example.org/docket", "postgres://docket:***@db.example.org/docket");
        check("postgres://docket:p@ss@db/docket", "postgres://docket:***@db/docket");
        check("postgres//docket:s3cret@db/docket", "***@db/docket");
        check("docket:s3cret@db", "***@db");
        check(
            "postgres://db/docket?user=docket&password=s3cret&sslmode=require",
            "postgres://db/docket?user=docket&password=***&sslmode=require",
        );
    }
}
