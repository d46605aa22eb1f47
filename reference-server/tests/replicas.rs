//! Two server processes on one PostgreSQL database, serving the same
//! workers: what polling makes possible and a per-process broadcast could
//! not. Run on PostgreSQL only (`scripts/test.sh` runs it after starting a
//! cluster; `FLOVYN_TEST_BACKEND=postgres cargo test -p reference-server
//! --test replicas` by hand).

#[allow(dead_code)]
#[path = "process.rs"]
mod process;
#[allow(dead_code)]
#[path = "util.rs"]
mod util;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use process::{spawn, Process};
use reference_sdk::{
    FlovynClient, Result as SdkResult, TaskContext, TaskDefinition, WorkerHandle, WorkflowContext, WorkflowDefinition,
};
use sqlx::Connection;
use uuid::Uuid;

const WORKFLOWS: u64 = 500;
const TOKEN: &str = "flovyn_wk_test_replicas0000000";

/// Executions per (workflow input, step): each task run and each workflow
/// code completion, as the SDK ran them.
type Runs = Arc<Mutex<HashMap<(u64, &'static str), u32>>>;

fn count(runs: &Runs, n: u64, step: &'static str) {
    *runs.lock().unwrap().entry((n, step)).or_default() += 1;
}

/// A task, a durable timer, another task, then done.
struct Chain(Runs);

#[reference_sdk::async_trait]
impl WorkflowDefinition for Chain {
    type Input = u64;
    type Output = u64;

    fn kind(&self) -> &str {
        "chain"
    }

    async fn execute(&self, ctx: WorkflowContext, n: u64) -> SdkResult<u64> {
        let a: u64 = ctx.schedule_task("add-one", &n).await?;
        ctx.sleep(Duration::from_millis(20)).await?;
        let b: u64 = ctx.schedule_task("double", &a).await?;
        count(&self.0, n, "workflow-completed");
        Ok(b)
    }
}

struct AddOne(Runs);

#[reference_sdk::async_trait]
impl TaskDefinition for AddOne {
    type Input = u64;
    type Output = u64;

    fn kind(&self) -> &str {
        "add-one"
    }

    async fn execute(&self, _ctx: TaskContext, n: u64) -> SdkResult<u64> {
        count(&self.0, n, "add-one");
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok(n + 1)
    }
}

struct Double(Runs);

#[reference_sdk::async_trait]
impl TaskDefinition for Double {
    type Input = u64;
    type Output = u64;

    fn kind(&self) -> &str {
        "double"
    }

    async fn execute(&self, _ctx: TaskContext, a: u64) -> SdkResult<u64> {
        count(&self.0, a - 1, "double");
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok(a * 2)
    }
}

/// A replica's configuration: the shared database, its own ports.
fn config(dir: &std::path::Path, name: &str, org: Uuid, database: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[server]\nhttp_port = 0\ngrpc_port = 0\ndata_dir = {data:?}\nworkflow_lease_seconds = 2\ntask_lease_seconds = 2\n\n\
             [[orgs]]\nid = \"{org}\"\nname = \"t\"\nslug = \"t\"\n\n\
             [auth.static_api_key]\nkeys = [{{ key = \"{TOKEN}\", org_id = \"{org}\", principal_type = \"Worker\", principal_id = \"w\" }}]\n\n\
             [database]\nurl = {database:?}\n",
            data = dir.join(name).display().to_string(),
        ),
    )
    .unwrap();
    path
}

