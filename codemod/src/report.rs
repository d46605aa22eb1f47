//! Reports of an [`Outcome`]: unified diffs, the summary table (file, rule,
//! count), the needs-review and left-alone lists, errors; or all of it as
//! JSON. Reads the outcome only.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::compiler::CompilerReport;
use crate::mentions::MentionKind;
use crate::{FileError, Mode, Outcome};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Unified diffs of every changed file.
pub fn diffs(outcome: &Outcome, color: bool) -> String {
    let mut out = String::new();
    for file in outcome.files.iter().filter(|f| f.changed()) {
        let path = file.path.display().to_string();
        // A deadline keeps huge files (tens of thousands of hunks) fast: past
        // it the diff is still correct, only less minimal.
        let diff = similar::TextDiff::configure()
            .timeout(std::time::Duration::from_millis(500))
            .diff_lines(&file.original, &file.output);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string();
        out.push_str(&colorize(&text, color));
    }
    out
}

fn colorize(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    let mut out = String::with_capacity(diff.len());
    for line in diff.split_inclusive('\n') {
        let code = if line.starts_with("+++") || line.starts_with("---") {
            BOLD
        } else if line.starts_with('+') {
            GREEN
        } else if line.starts_with('-') {
            RED
        } else if line.starts_with("@@") {
            CYAN
        } else {
            ""
        };
        if code.is_empty() {
            out.push_str(line);
        } else {
            let body = line.trim_end_matches('\n');
            let _ = write!(out, "{code}{body}{RESET}");
            out.push_str(&line[body.len()..]);
        }
    }
    out
}

/// The summary table, review list, left-alone list and errors.
pub fn summary(outcome: &Outcome) -> String {
    let mut out = String::new();
    let mut rows: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
    for file in &outcome.files {
        for edit in &file.edits {
            *rows
                .entry((file.path.display().to_string(), edit.rule.name()))
                .or_insert(0) += 1;
        }
    }
    if rows.is_empty() {
        out.push_str("No edits.\n");
    } else {
        let width = rows.keys().map(|(f, _)| f.len()).max().unwrap_or(4).max(4);
        let _ = writeln!(out, "{:<width$}  {:<17}  {:>5}", "file", "rule", "count");
        for ((file, rule), count) in &rows {
            let _ = writeln!(out, "{file:<width$}  {rule:<17}  {count:>5}");
        }
        let total: usize = rows.values().sum();
        let _ = writeln!(out, "{:<width$}  {:<17}  {total:>5}", "total", "");
    }
    let s = &outcome.stats;
    let _ = writeln!(
        out,
        "\n{} Rust files walked, {} parsed, {} skipped by the prefilter; {} files {}.",
        s.walked,
        s.parsed,
        s.skipped,
        s.changed,
        match outcome.mode {
            Mode::Write if outcome.verify_failure.is_some() => "changed, then restored",
            Mode::Write if outcome.compiler.as_ref().is_some_and(CompilerReport::failed) =>
                "to change (nothing written)",
            Mode::Write => "changed",
            _ => "to change",
        }
    );

    if let Some(reason) = &outcome.not_written {
        let _ = writeln!(out, "Nothing was written: {reason}.");
    }
    if outcome.stale_temps_removed > 0 {
        let _ = writeln!(
            out,
            "Removed {} temporary file(s) an interrupted earlier run left (.<name>.….codemod-tmp).",
            outcome.stale_temps_removed
        );
    }

    let reviews: Vec<String> = outcome
        .files
        .iter()
        .flat_map(|f| {
            f.reviews
                .iter()
                .map(move |r| format!("{}:{}: {}", f.path.display(), r.line, r.message))
        })
        .collect();
    section(&mut out, "Needs review", &reviews);

    let mentions: Vec<String> = outcome
        .files
        .iter()
        .flat_map(|f| {
            f.mentions.iter().map(move |m| {
                let kind = match m.kind {
                    MentionKind::Comment => "comment",
                    MentionKind::String => "string literal",
                    MentionKind::Code => "code not attributed to the notifier",
                    MentionKind::Doc => "documentation",
                    MentionKind::StaleComment => {
                        return format!("{}:{}: comment may be stale: {}", f.path.display(), m.line, m.name);
                    }
                };
                format!("{}:{}: `{}` in {kind}", f.path.display(), m.line, m.name)
            })
        })
        .collect();
    section(&mut out, "Left alone", &mentions);

    let mut errors: Vec<String> = outcome
        .files
        .iter()
        .filter_map(|f| {
            let path = f.path.display();
            f.error.as_ref().map(|e| match e {
                FileError::Parse { line, column, message } => {
                    format!("{path}:{line}:{column}: cannot parse: {message}")
                }
                FileError::Io { message } => format!("{path}: {message}"),
                FileError::Rejected { message } => format!("{path}: left unchanged: {message}"),
                FileError::TooLarge { size, limit } => {
                    format!("{path}: {size} bytes, over --max-file-size {limit}: not read")
                }
            })
        })
        .collect();
    errors.extend(outcome.walk_errors.iter().cloned());
    section(&mut out, "Errors", &errors);
    if let Some(report) = &outcome.compiler {
        compiler_section(&mut out, report);
    }
    if let Some(signal) = outcome.interrupted {
        let name = if signal == 2 { "SIGINT" } else { "SIGTERM" };
        let _ = writeln!(out, "\nInterrupted by {name}: every changed file was restored.");
    }
    if let Some(failure) = &outcome.verify_failure {
        let _ = writeln!(
            out,
            "\nVerification `{}` failed ({}); every changed file was restored. Its output:\n{}",
            failure.command,
            match (failure.timed_out, failure.status) {
                (Some(limit), _) => format!("killed after --verify-timeout {}s", limit.as_secs()),
                (None, Some(code)) => format!("exit {code}"),
                (None, None) => "killed by a signal".to_string(),
            },
            failure.output
        );
    }
    out
}

