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
//!    widen the prefilter for a second scan. Each worker thread keeps the
//!    trees it parsed (`held`) for the next step.
//! 4. [`rules`]: each candidate ([`parse`]d, or kept from step 3) is analysed; rules
//!    return [`edit::Edit`]s, and removal propagates through what depends on
//!    the removed symbols until nothing changes.
//! 5. [`edit`]: one edit engine checks and applies the edits; [`text`]
//!    decides what a cut takes with it (lines, comments, separators).
//! 6. [`transform`]: the output must parse and be a fixpoint of the rules,
//!    or the file keeps its text and is reported.
//! 7. [`report`] / [`write`] / [`verify`]: diff, summary and JSON report;
//!    atomic writes behind a dirty-tree guard; `--verify` with rollback.
//!
//! Around them: [`Config`] (what to do), `pipeline` (steps 1–6 over the
//! whole tree), `apply` (the write stage), [`Outcome`] (what was found,
//! with the [`exit`] code table). [`run`] is the entry point ([`plan`] and
//! [`write_plan`] split it for an interactive review); it does no terminal
//! output.

mod apply;
pub(crate) mod compiler;
mod config;
pub(crate) mod edit;
pub mod error;
pub(crate) mod format;
mod held;
mod ident_index;
pub(crate) mod kotlin;
pub(crate) mod mentions;
mod outcome;
pub mod parse;
mod pipeline;
pub(crate) mod prefilter;
pub(crate) mod proto;
pub mod report;
mod rule_id;
pub(crate) mod rules;
pub(crate) mod seeds;
pub(crate) mod spans;
pub(crate) mod spec;
mod stmt_bounds;
pub(crate) mod symbols;
pub(crate) mod text;
pub mod transform;
pub(crate) mod verify;
pub(crate) mod walk;
pub(crate) mod write;

pub use compiler::CompilerReport;
pub use config::{CargoMode, Config, Mode, Progress, ProgressSink, DEFAULT_MAX_FILE_SIZE};
pub use error::Error;
pub use mentions::{Mention, MentionKind};
pub use outcome::{exit, FileError, FileOutcome, Outcome, Stats};
pub use rule_id::RuleId;
pub use rules::{Review, RpcMode};
pub use transform::{EditRecord, Transformed};
pub use verify::VerifyFailure;

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
    pool.install(|| pipeline::run(config))
}

/// The write stage of `--write` over a planned outcome: the guards, the
/// atomic writes, `--verify` and the rollbacks.
pub fn write_plan(config: &Config, outcome: &mut Outcome) -> Result<(), Error> {
    if outcome.compiler.as_ref().is_some_and(compiler::CompilerReport::failed) {
        return Ok(());
    }
    outcome.stale_temps_removed = write::remove_stale(&outcome.stale_temps)?;
    apply::apply(config, outcome)
}
/// Runs the rules on one source text alone, as if it were the whole tree
/// (fixtures and the library's own tests).
pub fn transform_source(source: &str, rpc: RpcMode) -> Transformed {
    let symbols = symbols::Symbols::resolve(&pipeline::collect_facts(source));
    transform::transform(
        source,
        &symbols,
        rules::RuleOptions { rpc },
        &seeds::FileSeeds::default(),
    )
}
