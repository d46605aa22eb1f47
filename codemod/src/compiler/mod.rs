//! Compiler-guided completion: after the syntactic edits, the compiler
//! says what is still wrong, and the rules finish the job.
//!
//! 1. The Cargo workspace holding the paths is copied to a scratch folder
//!    ([`scratch`]), which builds into `codemod-check/` inside the
//!    workspace's target folder: dependencies are built once and reused by
//!    later runs, and the user's own artifacts are never replaced by ones
//!    built from migrated text (cargo would take those for fresh, since the
//!    user's sources are older than them).
//! 2. `cargo check --workspace --all-targets` on the untouched copy is the
//!    baseline ([`check`]); a baseline with errors ends the step (the
//!    syntactic result stands, and the report says why).
//! 3. The edited files are written into the copy and checked again. Every
//!    diagnostic not in the baseline is turned into seeds ([`derive`]) in
//!    the original text's coordinates ([`offsets`]), and the rules run
//!    again from the original text with those seeds, so that a
//!    compiler-derived removal cascades like any other.
//! 4. Until no new diagnostic is left (the tree builds with no new
//!    warnings), or a round adds no seed, or [`MAX_ROUNDS`] pass: then the
//!    run fails, nothing is written, and the remaining diagnostics are
//!    listed as file:line.

mod check;
mod derive;
mod offsets;
mod scratch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::rules::RuleOptions;
use crate::seeds::FileSeeds;
use crate::symbols::{Facts, Symbols};
use crate::FileOutcome;

/// Rounds of check-and-fix before giving up.
pub const MAX_ROUNDS: usize = 12;

/// How the compiler-guided step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum CompilerReport {
    /// The migrated tree builds with no diagnostic the original did not have.
    Built { rounds: usize, checks: usize },
    /// The compiler still reports these (file:line: …); nothing was written.
    Failed { rounds: usize, remaining: Vec<String> },
    /// The original tree does not build; the syntactic result stands.
    BaselineBroken { errors: Vec<String> },
    /// Not run: no Cargo workspace, no cargo, or nothing to check.
    Skipped { reason: String },
}

impl CompilerReport {
    pub fn failed(&self) -> bool {
        matches!(self, CompilerReport::Failed { .. })
    }
}

/// The workspace root and target folder of the Cargo workspace holding
/// `path`, from `cargo metadata`.
pub fn locate(path: &Path) -> Result<(PathBuf, PathBuf), String> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let metadata = cargo_metadata::MetadataCommand::new()
        .current_dir(&dir)
        .no_deps()
        .exec()
        .map_err(|e| {
            let text = e.to_string();
            if text.contains("could not find `Cargo.toml`") {
                format!("no Cargo workspace holds {}", path.display())
            } else {
                format!("`cargo metadata` failed: {}", first_line(&text))
            }
        })?;
    Ok((
        metadata.workspace_root.into_std_path_buf(),
        metadata.target_directory.into_std_path_buf(),
    ))
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or(text).trim()
}

/// One Rust file the step tracks.
struct Tracked {
    rel: PathBuf,
    seeds: FileSeeds,
    outcome: FileOutcome,
}

/// Everything the step needs from the run.
pub struct Input<'a> {
    pub root: &'a Path,
    pub target_dir: &'a Path,
    pub facts: Facts,
    pub options: RuleOptions,
    /// How a path of the workspace is shown (relative to the user's PATH).
    pub display: &'a (dyn Fn(&Path) -> PathBuf + Sync),
}

