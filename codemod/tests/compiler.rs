//! The compiler-guided step, end to end with the built binary and the real
//! `cargo`: `tests/trees/compiler` is a crate the syntactic pass cannot
//! finish (a field name another struct keeps, a helper in a file with
//! out-of-line modules, a method of a kept type only the notifier used).
//! With `--write` the codemod must finish it from rustc's diagnostics into
//! `tests/trees/compiler.fixed`, which builds with `-D warnings` and passes
//! its tests; a tree it cannot finish must be left untouched with the
//! diagnostics listed as file:line; a tree that did not build before keeps
//! the syntactic result, and the report says so.

use std::path::{Path, PathBuf};

use crate::util::{self, codemod, sh};

fn trees() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/trees")
}

/// A committed git repository holding a copy of `tests/trees/compiler`,
/// with `edit` applied to its files first.
fn repo(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("crate");
    util::copy_tree(&trees().join("compiler"), &root);
    edit(&root);
    sh("git", &["init", "-q"], &root);
    sh("git", &["add", "."], &root);
    sh(
        "git",
        &["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "initial"],
        &root,
    );
    (dir, root)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cargo(args: &[&str], root: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO"))
        .args(args)
        .current_dir(root)
        .env("RUSTFLAGS", "-Dwarnings")
        .output()
        .unwrap()
}

#[test]
fn write_finishes_the_migration_from_the_compilers_diagnostics() {
    let (_dir, root) = repo(|_| {});
    let syntactic = codemod(&["--no-cargo", "."], &root);
    assert!(
        stdout(&syntactic).contains("`notifier` names a removed field in one struct and a kept one"),
        "the syntax alone cannot tell: {}",
        stdout(&syntactic)
    );

    let out = codemod(&["--write", "--format", "json", "."], &root);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["compiler"]["status"], "built", "{text}");

    let expected = trees().join("compiler.fixed");
    for rel in ["src/lib.rs", "src/state.rs", "src/notify.rs", "Cargo.toml"] {
        let got = std::fs::read_to_string(root.join(rel)).unwrap();
        let want = std::fs::read_to_string(expected.join(rel)).unwrap();
        assert_eq!(got, want, "{rel} differs from tests/trees/compiler.fixed");
    }
    let build = cargo(&["test", "-q"], &root);
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));

    // Every compiler-derived edit names the diagnostic behind it.
    let causes: Vec<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["edits"].as_array().unwrap().clone())
        .filter_map(|e| e["cause"].as_str().map(str::to_string))
        .filter(|c| c.starts_with("rustc "))
        .collect();
    for expected in [
        "rustc error[E0609]: no field `notifier` on type `&",
        "rustc warning[dead_code]: function `label` is never used",
        "rustc warning[dead_code]: method `org_key` is never used",
        "rustc warning[unused_variables]: unused variable: `queue`",
    ] {
        assert!(
            causes.iter().any(|c| c.starts_with(expected)),
            "{expected} not in {causes:?}"
        );
    }
    let again = codemod(&["--check", "--cargo", "."], &root);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

#[test]
fn a_tree_it_cannot_finish_is_left_untouched_with_the_diagnostics_listed() {
    let (_dir, root) = repo(|root| {
        let lib = root.join("src/lib.rs");
        let mut text = std::fs::read_to_string(&lib).unwrap();
        text.push_str(
            "\npub fn woken(st: &state::AppState) -> usize {\n    let woke = st.notifier.notify_work_available(\"o\", \"q\");\n    woke + 1\n}\n",
        );
        std::fs::write(lib, text).unwrap();
    });
    let out = codemod(&["--write", "."], &root);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(text.contains("nothing was written"), "{text}");
    assert!(
        text.contains("./src/lib.rs:26: `woke` holds a removed value (line 25) and is still used here"),
        "{text}"
    );
    assert!(text.contains("Not fixed (new diagnostics)"), "{text}");
    assert!(
        text.contains("./src/lib.rs:11: error[E0432]"),
        "file:line of the original: {text}"
    );
    assert_eq!(sh("git", &["status", "--porcelain"], &root), "", "nothing written");
}

#[test]
fn a_tree_that_did_not_build_keeps_the_syntactic_result() {
    let (_dir, root) = repo(|root| {
        let state = root.join("src/state.rs");
        let text = std::fs::read_to_string(&state).unwrap();
        std::fs::write(state, text.replace("jobs: Vec::new(),", "jobs: 42,")).unwrap();
    });
    let out = codemod(&["--write", "."], &root);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("did not build before the migration"), "{text}");
    assert!(
        text.contains("src/state.rs:19: error[E0308]: mismatched types"),
        "{text}"
    );
    let state = std::fs::read_to_string(root.join("src/state.rs")).unwrap();
    assert!(!state.contains("WorkerNotifier"), "the syntactic edits were written");
}

#[test]
fn dry_runs_check_only_when_asked() {
    let (_dir, root) = repo(|_| {});
    let plain = codemod(&["."], &root);
    assert!(!stdout(&plain).contains("Compiler:"), "{}", stdout(&plain));
    let checked = codemod(&["--cargo", "."], &root);
    assert_eq!(checked.status.code(), Some(0));
    let text = stdout(&checked);
    assert!(text.contains("Compiler: the migrated tree builds"), "{text}");
    assert!(
        text.contains("-fn label(queue: &str) -> String {"),
        "the diff has the compiler's edits: {text}"
    );
    assert_eq!(
        sh("git", &["status", "--porcelain"], &root),
        "",
        "a dry run writes nothing"
    );
}
