//! Start-up and shutdown of the real binary: strict configuration (every
//! mistake named with its place, fast), the database chosen by the URL's
//! scheme with the real cause of a failure, private secrets, plain logs
//! in pipes, and a SIGTERM honoured whatever happened to stdout.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::process::server_binary;

/// The binary with a clean environment: no inherited backend or ports.
fn server(data_dir: &Path) -> Command {
    let mut command = Command::new(server_binary());
    command
        .env_remove("DATABASE_URL")
        .env_remove("CONFIG_FILE")
        .env("SERVER_PORT", "0")
        .env("GRPC_SERVER_PORT", "0")
        .env("DATA_DIR", data_dir)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    command
}

/// Runs a server expected to refuse to start; its stderr and how long it
/// took to give up. A server still running after 15 s fails the test.
fn refused(mut command: Command) -> (String, Duration) {
    let started = Instant::now();
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut stderr = String::new();
        let _ = pipe.read_to_string(&mut stderr);
        stderr
    });
    if !exits_within(&mut child, Duration::from_secs(15)) {
        panic!("the server started: {}", reader.join().unwrap());
    }
    let stderr = reader.join().unwrap();
    assert!(!child.wait().unwrap().success(), "the server started: {stderr}");
    (stderr, started.elapsed())
}

