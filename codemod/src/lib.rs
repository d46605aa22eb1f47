//! Removes Flovyn's `WorkerNotifier` push-notification system from Rust
//! codebases, editing the original text by byte ranges so that every byte
//! not part of the removal stays as it was.
//!
//! The pipeline, one module per step:
//! 1. [`walk`]: the files under the given paths (`target/`, `.git/`, hidden
//!    folders and `--exclude` globs skipped).
//! 2. [`prefilter`]: a substring scan for the seed names ([`spec`]); files
//!    without any are never parsed.
//! 3. [`symbols`]: the candidates are parsed once to collect the run-wide
//!    removal set (fields and parameters of removed types), whose names then
//!    widen the prefilter for a second scan.
//! 4. [`rules`]: each candidate is parsed ([`parse`]) and analysed; rules
//!    return [`edit::Edit`]s, and removal propagates through what depends on
//!    the removed symbols until nothing changes.
//! 5. [`edit`]: one edit engine checks and applies the edits; [`text`]
//!    decides what a cut takes with it (lines, comments, separators).
//! 6. [`transform`]: the output must parse and be a fixpoint of the rules,
//!    or the file keeps its text and is reported.
//! 7. [`report`] / [`write`] / [`verify`]: diff, summary and JSON report;
//!    atomic writes behind a dirty-tree guard; `--verify` with rollback.
//!
//! [`run`] is the only entry point; it does no terminal output.

pub mod compiler;
pub mod edit;
pub mod error;
pub mod format;
pub mod kotlin;
pub mod mentions;
pub mod parse;
pub mod prefilter;
pub mod proto;
pub mod report;
pub mod rules;
pub mod seeds;
pub(crate) mod spans;
pub mod spec;
pub mod symbols;
pub mod text;
pub mod transform;
pub mod verify;
pub mod walk;
pub mod write;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

pub use error::Error;
pub use rules::{Review, RpcMode, RuleId};

use mentions::Mention;
use prefilter::Prefilter;
use symbols::{Facts, Symbols};
use transform::{EditRecord, Transformed};
use verify::VerifyFailure;

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
    /// Show a progress bar on stderr for large trees.
    pub progress: bool,
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
            progress: false,
            format: true,
            cargo: CargoMode::Auto,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            keep_going: false,
        }
    }
}

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

    fn is_empty(&self) -> bool {
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
    stale_temps: Vec<PathBuf>,
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

    /// 0 done, 1 edits pending under `--check`, 2 I/O errors on some files,
    /// 3 some files could not be parsed, 4 the `--verify` command failed,
    /// 5 the migrated tree does not build (nothing written).
    pub fn exit_code(&self) -> u8 {
        if let Some(signal) = self.interrupted {
            return 128 + signal as u8;
        }
        if self.verify_failure.is_some() {
            return 4;
        }
        if self.compiler.as_ref().is_some_and(compiler::CompilerReport::failed) {
            return 5;
        }
        let errors = self.files.iter().filter_map(|f| f.error.as_ref());
        let mut code = 0;
        for error in errors {
            code = match error {
                FileError::Io { .. } | FileError::TooLarge { .. } => 2,
                FileError::Parse { .. } | FileError::Rejected { .. } if code == 0 => 3,
                _ => code,
            };
        }
        if code == 0 && !self.walk_errors.is_empty() {
            code = 2;
        }
        if code == 0 && self.mode == Mode::Check && self.pending() {
            code = 1;
        }
        code
    }
}

/// Stack of each worker thread: syn parses recursively, so a deeply nested
/// file needs more than the 2 MiB default (see [`parse::MAX_NESTING`]).
const WORKER_STACK: usize = 256 * 1024 * 1024;

/// Runs the codemod as configured, on worker threads with large stacks.
pub fn run(config: &Config) -> Result<Outcome, Error> {
    let mut outcome = plan(config)?;
    if config.mode == Mode::Write {
        write_plan(config, &mut outcome)?;
    }
    Ok(outcome)
}

/// Everything but the writing: with `Mode::Write`, the outputs `--write`
/// would write (after the compiler-guided step), for [`write_plan`] to
/// write, possibly after a person chose among the hunks.
pub fn plan(config: &Config) -> Result<Outcome, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .thread_name(|i| format!("codemod-{i}"))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))?;
    pool.install(|| run_here(config))
}

