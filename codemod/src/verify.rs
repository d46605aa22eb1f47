//! `--verify CMD`: after writing, run CMD in the target folder, for at most
//! `--verify-timeout`; when it fails, times out, or the run is interrupted
//! (SIGINT, SIGTERM), every file the run changed gets its original text and
//! modification time back.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::error::Error;
use crate::write::write_atomic;

/// The result of a failed verification command.
#[derive(Debug, Clone)]
pub struct VerifyFailure {
    pub command: String,
    pub status: Option<i32>,
    /// The command's stdout and stderr, in that order.
    pub output: String,
    /// It ran past `--verify-timeout` and was killed.
    pub timed_out: Option<Duration>,
}

/// How a verification ended when it did not succeed.
#[derive(Debug)]
pub enum Verified {
    Passed,
    Failed(VerifyFailure),
    /// The run was interrupted by this signal; the command was killed.
    Interrupted(i32),
}

/// SIGINT and SIGTERM, caught while the run writes or verifies, so that it
/// can put every file back before it exits (130 / 143).
pub struct Interrupts {
    flags: Vec<(i32, Arc<AtomicBool>, signal_hook::SigId)>,
}

impl Interrupts {
    pub fn catch() -> Result<Self, Error> {
        let mut flags = Vec::new();
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let flag = Arc::new(AtomicBool::new(false));
            let id = signal_hook::flag::register(signal, Arc::clone(&flag)).map_err(|source| Error::Io {
                path: PathBuf::from("<signal handler>"),
                source,
            })?;
            flags.push((signal, flag, id));
        }
        Ok(Interrupts { flags })
    }

    /// The signal that arrived, if any.
    pub fn received(&self) -> Option<i32> {
        self.flags
            .iter()
            .find(|(_, flag, _)| flag.load(Ordering::SeqCst))
            .map(|(signal, _, _)| *signal)
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        for (_, _, id) in self.flags.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// Runs `command` with `sh -c` in `dir`, in a process group of its own (so
/// that a timeout or an interrupt ends everything it started).
pub fn run_command(command: &str, dir: &Path, timeout: Duration, interrupts: &Interrupts) -> Result<Verified, Error> {
    let spawn_error = |source| Error::Command {
        command: command.to_string(),
        source,
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(spawn_error)?;
    let readers = [
        drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>)),
        drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>)),
    ];
    let deadline = Instant::now() + timeout;
    let (status, timed_out, interrupted) = loop {
        if let Some(status) = child.try_wait().map_err(spawn_error)? {
            break (Some(status), None, None);
        }
        if let Some(signal) = interrupts.received() {
            kill_group(child.id());
            let _ = child.wait();
            break (None, None, Some(signal));
        }
        if Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.wait();
            break (None, Some(timeout), None);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output: String = readers.into_iter().map(|r| r.join().unwrap_or_default()).collect();
    if let Some(signal) = interrupted {
        return Ok(Verified::Interrupted(signal));
    }
    match status {
        Some(status) if status.success() => Ok(Verified::Passed),
        status => Ok(Verified::Failed(VerifyFailure {
            command: command.to_string(),
            status: status.and_then(|s| s.code()),
            output,
            timed_out,
        })),
    }
}

fn drain(stream: Option<Box<dyn Read + Send>>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// SIGKILL to the command's whole process group (`kill -KILL -PGID`).
fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
}

/// A file as it was before the run wrote it.
#[derive(Debug, Clone)]
pub struct Original {
    pub path: PathBuf,
    pub text: String,
    pub modified: Option<SystemTime>,
}

/// Puts the original text and modification time back into every file.
pub fn restore(originals: &[Original]) -> Result<(), Error> {
    for original in originals {
        write_atomic(&original.path, &original.text)?;
        if let Some(modified) = original.modified {
            let file = std::fs::File::options()
                .write(true)
                .open(&original.path)
                .map_err(|source| Error::Io {
                    path: original.path.clone(),
                    source,
                })?;
            file.set_modified(modified).map_err(|source| Error::Io {
                path: original.path.clone(),
                source,
            })?;
        }
    }
    Ok(())
}
