//! The walk: every file under the given paths, sorted by kind, skipping
//! `target/`, `.git/`, hidden folders and `--exclude` globs. A walk error
//! becomes a message and the walk goes on.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::Error;

/// The files a run looks at, by kind.
#[derive(Debug, Default)]
pub struct Files {
    pub rust: Vec<PathBuf>,
    pub proto: Vec<PathBuf>,
    pub kotlin: Vec<PathBuf>,
    pub docs: Vec<PathBuf>,
    /// Temporary files a killed run left behind (`.<name>.….codemod-tmp`).
    pub stale_temps: Vec<PathBuf>,
    /// Errors met while walking (unreadable folders and the like).
    pub errors: Vec<String>,
}

/// Compiles `--exclude` globs.
pub fn excludes(globs: &[String]) -> Result<GlobSet, Error> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let compiled = Glob::new(glob).map_err(|source| Error::Glob {
            glob: glob.clone(),
            message: source.to_string(),
        })?;
        builder.add(compiled);
    }
    builder.build().map_err(|source| Error::Glob {
        glob: globs.join(", "),
        message: source.to_string(),
    })
}

/// Walks `roots`. Missing roots are an error; files given directly are
/// taken whatever their folder.
pub fn walk(roots: &[PathBuf], excluded: &GlobSet) -> Result<Files, Error> {
    let mut files = Files::default();
    for root in roots {
        if !root.exists() {
            return Err(Error::MissingPath(root.clone()));
        }
        let walker = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !skipped(e.path(), root, e.file_type().is_dir(), excluded));
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_file() => classify(&mut files, entry.into_path()),
                Ok(_) => {}
                Err(err) => files.errors.push(err.to_string()),
            }
        }
    }
    Ok(files)
}

fn skipped(path: &Path, root: &Path, is_dir: bool, excluded: &GlobSet) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if is_dir && (name == "target" || name.starts_with('.')) {
        return true;
    }
    let relative = path.strip_prefix(root).unwrap_or(path);
    excluded.is_match(relative) || excluded.is_match(name)
}

fn classify(files: &mut Files, path: PathBuf) {
    if crate::write::is_temp_file(&path) {
        files.stale_temps.push(path);
        return;
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("rs") => files.rust.push(path),
        Some("proto") => files.proto.push(path),
        Some("kt" | "kts") => files.kotlin.push(path),
        Some("md" | "markdown" | "adoc" | "rst" | "txt") => files.docs.push(path),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_target_hidden_and_excluded() {
        let dir = tempfile::tempdir().unwrap();
        for p in [
            "src/a.rs",
            "target/b.rs",
            ".hidden/c.rs",
            "gen/d.rs",
            "README.md",
            "p.proto",
        ] {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let files = walk(&[dir.path().to_path_buf()], &excludes(&["gen/**".into()]).unwrap()).unwrap();
        let names: Vec<_> = files
            .rust
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(names, vec![PathBuf::from("src/a.rs")]);
        assert_eq!(files.docs.len(), 1);
        assert_eq!(files.proto.len(), 1);
    }

    #[test]
    fn missing_root_is_an_error() {
        let err = walk(&[PathBuf::from("/no/such/dir")], &excludes(&[]).unwrap()).unwrap_err();
        assert!(err.to_string().contains("/no/such/dir"));
    }
}
