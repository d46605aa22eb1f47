//! The write stage of `--write`: the guards (all or nothing, dirty tree,
//! changed meanwhile), the atomic writes, `--verify`, and the rollbacks on
//! failure or signal.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::outcome::{FileError, FileOutcome, Outcome};
use crate::{verify, write, Error};

/// `--write`: guard, write atomically, verify, roll back on failure.
pub(crate) fn apply(config: &Config, outcome: &mut Outcome) -> Result<(), Error> {
    let changed: Vec<&FileOutcome> = outcome.files.iter().filter(|f| f.changed()).collect();
    if changed.is_empty() {
        return Ok(());
    }
    // All or nothing: a file that could not be read may need edits too.
    let unread = outcome
        .files
        .iter()
        .filter(|f| matches!(f.error, Some(FileError::Io { .. } | FileError::TooLarge { .. })))
        .count()
        + outcome.walk_errors.len();
    if unread > 0 && !config.keep_going {
        outcome.not_written = Some(format!(
            "{unread} file(s) or folder(s) could not be read (listed under Errors); \
             fix that or pass --keep-going to write the rest"
        ));
        return Ok(());
    }
    if !config.allow_dirty {
        let paths: Vec<PathBuf> = changed.iter().map(|f| f.path.clone()).collect();
        let dirty = write::dirty_files(&paths);
        if !dirty.is_empty() {
            return Err(Error::DirtyTree(dirty));
        }
    }
    let moved: Vec<PathBuf> = changed
        .iter()
        .filter(|f| std::fs::read(&f.path).map_or(true, |now| now != f.original.as_bytes()))
        .map(|f| f.path.clone())
        .collect();
    if !moved.is_empty() {
        return Err(Error::ChangedMeanwhile(moved));
    }
    // Tests widen the window between the checks and the writes to edit a
    // file inside it (an edit made then must not be lost).
    if let Some(ms) = std::env::var("CODEMOD_TEST_PAUSE_BEFORE_WRITE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    let interrupts = verify::Interrupts::catch()?;
    let mut written: Vec<verify::Original> = Vec::new();
    for file in &changed {
        let modified = std::fs::metadata(&file.path).and_then(|m| m.modified()).ok();
        if let Err(err) = write::write_atomic_if(&file.path, &file.output, Some(&file.original)) {
            verify::restore(&written)?;
            return Err(err);
        }
        written.push(verify::Original {
            path: file.path.clone(),
            text: file.original.clone(),
            modified,
        });
        if let Some(signal) = interrupts.received() {
            verify::restore(&written)?;
            outcome.interrupted = Some(signal);
            return Ok(());
        }
    }
    outcome.written = written.len();
    if let Some(command) = &config.verify {
        let dir = verify_dir(&config.paths);
        match verify::run_command(command, &dir, config.verify_timeout, &interrupts)? {
            verify::Verified::Passed => {}
            verify::Verified::Failed(failure) => {
                verify::restore(&written)?;
                outcome.written = 0;
                outcome.verify_failure = Some(failure);
            }
            verify::Verified::Interrupted(signal) => {
                verify::restore(&written)?;
                outcome.written = 0;
                outcome.interrupted = Some(signal);
            }
        }
    }
    Ok(())
}

/// The folder `--verify` runs in: the first PATH, or its folder for a file.
fn verify_dir(paths: &[PathBuf]) -> PathBuf {
    let first = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    if first.is_dir() {
        first
    } else {
        first
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }
}
