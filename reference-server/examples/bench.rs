//! The reference server's benchmark: starts the release binary as its own
//! process (so its CPU and memory are its own), drives it over gRPC on
//! loopback and prints a Markdown table.
//!
//! ```sh
//! cargo build --release -p reference-server
//! cargo run --release -p reference-server --example bench
//! ```
//!
//! With `BENCH_POSTGRES_URL` (scripts/bench-server.sh sets it), the same
//! scenarios again on PostgreSQL and a table beside SQLite.
//!
//! Scenarios: idle pollers (each sleeping 100 ms between empty polls),
//! pickup latency of one idle poller, workflow and task round trips with 4
//! workers, peak RSS, time to serve again after a restart.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reference_server::api::grpc::pb;

#[path = "bench/postgres.rs"]
mod postgres;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

type Dispatch = pb::workflow_dispatch_client::WorkflowDispatchClient<InterceptedService<Channel, Bearer>>;
type Tasks = pb::task_execution_client::TaskExecutionClient<InterceptedService<Channel, Bearer>>;

#[derive(Clone)]
struct Bearer(String);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {}", self.0).parse().unwrap());
        Ok(request)
    }
}

const TOKEN: &str = "flovyn_wk_bench_0000000000000000";
const MEASURE: Duration = Duration::from_secs(5);

struct Server {
    child: Child,
    grpc: String,
    config: PathBuf,
}

