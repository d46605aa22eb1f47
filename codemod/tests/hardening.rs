//! Hostile inputs, end to end with the built binary: a file nested too
//! deep to parse is that file's error while the others are migrated; a
//! path that is not valid UTF-8 is reported in JSON (lossy text plus raw
//! bytes); a file over `--max-file-size` is an error, never a silent skip;
//! temporary files a killed run left are recognisable and removed.

use std::path::Path;

use crate::util::{self, codemod};

/// A small file the codemod changes.
fn notifier_file() -> String {
    std::fs::read_to_string(util::fixtures().join("notifier_fields/grpc_state.rs")).unwrap()
}

fn nested(depth: usize) -> String {
    format!(
        "fn f(notifier: &WorkerNotifier) {{\n    let x = {}1{};\n    notifier.notify_work_available(\"o\", \"q\");\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    )
}

#[test]
fn a_file_nested_too_deep_is_its_own_error_and_the_others_are_migrated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deep.rs"), nested(20_000)).unwrap();
    std::fs::write(dir.path().join("nested.rs"), nested(3_000)).unwrap();
    std::fs::write(dir.path().join("state.rs"), notifier_file()).unwrap();
    let out = codemod(&["--write", "--no-cargo", "."], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(
            "./deep.rs:2:20012: cannot parse: brackets nested 20001 deep here; more than 10000 levels are not parsed"
        ),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("deep.rs")).unwrap(),
        nested(20_000)
    );
    let migrated = std::fs::read_to_string(dir.path().join("nested.rs")).unwrap();
    assert!(
        !migrated.contains("notify_work_available"),
        "3,000 levels parse: {migrated}"
    );
    assert!(!std::fs::read_to_string(dir.path().join("state.rs"))
        .unwrap()
        .contains("WorkerNotifier"));
}

#[cfg(unix)]
#[test]
fn json_reports_a_path_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.rs");
    std::fs::write(dir.path().join(name), notifier_file()).unwrap();
    let out = codemod(&["--write", "--no-cargo", "--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the report is JSON");
    let file = &report["files"][0];
    assert_eq!(file["path"], "./caf\u{fffd}.rs");
    let bytes: Vec<u8> = file["path_bytes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(bytes, b"./caf\xe9.rs");
    assert_eq!(report["written"], 1);
    assert!(!std::fs::read_to_string(dir.path().join(name))
        .unwrap()
        .contains("WorkerNotifier"));
}

#[test]
fn a_file_over_the_size_limit_is_an_error_and_check_fails() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!("{}\n// {}\n", notifier_file(), "x".repeat(4096));
    std::fs::write(dir.path().join("big.rs"), &big).unwrap();
    let out = codemod(&["--check", "--max-file-size", "4K", "."], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!(
            "./big.rs: {} bytes, over --max-file-size 4096: not read",
            big.len()
        )),
        "{text}"
    );
    let default = codemod(&["--check", "."], dir.path());
    assert_eq!(
        default.status.code(),
        Some(1),
        "under the default 8M it is read and has edits"
    );
    let bad = codemod(&["--check", "--max-file-size", "8X", "."], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown size unit `X`"));
}

#[test]
fn temporary_files_of_a_killed_run_are_named_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.rs"), notifier_file()).unwrap();
    let stale = dir.path().join(".state.rs.k1ll3d.codemod-tmp");
    std::fs::write(&stale, "half a file").unwrap();
    let out = codemod(&["--write", "--no-cargo", "."], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Removed 1 temporary file(s) an interrupted earlier run left"),
        "{text}"
    );
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["state.rs"], "no temporary file is left");
    assert!(!Path::new(&stale).exists());
}

fn git(args: &[&str], root: &Path) {
    util::sh(
        "git",
        &[&["-c", "user.name=t", "-c", "user.email=t@e"], args].concat(),
        root,
    );
}

/// A committed repository with one file the codemod changes.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.rs"), notifier_file()).unwrap();
    git(&["init", "-q"], dir.path());
    git(&["add", "."], dir.path());
    git(&["commit", "-qm", "initial"], dir.path());
    dir
}

