//! PostgreSQL beside SQLite: the same binary on a PostgreSQL database (a
//! fresh schema per server start), the same scenarios, and two replicas
//! on one database. PostgreSQL's own CPU (every `postgres` process) is
//! counted beside the server's.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use sqlx::Connection;

use super::{idle, pb, proc_stat, tasks, workflow_round_trips, workflow_round_trips_on, Server, TOKEN};

/// Figures of one backend.
#[derive(Debug, Default)]
pub struct Figures {
    /// (pollers, empty polls/s, server CPU %, database CPU %).
    pub idle: Vec<(usize, f64, f64, f64)>,
    pub claims: f64,
    pub workflows: f64,
}

const CLAIM_ITEMS: u64 = 2000;

/// 2,000 queued tasks claimed by 8 concurrent pollers: claims per second.
pub async fn claim_throughput(server: &Server, org: Uuid) -> f64 {
    let channel = server.channel().await;
    let queue = format!("claims-{}", Uuid::new_v4().simple());
    let mut submitters = tokio::task::JoinSet::new();
    for s in 0..8 {
        let mut client = tasks(&channel);
        let queue = queue.clone();
        submitters.spawn(async move {
            for _ in (s..CLAIM_ITEMS).step_by(8) {
                client
                    .submit_task(pb::SubmitTaskRequest {
                        org_id: org.to_string(),
                        kind: "bench".into(),
                        input: b"{}".to_vec(),
                        queue: queue.clone(),
                        ..Default::default()
                    })
                    .await
                    .expect("submit");
            }
        });
    }
    submitters.join_all().await;
    let claimed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut pollers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let mut client = tasks(&channel);
        let (queue, claimed) = (queue.clone(), claimed.clone());
        pollers.spawn(async move {
            while claimed.load(Ordering::Relaxed) < CLAIM_ITEMS {
                let polled = client
                    .poll_task(pb::PollTaskRequest {
                        worker_id: "bench".into(),
                        org_id: org.to_string(),
                        queue: queue.clone(),
                        ..Default::default()
                    })
                    .await
                    .expect("poll");
                if polled.into_inner().task.is_some() {
                    claimed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    pollers.join_all().await;
    CLAIM_ITEMS as f64 / started.elapsed().as_secs_f64()
}

/// CPU seconds used so far by every `postgres` process.
fn postgres_cpu_seconds() -> f64 {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter_map(|stat| match proc_stat(&stat) {
            Some(("postgres", cpu)) => Some(cpu),
            _ => None,
        })
        .sum()
}

async fn server_version(url: &str) -> String {
    let Ok(mut conn) = sqlx::PgConnection::connect(url).await else {
        return "version unknown".into();
    };
    sqlx::query_scalar::<_, String>("SHOW server_version")
        .fetch_one(&mut conn)
        .await
        .map_or_else(|e| e.to_string(), |v| format!("PostgreSQL {v}"))
}

/// A configuration on a fresh schema of the database at `url`.
async fn config(dir: &Path, name: &str, org: Uuid, schema_url: &str, max_poll_wait: u64) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[server]\nhttp_port = 0\ngrpc_port = 0\ndata_dir = {data:?}\nmax_poll_wait_seconds = {max_poll_wait}\n\n[[orgs]]\nid = \"{org}\"\nname = \"bench\"\nslug = \"bench\"\n\n\
             [auth.static_api_key]\nkeys = [{{ key = \"{TOKEN}\", org_id = \"{org}\", principal_type = \"Worker\", principal_id = \"bench\" }}]\n\n\
             [database]\nurl = {schema_url:?}\n",
            data = dir.join(name).display().to_string(),
        ),
    )
    .unwrap();
    path
}

/// Runs the scenarios on PostgreSQL and returns the comparison table.
pub async fn compare(binary: &Path, dir: &Path, org: Uuid, url: &str, sqlite: &Figures) -> String {
    let schema = format!("bench_{}", Uuid::new_v4().simple());
    let schema_url = reference_server::storage::postgres::create_schema(url, &schema)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let one = config(dir, "pg-a", org, &schema_url, 0).await;
    let server = Server::start(binary, &one, None);
    let mut pg = Figures::default();
    for n in [10, 100, 1000] {
        let db0 = postgres_cpu_seconds();
        let t0 = Instant::now();
        let (rate, cpu, _) = idle(&server, org, n).await;
        // idle() spends a second before its window; the database share is
        // taken over the whole call, a close approximation.
        let db = (postgres_cpu_seconds() - db0) / t0.elapsed().as_secs_f64() * 100.0;
        pg.idle.push((n, rate, cpu, db));
    }
    pg.claims = claim_throughput(&server, org).await;
    pg.workflows = workflow_round_trips(&server, org).await;

    // A second replica on the same database; workers on both.
    let two = config(dir, "pg-b", org, &schema_url, 0).await;
    let second = Server::start(binary, &two, None);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let replicated = workflow_round_trips_on(&[server.channel().await, second.channel().await], org).await;
    second.kill();
    server.kill();

    // Held polls across replicas: the poll waits on one, the start goes to
    // the other, and the wake travels as a NOTIFY.
    let (c, d) = (
        config(dir, "pg-c", org, &schema_url, 60).await,
        config(dir, "pg-d", org, &schema_url, 60).await,
    );
    let (poll_on, start_on) = (Server::start(binary, &c, None), Server::start(binary, &d, None));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let across = super::pickup_latency_across(&poll_on, &start_on, org, 150).await;
    poll_on.kill();
    start_on.kill();

    let mut table = String::from("| scenario | SQLite | PostgreSQL |\n|---|---|---|\n");
    for ((n, s_rate, s_cpu, _), (_, p_rate, p_cpu, p_db)) in sqlite.idle.iter().zip(&pg.idle) {
        table.push_str(&format!(
            "| {n} idle pollers (100 ms backoff) | {s_rate:.0} empty polls/s, server CPU {s_cpu:.1} % | \
             {p_rate:.0} empty polls/s, server CPU {p_cpu:.1} % + PostgreSQL {p_db:.1} % |\n"
        ));
    }
    table.push_str(&format!(
        "| claim throughput: 2,000 queued tasks, 8 concurrent pollers | {:.0} claims/s | {:.0} claims/s |\n",
        sqlite.claims, pg.claims
    ));
    table.push_str(&format!(
        "| workflow round trips, 4 workers, one server | {:.0} /s | {:.0} /s |\n",
        sqlite.workflows, pg.workflows
    ));
    table.push_str(&format!(
        "| workflow round trips, 4 workers, two replicas on one database | (one process only) | {replicated:.0} /s |\n"
    ));
    table.push_str(&format!(
        "| pickup latency across replicas, held polls: poll held on one, StartWorkflow sent to the other → poll answered | (one process only) | {across} |\n"
    ));
    table.push_str(&format!(
        "\n{}, synchronous_commit on, on the same 2 cores.",
        server_version(url).await
    ));
    table
}
