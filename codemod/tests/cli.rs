//! End-to-end runs of the built binary on temporary git repositories:
//! `--check`, `--write`, the dirty-tree guard, JSON output, `--verify`
//! rollback, `--rpc remove` on proto files and the exit codes.

use std::path::{Path, PathBuf};

use crate::util::{self, codemod, sh};

/// A git repository holding a few fixture inputs, committed.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let fixtures = util::fixtures();
    let files = [
        ("server/src/api/grpc/mod.rs", "notifier_fields/grpc_state.rs"),
        ("sdk/src/worker/config.rs", "config_flag/struct_default_debug.rs"),
        ("sdk/src/pool.rs", "decoys/work_beacon.rs"),
    ];
    for (target, fixture) in files {
        let path = root.join(target);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(fixtures.join(fixture), &path).unwrap();
    }
    std::fs::create_dir_all(root.join("proto")).unwrap();
    std::fs::write(root.join("proto/flovyn.proto"), PROTO).unwrap();
    std::fs::create_dir_all(root.join("kotlin")).unwrap();
    std::fs::write(
        root.join("kotlin/Worker.kt"),
        "class Worker {\n    val enableNotifications = true\n}\n",
    )
    .unwrap();
    sh("git", &["init", "-q"], &root);
    sh("git", &["add", "."], &root);
    commit(&root, "initial");
    (dir, root)
}

fn commit(root: &Path, message: &str) {
    sh(
        "git",
        &[
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "commit",
            "-q",
            "-am",
            message,
        ],
        root,
    );
}

const PROTO: &str = "syntax = \"proto3\";\npackage flovyn.v1;\n\nservice WorkflowDispatch {\n  rpc PollWorkflow(PollRequest) returns (PollResponse);\n  // Push notifications for available work.\n  rpc SubscribeToNotifications(SubscriptionRequest) returns (stream WorkAvailableEvent);\n}\n\nmessage PollRequest {\n  string queue = 1;\n}\n\nmessage PollResponse {}\n\nmessage SubscriptionRequest {\n  string org_id = 1;\n  string queue = 2;\n}\n\nmessage WorkAvailableEvent {\n  string org_id = 1;\n  string queue = 2;\n}\n";

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_reports_pending_edits_and_changes_nothing() {
    let (_dir, root) = repo();
    let before = read(&root, "server/src/api/grpc/mod.rs");
    let out = codemod(&["--check", "."], &root);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(read(&root, "server/src/api/grpc/mod.rs"), before);
    util::insta_settings().bind(|| insta::assert_snapshot!("check_text_report", stdout(&out)));
}

/// rustfmt with default settings (in a folder without rustfmt.toml).
fn rustfmt(text: &str) -> String {
    use std::io::Write;
    let neutral = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout"])
        .current_dir(neutral.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn write_formats_files_that_were_rustfmt_clean() {
    let (_dir, root) = repo();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"repo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    // One rustfmt-clean file, one that was not clean before the migration.
    let messy = read(&root, "sdk/src/worker/config.rs").replace("    pub ", "  pub ");
    assert_ne!(rustfmt(&messy), messy);
    std::fs::write(root.join("sdk/src/worker/config.rs"), &messy).unwrap();
    sh("git", &["add", "."], &root);
    commit(&root, "manifest");
    let clean = read(&root, "server/src/api/grpc/mod.rs");
    assert_eq!(rustfmt(&clean), clean, "the fixture is rustfmt-clean");

    let out = codemod(&["--write", "--format", "json", "."], &root);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let fixed = std::fs::read_to_string(util::fixtures().join("notifier_fields/grpc_state.fixed.rs")).unwrap();
    let migrated = read(&root, "server/src/api/grpc/mod.rs");
    assert_ne!(migrated, fixed, "the minimal cut left a parameter list to re-flow");
    assert_eq!(migrated, rustfmt(&fixed), "formatted after the edits");
    let config = read(&root, "sdk/src/worker/config.rs");
    assert_ne!(
        rustfmt(&config),
        config,
        "a file that was not clean keeps minimal edits"
    );
    assert!(!config.contains("enable_notifications"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let formatted: Vec<(String, bool)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["edits"].as_array().unwrap().is_empty())
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["formatted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        formatted,
        [
            ("./sdk/src/worker/config.rs".to_string(), false),
            ("./server/src/api/grpc/mod.rs".to_string(), true)
        ]
    );
}

#[test]
fn dry_run_exits_zero_with_a_diff() {
    let (_dir, root) = repo();
    let out = codemod(&["."], &root);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("--- a/./server/src/api/grpc/mod.rs"), "{text}");
    assert!(text.contains("-    pub notifier: Arc<WorkerNotifier>,"), "{text}");
    assert!(!text.contains("\x1b["), "no colour when not a terminal");
}

#[test]
fn write_applies_fixtures_and_second_check_is_clean() {
    let (_dir, root) = repo();
    let out = codemod(&["--write", "--no-format", "."], &root);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let fixtures = util::fixtures();
    let expected = std::fs::read_to_string(fixtures.join("notifier_fields/grpc_state.fixed.rs")).unwrap();
    assert_eq!(read(&root, "server/src/api/grpc/mod.rs"), expected);
    let expected = std::fs::read_to_string(fixtures.join("config_flag/struct_default_debug.fixed.rs")).unwrap();
    assert_eq!(read(&root, "sdk/src/worker/config.rs"), expected);
    let decoy = std::fs::read_to_string(fixtures.join("decoys/work_beacon.rs")).unwrap();
    assert_eq!(read(&root, "sdk/src/pool.rs"), decoy, "decoy untouched");
    assert!(
        read(&root, "proto/flovyn.proto").contains("SubscribeToNotifications"),
        "stub mode keeps the proto"
    );

    commit(&root, "migrated");
    let again = codemod(&["--check", "."], &root);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

#[test]
fn write_refuses_a_dirty_tree_unless_allowed() {
    let (_dir, root) = repo();
    let path = root.join("sdk/src/worker/config.rs");
    let dirty = format!("{}\n// local edit\n", read(&root, "sdk/src/worker/config.rs"));
    std::fs::write(&path, &dirty).unwrap();

    let out = codemod(&["--write", "."], &root);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("sdk/src/worker/config.rs"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-dirty"), "{}", stderr(&out));
    assert_eq!(read(&root, "sdk/src/worker/config.rs"), dirty, "nothing written");
    assert!(
        read(&root, "server/src/api/grpc/mod.rs").contains("WorkerNotifier"),
        "nothing written"
    );

    let out = codemod(&["--write", "--allow-dirty", "."], &root);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!read(&root, "sdk/src/worker/config.rs").contains("enable_notifications"));
}

#[test]
fn json_report_lists_every_edit_and_review() {
    let (_dir, root) = repo();
    let out = codemod(&["--check", "--format", "json", "."], &root);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["exit_code"], 1);
    let files = report["files"].as_array().unwrap();
    let grpc = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("grpc/mod.rs"))
        .unwrap();
    let edits = grpc["edits"].as_array().unwrap();
    assert!(edits
        .iter()
        .any(|e| e["rule"] == "removed-field" && e["cause"] == "WorkerNotifier"));
    assert!(edits
        .iter()
        .all(|e| e["start_line"].as_u64().unwrap() <= e["end_line"].as_u64().unwrap()));
    let kotlin = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("Worker.kt"))
        .unwrap();
    assert_eq!(kotlin["reviews"][0]["line"], 2);
    assert_eq!(report["stats"]["walked"], 3);
}

