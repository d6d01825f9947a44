//! The application context every command and server shares: validated config, the store, the
//! search index, the clock and the mailer (the I/O seams), opened once at start-up.

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::identity::auth::Dkim;
use crate::index::Index;
use crate::notify::mailer::{self, Mailer, MailerError};
use crate::store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot use data directory {path}: {source} (check that it exists, is writable and the disk has space)")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mailer(#[from] MailerError),
}

impl AppError {
    /// Whether trying again later may work (a full disk, a database that is down).
    pub fn is_temporary(&self) -> bool {
        match self {
            AppError::DataDir { .. } => true,
            AppError::Store(e) => e.is_temporary(),
            AppError::Mailer(_) => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    /// The search index under `DATA_DIR/index` (opened lazily: most commands never touch it).
    pub index: Index,
    pub clock: Arc<dyn Clock>,
    /// Where outbound mail goes: the relay of `outbound.smtp_url`, else `DATA_DIR/outbox/`.
    pub mailer: Arc<dyn Mailer>,
    /// Signs reply tokens and links: `security.secret`, else `DATA_DIR/secret` (made on first run).
    pub secret: Secret,
    /// Verifies senders (DKIM for `security.require_dkim`, SPF and DMARC for `security.dmarc`).
    pub dkim: Arc<Dkim>,
}

/// Key material; never printed.
#[derive(Clone)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The configured secret, else the one in `dir/secret`, created (mode 0600) when missing.
    fn load(config: &Config, dir: &Path) -> std::io::Result<Secret> {
        if let Some(s) = &config.security.secret {
            return Ok(Secret(s.as_bytes().into()));
        }
        let path = dir.join("secret");
        match std::fs::read_to_string(&path) {
            Ok(s) if !s.trim().is_empty() => return Ok(Secret(s.trim().as_bytes().into())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(std::io::Error::other)?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = dir.join("secret.tmp");
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            f.write_all(hex.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        Ok(Secret(hex.as_bytes().into()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl App {
    /// Creates the data directory when needed, connects to the database and migrates it.
    pub async fn open(config: Config) -> Result<App, AppError> {
        Self::open_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn open_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<App, AppError> {
        let dir = &config.server.data_dir;
        std::fs::create_dir_all(dir).map_err(|source| AppError::DataDir { path: dir.clone(), source })?;
        let probe = dir.join(".write-test");
        std::fs::write(&probe, b"ok")
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(|source| AppError::DataDir { path: dir.clone(), source })?;
        let secret = Secret::load(&config, dir).map_err(|source| AppError::DataDir { path: dir.join("secret"), source })?;
        let mailer = mailer::from_config(&config)?;
        let store = Store::open(&config.database.url).await?;
        let index = Index::new(dir.join("index"));
        Ok(App { config: Arc::new(config), store, index, clock, mailer, secret, dkim: Arc::default() })
    }

    /// The same app sending through another mailer (tests, a relay chosen at run time).
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> App {
        self.mailer = mailer;
        self
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
