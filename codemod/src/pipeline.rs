//! One run up to the write stage: walk, prefilter, the run-wide removal
//! set, the rules on every candidate, the compiler-guided step, rustfmt,
//! and the files that are not Rust (proto, Kotlin, docs).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::config::{Config, Mode};
use crate::outcome::{FileError, FileOutcome, Outcome, Stats};
use crate::prefilter::Prefilter;
use crate::rules::{self, Review, RpcMode};
use crate::symbols::{Facts, Symbols};
use crate::transform::{self, Transformed};
use crate::{compiler, format, held, kotlin, mentions, parse, proto, seeds, spec, walk, Error};

/// The run up to the write stage (on the caller's thread pool).
pub(crate) fn run(config: &Config) -> Result<Outcome, Error> {
    let excluded = walk::excludes(&config.excludes)?;
    let files = walk::walk(&config.paths, &excluded)?;
    let options = rules::RuleOptions { rpc: config.rpc };
    let progress = config.progress.as_deref();
    if let Some(p) = progress {
        p.start(files.rust.len());
    }

    // Seed scan, then the removal set from the candidates' facts.
    let seeds = Prefilter::new(spec::TRIGGERS);
    let scanned: Vec<Scanned> = files
        .rust
        .par_iter()
        .map(|path| {
            let scanned = scan(path, &seeds, config.max_file_size);
            if let Some(p) = progress {
                p.advance();
            }
            scanned
        })
        .collect();
    if let Some(p) = progress {
        p.finish();
    }
    let RemovalSet {
        scanned,
        kept,
        symbols,
        facts,
    } = removal_set(scanned);

    let mut stats = Stats {
        walked: files.rust.len(),
        ..Stats::default()
    };
    let mut outcomes = process_all(scanned, &kept, &symbols, options, config.max_file_size);
    stats.parsed = outcomes
        .iter()
        .filter(|o| !matches!(o.error, Some(FileError::Io { .. } | FileError::TooLarge { .. })))
        .count();
    stats.skipped = stats.walked - outcomes.len();
    outcomes.retain(|o| !o.is_empty());
    let compiler = if config.runs_compiler() {
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

/// The candidates with the run-wide removal set.
struct RemovalSet {
    scanned: Vec<Scanned>,
    /// Which of `scanned` a worker thread keeps parsed (see `held`).
    kept: Vec<bool>,
    symbols: Symbols,
    facts: Facts,
}

/// Collects the facts of every candidate and resolves the removal set.
/// Names the set derives (an alias, a removed field, a setter) widen the
/// prefilter: skipped files naming them become candidates, whose facts may
/// derive more names, until no new file matches.
fn removal_set(mut scanned: Vec<Scanned>) -> RemovalSet {
    let mut facts = Facts::default();
    let mut collected = vec![false; scanned.len()];
    let mut kept = vec![false; scanned.len()];
    let mut markers: BTreeSet<String> = spec::TRIGGERS.iter().map(|t| t.to_string()).collect();
    loop {
        let (new_facts, newly_kept) = collect_all_facts(&scanned, &collected);
        for i in newly_kept {
            kept[i] = true;
        }
        facts.merge(new_facts);
        for (s, done) in scanned.iter().zip(collected.iter_mut()) {
            *done |= matches!(s, Scanned::Candidate(..));
        }
        let symbols = Symbols::resolve(&facts);
        let derived: Vec<String> = symbols.markers().into_iter().filter(|m| !markers.contains(m)).collect();
        if derived.is_empty() {
            return RemovalSet {
                scanned,
                kept,
                symbols,
                facts,
            };
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

/// The facts of every candidate not `done`, on every thread of the pool;
/// each thread keeps the files it parsed for the rules (see `held`).
fn collect_all_facts(scanned: &[Scanned], done: &[bool]) -> (Facts, Vec<usize>) {
    let next = AtomicUsize::new(0);
    rayon::broadcast(|_| {
        let (mut facts, mut kept) = (Facts::default(), Vec::new());
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(s) = scanned.get(i) else {
                return (facts, kept);
            };
            if let (Scanned::Candidate(_, source), false) = (s, done[i]) {
                let (file_facts, was_kept) = collect_and_hold(i, source);
                facts.merge(file_facts);
                if was_kept {
                    kept.push(i);
                }
            }
        }
    })
    .into_iter()
    .fold((Facts::default(), Vec::new()), |(mut all, mut kept), (facts, more)| {
        all.merge(facts);
        kept.extend(more);
        (all, kept)
    })
}

/// One file's facts, and whether `held` kept its parse for the rules.
fn collect_and_hold(index: usize, source: &str) -> (Facts, bool) {
    let collected = match parse_with_facts(source) {
        Some((facts, parsed)) => (facts, held::offer(index, parsed).is_none()),
        None => (Facts::default(), false),
    };
    parse::forget_spans();
    collected
}

pub(crate) fn collect_facts(source: &str) -> Facts {
    let facts = parse_with_facts(source).map(|(facts, _)| facts).unwrap_or_default();
    parse::forget_spans();
    facts
}

/// One file's parse and facts; `None` when it does not parse, or when a
/// panic (a bug) costs this file's facts rather than the run.
fn parse_with_facts(source: &str) -> Option<(Facts, parse::ParsedFile)> {
    std::panic::catch_unwind(|| {
        let parsed = parse::parse(source.to_string()).ok()?;
        let mut facts = Facts::default();
        {
            let _pin = parsed.pin_spans();
            facts.collect(&parsed.ast, source);
        }
        Some((facts, parsed))
    })
    .ok()
    .flatten()
}

/// The rules on every candidate, and the errors of the files that could not
/// be read, in the order of `scanned`. Every thread first runs the rules on
/// the files it kept parsed, then takes the others as they come.
fn process_all(
    scanned: Vec<Scanned>,
    kept: &[bool],
    symbols: &Symbols,
    options: rules::RuleOptions,
    limit: u64,
) -> Vec<FileOutcome> {
    let slots: Vec<Mutex<Option<Scanned>>> = scanned.into_iter().map(|s| Mutex::new(Some(s))).collect();
    let take = |i: usize| slots[i].lock().unwrap_or_else(|e| e.into_inner()).take();
    let next = AtomicUsize::new(0);
    let mut outcomes: Vec<(usize, FileOutcome)> = rayon::broadcast(|_| {
        let mut out = Vec::new();
        while let Some((i, parsed)) = held::take() {
            if let Some(Scanned::Candidate(path, source)) = take(i) {
                out.push((
                    i,
                    process_rust_parsed(path, source, Some(parsed), symbols, options, &Default::default()),
                ));
            }
        }
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= slots.len() {
                return out;
            }
            if kept[i] {
                continue;
            }
            let outcome = match take(i) {
                Some(Scanned::Candidate(path, source)) => {
                    process_rust(path, source, symbols, options, &Default::default())
                }
                Some(Scanned::Unreadable(path, message)) => io_failure(&path, message),
                Some(Scanned::TooLarge(path, size)) => {
                    let mut outcome = FileOutcome::new(path, String::new());
                    outcome.error = Some(FileError::TooLarge { size, limit });
                    outcome
                }
                Some(Scanned::Skipped(_)) | None => continue,
            };
            out.push((i, outcome));
        }
    })
    .into_iter()
    .flatten()
    .collect();
    outcomes.sort_by_key(|(i, _)| *i);
    outcomes.into_iter().map(|(_, o)| o).collect()
}

pub(crate) fn process_rust(
    path: PathBuf,
    source: String,
    symbols: &Symbols,
    options: rules::RuleOptions,
    seeds: &seeds::FileSeeds,
) -> FileOutcome {
    process_rust_parsed(path, source, None, symbols, options, seeds)
}

/// [`process_rust`], with `source` already parsed when `parsed` is given.
fn process_rust_parsed(
    path: PathBuf,
    source: String,
    parsed: Option<parse::ParsedFile>,
    symbols: &Symbols,
    options: rules::RuleOptions,
    seeds: &seeds::FileSeeds,
) -> FileOutcome {
    // A panic in the rules (a bug) is this file's error; the others go on.
    let transformed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        transform::transform_parsed(&source, parsed, symbols, options, seeds)
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