async fn workers(replica: &Process, org: Uuid, runs: &Runs, n: usize) -> Vec<WorkerHandle> {
    let mut handles = Vec::new();
    for i in 0..n {
        handles.push(
            FlovynClient::builder()
                .server_url(replica.grpc.clone())
                .worker_token(TOKEN)
                .org_id(org)
                .queue("replicas")
                .worker_id(format!("{}-{i}", replica.grpc))
                .max_concurrent(8)
                .reconnect_backoff(Duration::from_millis(100), Duration::from_millis(500))
                .register_workflow(Chain(runs.clone()))
                .register_task(AddOne(runs.clone()))
                .register_task(Double(runs.clone()))
                .start()
                .await
                .unwrap(),
        );
    }
    handles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_the_work_and_survive_losing_one() {
    let database = reference_server::testing::test_database_url()
        .await
        .expect("this test needs PostgreSQL: run it with FLOVYN_TEST_BACKEND=postgres (scripts/test.sh does)");
    let dir = tempfile::tempdir().unwrap();
    let org = Uuid::new_v4();
    let mut a = spawn(&config(dir.path(), "a", org, &database));
    let mut b = spawn(&config(dir.path(), "b", org, &database));

    let runs: Runs = Arc::default();
    let on_a = workers(&a, org, &runs, 2).await;
    let on_b = workers(&b, org, &runs, 2).await;
    let client_a = on_a[0].client().clone();
    let client_b = on_b[0].client().clone();

    // Half the workflows started through each replica, all at once.
    let mut starts = tokio::task::JoinSet::new();
    for n in 0..WORKFLOWS {
        let client = if n % 2 == 0 { client_a.clone() } else { client_b.clone() };
        starts.spawn(async move { (n, client.start_workflow("chain", &n).await.unwrap()) });
    }
    let ids = starts.join_all().await;

    // Replica A dies when about a third of the workflows are done: its
    // leases run out and B hands that work out again.
    let completed = |runs: &Runs| {
        let runs = runs.lock().unwrap();
        runs.keys().filter(|(_, step)| *step == "workflow-completed").count() as u64
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while completed(&runs) < WORKFLOWS / 3 {
        assert!(Instant::now() < deadline, "no progress before the kill");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let completed_at_kill = completed(&runs);

    for (n, id) in ids {
        let out: u64 = client_b.wait_for_result(id, Duration::from_secs(120)).await.unwrap();
        assert_eq!(out, (n + 1) * 2, "workflow {n} ({id})");
    }
    let runs = runs.lock().unwrap().clone();
    for n in 0..WORKFLOWS {
        for step in ["add-one", "double", "workflow-completed"] {
            assert!(
                runs.get(&(n, step)).copied().unwrap_or(0) >= 1,
                "workflow {n}: {step} never ran"
            );
        }
    }
    // Exactly once, except work that was running on replica A's workers
    // when A died: its results could not be reported, so it ran again
    // after the lease. That is bounded by what A's workers could hold.
    let repeated: Vec<_> = runs.iter().filter(|(_, &c)| c > 1).collect();
    let a_capacity = 2 * 8 * 2; // workers × max_concurrent × (workflow + task worker)
    assert!(
        repeated.len() <= a_capacity,
        "{} steps ran more than once (at most {a_capacity} were in A's hands): {repeated:?}",
        repeated.len()
    );
    assert!(
        runs.values().all(|&c| c <= 2),
        "a step ran more than twice: {repeated:?}"
    );

    // Both schedulers ran all along: every timer fired exactly once.
    let mut db = sqlx::PgConnection::connect(&database).await.unwrap();
    let fired: Vec<(String, i64)> = sqlx::query_as(
        "SELECT execution_id, COUNT(*) FROM workflow_events WHERE event_type = 'TIMER_FIRED' GROUP BY execution_id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(fired.len() as u64, WORKFLOWS, "one fired timer per workflow");
    assert!(fired.iter().all(|(_, n)| *n == 1), "a timer fired twice: {fired:?}");
    eprintln!(
        "{WORKFLOWS} workflows, {} steps, {} repeated after the kill (A killed at {completed_at_kill} completed)",
        runs.len(),
        repeated.len()
    );

    for worker in on_a.into_iter().chain(on_b) {
        worker.abort().await;
    }
    b.child.kill().unwrap();
    b.child.wait().unwrap();
}

/// A poll held by one replica is woken by work committed on another: the
/// commit's `pg_notify` reaches every replica's listener, well before the
/// held poll's own periodic look (2 s).
#[tokio::test]
async fn a_poll_held_on_one_replica_is_woken_by_work_committed_on_another() {
    let a = util::TestServer::start().await;
    let b = util::TestServer::start_beside(&a).await;
    let mut dispatch = b.dispatch();
    let request = reference_server::api::grpc::pb::PollRequest {
        worker_id: "held-on-b".into(),
        org_id: b.org.to_string(),
        queue: "q-replicas".into(),
        timeout_seconds: 30,
        ..Default::default()
    };
    let poll = tokio::spawn(async move { dispatch.poll_workflow(request).await.unwrap().into_inner() });
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.server.as_ref().unwrap().held_polls() == 0 {
        assert!(Instant::now() < deadline, "never held");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let started = Instant::now();
    let id = a.start_workflow("w", "q-replicas", serde_json::json!({})).await;
    let got = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.workflow_execution.expect("woken").id, id);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        b.server.as_ref().unwrap().polls_woken(),
        1,
        "by the notification, not a re-check"
    );
}
