//! The two SDKs behind one interface: real SDK workers and clients of the
//! legacy SDK (`legacy_sdk`, notifications on, its default) or of the
//! reference SDK (`reference_sdk`, polling only). Their APIs are the same
//! text, so one macro body serves both.
//!
//! Every worker registers the [`Probe`] workflow, which records the moment
//! its code runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::server::TOKEN;

/// The builder calls, the same text for both SDKs.
macro_rules! start_worker {
    ($sdk:ident, $spec:expr) => {{
        let spec: WorkerSpec = $spec;
        $sdk::FlovynClient::builder()
            .server_url(spec.url)
            .worker_token(TOKEN)
            .org_id(spec.org)
            .queue(spec.queue)
            .no_work_backoff(spec.backoff)
            .reconnect_backoff(Duration::from_millis(100), Duration::from_secs(1))
            .register_workflow(ProbeWorkflow(spec.probe))
            .start()
            .await
            .context("starting a worker")?
    }};
}

/// Which pair a scenario runs on, and how its server answers polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Before: the legacy server and SDK, with work notifications; polls
    /// answered at once.
    Legacy,
    /// After, as the design planned it: the reference server and SDK,
    /// polls answered at once, the worker's backoff the only wait.
    Reference,
    /// After, with held polls: the reference pair, polls held up to 60 s
    /// and woken by the commit that makes work pollable.
    Held,
}

impl Side {
    /// Every side, in the table's order.
    pub(crate) const ALL: [Side; 3] = [Side::Legacy, Side::Reference, Side::Held];

    /// Position in [`Side::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Side::Legacy => 0,
            Side::Reference => 1,
            Side::Held => 2,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Side::Legacy => "legacy",
            Side::Reference => "reference",
            Side::Held => "reference, held polls",
        }
    }

    /// The column heading and chart legend.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Side::Legacy => "before (legacy: notifications, immediate polls)",
            Side::Reference => "after as planned (immediate polls, backoff)",
            Side::Held => "after, held polls",
        }
    }

    /// The server binary's file name in `target/release`.
    pub(crate) fn server_binary(self) -> &'static str {
        match self {
            Side::Legacy => "legacy-server",
            Side::Reference | Side::Held => "reference-server",
        }
    }

    /// The server's `max_poll_wait_seconds`.
    pub(crate) fn max_poll_wait_seconds(self) -> u64 {
        match self {
            Side::Legacy | Side::Reference => 0,
            Side::Held => 60,
        }
    }

    /// Starts one worker of this side's SDK on `queue`, polling the probe
    /// workflow's kind with `backoff` as its `no_work_backoff`.
    async fn start_worker(self, spec: WorkerSpec) -> anyhow::Result<Worker> {
        Ok(match self {
            Side::Legacy => Worker::Legacy(start_worker!(legacy_sdk, spec)),
            Side::Reference | Side::Held => Worker::Reference(start_worker!(reference_sdk, spec)),
        })
    }

    /// Starts `queues.len()` workers, at most 32 connecting at a time.
    pub(crate) async fn start_workers(
        self,
        url: &str,
        org: Uuid,
        queues: Vec<String>,
        backoff: Duration,
        probe: &Probe,
    ) -> anyhow::Result<Vec<Worker>> {
        let gate = Arc::new(Semaphore::new(32));
        let mut starting = JoinSet::new();
        for queue in queues {
            let spec = WorkerSpec {
                url: url.to_string(),
                org,
                queue,
                backoff,
                probe: probe.clone(),
            };
            let gate = gate.clone();
            starting.spawn(async move {
                let _permit = gate.acquire_owned().await.expect("never closed");
                self.start_worker(spec).await
            });
        }
        let mut workers = Vec::new();
        while let Some(worker) = starting.join_next().await {
            workers.push(worker??);
        }
        Ok(workers)
    }

    /// A client (no worker) of this side's SDK.
    pub(crate) async fn client(self, url: &str, org: Uuid) -> anyhow::Result<Client> {
        Ok(match self {
            Side::Legacy => Client::Legacy(legacy_sdk::FlovynClient::connect(url, TOKEN, Some(org), "default").await?),
            Side::Reference | Side::Held => {
                Client::Reference(reference_sdk::FlovynClient::connect(url, TOKEN, Some(org), "default").await?)
            }
        })
    }
}

/// What one worker is started with.
struct WorkerSpec {
    url: String,
    org: Uuid,
    queue: String,
    backoff: Duration,
    probe: Probe,
}