#[cfg(unix)]
#[test]
fn files_git_holds_no_copy_of_are_refused_unless_allowed() {
    use std::os::unix::ffi::OsStrExt;
    let dir = repo();
    // Committed, then changed: a name that is not valid UTF-8.
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9.rs");
    std::fs::write(dir.path().join(odd), "// x\n").unwrap();
    git(&["add", "."], dir.path());
    git(&["commit", "-qm", "odd name"], dir.path());
    std::fs::write(dir.path().join(odd), notifier_file()).unwrap();
    // Ignored by git: there is no copy to go back to either.
    std::fs::write(dir.path().join(".gitignore"), "generated.rs\n").unwrap();
    git(&["add", ".gitignore"], dir.path());
    git(&["commit", "-qm", "ignore"], dir.path());
    std::fs::write(dir.path().join("generated.rs"), notifier_file()).unwrap();

    let out = codemod(&["--write", "--no-cargo", "."], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("git holds no committed copy of these files"), "{err}");
    assert!(err.contains("caf\u{fffd}.rs"), "the odd name is listed: {err}");
    assert!(err.contains("generated.rs"), "the ignored file is listed: {err}");
    assert!(std::fs::read_to_string(dir.path().join("state.rs"))
        .unwrap()
        .contains("WorkerNotifier"));

    let allowed = codemod(&["--write", "--no-cargo", "--allow-dirty", "."], dir.path());
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stdout)
    );
    assert!(!std::fs::read_to_string(dir.path().join("generated.rs"))
        .unwrap()
        .contains("WorkerNotifier"));
}

#[test]
fn an_edit_made_while_the_codemod_runs_is_never_lost() {
    let dir = repo();
    let path = dir.path().join("state.rs");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_codemod"))
        .args(["--write", "--no-cargo", "--allow-dirty", "."])
        .current_dir(dir.path())
        .env("CODEMOD_TEST_PAUSE_BEFORE_WRITE_MS", "1500")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));
    let appended = format!("{}// the user's edit\n", notifier_file());
    std::fs::write(&path, &appended).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("these files changed since the codemod read them"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), appended, "the edit survives");
}

#[test]
fn with_write_a_file_that_cannot_be_read_means_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.rs"), notifier_file()).unwrap();
    let mut bad = b"// WorkerNotifier \xff\xfe\n".to_vec();
    bad.extend_from_slice(b"pub struct S;\n");
    std::fs::write(dir.path().join("latin1.rs"), &bad).unwrap();

    let out = codemod(&["--write", "--no-cargo", "."], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("./latin1.rs: not valid UTF-8"), "{text}");
    assert!(
        text.contains("Nothing was written: 1 file(s) or folder(s) could not be read"),
        "{text}"
    );
    assert!(std::fs::read_to_string(dir.path().join("state.rs"))
        .unwrap()
        .contains("WorkerNotifier"));

    let going = codemod(&["--write", "--no-cargo", "--keep-going", "."], dir.path());
    assert_eq!(going.status.code(), Some(2), "still an error, but the rest is written");
    assert!(!std::fs::read_to_string(dir.path().join("state.rs"))
        .unwrap()
        .contains("WorkerNotifier"));
}

