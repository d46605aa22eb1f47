//! Shared helpers: insta settings (snapshots under `snapshots/codemod/` at
//! the workspace root), the built binary, temporary trees.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// insta settings every test uses.
pub fn insta_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots/codemod"));
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(r"/tmp/[^/\s]+", "[TMP]");
    settings.add_filter(r"\.tmp[A-Za-z0-9]{6}", "[TMP]");
    settings
}

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs the built `codemod` binary.
pub fn codemod(args: &[&str], cwd: &Path) -> Output {
    codemod_in(args, cwd, None)
}

/// Runs the built `codemod` binary with `CARGO_TARGET_DIR` set: the
/// compiler-guided step then builds into `codemod-check/` under it, shared
/// by every run of the test.
pub fn codemod_in(args: &[&str], cwd: &Path, target_dir: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_codemod"));
    command.args(args).current_dir(cwd).env("NO_COLOR", "1");
    if let Some(dir) = target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    command.output().expect("the codemod binary runs")
}

/// Runs a command that must succeed.
pub fn sh(program: &str, args: &[&str], cwd: &Path) -> String {
    let out = Command::new(program).args(args).current_dir(cwd).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The unified diff of every `.rs` file that differs between two trees.
pub fn tree_diff(before: &Path, after: &Path) -> String {
    let mut out = String::new();
    for entry in walkdir::WalkDir::new(before).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(before).unwrap();
        if rel.starts_with("target") || entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let old = std::fs::read_to_string(entry.path()).unwrap();
        let new = std::fs::read_to_string(after.join(rel)).unwrap();
        if old != new {
            let name = rel.display().to_string();
            out.push_str(
                &similar::TextDiff::from_lines(&old, &new)
                    .unified_diff()
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string(),
            );
        }
    }
    out
}