#[test]
fn rpc_remove_edits_the_proto() {
    let (_dir, root) = repo();
    // A leftover caller of the RPC the removal deletes: listed for review.
    std::fs::write(
        root.join("sdk/src/probe.rs"),
        "pub async fn probe(c: &mut Client) {\n    let _ = c.subscribe_to_notifications(Req::default()).await;\n}\n",
    )
    .unwrap();
    sh("git", &["add", "."], &root);
    commit(&root, "probe");
    let json = codemod(&["--check", "--rpc", "remove", "--format", "json", "."], &root);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let probe = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("probe.rs"))
        .expect("the caller is reported");
    assert_eq!(probe["reviews"][0]["line"], 2);
    assert!(probe["reviews"][0]["message"]
        .as_str()
        .unwrap()
        .contains("--rpc remove"));

    let out = codemod(&["--write", "--rpc", "remove", "."], &root);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let proto = read(&root, "proto/flovyn.proto");
    assert!(!proto.contains("SubscribeToNotifications"), "{proto}");
    assert!(!proto.contains("WorkAvailableEvent"), "{proto}");
    assert!(
        !proto.contains("Push notifications"),
        "comment goes with the rpc: {proto}"
    );
    assert!(proto.contains("message PollResponse {}\n"), "{proto}");
    assert!(!proto.ends_with("\n\n"), "no trailing blank line: {proto:?}");
}

#[test]
fn parse_failure_exits_3_and_other_files_still_change() {
    let (_dir, root) = repo();
    let broken = util::fixtures().join("parse_failure/unclosed_brace.rs");
    std::fs::copy(broken, root.join("server/src/broken.rs")).unwrap();
    let out = codemod(&["--write", "--allow-dirty", "."], &root);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let text = stdout(&out);
    let line = text.lines().find(|l| l.contains("broken.rs:")).unwrap();
    assert!(line.contains("cannot parse"), "{line}");
    assert!(
        line.split(':').nth(1).is_some_and(|n| n.parse::<usize>().is_ok()),
        "file:line:col: {line}"
    );
    assert!(!read(&root, "server/src/api/grpc/mod.rs").contains("WorkerNotifier"));
}

#[test]
fn verify_failure_restores_every_file() {
    let (_dir, root) = repo();
    let before = read(&root, "server/src/api/grpc/mod.rs");
    let out = codemod(&["--write", "--verify", "echo checking; exit 7", "."], &root);
    assert_eq!(out.status.code(), Some(4));
    assert!(stdout(&out).contains("checking"), "the command's output is shown");
    assert_eq!(read(&root, "server/src/api/grpc/mod.rs"), before);
    assert_eq!(sh("git", &["status", "--porcelain"], &root), "");

    let out = codemod(&["--write", "--verify", "true", "."], &root);
    assert_eq!(out.status.code(), Some(0));
    assert_ne!(read(&root, "server/src/api/grpc/mod.rs"), before);
}

#[test]
fn exclude_skips_matching_paths() {
    let (_dir, root) = repo();
    let out = codemod(
        &["--check", "--exclude", "server/**", "--exclude", "sdk/**", "."],
        &root,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = codemod(&["no/such/path"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no/such/path"), "{}", stderr(&out));
    let out = codemod(&["--rpc", "sideways", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let out = codemod(&[], dir.path());
    assert_eq!(out.status.code(), Some(2));
}
