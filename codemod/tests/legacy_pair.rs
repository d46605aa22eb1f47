//! The codemod verified against the reference pair. The before-state crates
//! (`tests/legacy/`), migrated by the built binary (which formats the files
//! that were rustfmt-clean), must be the reference server and SDK byte for
//! byte, sources and tests, with no separate formatting step. Any change to
//! the reference pair must therefore be mirrored in the legacy pair, and a
//! codemod regression shows here. The migration diff, as the codemod wrote
//! it, is a snapshot for review.

use std::path::{Path, PathBuf};

use crate::util::{self, codemod};

/// (legacy crate, reference crate, folders that must be equal).
const PAIRS: [(&str, &str, &[&str]); 2] = [
    ("tests/legacy/legacy-server", "reference-server", &["src", "tests"]),
    ("tests/legacy/legacy-sdk", "reference-sdk", &["src"]),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Copies `tests/legacy` without build output, and the repository's
/// `rustfmt.toml` above it, where rustfmt finds it in the real tree.
fn copy_legacy(root: &Path, to: &Path) {
    std::fs::copy(root.join("rustfmt.toml"), to.join("rustfmt.toml")).unwrap();
    for entry in walkdir::WalkDir::new(root.join("tests/legacy"))
        .into_iter()
        .filter_entry(|e| e.file_name() != "target")
    {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(root).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every `.rs` file under `dir`, relative to it.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| e.path().strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    files.sort();
    files
}

#[test]
fn migrated_legacy_pair_is_the_reference_pair() {
    let root = workspace_root();
    let dir = tempfile::tempdir().unwrap();
    copy_legacy(&root, dir.path());

    let out = codemod(&["--write", "--no-cargo", "--rpc", "stub", "tests/legacy"], dir.path());
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!report.contains("Needs review"), "nothing needs a judgement:\n{report}");

    let diff = util::tree_diff(&root.join("tests/legacy"), &dir.path().join("tests/legacy"));
    util::insta_settings().bind(|| insta::assert_snapshot!("legacy_pair_migration", diff));

    let again = codemod(&["--check", "tests/legacy"], dir.path());
    assert_eq!(again.status.code(), Some(0), "a second run finds nothing to do");

    let mut mismatches = Vec::new();
    for (legacy, reference, folders) in PAIRS {
        for folder in folders {
            let migrated = dir.path().join(legacy).join(folder);
            let expected = root.join(reference).join(folder);
            let files = rust_files(&migrated);
            let expected_files = rust_files(&expected);
            if files != expected_files {
                mismatches.push(format!(
                    "{legacy}/{folder} has files {files:?}, {reference}/{folder} has {expected_files:?}"
                ));
                continue;
            }
            for file in files {
                let got = std::fs::read_to_string(migrated.join(&file)).unwrap();
                let want = std::fs::read_to_string(expected.join(&file)).unwrap();
                if got != want {
                    let name = format!("{reference}/{folder}/{}", file.display());
                    mismatches.push(
                        similar::TextDiff::from_lines(&want, &got)
                            .unified_diff()
                            .header(&format!("{name} (reference)"), &format!("{name} (migrated legacy)"))
                            .to_string(),
                    );
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "the migrated legacy pair differs from the reference pair:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn reference_pair_has_nothing_to_migrate() {
    let out = codemod(&["--check", "reference-server", "reference-sdk"], &workspace_root());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
