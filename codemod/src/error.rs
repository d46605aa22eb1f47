//! The library's error type: what stops a whole run. Problems with one
//! file never do; they are reported in the [`crate::Outcome`].

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{}: no such file or directory", .0.display())]
    MissingPath(PathBuf),
    #[error("invalid --exclude glob `{glob}`: {message}")]
    Glob { glob: String, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to write: git holds no committed copy of these files (uncommitted changes, untracked or ignored; commit them or pass --allow-dirty):\n{}", list(.0))]
    DirtyTree(Vec<PathBuf>),
    #[error("refusing to write: these files changed since the codemod read them (nothing was written; run it again):\n{}", list(.0))]
    ChangedMeanwhile(Vec<PathBuf>),
    #[error("cannot start the worker threads: {0}")]
    Threads(String),
    #[error("could not run `{command}`: {source}")]
    Command {
        command: String,
        #[source]
        source: std::io::Error,
    },
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("  {}", p.to_string_lossy()))
        .collect::<Vec<_>>()
        .join("\n")
}