fn config_file(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn org_and_keys(keys: &str) -> String {
    let org = Uuid::new_v4();
    let keys = keys.replace("ORG", &org.to_string());
    format!("[[orgs]]\nid = \"{org}\"\nname = \"o\"\nslug = \"o\"\n\n[auth]\nenabled = true\n\n[auth.static_api_key]\nkeys = [\n{keys}\n]\n")
}

#[test]
fn mistakes_in_the_config_file_are_named_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let worker = "  { key = \"flovyn_wk_a\", org_id = \"ORG\", principal_type = \"Worker\", principal_id = \"w\" },";
    let cases = [
        // (the file, what stderr must say)
        (
            org_and_keys(worker).replace("enabled = true", "enabeld = false"),
            vec!["enabeld", "line 7"],
        ),
        (
            org_and_keys(&worker.replace("principal_id = \"w\"", "principal_id = \"w\", rol = \"ADMIN\"")),
            vec!["rol", "line 11"],
        ),
        (
            org_and_keys(&worker.replace("flovyn_wk_a", "")),
            vec!["auth.static_api_key.keys[0] (principal \"w\"): key is empty"],
        ),
        (
            org_and_keys(&format!("{worker}\n{}", worker.replace("\"w\"", "\"w2\""))),
            vec!["keys[1] (principal \"w2\"): same key as auth.static_api_key.keys[0]"],
        ),
    ];
    for (text, expected) in cases {
        let mut command = server(dir.path());
        command.arg("--config").arg(config_file(dir.path(), &text));
        let (stderr, took) = refused(command);
        for needle in expected {
            assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
        }
        assert!(!stderr.contains("flovyn_wk_a"), "a key was printed: {stderr}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}

#[test]
fn the_database_url_scheme_chooses_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    // sqlite: opens (creates) exactly that file.
    let file = dir.path().join("chosen.db");
    let mut child = server(&dir.path().join("data"))
        .env("DATABASE_URL", format!("sqlite://{}", file.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    assert!(line.starts_with("gRPC listening on"), "{line}");
    assert!(file.exists(), "{} was not created", file.display());
    assert!(!dir.path().join("data/flovyn.db").exists());
    child.kill().unwrap();
    child.wait().unwrap();

    // Another scheme: refused at once, naming the accepted ones.
    let mut command = server(dir.path());
    command.env("DATABASE_URL", "mysql://u:secret@localhost/d");
    let (stderr, took) = refused(command);
    assert!(stderr.contains("scheme \"mysql\" is not supported"), "{stderr}");
    assert!(stderr.contains("sqlite:PATH, postgres:// or postgresql://"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
    assert!(took < Duration::from_secs(2), "{took:?}");

    // An unreachable PostgreSQL: the real cause with host:port, in seconds.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = server(dir.path());
    command.env("DATABASE_URL", format!("postgresql://u:secret@127.0.0.1:{port}/d"));
    let (stderr, took) = refused(command);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
    assert!(took < Duration::from_secs(7), "{took:?}");
}

/// With the test PostgreSQL server (the README's test command starts one):
/// a wrong password and a missing database are told apart.
#[tokio::test]
async fn postgres_failures_say_what_failed() {
    if reference_server::testing::test_database_url().await.is_none() {
        return; // SQLite phase: the PostgreSQL phase of the test command runs it.
    }
    let url = std::env::var("FLOVYN_TEST_POSTGRES_URL").unwrap();
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let (host, port, user) = (options.get_host(), options.get_port(), options.get_username());
    let dir = tempfile::tempdir().unwrap();
    for (url, expected) in [
        (
            format!("postgres://{user}:wrong-password@{host}:{port}/postgres"),
            format!("authentication failed for user {user:?}"),
        ),
        (
            format!("{}/no_such_database", url.rsplit_once('/').unwrap().0),
            "database \"no_such_database\" does not exist".to_string(),
        ),
    ] {
        let mut command = server(dir.path());
        command.env("DATABASE_URL", &url);
        let (stderr, took) = refused(command);
        assert!(stderr.contains(&expected), "{expected:?} not in: {stderr}");
        assert!(took < Duration::from_secs(7), "{took:?}");
    }
}

/// Starts the binary with the development org (no config), waits for its
/// gRPC line; returns the child and the rest of stdout.
fn dev_server(
    data_dir: &Path,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
) {
    let mut child = server(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while !lines.next().unwrap().unwrap().starts_with("gRPC listening on") {}
    (child, lines)
}

fn sigterm(child: &std::process::Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the child to exit, at most `within`.
fn exits_within(child: &mut std::process::Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

#[test]
fn sigterm_stops_the_server_after_its_stdout_and_stderr_were_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines) = dev_server(dir.path());
    // Whoever read the output went away (`server | head -1`).
    drop(lines);
    drop(child.stderr.take());
    std::thread::sleep(Duration::from_millis(200));
    sigterm(&child);
    assert!(
        exits_within(&mut child, Duration::from_secs(5)),
        "SIGTERM was not honoured"
    );
}

#[test]
fn logs_in_a_pipe_have_no_colour_and_dev_credentials_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines) = dev_server(dir.path());
    sigterm(&child);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(exits_within(&mut child, Duration::from_secs(5)));
    let log = rest.iter().find(|l| l.contains("shutting down")).expect("a log line");
    assert!(!log.contains('\u{1b}'), "ANSI codes in a pipe: {log:?}");

    let secrets = dir.path().join("dev-credentials.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&secrets), 0o600);
        // A file from before (world-readable) is made private at start-up.
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (mut child, _lines) = dev_server(dir.path());
        assert_eq!(mode(&secrets), 0o600);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[tokio::test]
async fn worker_log_messages_cannot_forge_lines_or_fill_the_log() {
    use reference_server::api::grpc::pb;
    let dir = tempfile::tempdir().unwrap();
    let org = Uuid::new_v4();
    let token = format!("flovyn_wk_{}", Uuid::new_v4().simple());
    let text = format!(
        "[[orgs]]\nid = \"{org}\"\nname = \"o\"\nslug = \"o\"\n\n[auth.static_api_key]\nkeys = [{{ key = \"{token}\", org_id = \"{org}\", principal_type = \"Worker\", principal_id = \"w\" }}]\n"
    );
    let mut child = server(dir.path())
        .arg("--config")
        .arg(config_file(dir.path(), &text))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let grpc = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(addr) = line.strip_prefix("gRPC listening on ") {
            break format!("http://{addr}");
        }
    };
    let output = std::thread::spawn(move || lines.map(Result::unwrap).collect::<Vec<String>>());

    let channel = tonic::transport::Channel::from_shared(grpc)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut tasks =
        pb::task_execution_client::TaskExecutionClient::with_interceptor(channel, crate::util::Bearer(Some(token)));
    let task = tasks
        .submit_task(pb::SubmitTaskRequest {
            org_id: org.to_string(),
            kind: "k".into(),
            queue: "q".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .task_execution_id;
    let forged = "2026-01-01T00:00:00.000000Z  INFO reference_server: admin key rotated";
    for message in [format!("done\n{forged}\r\n\u{1b}[2J"), "x".repeat(3 << 20)] {
        tasks
            .log_message(pb::LogMessageRequest {
                task_execution_id: task.clone(),
                level: "INFO\nFORGED".into(),
                message,
            })
            .await
            .unwrap();
    }
    // A connected client does not hold the shutdown up.
    sigterm(&child);
    assert!(
        exits_within(&mut child, Duration::from_secs(5)),
        "SIGTERM with a client connected"
    );
    drop(tasks);
    let output = output.join().unwrap();
    assert!(
        !output.iter().any(|l| l.starts_with(forged)),
        "a forged line: {output:?}"
    );
    assert!(
        !output.iter().any(|l| l.starts_with("FORGED")),
        "a forged line: {output:?}"
    );
    assert!(
        !output.iter().any(|l| l.contains('\u{1b}')),
        "an escape sequence reached the log"
    );
    let logged: Vec<&String> = output.iter().filter(|l| l.contains("task log")).collect();
    assert_eq!(logged.len(), 2, "{output:?}");
    assert!(logged[0].contains("done\\n2026-01-01"), "{}", logged[0]);
    let size: usize = output.iter().map(String::len).sum();
    assert!(size < 64 * 1024, "{size} bytes of log for one 3 MB message");
    assert!(logged[1].contains("more bytes)"), "not capped");
}