/// The write stage of `--write` over a planned outcome: the guards, the
/// atomic writes, `--verify` and the rollbacks.
pub fn write_plan(config: &Config, outcome: &mut Outcome) -> Result<(), Error> {
    if outcome.compiler.as_ref().is_some_and(compiler::CompilerReport::failed) {
        return Ok(());
    }
    outcome.stale_temps_removed = write::remove_stale(&outcome.stale_temps)?;
    apply(config, outcome)
}

fn run_here(config: &Config) -> Result<Outcome, Error> {
    let excluded = walk::excludes(&config.excludes)?;
    let files = walk::walk(&config.paths, &excluded)?;
    let options = rules::RuleOptions { rpc: config.rpc };
    let progress = progress_bar(config.progress, files.rust.len());

    // Seed scan, then the removal set from the candidates' facts.
    let seeds = Prefilter::new(spec::TRIGGERS);
    let scanned: Vec<Scanned> = files
        .rust
        .par_iter()
        .map(|path| {
            let scanned = scan(path, &seeds, config.max_file_size);
            progress.inc(1);
            scanned
        })
        .collect();
    progress.finish_and_clear();
    let (scanned, symbols, facts) = removal_set(scanned);

    let mut stats = Stats {
        walked: files.rust.len(),
        ..Stats::default()
    };
    let mut outcomes: Vec<FileOutcome> = scanned
        .into_par_iter()
        .filter_map(|s| match s {
            Scanned::Candidate(path, source) => {
                Some(process_rust(path, source, &symbols, options, &Default::default()))
            }
            Scanned::Unreadable(path, message) => {
                let mut outcome = FileOutcome::new(path, String::new());
                outcome.error = Some(FileError::Io { message });
                Some(outcome)
            }
            Scanned::TooLarge(path, size) => {
                let mut outcome = FileOutcome::new(path, String::new());
                let limit = config.max_file_size;
                outcome.error = Some(FileError::TooLarge { size, limit });
                Some(outcome)
            }
            Scanned::Skipped(_) => None,
        })
        .collect();
    stats.parsed = outcomes
        .iter()
        .filter(|o| !matches!(o.error, Some(FileError::Io { .. } | FileError::TooLarge { .. })))
        .count();
    stats.skipped = stats.walked - outcomes.len();
    outcomes.retain(|o| !o.is_empty());
    let compiler = if run_cargo(config) {
        Some(complete_with_compiler(config, facts, options, &mut outcomes))
    } else {
        None
    };
    // `--check` only answers whether edits are pending, which formatting
    // never changes: it skips the rustfmt runs (two per changed file).
    let format = config.format && config.mode != Mode::Check;
    if format && !compiler.as_ref().is_some_and(compiler::CompilerReport::failed) {
        outcomes.par_iter_mut().filter(|o| o.changed()).for_each(format_output);
    }

    outcomes.extend(process_others(&files, config.rpc));
    outcomes.sort_by(|a, b| a.path.cmp(&b.path));
    stats.changed = outcomes.iter().filter(|o| o.changed()).count();

    let mut outcome = Outcome {
        mode: config.mode,
        stats,
        files: outcomes,
        walk_errors: files.errors,
        written: 0,
        stale_temps_removed: 0,
        stale_temps: Vec::new(),
        not_written: None,
        interrupted: None,
        verify_failure: None,
        compiler,
    };
    outcome.stale_temps = files.stale_temps;
    Ok(outcome)
}

enum Scanned {
    Skipped(PathBuf),
    /// Larger than `--max-file-size` (its size): an error, never skipped.
    TooLarge(PathBuf, u64),
    Candidate(PathBuf, String),
    Unreadable(PathBuf, String),
}

fn scan(path: &Path, prefilter: &Prefilter, max_size: u64) -> Scanned {
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() > max_size => return Scanned::TooLarge(path.to_path_buf(), meta.len()),
        Ok(_) => {}
        Err(err) => return Scanned::Unreadable(path.to_path_buf(), err.to_string()),
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => return Scanned::Unreadable(path.to_path_buf(), err.to_string()),
    };
    if !prefilter.matches(&bytes) {
        return Scanned::Skipped(path.to_path_buf());
    }
    match String::from_utf8(bytes) {
        Ok(source) => Scanned::Candidate(path.to_path_buf(), source),
        Err(_) => Scanned::Unreadable(path.to_path_buf(), "not valid UTF-8".to_string()),
    }
}

