//! The realistic corpus (`tests/corpus`): a two-crate job-dispatch server
//! written independently of the codemod, with the real axum and tonic types
//! (extractors, a hand-written service trait with a boxed stream alias),
//! 20 call sites in idioms the fixtures lack, and decoys; `CASES.md` lists
//! each case. The built binary with `--write` (syntactic pass, then the
//! compiler-guided step with the real `cargo`) must produce the hand-written
//! `expected/` tree byte for byte, which must build with `-D warnings` and
//! pass its tests; a second run must find nothing to do.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{self, sh};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The workspace's target folder, shared by every run of this test.
fn target(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target").join(sub)
}

fn codemod(args: &[&str], cwd: &Path) -> Output {
    util::codemod_in(args, cwd, Some(&target("corpus")))
}

fn cargo(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", target("corpus-migrated"))
        .env("RUSTFLAGS", "-Dwarnings")
        .output()
        .unwrap()
}

/// Every file under `dir` but build output and git's, relative to it.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.file_name() != "target" && e.file_name() != ".git")
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file() && e.file_name() != ".gitignore")
        .map(|e| e.path().strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    out.sort();
    out
}

#[test]
fn corpus_migrates_to_the_hand_written_tree_which_builds_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    // rustfmt finds the repository's settings above the tree, as in place.
    std::fs::copy(corpus().join("../../../rustfmt.toml"), dir.path().join("rustfmt.toml")).unwrap();
    let root = dir.path().join("dispatch");
    util::copy_tree(&corpus().join("before"), &root);
    std::fs::write(root.join(".gitignore"), "/target\n").unwrap();
    sh("git", &["init", "-q"], &root);
    sh("git", &["add", "."], &root);
    sh(
        "git",
        &["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "before"],
        &root,
    );

    let out = codemod(&["--write", "."], &root);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Compiler: the migrated tree builds"), "{report}");

    let expected = corpus().join("expected");
    assert_eq!(files(&root), files(&expected), "the same files");
    let mut mismatches = Vec::new();
    for rel in files(&expected) {
        let want = std::fs::read_to_string(expected.join(&rel)).unwrap();
        let got = std::fs::read_to_string(root.join(&rel)).unwrap();
        if got != want {
            let name = rel.display().to_string();
            mismatches.push(
                similar::TextDiff::from_lines(&want, &got)
                    .unified_diff()
                    .header(&format!("{name} (expected)"), &format!("{name} (migrated)"))
                    .to_string(),
            );
        }
    }
    assert!(mismatches.is_empty(), "{}\n{report}", mismatches.join("\n"));

    let build = cargo(&["build", "--all-targets", "--locked", "-q"], &root);
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let test = cargo(&["test", "--locked", "-q"], &root);
    assert!(test.status.success(), "{}", String::from_utf8_lossy(&test.stderr));

    sh(
        "git",
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-qam",
            "migrated",
        ],
        &root,
    );
    let again = codemod(&["--check", "--cargo", "."], &root);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}
