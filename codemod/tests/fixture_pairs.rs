//! Every fixture pair `fixtures/<rule>/<case>.rs` → `<case>.fixed.rs`:
//! the output must equal the `.fixed.rs` byte for byte, the `.fixed.rs` must
//! parse, and running again on it must find nothing to do. The diff and the
//! report are snapshotted for review. `CODEMOD_BLESS=1` rewrites `.fixed.rs`.
//! Fixtures in a folder ending in `_remove` run with `--rpc remove`.

use std::fmt::Write as _;
use std::path::Path;

use codemod::transform::Transformed;
use codemod::RpcMode;

use crate::util;

#[test]
fn fixture_pairs() {
    let mut failures = Vec::new();
    util::insta_settings().bind(|| {
        insta::glob!("fixtures/*/*.rs", |path| {
            if path.to_string_lossy().ends_with(".fixed.rs") {
                return;
            }
            if let Err(failure) = check_pair(path) {
                failures.push(failure);
            }
        });
    });
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn rpc_mode(path: &Path) -> RpcMode {
    let dir = path
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if dir.ends_with("_remove") {
        RpcMode::Remove
    } else {
        RpcMode::Stub
    }
}

fn check_pair(path: &Path) -> Result<(), String> {
    let input = std::fs::read_to_string(path).unwrap();
    let fixed_path = path.with_extension("fixed.rs");
    let rpc = rpc_mode(path);
    let (output, report) = match codemod::transform_source(&input, rpc) {
        Transformed::Done {
            output, edits, reviews, ..
        } => {
            let mut report = String::new();
            for e in &edits {
                let _ = writeln!(report, "edit {}-{} {} ({})", e.start_line, e.end_line, e.rule, e.cause);
            }
            for r in &reviews {
                let _ = writeln!(report, "review {}: {}", r.line, r.message);
            }
            (output, report)
        }
        Transformed::ParseFailed(err) => (input.clone(), format!("parse error {err}\n")),
        Transformed::Generated => (input.clone(), "generated\n".to_string()),
        Transformed::Rejected(message) => return Err(format!("{}: output rejected: {message}", path.display())),
    };
    if std::env::var_os("CODEMOD_BLESS").is_some() {
        std::fs::write(&fixed_path, &output).unwrap();
    }
    let expected = std::fs::read_to_string(&fixed_path)
        .unwrap_or_else(|_| panic!("{} has no .fixed.rs (CODEMOD_BLESS=1 writes it)", path.display()));
    similar_asserts_eq(path, &expected, &output)?;

    if !report.starts_with("parse error") {
        syn::parse_file(&expected).map_err(|e| format!("{} does not parse: {e}", fixed_path.display()))?;
        match codemod::transform_source(&expected, rpc) {
            Transformed::Done { edits, .. } if edits.is_empty() => {}
            Transformed::Done { edits, .. } => {
                return Err(format!("{}: second run still edits: {edits:?}", fixed_path.display()));
            }
            other => return Err(format!("{}: second run: {other:?}", fixed_path.display())),
        }
    }

    let diff = similar::TextDiff::from_lines(&input, &output)
        .unified_diff()
        .context_radius(2)
        .header("input", "output")
        .to_string();
    insta::assert_snapshot!(format!("{report}\n{diff}"));
    Ok(())
}

fn similar_asserts_eq(path: &Path, expected: &str, actual: &str) -> Result<(), String> {
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected, actual)
            .unified_diff()
            .header("expected (.fixed.rs)", "actual")
            .to_string();
        return Err(format!("{}: output differs from .fixed.rs:\n{diff}", path.display()));
    }
    Ok(())
}