/// Collects the facts of every candidate and resolves the removal set.
/// Names the set derives (an alias, a removed field, a setter) widen the
/// prefilter: skipped files naming them become candidates, whose facts may
/// derive more names, until no new file matches.
fn removal_set(mut scanned: Vec<Scanned>) -> (Vec<Scanned>, Symbols, Facts) {
    let mut facts = Facts::default();
    let mut collected = vec![false; scanned.len()];
    let mut markers: BTreeSet<String> = spec::TRIGGERS.iter().map(|t| t.to_string()).collect();
    loop {
        let new_facts = scanned
            .par_iter()
            .zip(collected.par_iter())
            .filter_map(|(s, done)| match s {
                Scanned::Candidate(_, source) if !done => Some(collect_facts(source)),
                _ => None,
            })
            .reduce(Facts::default, |mut a, b| {
                a.merge(b);
                a
            });
        facts.merge(new_facts);
        for (s, done) in scanned.iter().zip(collected.iter_mut()) {
            *done |= matches!(s, Scanned::Candidate(..));
        }
        let symbols = Symbols::resolve(&facts);
        let derived: Vec<String> = symbols.markers().into_iter().filter(|m| !markers.contains(m)).collect();
        if derived.is_empty() {
            return (scanned, symbols, facts);
        }
        markers.extend(derived.iter().cloned());
        let widened = Prefilter::new(&derived);
        scanned = scanned
            .into_par_iter()
            .map(|s| match s {
                // A file naming a derived name that cannot be read (not
                // UTF-8) is reported, never silently left unmigrated.
                Scanned::Skipped(path) => scan(&path, &widened, u64::MAX),
                other => other,
            })
            .collect();
    }
}

fn collect_facts(source: &str) -> Facts {
    // A panic here (a bug) costs this file's facts, not the run.
    let facts = std::panic::catch_unwind(|| {
        let mut facts = Facts::default();
        if let Ok(ast) = parse::parse_ast(source) {
            facts.collect(&ast, source);
        }
        facts
    });
    parse::forget_spans();
    facts.unwrap_or_default()
}

pub(crate) fn process_rust(
    path: PathBuf,
    source: String,
    symbols: &Symbols,
    options: rules::RuleOptions,
    seeds: &seeds::FileSeeds,
) -> FileOutcome {
    // A panic in the rules (a bug) is this file's error; the others go on.
    let transformed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        transform::transform(&source, symbols, options, seeds)
    }))
    .unwrap_or_else(|panic| {
        parse::forget_spans();
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Transformed::Rejected(format!(
            "the codemod failed on this file (a bug; please report it): {message}"
        ))
    });
    let mut outcome = FileOutcome::new(path, source);
    match transformed {
        Transformed::Done {
            output,
            edits,
            reviews,
            touched,
        } => {
            outcome.reviews = reviews;
            outcome.mentions = mentions::scan_rust(&outcome.original, &touched);
            if !touched.is_empty() {
                let stale = mentions::stale_comments(&outcome.original, &touched);
                let named: Vec<usize> = outcome.mentions.iter().map(|m| m.line).collect();
                outcome
                    .mentions
                    .extend(stale.into_iter().filter(|m| !named.contains(&m.line)));
                outcome.mentions.sort_by_key(|m| m.line);
            }
            match options.rpc {
                // The stub keeps the RPC's handler and client method on purpose.
                RpcMode::Stub => outcome
                    .mentions
                    .retain(|m| m.kind != mentions::MentionKind::Code || m.name != spec::RPC_METHOD),
                // With the RPC removed, code still using it will not build.
                RpcMode::Remove => outcome.mentions.retain(|m| {
                    let uses_rpc = m.kind == mentions::MentionKind::Code
                        && (m.name == spec::RPC_METHOD || m.name == spec::PROTO_RPC);
                    if uses_rpc {
                        review_removed_rpc_use(&mut outcome.reviews, m.line, &m.name);
                    }
                    !uses_rpc
                }),
            }
            outcome.reviews.sort_by_key(|r| r.line);
            outcome.output = output;
            outcome.edits = edits;
        }
        Transformed::ParseFailed(err) => {
            outcome.error = Some(FileError::Parse {
                line: err.line,
                column: err.column,
                message: err.message,
            });
        }
        Transformed::Generated => outcome.reviews.push(Review {
            line: 1,
            message: "generated file (@generated): not edited; regenerate it after the migration".to_string(),
        }),
        Transformed::Rejected(message) => outcome.error = Some(FileError::Rejected { message }),
    }
    outcome
}

