//! The application context every command and server shares: validated config, the store and the
//! clock (the I/O seams), opened once at start-up.

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot use data directory {path}: {source} (check that it exists, is writable and the disk has space)")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    /// Whether trying again later may work (a full disk, a database that is down).
    pub fn is_temporary(&self) -> bool {
        match self {
            AppError::DataDir { .. } => true,
            AppError::Store(e) => e.is_temporary(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
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
        let store = Store::open(&config.database.url).await?;
        Ok(App { config: Arc::new(config), store, clock })
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
