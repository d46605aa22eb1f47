//! `--verify CMD`: after writing, run CMD in the target folder; when it
//! fails, every file the run changed gets its original text back.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;
use crate::write::write_atomic;

/// The result of a failed verification command.
#[derive(Debug, Clone)]
pub struct VerifyFailure {
    pub command: String,
    pub status: Option<i32>,
    /// The command's stdout and stderr, in that order.
    pub output: String,
}

/// Runs `command` with `sh -c` in `dir`. `Ok(None)` when it succeeds.
pub fn run_command(command: &str, dir: &Path) -> Result<Option<VerifyFailure>, Error> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .output()
        .map_err(|source| Error::Command {
            command: command.to_string(),
            source,
        })?;
    if output.status.success() {
        return Ok(None);
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Ok(Some(VerifyFailure {
        command: command.to_string(),
        status: output.status.code(),
        output: text,
    }))
}

/// Puts the original text back into every file.
pub fn restore(originals: &[(PathBuf, String)]) -> Result<(), Error> {
    for (path, original) in originals {
        write_atomic(path, original)?;
    }
    Ok(())
}
