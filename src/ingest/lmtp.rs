//! The LMTP door (RFC 2033) for an MTA in front of docket: the SMTP loop with `LHLO` and one reply
//! per recipient, on TCP (`host:port`) or a unix socket (`unix:/path` or an absolute path).

use super::smtp::Listener;
use std::path::Path;
use tokio::net::{TcpListener, UnixListener};

/// Binds `lmtp.listen`. A stale socket file left by an earlier run is replaced.
pub async fn bind(spec: &str) -> std::io::Result<Listener> {
    let path = spec.strip_prefix("unix:").or_else(|| spec.starts_with('/').then_some(spec));
    match path {
        Some(path) => {
            let path = Path::new(path);
            if path.exists() && std::os::unix::net::UnixStream::connect(path).is_err() {
                std::fs::remove_file(path)?;
            }
            Ok(Listener::Unix(UnixListener::bind(path)?))
        }
        None => Ok(Listener::Tcp(TcpListener::bind(spec).await?)),
    }
}
