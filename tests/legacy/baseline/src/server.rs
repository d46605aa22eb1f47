//! A server under test: the real release binary of one side, started as its
//! own process on a fresh data folder with the same TOML configuration for
//! both sides (SQLite, one org, one worker token, defaults otherwise). Its CPU time and peak memory are
//! read from `/proc/<pid>`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context};
use uuid::Uuid;

use crate::sdk::Side;

/// The worker token both servers accept, for the bench's org.
pub(crate) const TOKEN: &str = "flovyn_wk_baseline_0000000000000";

/// The two server binaries, beside the bench's own binary.
pub(crate) struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Finds both binaries in the folder of the running bench
    /// (`target/release`).
    pub(crate) fn find() -> anyhow::Result<Binaries> {
        let exe = std::env::current_exe().context("locating the bench binary")?;
        let dir = exe.parent().context("the bench binary has a folder")?.to_path_buf();
        let binaries = Binaries { dir };
        for side in Side::ALL {
            let path = binaries.path(side);
            if !path.exists() {
                bail!(
                    "{} not found: build it first (scripts/bench-baseline.sh builds both servers)",
                    path.display()
                );
            }
        }
        Ok(binaries)
    }

    fn path(&self, side: Side) -> PathBuf {
        self.dir.join(side.server_binary())
    }
}

/// A running server; killed when dropped.
pub(crate) struct Server {
    child: Child,
    url: String,
    /// The data folder and configuration; removed after the process ends.
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `side`'s binary on a fresh data folder and waits for its gRPC
    /// address.
    pub(crate) fn start(binaries: &Binaries, side: Side, org: Uuid) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir().context("creating a data folder")?;
        let config = dir.path().join("config.toml");
        std::fs::write(&config, config_text(&dir.path().join("data"), org, side))?;
        let binary = binaries.path(side);
        let mut child = Command::new(&binary)
            .arg("--config")
            .arg(&config)
            // The configuration file alone: no DATABASE_URL, RUNTIME_THREADS
            // or other override from this process's environment.
            .env_clear()
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut lines = BufReader::new(child.stdout.take().context("server stdout")?).lines();
        let url = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                bail!("{} exited before printing its gRPC address", binary.display());
            };
            if let Some(addr) = line?.strip_prefix("gRPC listening on ") {
                break format!("http://{addr}");
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Server { child, url, _dir: dir })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// CPU seconds (user + system) the server has used so far.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&self.child.id().to_string())
    }

    /// The server's peak resident set (VmHWM), in MiB.
    pub(crate) fn peak_rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) used so far by `pid` (`"self"` for this
/// process), from `/proc/<pid>/stat` in clock ticks of 1/100 s.
pub(crate) fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold
    // spaces: utime and stime are the 12th and 13th of them.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The configuration every server gets: ports chosen by the OS, one org,
/// the bench's worker token; polls held or not as `side` says.
fn config_text(data: &Path, org: Uuid, side: Side) -> String {
    let max_poll_wait = side.max_poll_wait_seconds();
    format!(
        "[server]\nhttp_port = 0\ngrpc_port = 0\ndata_dir = {data:?}\nmax_poll_wait_seconds = {max_poll_wait}\n\n\
         [[orgs]]\nid = \"{org}\"\nname = \"baseline\"\nslug = \"baseline\"\n\n\
         [auth.static_api_key]\nkeys = [{{ key = \"{TOKEN}\", org_id = \"{org}\", principal_type = \"Worker\", principal_id = \"baseline\" }}]\n",
        data = data.display().to_string()
    )
}
