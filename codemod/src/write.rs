//! Writing: the git dirty-tree guard, and atomic replacement of a file's
//! contents (a temporary file in the same folder, then a rename), so that no
//! file is ever left half-written.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;

/// The end of every temporary file the codemod writes.
pub const TEMP_SUFFIX: &str = ".codemod-tmp";

/// Is this a temporary file of an earlier run (`.<name>.XXXXXX.codemod-tmp`)?
pub fn is_temp_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.ends_with(TEMP_SUFFIX))
}

/// Removes the temporary files a killed run left behind; returns how many.
pub fn remove_stale(temps: &[PathBuf]) -> Result<usize, Error> {
    for path in temps {
        std::fs::remove_file(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok(temps.len())
}

/// Writes `contents` to `path` atomically, keeping its permissions.
pub fn write_atomic(path: &Path, contents: &str) -> Result<(), Error> {
    write_atomic_if(path, contents, None)
}

/// Like [`write_atomic`], but only while the file still holds `expected`
/// (checked just before the rename): an edit made to it since it was read
/// is never overwritten ([`Error::ChangedMeanwhile`]).
pub fn write_atomic_if(path: &Path, contents: &str, expected: Option<&str>) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let metadata = std::fs::metadata(path).map_err(io)?;
    let permissions = metadata.permissions();
    // `.<name>.XXXXXX.codemod-tmp`: recognisable after a kill -9, ignored by
    // the walk, and removed by the next `--write` (see [`remove_stale`]).
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(contents.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    std::fs::set_permissions(tmp.path(), permissions).map_err(io)?;
    keep_owner(tmp.path(), &metadata).map_err(io)?;
    if let Some(expected) = expected {
        if std::fs::read(path).map_err(io)? != expected.as_bytes() {
            return Err(Error::ChangedMeanwhile(vec![path.to_path_buf()]));
        }
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The new file gets the owner and group of the one it replaces (a run as
/// root must not hand another user's file to root).
#[cfg(unix)]
fn keep_owner(tmp: &Path, original: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let now = std::fs::metadata(tmp)?;
    if now.uid() == original.uid() && now.gid() == original.gid() {
        return Ok(());
    }
    std::os::unix::fs::chown(tmp, Some(original.uid()), Some(original.gid()))
}

#[cfg(not(unix))]
fn keep_owner(_: &Path, _: &std::fs::Metadata) -> std::io::Result<()> {
    Ok(())
}

/// The files among `paths` git holds no committed copy of to go back to:
/// with uncommitted changes, untracked, or ignored. One `git status` per
/// folder (pathspecs taken literally, names compared as bytes, so a name
/// that is not valid UTF-8 is checked too). Files outside any work tree, or
/// without git installed, are never dirty.
pub fn dirty_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut by_dir: BTreeMap<&Path, Vec<&PathBuf>> = BTreeMap::new();
    for path in paths {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        by_dir.entry(dir).or_default().push(path);
    }
    let mut dirty = Vec::new();
    for (dir, files) in by_dir {
        let output = Command::new("git")
            .arg("--literal-pathspecs")
            .arg("-C")
            .arg(dir)
            .args([
                "status",
                "--porcelain",
                "-z",
                "--ignored=matching",
                "--untracked-files=all",
                "--",
            ])
            .args(files.iter().filter_map(|f| f.file_name()))
            .output();
        let Ok(output) = output else { continue };
        if !output.status.success() {
            continue;
        }
        // Entries are `XY path`, paths relative to the repository root.
        let names: Vec<&[u8]> = output
            .stdout
            .split(|b| *b == 0)
            .filter(|e| e.len() > 3)
            .map(|e| &e[3..])
            .collect();
        for file in files {
            let Some(name) = file.file_name() else { continue };
            let name = name_bytes(name);
            let listed = names.iter().any(|n| {
                *n == name.as_slice() || (n.ends_with(&name) && n.get(n.len() - name.len() - 1) == Some(&b'/'))
            });
            if listed {
                dirty.push(file.clone());
            }
        }
    }
    dirty
}

fn name_bytes(name: &std::ffi::OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        name.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        name.to_string_lossy().into_owned().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        std::fs::write(&path, "old").unwrap();
        write_atomic(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
        assert!(is_temp_file(Path::new("src/.a.rs.x1Yz9q.codemod-tmp")));
        assert!(!is_temp_file(Path::new("src/a.rs")));
    }

    #[test]
    fn outside_git_is_clean() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        std::fs::write(&path, "x").unwrap();
        assert!(dirty_files(&[path]).is_empty());
    }
}
