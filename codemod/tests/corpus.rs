//! The realistic corpora, each written independently of the codemod, with
//! the cases listed in its `CASES.md`:
//! - `tests/corpus`: a two-crate job-dispatch server with the real axum and
//!   tonic types (extractors, a hand-written service trait with a boxed
//!   stream alias), 20 call sites in idioms the fixtures lack, and decoys;
//! - `tests/corpus-sdk`: a two-crate worker SDK and app with the flag, the
//!   notify handles, the subscription loop and its handle, the `select!`s,
//!   and a fake server whose RPC stays.
//!
//! The built binary with `--write` (syntactic pass, then the compiler-guided
//! step with the real `cargo`) must produce the hand-written `expected/` tree
//! byte for byte, which must build with `-D warnings` and pass its tests; a
//! second run must find nothing to do.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{self, sh};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(name)
}

/// The workspace's target folder, shared by every run of this test.
fn target(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target").join(sub)
}

fn codemod(name: &str, args: &[&str], cwd: &Path) -> Output {
    util::codemod_in(args, cwd, Some(&target(name)))
}

fn cargo(name: &str, args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", target(&format!("{name}-migrated")))
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
fn server_corpus_migrates_to_the_hand_written_tree_which_builds_and_passes() {
    migrate("corpus");
}

#[test]
fn sdk_corpus_migrates_to_the_hand_written_tree_which_builds_and_passes() {
    migrate("corpus-sdk");
}

fn migrate(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    // rustfmt finds the repository's settings above the tree, as in place.
    std::fs::copy(
        corpus(name).join("../../../rustfmt.toml"),
        dir.path().join("rustfmt.toml"),
    )
    .unwrap();
    let root = dir.path().join("workspace");
    util::copy_tree(&corpus(name).join("before"), &root);
    std::fs::write(root.join(".gitignore"), "/target\n").unwrap();
    sh("git", &["init", "-q"], &root);
    sh("git", &["add", "."], &root);
    sh(
        "git",
        &["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "before"],
        &root,
    );

    let out = codemod(name, &["--write", "."], &root);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Compiler: the migrated tree builds"), "{report}");

    let expected = corpus(name).join("expected");
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

    let build = cargo(name, &["build", "--all-targets", "--locked", "-q"], &root);
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let test = cargo(name, &["test", "--locked", "-q"], &root);
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
    let again = codemod(name, &["--check", "--cargo", "."], &root);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}
