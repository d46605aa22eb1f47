//! What a run found: per file ([`FileOutcome`]) and in all ([`Outcome`]),
//! and the process exit code it stands for ([`exit`], the one table of
//! exit codes).

use std::path::PathBuf;

use serde::Serialize;

use crate::config::Mode;
use crate::mentions::Mention;
use crate::rules::Review;
use crate::transform::EditRecord;
use crate::verify::VerifyFailure;
use crate::{compiler, report};

/// Why a file could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FileError {
    Parse {
        line: usize,
        column: usize,
        message: String,
    },
    Io {
        message: String,
    },
    /// The codemod produced output that failed its own checks.
    Rejected {
        message: String,
    },
    /// Larger than `--max-file-size`: not read.
    TooLarge {
        size: u64,
        limit: u64,
    },
}

/// Everything a run found about one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    /// As text (lossy when the name is not valid UTF-8).
    #[serde(serialize_with = "report::lossy_path")]
    pub path: PathBuf,
    /// The path's raw bytes, when it is not valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes: Option<Vec<u8>>,
    #[serde(skip)]
    pub original: String,
    #[serde(skip)]
    pub output: String,
    pub edits: Vec<EditRecord>,
    pub reviews: Vec<Review>,
    pub mentions: Vec<Mention>,
    pub error: Option<FileError>,
    /// The output was run through rustfmt (the original was rustfmt-clean).
    pub formatted: bool,
}

impl FileOutcome {
    pub(crate) fn new(path: PathBuf, original: String) -> Self {
        FileOutcome {
            path_bytes: report::raw_bytes_if_not_utf8(&path),
            path,
            output: original.clone(),
            original,
            edits: Vec::new(),
            reviews: Vec::new(),
            mentions: Vec::new(),
            error: None,
            formatted: false,
        }
    }

    pub fn changed(&self) -> bool {
        self.output != self.original
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.changed() && self.reviews.is_empty() && self.mentions.is_empty() && self.error.is_none()
    }
}

/// Counts of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Rust files walked.
    pub walked: usize,
    /// Rust files skipped by the prefilter without parsing.
    pub skipped: usize,
    /// Rust files parsed.
    pub parsed: usize,
    /// Files with edits (Rust and proto).
    pub changed: usize,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub mode: Mode,
    pub stats: Stats,
    /// Files with edits, reviews, mentions or errors, sorted by path.
    pub files: Vec<FileOutcome>,
    pub walk_errors: Vec<String>,
    /// Files written (with `--write`; 0 after a rollback).
    pub written: usize,
    /// Temporary files of a killed earlier run, removed by `--write`.
    pub stale_temps_removed: usize,
    #[serde(skip)]
    pub(crate) stale_temps: Vec<PathBuf>,
    /// Why `--write` wrote nothing although edits were ready.
    pub not_written: Option<String>,
    /// The signal (SIGINT, SIGTERM) that interrupted `--write`/`--verify`;
    /// every file was restored.
    pub interrupted: Option<i32>,
    #[serde(skip)]
    pub verify_failure: Option<VerifyFailure>,
    /// What the compiler-guided step did, when it ran.
    pub compiler: Option<compiler::CompilerReport>,
}

impl Outcome {
    pub fn pending(&self) -> bool {
        self.files.iter().any(FileOutcome::changed)
    }

    /// The process exit code of this outcome (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        if let Some(signal) = self.interrupted {
            return exit::SIGNAL_BASE + signal as u8;
        }
        if self.verify_failure.is_some() {
            return exit::VERIFY_FAILED;
        }
        if self.compiler.as_ref().is_some_and(compiler::CompilerReport::failed) {
            return exit::DOES_NOT_BUILD;
        }
        let errors = self.files.iter().filter_map(|f| f.error.as_ref());
        let mut code = exit::DONE;
        for error in errors {
            code = match error {
                FileError::Io { .. } | FileError::TooLarge { .. } => exit::USAGE_OR_IO,
                FileError::Parse { .. } | FileError::Rejected { .. } if code == exit::DONE => exit::UNPARSED,
                _ => code,
            };
        }
        if code == exit::DONE && !self.walk_errors.is_empty() {
            code = exit::USAGE_OR_IO;
        }
        if code == exit::DONE && self.mode == Mode::Check && self.pending() {
            code = exit::PENDING;
        }
        code
    }
}

/// The exit codes of the `codemod` binary, written once: the library
/// decides them ([`Outcome::exit_code`]), the binary uses them and prints
/// [`help`] under `--help`.
pub mod exit {
    /// Done: nothing pending, or everything written.
    pub const DONE: u8 = 0;
    /// `--check`: edits are pending.
    pub const PENDING: u8 = 1;
    /// A usage error, or files or folders that could not be read.
    pub const USAGE_OR_IO: u8 = 2;
    /// Some files could not be parsed (or the codemod rejected its output).
    pub const UNPARSED: u8 = 3;
    /// The `--verify` command failed; every file was restored.
    pub const VERIFY_FAILED: u8 = 4;
    /// The migrated tree does not build; nothing was written.
    pub const DOES_NOT_BUILD: u8 = 5;
    /// Plus the signal number: interrupted by SIGINT (130) or SIGTERM (143);
    /// every file was restored.
    pub const SIGNAL_BASE: u8 = 128;

    /// Every code with what it means, for `--help`.
    pub const TABLE: &[(&str, &str)] = &[
        ("0", "done"),
        ("1", "edits pending (--check)"),
        ("2", "usage or I/O error"),
        ("3", "some files could not be parsed"),
        ("4", "the --verify command failed (files restored)"),
        (
            "5",
            "the migrated tree does not build (nothing written; the diagnostics are listed)",
        ),
        ("130/143", "interrupted by SIGINT/SIGTERM (files restored)"),
    ];

    /// The table as one paragraph.
    pub fn help() -> String {
        let codes: Vec<String> = TABLE
            .iter()
            .map(|(code, meaning)| format!("{code} {meaning}"))
            .collect();
        format!("Exit codes: {}.", codes.join(", "))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn the_table_lists_every_code() {
            for code in [super::DONE, super::PENDING, super::USAGE_OR_IO, super::UNPARSED] {
                assert!(super::TABLE.iter().any(|(c, _)| *c == code.to_string()), "{code}");
            }
            for code in [super::VERIFY_FAILED, super::DOES_NOT_BUILD] {
                assert!(super::TABLE.iter().any(|(c, _)| *c == code.to_string()), "{code}");
            }
            let signals = format!("{}/{}", super::SIGNAL_BASE + 2, super::SIGNAL_BASE + 15);
            assert!(super::TABLE.iter().any(|(c, _)| *c == signals));
        }
    }
}