/// A running worker of either SDK.
pub(crate) enum Worker {
    Legacy(legacy_sdk::WorkerHandle),
    Reference(reference_sdk::WorkerHandle),
}

impl Worker {
    /// Workflow polls sent so far, empty or not.
    pub(crate) fn polls(&self) -> u64 {
        match self {
            Worker::Legacy(h) => h.stats().workflow_polls,
            Worker::Reference(h) => h.stats().workflow_polls,
        }
    }

    async fn stop(self) {
        match self {
            Worker::Legacy(h) => h.stop().await,
            Worker::Reference(h) => h.stop().await,
        }
    }
}

/// Workflow polls sent so far by all of `workers`.
pub(crate) fn polls(workers: &[Worker]) -> u64 {
    workers.iter().map(Worker::polls).sum()
}

/// Stops all workers at once and waits for them.
pub(crate) async fn stop_all(workers: Vec<Worker>) {
    let mut stopping = JoinSet::new();
    for worker in workers {
        stopping.spawn(worker.stop());
    }
    while stopping.join_next().await.is_some() {}
}

/// Waits until every worker has polled at least once and, on the legacy
/// side, until `subscriptions` more notification subscriptions are open
/// than `before` (as counted by [`crate::counting`]).
pub(crate) async fn await_ready(
    side: Side,
    workers: &[Worker],
    before: crate::counting::Heard,
    subscriptions: u64,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let polled = workers.iter().all(|w| w.polls() > 0);
        let subscribed = side != Side::Legacy || (crate::counting::heard() - before).subscriptions >= subscriptions;
        if polled && subscribed {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} workers not ready after 60 s (all polled: {polled}, all subscribed: {subscribed})",
            side.name()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A client of either SDK.
pub(crate) enum Client {
    Legacy(legacy_sdk::FlovynClient),
    Reference(reference_sdk::FlovynClient),
}

impl Client {
    /// Starts a probe workflow on `queue`; `tag` comes back through
    /// [`Probe::wait`].
    pub(crate) async fn start(&self, queue: &str, tag: u64) -> anyhow::Result<()> {
        match self {
            Client::Legacy(c) => c.start_workflow_on(PROBE_KIND, &tag, queue, None).await.map(drop)?,
            Client::Reference(c) => c.start_workflow_on(PROBE_KIND, &tag, queue, None).await.map(drop)?,
        }
        Ok(())
    }
}

const PROBE_KIND: &str = "probe";

/// Where probe workflows report that their code ran: a cheap `Clone`
/// handle shared by all workers of a scenario and the code waiting on them.
#[derive(Clone, Default)]
pub(crate) struct Probe {
    inner: Arc<ProbeInner>,
}

#[derive(Default)]
struct ProbeInner {
    /// Tag → when its code first ran. Entries are removed by `wait`; a
    /// workflow task run again (after a lost lease) keeps its first time.
    ran: Mutex<HashMap<u64, Instant>>,
    /// Woken on every record.
    recorded: Notify,
}

impl Probe {
    fn record(&self, tag: u64) {
        let now = Instant::now();
        self.inner.ran.lock().expect("never poisoned").entry(tag).or_insert(now);
        self.inner.recorded.notify_waiters();
    }

    /// When the code of the workflow tagged `tag` ran; `None` if it has not
    /// within `timeout`.
    pub(crate) async fn wait(&self, tag: u64, timeout: Duration) -> Option<Instant> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let recorded = self.inner.recorded.notified();
            tokio::pin!(recorded);
            // Registered before looking, so a record in between wakes us.
            recorded.as_mut().enable();
            if let Some(at) = self.inner.ran.lock().expect("never poisoned").remove(&tag) {
                return Some(at);
            }
            tokio::time::timeout_at(deadline, recorded).await.ok()?;
        }
    }
}

/// The workflow every bench worker runs: records when its code runs and
/// returns its input.
struct ProbeWorkflow(Probe);

/// The workflow definition, the same text for both SDKs' traits.
macro_rules! probe_workflow {
    ($sdk:ident) => {
        #[$sdk::async_trait]
        impl $sdk::WorkflowDefinition for ProbeWorkflow {
            type Input = u64;
            type Output = u64;

            fn kind(&self) -> &str {
                PROBE_KIND
            }

            async fn execute(&self, _ctx: $sdk::WorkflowContext, tag: u64) -> $sdk::Result<u64> {
                self.0.record(tag);
                Ok(tag)
            }
        }
    };
}

probe_workflow!(legacy_sdk);
probe_workflow!(reference_sdk);