impl Server {
    /// Starts the server binary; `threads` overrides its runtime threads.
    fn start(binary: &Path, config: &Path, threads: Option<usize>) -> Server {
        let mut command = Command::new(binary);
        if let Some(threads) = threads {
            command.env("RUNTIME_THREADS", threads.to_string());
        }
        let mut child = command
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server binary");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let grpc = loop {
            let line = lines.next().expect("server banner").unwrap();
            if let Some(addr) = line.strip_prefix("gRPC listening on ") {
                break format!("http://{addr}");
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            grpc,
            config: config.to_path_buf(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU seconds (user + system) used so far.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        proc_stat(&stat).map_or(0.0, |(_, cpu)| cpu)
    }

    fn status_kb(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Bytes this process caused to be written to storage.
    fn write_bytes(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/io", self.pid()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("write_bytes: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(self.grpc.clone())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    fn kill(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.config
    }
}

fn dispatch(channel: &Channel) -> Dispatch {
    pb::workflow_dispatch_client::WorkflowDispatchClient::with_interceptor(channel.clone(), Bearer(TOKEN.into()))
}

fn tasks(channel: &Channel) -> Tasks {
    pb::task_execution_client::TaskExecutionClient::with_interceptor(channel.clone(), Bearer(TOKEN.into()))
}

fn poll_request(org: Uuid, queue: &str) -> pb::PollRequest {
    pb::PollRequest {
        worker_id: "bench".into(),
        org_id: org.to_string(),
        queue: queue.into(),
        timeout_seconds: 60,
        ..Default::default()
    }
}

fn start_request(org: Uuid, queue: &str) -> pb::StartWorkflowRequest {
    pb::StartWorkflowRequest {
        org_id: org.to_string(),
        workflow_kind: "bench".into(),
        input: b"{}".to_vec(),
        queue: queue.into(),
        ..Default::default()
    }
}

/// N pollers each sleeping 100 ms between empty polls.
async fn idle(server: &Server, org: Uuid, n: usize) -> (f64, f64, u64) {
    let channels: Vec<Channel> = futures_join(n.div_ceil(50), || server.channel()).await;
    let stop = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for i in 0..n {
        let mut client = dispatch(&channels[i % channels.len()]);
        let (stop, polls) = (stop.clone(), polls.clone());
        handles.push(tokio::spawn(async move {
            // Spread the pollers over the first backoff period.
            tokio::time::sleep(Duration::from_millis((i as u64 * 97) % 100)).await;
            while !stop.load(Ordering::Relaxed) {
                let _ = client.poll_workflow(poll_request(org, "idle")).await;
                polls.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (p0, c0, w0, t0) = (
        polls.load(Ordering::Relaxed),
        server.cpu_seconds(),
        server.write_bytes(),
        Instant::now(),
    );
    tokio::time::sleep(MEASURE).await;
    let secs = t0.elapsed().as_secs_f64();
    let rate = (polls.load(Ordering::Relaxed) - p0) as f64 / secs;
    let cpu = (server.cpu_seconds() - c0) / secs * 100.0;
    let written = server.write_bytes() - w0;
    stop.store(true, Ordering::Relaxed);
    // A held poll would only end at its timeout: cancel them all.
    for h in handles {
        h.abort();
        let _ = h.await;
    }
    (rate, cpu, written)
}

async fn futures_join<F, Fut>(n: usize, make: F) -> Vec<Channel>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Channel>,
{
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(make().await);
    }
    out
}

/// Pickup latency percentiles (p50, p99 in ms), counted from the start of
/// the StartWorkflow call and from its return. The poll can be answered
/// before the call returns (the wake comes at the commit, the start's
/// answer after its flush): the second figure can then be negative.
#[derive(Debug, Clone, Copy)]
struct Pickup {
    from_call: (f64, f64),
    from_return: (f64, f64),
}

impl std::fmt::Display for Pickup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ((c50, c99), (r50, r99)) = (self.from_call, self.from_return);
        write!(
            f,
            "from the call: p50 {c50:.1} ms, p99 {c99:.1} ms; from its return: p50 {r50:.1} ms, p99 {r99:.1} ms"
        )
    }
}

/// One idle poller with a 100 ms backoff; workflows started at random
/// moments; time from StartWorkflow to the poller receiving it.
async fn pickup_latency(server: &Server, org: Uuid, samples: usize) -> Pickup {
    pickup_latency_across(server, server, org, samples).await
}

/// [`pickup_latency`] with the poller on `poll_on` and the starts sent to
/// `start_on` (two replicas on one database).
async fn pickup_latency_across(poll_on: &Server, start_on: &Server, org: Uuid, samples: usize) -> Pickup {
    let channel = poll_on.channel().await;
    let received: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let mut client = dispatch(&channel);
        let (received, stop) = (received.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match client
                    .poll_workflow(poll_request(org, "latency"))
                    .await
                    .map(|r| r.into_inner().workflow_execution)
                {
                    Ok(Some(w)) => {
                        received.lock().unwrap().insert(w.id, Instant::now());
                    }
                    _ => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        })
    };
    let mut client = dispatch(&start_on.channel().await);
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut started = Vec::with_capacity(samples);
    for _ in 0..samples {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        tokio::time::sleep(Duration::from_millis(60 + rng % 120)).await;
        let called = Instant::now();
        let id = client
            .start_workflow(start_request(org, "latency"))
            .await
            .unwrap()
            .into_inner()
            .workflow_execution_id;
        started.push((id, called, Instant::now()));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    poller.abort();
    let _ = poller.await;
    let received = received.lock().unwrap();
    let ms = |from: Instant, to: Instant| match to.checked_duration_since(from) {
        Some(d) => d.as_secs_f64() * 1000.0,
        None => -(from - to).as_secs_f64() * 1000.0,
    };
    let (mut from_call, mut from_return) = (Vec::new(), Vec::new());
    for (id, called, returned) in &started {
        let at = *received
            .get(id)
            .unwrap_or_else(|| panic!("workflow {id} was never handed out"));
        from_call.push(ms(*called, at));
        from_return.push(ms(*returned, at));
    }
    let p50_p99 = |mut values: Vec<f64>| {
        values.sort_by(|a, b| a.total_cmp(b));
        (percentile(&values, 0.50), percentile(&values, 0.99))
    };
    Pickup {
        from_call: p50_p99(from_call),
        from_return: p50_p99(from_return),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// 4 workers, each in a closed loop: start a workflow, poll it, complete it.
async fn workflow_round_trips(server: &Server, org: Uuid) -> f64 {
    workflow_round_trips_on(&[server.channel().await], org).await
}

/// The same, worker `w` talking to `channels[w % len]` (one per replica).
async fn workflow_round_trips_on(channels: &[Channel], org: Uuid) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for w in 0..4 {
        let mut client = dispatch(&channels[w % channels.len()]);
        let (stop, done) = (stop.clone(), done.clone());
        let queue = format!("round-trip-{w}");
        handles.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if client.start_workflow(start_request(org, &queue)).await.is_err() {
                    continue;
                }
                let polled = client.poll_workflow(poll_request(org, &queue)).await;
                let Ok(Some(w)) = polled.map(|r| r.into_inner().workflow_execution) else {
                    continue;
                };
                let complete = pb::WorkflowCommand {
                    command_type: pb::CommandType::CompleteWorkflow as i32,
                    sequence_number: 2,
                    command_data: Some(pb::workflow_command::CommandData::CompleteWorkflow(
                        pb::CompleteWorkflowCommand { output: b"{}".to_vec() },
                    )),
                };
                let submitted = client
                    .submit_workflow_commands(pb::SubmitWorkflowCommandsRequest {
                        workflow_execution_id: w.id,
                        commands: vec![complete],
                        status: pb::WorkflowStatus::Completed as i32,
                    })
                    .await;
                if submitted.is_ok() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    measure_rate(&done, stop, handles).await
}

/// `workers` workers, each in a closed loop on its own queue: submit a
/// task, poll it, complete it.
async fn task_round_trips(server: &Server, org: Uuid, workers: usize) -> f64 {
    let channel = server.channel().await;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for w in 0..workers {
        let mut client = tasks(&channel);
        let (stop, done) = (stop.clone(), done.clone());
        let queue = format!("tasks-{w}");
        handles.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let submitted = client
                    .submit_task(pb::SubmitTaskRequest {
                        org_id: org.to_string(),
                        kind: "bench".into(),
                        input: b"{}".to_vec(),
                        queue: queue.clone(),
                        ..Default::default()
                    })
                    .await;
                if submitted.is_err() {
                    continue;
                }
                let polled = client
                    .poll_task(pb::PollTaskRequest {
                        worker_id: "bench".into(),
                        org_id: org.to_string(),
                        queue: queue.clone(),
                        ..Default::default()
                    })
                    .await;
                let Ok(Some(t)) = polled.map(|r| r.into_inner().task) else {
                    continue;
                };
                let completed = client
                    .complete_task(pb::CompleteTaskRequest {
                        task_execution_id: t.task_execution_id,
                        output: b"{}".to_vec(),
                    })
                    .await;
                if completed.is_ok() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    measure_rate(&done, stop, handles).await
}

async fn measure_rate(done: &AtomicU64, stop: Arc<AtomicBool>, handles: Vec<tokio::task::JoinHandle<()>>) -> f64 {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (d0, t0) = (done.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(MEASURE).await;
    let rate = (done.load(Ordering::Relaxed) - d0) as f64 / t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.await;
    }
    rate
}

/// The command name and CPU seconds (user + system) of a `/proc/<pid>/stat`
/// text. The name is in parentheses and may hold spaces; utime and stime
/// are the 12th and 13th fields after it, in ticks of 1/100 s.
fn proc_stat(stat: &str) -> Option<(&str, f64)> {
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((name, ticks / 100.0))
}

fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let binary = dir.join("reference-server");
    assert!(
        binary.exists(),
        "{} not found: run `cargo build --release -p reference-server` first",
        binary.display()
    );
    binary
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

/// The bench's configuration file in `dir`: one org, the bench's token,
/// polls held up to `max_poll_wait` seconds.
fn write_config(dir: &std::path::Path, name: &str, org: Uuid, max_poll_wait: u64) -> std::path::PathBuf {
    let config = dir.join(name);
    std::fs::write(
        &config,
        format!(
            "[server]\nhttp_port = 0\ngrpc_port = 0\ndata_dir = {:?}\nmax_poll_wait_seconds = {max_poll_wait}\n\n\
             [[orgs]]\nid = \"{org}\"\nname = \"bench\"\nslug = \"bench\"\n\n\
             [auth.static_api_key]\nkeys = [{{ key = \"{TOKEN}\", org_id = \"{org}\", principal_type = \"Worker\", principal_id = \"bench\" }}]\n",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    config
}

#[tokio::main]
async fn main() {
    let binary = server_binary();
    let dir = tempfile::tempdir().unwrap();
    let org = Uuid::new_v4();
    // BENCH_ONLY=idle|latency|workflows|tasks runs one scenario (to profile
    // the server, whose pid is printed, e.g. with `perf record -p`).
    // BENCH_POLL_WAIT=60 runs it with held polls.
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        let wait = std::env::var("BENCH_POLL_WAIT").map_or(0, |w| w.parse().expect("BENCH_POLL_WAIT: seconds"));
        let config = write_config(dir.path(), "config.toml", org, wait);
        let server = Server::start(&binary, &config, None);
        eprintln!("server pid {}", server.pid());
        let result = match only.as_str() {
            "idle" => format!("{:?}", idle(&server, org, 1000).await),
            "latency" => pickup_latency(&server, org, 100).await.to_string(),
            "workflows" => format!("{:.0} /s", workflow_round_trips(&server, org).await),
            "tasks" => format!("{:.0} /s", task_round_trips(&server, org, 4).await),
            "tasks32" => format!("{:.0} /s", task_round_trips(&server, org, 32).await),
            other => panic!("BENCH_ONLY={other}: expected idle, latency, workflows, tasks or tasks32"),
        };
        println!("{only}: {result}");
        server.kill();
        return;
    }
    // The server's own speed first, with polls answered at once (as
    // before held polls): the pollers' 100 ms backoff is the only wait.
    let config = write_config(dir.path(), "config.toml", org, 0);
    let server = Server::start(&binary, &config, None);

    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut sqlite_figures = postgres::Figures::default();
    for n in [10, 100, 1000] {
        let (rate, cpu, written) = idle(&server, org, n).await;
        sqlite_figures.idle.push((n, rate, cpu, 0.0));
        rows.push((
            format!("{n} idle pollers (100 ms backoff)"),
            format!("{rate:.0} empty polls/s, server CPU {cpu:.1} % of one core, {written} bytes written"),
            if n == 1000 {
                "CPU <= 35 %, nothing written".into()
            } else {
                "nothing written".into()
            },
        ));
    }
    let pickup = pickup_latency(&server, org, 150).await;
    rows.push((
        "pickup latency, 1 idle poller, 100 ms backoff".into(),
        pickup.to_string(),
        "p50 <= 55 ms, p99 <= 110 ms".into(),
    ));
    let workflows = workflow_round_trips(&server, org).await;
    sqlite_figures.workflows = workflows;
    sqlite_figures.claims = postgres::claim_throughput(&server, org).await;
    rows.push((
        "claim throughput: 2,000 queued tasks, 8 concurrent pollers".into(),
        format!("{:.0} claims/s", sqlite_figures.claims),
        String::new(),
    ));
    rows.push((
        "workflow round trips (start, poll, complete), 4 workers".into(),
        format!("{workflows:.0} /s"),
        ">= 500 /s".into(),
    ));
    for workers in [4, 32] {
        let task_rate = task_round_trips(&server, org, workers).await;
        rows.push((
            format!("task round trips (submit, poll, complete), {workers} workers"),
            format!("{task_rate:.0} /s"),
            ">= 2,000 /s".into(),
        ));
    }
    rows.push((
        "server peak RSS".into(),
        format!("{:.1} MiB", server.status_kb("VmHWM:") as f64 / 1024.0),
        String::new(),
    ));

    let config = server.kill();
    let restarted = Instant::now();
    let server = Server::start(&binary, &config, None);
    let mut client = dispatch(&server.channel().await);
    client.poll_workflow(poll_request(org, "idle")).await.unwrap();
    let serving = restarted.elapsed();
    rows.push((
        "serving again after a restart (SIGKILL, restart, first poll answered)".into(),
        format!("{} ms", serving.as_millis()),
        "<= 2,000 ms".into(),
    ));
    let config = server.kill();
    // The same server with a second runtime thread (`[server]
    // runtime_threads`): more throughput under load, more CPU when idle.
    let server = Server::start(&binary, &config, Some(2));
    let task_rate = task_round_trips(&server, org, 32).await;
    rows.push((
        "task round trips, 32 workers, runtime_threads = 2".into(),
        format!("{task_rate:.0} /s"),
        ">= 2,000 /s".into(),
    ));
    server.kill();
    // Held polls (the default, max_poll_wait_seconds = 60) on the same data.
    let held = write_config(dir.path(), "held.toml", org, 60);
    let server = Server::start(&binary, &held, None);
    let (rate, cpu, _) = idle(&server, org, 1000).await;
    rows.push((
        "1000 idle pollers, held polls (max_poll_wait_seconds = 60)".into(),
        format!("{rate:.1} polls answered/s, server CPU {cpu:.1} % of one core"),
        "no empty answers".into(),
    ));
    let pickup = pickup_latency(&server, org, 150).await;
    rows.push((
        "pickup latency, 1 idle poller, held polls".into(),
        pickup.to_string(),
        "from the call: p50 <= 2 ms, p99 <= 4 ms".into(),
    ));
    server.kill();
    // PostgreSQL beside SQLite, when a server is given (scripts/bench-server.sh).
    let beside = match std::env::var("BENCH_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(postgres::compare(&binary, dir.path(), org, &url, &sqlite_figures).await),
        _ => None,
    };

    println!("| scenario | measured | target |");
    println!("|---|---|---|");
    for (scenario, measured, target) in rows {
        println!("| {scenario} | {measured} | {target} |");
    }
    println!(
        "\nMachine: {}. SQLite; a write is acknowledged after the fdatasync of the WAL that covers it; group commit.",
        machine()
    );
    if let Some(table) = beside {
        println!("\n{table}");
    }
}
