//! One `cargo check --workspace --all-targets --message-format=json` in a
//! folder, its messages parsed with `cargo_metadata` into [`Diag`]s: the
//! diagnostics rustc reported for files of that folder, once each (a library
//! is checked twice under `--all-targets`, as itself and as its tests).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::diagnostic::{Applicability, Diagnostic, DiagnosticLevel, DiagnosticSpan};
use cargo_metadata::Message;

/// A rustc suggestion: replace a byte range of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub range: std::ops::Range<usize>,
    pub replacement: String,
    pub machine_applicable: bool,
}

/// One diagnostic, located in a file of the checked folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    /// Relative to the checked folder.
    pub file: PathBuf,
    pub error: bool,
    /// `E0425`, or the lint name (`unused_imports`).
    pub code: String,
    pub message: String,
    /// The primary span, as byte offsets of the checked file.
    pub range: std::ops::Range<usize>,
    /// Every primary span in that file (`fields `a` and `b` are never read`).
    pub primaries: Vec<std::ops::Range<usize>>,
    pub line: usize,
    /// The label of the primary span (`not found in this scope`).
    pub label: String,
    /// The text the primary span covers (what a baseline comparison keys on:
    /// line numbers move with the edits, the named text does not).
    pub snippet: String,
    /// Other spans in the same file (`field in this struct`), with labels.
    pub secondary: Vec<(std::ops::Range<usize>, String)>,
    /// Suggestions in the same file, from the diagnostic and its children.
    pub suggestions: Vec<Suggestion>,
}

impl Diag {
    /// `file:line: error[E0425]: cannot find value `x` in this scope`.
    pub fn describe(&self) -> String {
        format!(
            "{}:{}: {}[{}]: {}",
            self.file.display(),
            self.line,
            if self.error { "error" } else { "warning" },
            self.code,
            self.message
        )
    }

    /// What identifies the diagnostic across edits that move lines.
    pub fn key(&self) -> (PathBuf, bool, String, String, String) {
        (
            self.file.clone(),
            self.error,
            self.code.clone(),
            self.message.clone(),
            self.snippet.clone(),
        )
    }

    /// `rustc error[E0425]: cannot find value ...`: the cause of an edit.
    pub fn cause(&self) -> String {
        format!(
            "rustc {}[{}]: {}",
            if self.error { "error" } else { "warning" },
            self.code,
            self.message
        )
    }
}

/// What a check found.
#[derive(Debug, Default)]
pub struct Checked {
    pub diags: Vec<Diag>,
    /// A build failure with no diagnostic in the folder (a dependency or
    /// build script failed, or cargo itself): its message.
    pub other_failure: Option<String>,
}

/// Runs the check in `dir`, building into `target_dir`.
pub fn run(dir: &Path, target_dir: &Path) -> Result<Checked, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(&cargo)
        .args([
            "check",
            "--workspace",
            "--all-targets",
            "--keep-going",
            "--message-format=json",
            "--quiet",
        ])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    let mut seen = BTreeSet::new();
    let mut checked = Checked::default();
    for message in Message::parse_stream(&out.stdout[..]) {
        let Ok(Message::CompilerMessage(msg)) = message else {
            continue;
        };
        if let Some(diag) = located(dir, &msg.message) {
            let id = (
                diag.file.clone(),
                diag.range.start,
                diag.range.end,
                diag.code.clone(),
                diag.message.clone(),
            );
            if seen.insert(id) {
                checked.diags.push(diag);
            }
        }
    }
    if !out.status.success() && !checked.diags.iter().any(|d| d.error) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
        let text: Vec<&str> = tail.into_iter().rev().collect();
        checked.other_failure = Some(text.join("\n"));
    }
    Ok(checked)
}

/// The diagnostic, if its primary span is in a file under `dir` (and it is
/// an error or a warning, not a note of a failed build's summary).
fn located(dir: &Path, d: &Diagnostic) -> Option<Diag> {
    let error = match d.level {
        DiagnosticLevel::Error | DiagnosticLevel::Ice => true,
        DiagnosticLevel::Warning => false,
        _ => return None,
    };
    let primary = d.spans.iter().find(|s| s.is_primary)?;
    let primary = outermost_in_file(primary);
    let file = relative(dir, &primary.file_name)?;
    let code = match &d.code {
        Some(code) => code.code.clone(),
        None => String::new(),
    };
    let mut suggestions = Vec::new();
    collect_suggestions(d, &primary.file_name, &mut suggestions);
    let secondary = d
        .spans
        .iter()
        .filter(|s| !s.is_primary && s.file_name == primary.file_name)
        .map(|s| (range(s), s.label.clone().unwrap_or_default()))
        .collect();
    let primaries = d
        .spans
        .iter()
        .filter(|s| s.is_primary && s.file_name == primary.file_name)
        .map(range)
        .collect();
    Some(Diag {
        file,
        error,
        code,
        message: d.message.clone(),
        range: range(primary),
        primaries,
        line: primary.line_start,
        label: primary.label.clone().unwrap_or_default(),
        snippet: primary
            .text
            .first()
            .map(|l| {
                let end = l.highlight_end.saturating_sub(1).min(l.text.len());
                let start = l.highlight_start.saturating_sub(1).min(end);
                l.text.get(start..end).unwrap_or("").to_string()
            })
            .unwrap_or_default(),
        secondary,
        suggestions,
    })
}

/// A span inside a macro expansion points at the macro's definition; the
/// place in the user's file is where the macro was called.
fn outermost_in_file(span: &DiagnosticSpan) -> &DiagnosticSpan {
    let mut current = span;
    while let Some(expansion) = &current.expansion {
        if current.file_name.starts_with('<') || Path::new(&current.file_name).is_absolute() {
            current = &expansion.span;
        } else {
            break;
        }
    }
    current
}

fn range(span: &DiagnosticSpan) -> std::ops::Range<usize> {
    span.byte_start as usize..span.byte_end as usize
}

fn relative(dir: &Path, file: &str) -> Option<PathBuf> {
    let path = Path::new(file);
    let rel = if path.is_absolute() {
        path.strip_prefix(dir).ok()?.to_path_buf()
    } else {
        path.to_path_buf()
    };
    dir.join(&rel).is_file().then_some(rel)
}

fn collect_suggestions(d: &Diagnostic, file: &str, out: &mut Vec<Suggestion>) {
    for span in d.spans.iter().filter(|s| s.file_name == file) {
        if let Some(replacement) = &span.suggested_replacement {
            out.push(Suggestion {
                range: range(span),
                replacement: replacement.clone(),
                machine_applicable: matches!(span.suggestion_applicability, Some(Applicability::MachineApplicable)),
            });
        }
    }
    for child in &d.children {
        collect_suggestions(child, file, out);
    }
}