/// Whether the compiler-guided step runs for this configuration.
fn run_cargo(config: &Config) -> bool {
    match config.cargo {
        CargoMode::Off => false,
        CargoMode::On => true,
        CargoMode::Auto => config.mode == Mode::Write,
    }
}

fn complete_with_compiler(
    config: &Config,
    facts: Facts,
    options: rules::RuleOptions,
    outcomes: &mut Vec<FileOutcome>,
) -> compiler::CompilerReport {
    let first = config.paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    let (root, target_dir) = match compiler::locate(&first) {
        Ok(found) => found,
        Err(reason) => return compiler::CompilerReport::Skipped { reason },
    };
    let roots: Vec<(PathBuf, PathBuf)> = config
        .paths
        .iter()
        .filter_map(|p| p.canonicalize().ok().map(|c| (p.clone(), c)))
        .collect();
    let display = move |abs: &Path| -> PathBuf {
        for (given, canonical) in &roots {
            if let Ok(rest) = abs.strip_prefix(canonical) {
                return if rest.as_os_str().is_empty() {
                    given.clone()
                } else {
                    given.join(rest)
                };
            }
        }
        abs.to_path_buf()
    };
    let input = compiler::Input {
        root: &root,
        target_dir: &target_dir,
        facts,
        options,
        display: &display,
    };
    compiler::complete(input, outcomes)
}

/// Formats a changed file's output when its original was rustfmt-clean.
fn format_output(outcome: &mut FileOutcome) {
    match format::format_if_clean(&outcome.path, &outcome.original, &outcome.output) {
        format::Formatted::Yes(text) => {
            outcome.output = text;
            outcome.formatted = true;
        }
        format::Formatted::NotClean => {}
        format::Formatted::Failed(message) => outcome.reviews.push(Review {
            line: 1,
            message: format!("not formatted although the original was rustfmt-clean: {message}"),
        }),
    }
}

fn review_removed_rpc_use(reviews: &mut Vec<Review>, line: usize, name: &str) {
    reviews.push(Review {
        line,
        message: format!("`{name}` is used here but --rpc remove deletes the RPC; remove this use by hand"),
    });
}

/// Proto files (with `--rpc remove`), Kotlin files and docs.
fn process_others(files: &walk::Files, rpc: RpcMode) -> Vec<FileOutcome> {
    let mut out = Vec::new();
    let read = |path: &PathBuf| std::fs::read_to_string(path).map_err(|e| e.to_string());
    for path in &files.proto {
        match read(path) {
            Ok(source) => {
                let mut outcome = FileOutcome::new(path.clone(), source);
                if rpc == RpcMode::Remove {
                    if let Some((output, edits)) = proto::remove_rpc(&outcome.original) {
                        outcome.output = output;
                        outcome.edits = edits;
                    }
                }
                out.push(outcome);
            }
            Err(message) => out.push(io_failure(path, message)),
        }
    }
    for path in &files.kotlin {
        match read(path) {
            Ok(source) => {
                let mut outcome = FileOutcome::new(path.clone(), source);
                outcome.reviews = kotlin::scan(&outcome.original);
                out.push(outcome);
            }
            Err(message) => out.push(io_failure(path, message)),
        }
    }
    for path in &files.docs {
        if let Ok(source) = read(path) {
            let mut outcome = FileOutcome::new(path.clone(), source);
            outcome.mentions = mentions::scan_doc(&outcome.original);
            out.push(outcome);
        }
    }
    out.retain(|o| !o.is_empty());
    out
}

fn io_failure(path: &Path, message: String) -> FileOutcome {
    let mut outcome = FileOutcome::new(path.to_path_buf(), String::new());
    outcome.error = Some(FileError::Io { message });
    outcome
}

/// `--write`: guard, write atomically, verify, roll back on failure.
fn apply(config: &Config, outcome: &mut Outcome) -> Result<(), Error> {
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

fn progress_bar(enabled: bool, total: usize) -> indicatif::ProgressBar {
    const MIN_FILES: usize = 300;
    if !enabled || total < MIN_FILES {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files scanned") {
        bar.set_style(style);
    }
    bar
}

/// Runs the rules on one source text alone, as if it were the whole tree
/// (fixtures and the library's own tests).
pub fn transform_source(source: &str, rpc: RpcMode) -> Transformed {
    let symbols = Symbols::resolve(&collect_facts(source));
    transform::transform(
        source,
        &symbols,
        rules::RuleOptions { rpc },
        &seeds::FileSeeds::default(),
    )
}
