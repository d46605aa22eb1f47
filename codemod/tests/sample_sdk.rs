//! The Flovyn-shaped sample SDK crate (`tests/sample-sdk`), migrated by the
//! binary, must build with `-D warnings` and pass its own tests; the
//! migration diff is a snapshot for review.

use std::path::Path;
use std::process::Command;

use crate::util::{self, codemod};

#[test]
fn migrated_sample_sdk_builds_and_passes_its_tests() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sample-sdk");
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("sample-sdk");
    std::fs::create_dir_all(&crate_dir).unwrap();
    for entry in ["Cargo.toml", "Cargo.lock", "src", "tests"] {
        let from = source.join(entry);
        if from.is_dir() {
            util::copy_tree(&from, &crate_dir.join(entry));
        } else {
            std::fs::copy(&from, crate_dir.join(entry)).unwrap();
        }
    }

    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/sample-sdk");
    let out = util::codemod_in(&["--write", "."], &crate_dir, Some(&target));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let diff = util::tree_diff(&source, &crate_dir);
    util::insta_settings().bind(|| insta::assert_snapshot!("sample_sdk_migration", diff));

    let check = codemod(&["--check", "."], &crate_dir);
    assert_eq!(check.status.code(), Some(0), "second run finds nothing to do");

    let test = Command::new(env!("CARGO"))
        .args(["test", "--quiet"])
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "migrated crate fails:\n{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}
