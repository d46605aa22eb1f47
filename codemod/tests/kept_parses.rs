//! Many candidates in one run: each worker thread keeps the trees it
//! parsed for the facts and runs the rules on them later, with several
//! texts live at once (`held`, `spans::pin`). Every file must come out as
//! it does when it is the only file of its run.

use std::path::Path;

use crate::util::codemod;

/// File `i`: `i` extra comment lines in front (so no two files share line
/// offsets), non-ASCII text before and after the edits, a notifier field,
/// a notify call and the `let` only that call read.
fn source(i: usize) -> String {
    let mut text = String::from("use std::sync::Arc;\n\n");
    for line in 0..i {
        text.push_str(&format!("// note {line}: déjà vu, naïve café ✓\n"));
    }
    text.push_str(&format!(
        "pub struct Svc{i} {{\n    notifier: Arc<WorkerNotifier>,\n    name: String,\n}}\n\n\
         impl Svc{i} {{\n    /// Starts the ünïcode step {i}.\n    pub fn start(&self, org: &str) {{\n        \
         let queue = format!(\"q-{i}\");\n        self.notifier.notify_work_available(org, &queue);\n        \
         println!(\"{{}} → started ✓\", self.name);\n    }}\n}}\n"
    ));
    text
}

fn migrate(dir: &Path) {
    let out = codemod(&["--write", "--no-cargo", "--no-format", "--allow-dirty", "."], dir);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn files_kept_parsed_side_by_side_migrate_as_they_do_alone() {
    const FILES: usize = 40;
    let together = tempfile::tempdir().unwrap();
    for i in 0..FILES {
        std::fs::write(together.path().join(format!("svc{i}.rs")), source(i)).unwrap();
    }
    migrate(together.path());
    for i in [0, 1, 7, FILES - 1] {
        let alone = tempfile::tempdir().unwrap();
        std::fs::write(alone.path().join("svc.rs"), source(i)).unwrap();
        migrate(alone.path());
        let expected = std::fs::read_to_string(alone.path().join("svc.rs")).unwrap();
        let got = std::fs::read_to_string(together.path().join(format!("svc{i}.rs"))).unwrap();
        assert_ne!(expected, source(i), "file {i} alone was migrated");
        assert!(!expected.contains("notif"), "file {i} alone:\n{expected}");
        assert_eq!(got, expected, "file {i} beside {} others", FILES - 1);
    }
}