/// Runs the step over `outcomes` (the syntactic results), replacing the
/// Rust files' outputs with the completed ones when the tree builds.
pub fn complete(mut input: Input<'_>, outcomes: &mut Vec<FileOutcome>) -> CompilerReport {
    let root = match input.root.canonicalize() {
        Ok(root) => root,
        Err(e) => return skipped(format!("{}: {e}", input.root.display())),
    };
    let mut tracked: BTreeMap<PathBuf, Tracked> = BTreeMap::new();
    for outcome in outcomes.iter().filter(|o| is_rust(&o.path) && o.error.is_none()) {
        let Some(rel) = relative(&root, &outcome.path) else {
            continue;
        };
        let state = Tracked {
            rel: rel.clone(),
            seeds: FileSeeds::default(),
            outcome: outcome.clone(),
        };
        tracked.insert(rel, state);
    }
    if !tracked.values().any(|t| t.outcome.changed()) {
        return skipped("no Rust file changed".to_string());
    }
    let build_dir = input.target_dir.join("codemod-check");
    let scratch = match scratch::Scratch::copy(&root, input.target_dir) {
        Ok(scratch) => scratch,
        Err(e) => return skipped(format!("cannot copy the workspace: {e}")),
    };
    let baseline = match check::run(scratch.root(), &build_dir) {
        Ok(checked) => checked,
        Err(message) => return skipped(message),
    };
    let broken: Vec<String> = baseline
        .diags
        .iter()
        .filter(|d| d.error)
        .map(check::Diag::describe)
        .collect();
    if !broken.is_empty() || baseline.other_failure.is_some() {
        let mut errors = broken;
        errors.extend(baseline.other_failure);
        return CompilerReport::BaselineBroken { errors };
    }
    let known = counts(&baseline.diags);
    let mut facts = std::mem::take(&mut input.facts);
    for round in 1..=MAX_ROUNDS {
        if let Err(e) = write_outputs(&scratch, &tracked) {
            return skipped(format!("cannot write the scratch copy: {e}"));
        }
        let checked = match check::run(scratch.root(), &build_dir) {
            Ok(checked) => checked,
            Err(message) => return skipped(message),
        };
        let fresh = new_diags(&checked.diags, &known);
        if fresh.is_empty() && checked.other_failure.is_none() {
            for state in tracked.into_values() {
                merge_outcome(outcomes, state.outcome);
            }
            return CompilerReport::Built {
                rounds: round,
                checks: round + 1,
            };
        }
        let mut progress = false;
        let debug = std::env::var_os("CODEMOD_DEBUG_COMPILER").is_some();
        // One map back to the original per file and round: the outputs only
        // change when the round is over.
        let mut maps = Maps::new();
        for diag in &fresh {
            if debug {
                eprintln!("round {round}: {} {:?}", diag.describe(), diag.suggestions);
            }
            progress |= absorb(diag, &root, &mut tracked, &mut maps, &mut facts, &input);
        }
        if !progress {
            let mut remaining: Vec<String> = Vec::new();
            for diag in &fresh {
                let line = describe(diag, &tracked, &mut maps);
                // A library and its tests report one place twice.
                let place = line.split(": ").take(2).collect::<Vec<_>>().join(": ");
                if !remaining.iter().any(|r| r.starts_with(&place)) {
                    remaining.push(line);
                }
            }
            remaining.extend(checked.other_failure);
            return CompilerReport::Failed {
                rounds: round,
                remaining,
            };
        }
        retransform(&mut tracked, &facts, input.options);
    }
    CompilerReport::Failed {
        rounds: MAX_ROUNDS,
        remaining: vec![format!("still not building after {MAX_ROUNDS} rounds")],
    }
}

/// `path:line: error[E0609]: …`, with the path as the user sees it and the
/// line of the original text (or of the migrated text, when the diagnostic
/// sits on text the codemod wrote).
fn describe(diag: &check::Diag, tracked: &BTreeMap<PathBuf, Tracked>, maps: &mut Maps) -> String {
    let Some(state) = tracked.get(&diag.file) else {
        return diag.describe();
    };
    let map = map_of(maps, state);
    let place = match map.to_original(diag.range.start) {
        Some(at) => format!("{}", crate::text::line_of(&state.outcome.original, at)),
        None => format!("{} (of the migrated text)", diag.line),
    };
    let level = if diag.error { "error" } else { "warning" };
    format!(
        "{}:{place}: {level}[{}]: {}",
        state.outcome.path.display(),
        diag.code,
        diag.message
    )
}

/// Each tracked file's map from its checked text back to its original.
type Maps = BTreeMap<PathBuf, offsets::OffsetMap>;

