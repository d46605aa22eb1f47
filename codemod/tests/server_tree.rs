//! A multi-file server tree shaped like Flovyn's (`tests/trees/server`):
//! removal must cross files (a field removed in `grpc/mod.rs` takes its
//! initialiser in `main.rs`; a constructor parameter its arguments), leave no
//! notifier code behind, and converge.

use std::path::Path;

use crate::util::{self, codemod};

#[test]
fn server_tree_migrates_across_files() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/trees/server");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    util::copy_tree(&source, &root);

    let out = codemod(&["--write", "."], &root);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8_lossy(&out.stdout).into_owned();

    let diff = util::tree_diff(&source, &root);
    util::insta_settings().bind(|| {
        insta::assert_snapshot!("server_tree_migration", diff);
        insta::assert_snapshot!("server_tree_report", report);
    });

    for entry in walkdir::WalkDir::new(&root) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for name in ["WorkerNotifier", "notify_work_available", "notifier"] {
                let code: Vec<&str> = text
                    .lines()
                    .filter(|l| l.contains(name) && !l.trim_start().starts_with("//"))
                    .collect();
                assert!(
                    code.is_empty(),
                    "{}: `{name}` left in code: {code:?}",
                    entry.path().display()
                );
            }
        }
    }
    let check = codemod(&["--check", "."], &root);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