#[test]
fn a_hanging_verify_is_killed_at_its_timeout_and_everything_restored() {
    let dir = repo();
    let before = std::fs::read_to_string(dir.path().join("state.rs")).unwrap();
    let started = std::time::Instant::now();
    let out = codemod(
        &[
            "--write",
            "--no-cargo",
            "--verify",
            "sleep 30",
            "--verify-timeout",
            "1s",
            ".",
        ],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("killed after --verify-timeout 1s"), "{text}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "the sleep was killed"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("state.rs")).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn sigterm_during_verify_restores_every_file_with_its_mtime() {
    use std::os::unix::fs::MetadataExt;
    let dir = repo();
    let path = dir.path().join("state.rs");
    let before = std::fs::read_to_string(&path).unwrap();
    let past = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let uid = std::fs::metadata(&path).unwrap().uid();

    let child = std::process::Command::new(env!("CARGO_BIN_EXE_codemod"))
        .args(["--write", "--no-cargo", "--allow-dirty", "--verify", "sleep 30", "."])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the codemod has written the file, then interrupt it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(&path).unwrap() == before {
        assert!(std::time::Instant::now() < deadline, "the file was never written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    util::sh("kill", &["-TERM", &child.id().to_string()], dir.path());
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(143),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Interrupted by SIGTERM: every changed file was restored"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.modified().unwrap(), past, "the modification time is restored");
    assert_eq!(meta.uid(), uid);
}

#[cfg(unix)]
#[test]
fn a_written_file_keeps_its_owner_group_and_mode() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.rs");
    std::fs::write(&path, notifier_file()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let root = std::fs::metadata(&path).unwrap().uid() == 0;
    // As root, hand the file to another user first: the rename must not
    // make it root's.
    let (uid, gid) = if root {
        (4242, 4343)
    } else {
        (
            std::fs::metadata(&path).unwrap().uid(),
            std::fs::metadata(&path).unwrap().gid(),
        )
    };
    std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();

    let out = codemod(&["--write", "--no-cargo", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let meta = std::fs::metadata(&path).unwrap();
    assert!(
        !std::fs::read_to_string(&path).unwrap().contains("WorkerNotifier"),
        "written"
    );
    assert_eq!((meta.uid(), meta.gid()), (uid, gid));
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
}

/// Runs the binary on a pseudo-terminal (Python's `pty`), typing `answers`
/// one line at a time as each prompt appears; returns the exit code and
/// everything the terminal showed.
fn on_a_terminal(args: &[&str], cwd: &Path, answers: &[&str]) -> (i32, String) {
    let driver = r#"
import os, pty, sys, select
binary, cwd, answers, args = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4:]
os.chdir(cwd)
pid, fd = pty.fork()
if pid == 0:
    os.environ["NO_COLOR"] = "1"
    os.execv(binary, [binary] + args)
seen, shown = b"", 0
while True:
    ready, _, _ = select.select([fd], [], [], 20)
    if not ready:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    while seen.count(b"Apply this hunk?") > shown and answers:
        os.write(fd, (answers.pop(0) + "\n").encode())
        shown += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(driver)
        .arg(env!("CARGO_BIN_EXE_codemod"))
        .arg(cwd)
        .arg(answers.join(","))
        .args(args)
        .output()
        .expect("python3 runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn interactive_review_writes_only_the_accepted_hunks() {
    let dir = repo();
    let path = dir.path().join("state.rs");
    let before = std::fs::read_to_string(&path).unwrap();
    let (code, shown) = on_a_terminal(
        &["--write", "--interactive", "--no-cargo", "--no-format", "."],
        dir.path(),
        &["n", "y", "a"],
    );
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("state.rs — hunk 1 of"), "{shown}");
    assert!(
        shown.contains("unused-import (WorkerNotifier)"),
        "rule and cause are shown: {shown}"
    );
    let after = std::fs::read_to_string(&path).unwrap();
    assert_ne!(after, before, "accepted hunks were written");
    assert!(
        after.contains("use super::WorkerNotifier;"),
        "the skipped first hunk (the import) stays: {after}"
    );
    assert!(
        !after.contains("pub notifier: Arc<WorkerNotifier>"),
        "an accepted hunk went"
    );
    codemod::parse::parse(after).expect("what was written parses");

    // Without a terminal it refuses at once.
    let piped = codemod(&["--write", "--interactive", "--no-cargo", "."], dir.path());
    assert_eq!(piped.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&piped.stderr).contains("--interactive needs a terminal"));
}

#[cfg(unix)]
#[test]
fn interactive_quit_writes_nothing() {
    let dir = repo();
    let path = dir.path().join("state.rs");
    let before = std::fs::read_to_string(&path).unwrap();
    let (code, shown) = on_a_terminal(&["--write", "--interactive", "--no-cargo", "."], dir.path(), &["q"]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("0 hunk(s) accepted"), "{shown}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_tree_are_never_followed_or_written() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("theirs.rs"), notifier_file()).unwrap();
    std::fs::create_dir(outside.path().join("dir")).unwrap();
    std::fs::write(outside.path().join("dir/deep.rs"), notifier_file()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.rs"), notifier_file()).unwrap();
    std::os::unix::fs::symlink(outside.path().join("theirs.rs"), dir.path().join("linked.rs")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("dir"), dir.path().join("linked_dir")).unwrap();

    let out = codemod(&["--write", "--no-cargo", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!std::fs::read_to_string(dir.path().join("state.rs"))
        .unwrap()
        .contains("WorkerNotifier"));
    assert_eq!(
        std::fs::read_to_string(outside.path().join("theirs.rs")).unwrap(),
        notifier_file()
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("dir/deep.rs")).unwrap(),
        notifier_file()
    );
    assert!(std::fs::symlink_metadata(dir.path().join("linked.rs"))
        .unwrap()
        .file_type()
        .is_symlink());
}
