//! What a run is asked to do: [`Config`], built by the CLI or a library
//! user, and the modes it combines.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::rules::RpcMode;

/// What a run does with the edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Report only.
    DryRun,
    /// Apply the edits.
    Write,
    /// Report only; pending edits make the run fail.
    Check,
}

/// Whether the compiler-guided step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CargoMode {
    /// With `--write`, when the paths are in a Cargo workspace.
    #[default]
    Auto,
    /// Also for dry runs and `--check` (`--cargo`).
    On,
    /// Never (`--no-cargo`).
    Off,
}

/// `--max-file-size` by default: 8 MiB (generated or vendored blobs).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;

/// A validated run configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub paths: Vec<PathBuf>,
    pub mode: Mode,
    pub rpc: RpcMode,
    pub excludes: Vec<String>,
    pub allow_dirty: bool,
    /// A command run in the target after writing; failure rolls back.
    pub verify: Option<String>,
    /// How long the `verify` command may run before it is killed.
    pub verify_timeout: std::time::Duration,
    /// Told how the scan advances (the CLI's progress bar).
    pub progress: Option<ProgressSink>,
    /// Format changed files whose original was rustfmt-clean.
    pub format: bool,
    /// The compiler-guided step.
    pub cargo: CargoMode,
    /// Rust files larger than this many bytes are reported as errors.
    pub max_file_size: u64,
    /// With `--write`: write the files that could be processed even when
    /// others could not be read (by default nothing is written then).
    pub keep_going: bool,
}

impl Config {
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Config {
            paths,
            mode: Mode::DryRun,
            rpc: RpcMode::Stub,
            excludes: Vec::new(),
            allow_dirty: false,
            verify: None,
            verify_timeout: std::time::Duration::from_secs(30 * 60),
            progress: None,
            format: true,
            cargo: CargoMode::Auto,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            keep_going: false,
        }
    }
}

impl Config {
    /// Whether the compiler-guided step runs for this configuration.
    pub(crate) fn runs_compiler(&self) -> bool {
        match self.cargo {
            CargoMode::Off => false,
            CargoMode::On => true,
            CargoMode::Auto => self.mode == Mode::Write,
        }
    }
}

/// Told how the scan of the files advances; the library itself writes
/// nothing to a terminal (the CLI draws a progress bar from this).
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// The scan of `total` Rust files starts.
    fn start(&self, total: usize);
    /// One more file was scanned.
    fn advance(&self);
    /// The scan is over.
    fn finish(&self);
}

/// A shared [`Progress`] receiver.
pub type ProgressSink = Arc<dyn Progress>;
