//! The scratch copy the compiler checks: the whole Cargo workspace copied to
//! a temporary folder (without `target/` and `.git/`), so that the user's
//! tree is never touched before the final write. Dependencies build into
//! the workspace's own target folder, which the copy shares.

use std::path::{Path, PathBuf};

/// A temporary copy of a workspace, removed when dropped.
pub struct Scratch {
    /// Removes the copy when dropped.
    _dir: tempfile::TempDir,
    /// The copied workspace root inside `dir`.
    root: PathBuf,
}

impl Scratch {
    /// Copies `workspace` (skipping `skip`, the target folder).
    pub fn copy(workspace: &Path, skip: &Path) -> std::io::Result<Scratch> {
        let dir = tempfile::Builder::new().prefix("codemod-check-").tempdir()?;
        let name = workspace
            .file_name()
            .map_or_else(|| "workspace".into(), |n| n.to_os_string());
        let root = dir.path().join(name);
        let walker = walkdir::WalkDir::new(workspace).into_iter().filter_entry(|e| {
            let name = e.file_name();
            e.depth() == 0 || !(e.path() == skip || name == "target" || name == ".git")
        });
        for entry in walker {
            let entry = entry.map_err(std::io::Error::other)?;
            let rel = entry.path().strip_prefix(workspace).expect("inside the workspace");
            let to = root.join(rel);
            let kind = entry.file_type();
            if kind.is_dir() {
                std::fs::create_dir_all(&to)?;
            } else if kind.is_symlink() {
                let link = std::fs::read_link(entry.path())?;
                std::os::unix::fs::symlink(link, &to)?;
            } else {
                std::fs::copy(entry.path(), &to)?;
            }
        }
        Ok(Scratch { _dir: dir, root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Replaces the text of `rel` in the copy.
    pub fn write(&self, rel: &Path, text: &str) -> std::io::Result<()> {
        std::fs::write(self.root.join(rel), text)
    }
}