fn map_of<'m>(maps: &'m mut Maps, state: &Tracked) -> &'m offsets::OffsetMap {
    maps.entry(state.rel.clone())
        .or_insert_with(|| offsets::OffsetMap::new(&state.outcome.original, &state.outcome.output))
}

fn skipped(reason: String) -> CompilerReport {
    CompilerReport::Skipped { reason }
}

fn is_rust(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "rs")
}

fn relative(root: &Path, path: &Path) -> Option<PathBuf> {
    let canonical = path.canonicalize().ok()?;
    canonical.strip_prefix(root).ok().map(Path::to_path_buf)
}

type Key = (PathBuf, bool, String, String, String);

fn counts(diags: &[check::Diag]) -> BTreeMap<Key, usize> {
    let mut out = BTreeMap::new();
    for d in diags {
        *out.entry(d.key()).or_insert(0) += 1;
    }
    out
}

/// The diagnostics beyond the baseline's (as many of each as it had).
fn new_diags(diags: &[check::Diag], known: &BTreeMap<Key, usize>) -> Vec<check::Diag> {
    let mut left = known.clone();
    let mut out = Vec::new();
    for d in diags {
        match left.get_mut(&d.key()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(d.clone()),
        }
    }
    out
}

fn write_outputs(scratch: &scratch::Scratch, tracked: &BTreeMap<PathBuf, Tracked>) -> std::io::Result<()> {
    for state in tracked.values() {
        scratch.write(&state.rel, &state.outcome.output)?;
    }
    Ok(())
}

/// Turns one new diagnostic into seeds; returns whether any was new.
fn absorb(
    diag: &check::Diag,
    root: &Path,
    tracked: &mut BTreeMap<PathBuf, Tracked>,
    maps: &mut Maps,
    facts: &mut Facts,
    input: &Input<'_>,
) -> bool {
    if !tracked.contains_key(&diag.file) {
        let path = root.join(&diag.file);
        let Ok(original) = std::fs::read_to_string(&path) else {
            return false;
        };
        let state = Tracked {
            rel: diag.file.clone(),
            seeds: FileSeeds::default(),
            outcome: FileOutcome::new((input.display)(&path), original),
        };
        tracked.insert(diag.file.clone(), state);
    }
    let state = tracked.get_mut(&diag.file).expect("just inserted");
    let map = map_of(maps, state);
    let Some(derived) = derive::derive(diag, &state.outcome.output, map) else {
        return false;
    };

    let mut progress = state.seeds.absorb(derived.file);
    let before = (
        facts.forced_types.len(),
        facts.forced_fields.len(),
        facts.forced_imports.len(),
    );
    for t in derived.facts.forced_types {
        if !facts.forced_types.iter().any(|(n, _)| *n == t.0) {
            facts.forced_types.push(t);
        }
    }
    for f in derived.facts.forced_fields {
        if !facts.forced_fields.iter().any(|(o, n, _)| *o == f.0 && *n == f.1) {
            facts.forced_fields.push(f);
        }
    }
    for i in derived.facts.forced_imports {
        if !facts.forced_imports.iter().any(|(n, _)| *n == i.0) {
            facts.forced_imports.push(i);
        }
    }
    progress |= before
        != (
            facts.forced_types.len(),
            facts.forced_fields.len(),
            facts.forced_imports.len(),
        );
    progress
}

/// Runs the rules again on every tracked file, from its original text,
/// with the run-wide set re-decided and each file's seeds.
fn retransform(tracked: &mut BTreeMap<PathBuf, Tracked>, facts: &Facts, options: RuleOptions) {
    let symbols = Symbols::resolve(facts);
    tracked.par_iter_mut().for_each(|(_, state)| {
        let path = state.outcome.path.clone();
        let original = state.outcome.original.clone();
        state.outcome = crate::pipeline::process_rust(path, original, &symbols, options, &state.seeds);
    });
}

/// Puts a completed file into the run's outcomes.
fn merge_outcome(outcomes: &mut Vec<FileOutcome>, outcome: FileOutcome) {
    match outcomes.iter_mut().find(|o| o.path == outcome.path) {
        Some(existing) => *existing = outcome,
        None if outcome.changed() => outcomes.push(outcome),
        None => {}
    }
}
