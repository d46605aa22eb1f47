//! The real server binary as a child process, configured by a TOML file.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Process {
    pub child: Child,
    pub grpc: String,
}

/// The server binary: the one named after this package, built by cargo
/// next to the test executable (`target/<profile>/deps/..`).
pub fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir.join(env!("CARGO_PKG_NAME"))
}

/// The `[database]` section of the test backend (none for SQLite).
pub async fn database_section() -> String {
    match reference_server::testing::test_database_url().await {
        Some(url) => format!("\n[database]\nurl = {url:?}\n"),
        None => String::new(),
    }
}

/// Starts the binary and waits for it to print its gRPC address.
pub fn spawn(config: &Path) -> Process {
    let mut child = Command::new(server_binary())
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let grpc = loop {
        let line = lines.next().expect("the server prints its addresses").unwrap();
        if let Some(addr) = line.strip_prefix("gRPC listening on ") {
            break format!("http://{addr}");
        }
    };
    // Keep draining stdout so the server never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Process { child, grpc }
}
