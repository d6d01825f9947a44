//! A private PostgreSQL cluster (initdb + pg_ctl under a temp dir, on a free loopback port) that a
//! test may stop and start without touching the shared server. Needs the PostgreSQL server
//! binaries (Debian: /usr/lib/postgresql/N/bin, installed by .ci/run); as root it runs them as the
//! `postgres` user, since initdb refuses to run as root.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// Creates and starts a cluster under `root` (which must outlive it). None when the server
    /// binaries are not installed; under CI (`CI=true`) that is a failure instead.
    pub fn create(root: &Path) -> Option<Cluster> {
        let Some(bin) = server_bin() else {
            super::skip::skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin");
            return None;
        };
        let as_postgres = run(Command::new("id").arg("-u")).trim() == "0";
        let data = root.join("pg");
        std::fs::create_dir_all(&data).unwrap();
        if as_postgres {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
            run(Command::new("chown").args(["-R", "postgres"]).arg(&data));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster { bin, data, port, as_postgres };
        run(cluster.pg("initdb").args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D"]).arg(&cluster.data));
        cluster.start();
        Some(cluster)
    }

    /// The cluster's own `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        let opts =
            format!("-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off", self.port, self.data.display());
        run(self.pg("pg_ctl").arg("-D").arg(&self.data).arg("-l").arg(self.data.join("log")).args(["-w", "-o", &opts, "start"]));
    }

    /// Stops the server the hard way (like a crash: no checkpoint, clients cut off).
    pub fn stop(&self) {
        run(self.pg("pg_ctl").arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]));
    }

    fn pg(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg("pg_ctl").arg("-D").arg(&self.data).args(["-m", "immediate", "stop"]).output();
    }
}

/// The newest /usr/lib/postgresql/N/bin that has initdb.
fn server_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