fn compiler_section(out: &mut String, report: &CompilerReport) {
    match report {
        CompilerReport::Built { rounds, checks } => {
            let _ = writeln!(
                out,
                "\nCompiler: the migrated tree builds with no new diagnostic ({checks} cargo checks, {rounds} round(s) of fixes)."
            );
        }
        CompilerReport::Failed { rounds, remaining } => {
            let _ = writeln!(
                out,
                "\nCompiler: the migrated tree does not build after {rounds} round(s); nothing was written."
            );
            section(out, "Not fixed (new diagnostics)", remaining);
        }
        CompilerReport::BaselineBroken { errors } => {
            let _ = writeln!(
                out,
                "\nCompiler: the tree did not build before the migration; the syntactic edits stand unchecked."
            );
            section(out, "Errors before the migration", errors);
        }
        CompilerReport::Skipped { reason } => {
            let _ = writeln!(out, "\nCompiler: not run ({reason}).");
        }
    }
}

fn section(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({}):", lines.len());
    for line in lines {
        let _ = writeln!(out, "  {line}");
    }
}

/// Serialises a path as text, lossily when it is not valid UTF-8 (the raw
/// bytes go beside it, see [`raw_bytes_if_not_utf8`]).
pub fn lossy_path<S: serde::Serializer>(path: &std::path::Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

/// The raw bytes of a path whose name is not valid UTF-8.
pub fn raw_bytes_if_not_utf8(path: &std::path::Path) -> Option<Vec<u8>> {
    if path.to_str().is_some() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(path.as_os_str().as_bytes().to_vec())
    }
    #[cfg(not(unix))]
    {
        Some(path.to_string_lossy().into_owned().into_bytes())
    }
}

/// The machine-readable report.
pub fn json(outcome: &Outcome) -> String {
    let verify = outcome.verify_failure.as_ref().map(|f| {
        serde_json::json!({
            "command": f.command,
            "status": f.status,
            "output": f.output,
            "timed_out_after_seconds": f.timed_out.map(|d| d.as_secs()),
        })
    });
    let report = serde_json::json!({
        "mode": outcome.mode,
        "stats": outcome.stats,
        "files": outcome.files,
        "walk_errors": outcome.walk_errors,
        "written": outcome.written,
        "stale_temps_removed": outcome.stale_temps_removed,
        "not_written": outcome.not_written,
        "interrupted_by_signal": outcome.interrupted,
        "verify_failure": verify,
        "compiler": outcome.compiler,
        "exit_code": outcome.exit_code(),
    });
    serde_json::to_string_pretty(&report).expect("the report always serialises")
}
