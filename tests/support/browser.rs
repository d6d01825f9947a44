//! Headless Chromium over WebDriver for the browser tests: starts `chromedriver` on a free
//! loopback port, opens a session with Debian's `chromium` (headless; as root without its
//! sandbox; no background networking, which this machine's closed network refuses), and saves
//! screenshots into `target/screenshots/`. Without chromium and chromedriver the test skips
//! outside CI and fails under it (`skip.rs`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fantoccini::{Client, ClientBuilder};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Where screenshots go.
pub fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

/// A browser session, or None (after `skip`) when chromium or chromedriver is missing.
pub async fn start() -> Option<Browser> {
    if !std::path::Path::new(CHROMIUM).exists() || !super::skip::have("chromedriver", "--version") {
        super::skip::skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // Wait until the driver listens (it says nothing else when it is ready).
    let mut up = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "chromedriver did not listen on port {port}");
    let profile = tempfile::tempdir().unwrap();
    let args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--hide-scrollbars".into(),
        "--force-device-scale-factor=1".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), serde_json::json!({ "binary": CHROMIUM, "args": args }));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session with headless chromium");
    Some(Browser { client, driver, _profile: profile })
}

impl Browser {
    /// Screenshots of the current page at 360 and 1280 px wide, as `NAME-360.png` and
    /// `NAME-1280.png` (the window is made tall enough for the whole page, up to 4000 px).
    pub async fn shoot(&self, name: &str) {
        std::fs::create_dir_all(screenshots()).unwrap();
        for width in [360u32, 1280] {
            self.client.set_window_size(width, 800).await.unwrap();
            let height = self.client.execute("return document.documentElement.scrollHeight", vec![]).await.unwrap();
            let height = height.as_u64().unwrap_or(800).clamp(400, 4000) as u32;
            self.client.set_window_size(width, height).await.unwrap();
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(screenshots().join(format!("{name}-{width}.png")), png).unwrap();
        }
        self.client.set_window_size(1280, 800).await.unwrap();
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
