//! [`FakeServer`]: an in-memory dispatch server for tests and demos.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, Notify};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::Status;

use crate::api::*;

/// What a worker reported for a workflow execution or a task: its output or its error.
pub type Outcome = Result<Vec<u8>, String>;

struct Subscriber {
    queues: Vec<String>,
    events: mpsc::UnboundedSender<Result<WorkAvailableEvent, Status>>,
}

impl Subscriber {
    fn wants(&self, queue: &str) -> bool {
        self.queues.iter().any(|subscribed| subscribed == queue)
    }

    fn is_open(&self) -> bool {
        !self.events.is_closed()
    }
}

/// Queues work in memory and hands it to whoever polls for it, like the real server.
#[derive(Default)]
pub struct FakeServer {
    state: Mutex<State>,
    results_changed: Notify,
}

#[derive(Default)]
struct State {
    last_id: u64,
    workflows: HashMap<String, VecDeque<WorkflowActivation>>,
    tasks: HashMap<String, VecDeque<TaskAssignment>>,
    results: HashMap<u64, Outcome>,
    polls: u64,
    subscribers: Vec<Subscriber>,
}

impl FakeServer {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Queues a workflow execution on `queue` and returns its id.
    pub fn start_workflow(&self, queue: &str, workflow_type: &str, input: &[u8]) -> u64 {
        let mut state = self.lock();
        let execution_id = state.next_id();
        let activation = WorkflowActivation {
            execution_id,
            workflow_type: workflow_type.to_string(),
            input: input.to_vec(),
        };
        state
            .workflows
            .entry(queue.to_string())
            .or_default()
            .push_back(activation);
        state.publish(queue, WorkKind::Workflow);
        execution_id
    }

    /// Queues a task on `queue` and returns its id.
    pub fn schedule_task(&self, queue: &str, kind: &str, payload: &[u8]) -> u64 {
        let mut state = self.lock();
        let task_id = state.next_id();
        let task = TaskAssignment {
            task_id,
            kind: kind.to_string(),
            payload: payload.to_vec(),
            attempt: 1,
        };
        state.tasks.entry(queue.into()).or_default().push_back(task);
        state.publish(queue, WorkKind::Task);
        task_id
    }

    /// The result a worker reported for `id`, if any.
    pub fn result(&self, id: u64) -> Option<Outcome> {
        self.lock().results.get(&id).cloned()
    }

    /// Waits at most `timeout` for a worker to report `id`.
    pub async fn wait_for_result(&self, id: u64, timeout: Duration) -> Option<Outcome> {
        let wait = async {
            loop {
                // Registered before the check, so a report in between is not missed.
                let changed = self.results_changed.notified();
                if let Some(result) = self.result(id) {
                    return result;
                }
                changed.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.ok()
    }

    /// How many polls the server answered, on any queue.
    pub fn polls(&self) -> u64 {
        self.lock().polls
    }

    /// How many subscription streams are open.
    pub fn subscribers(&self) -> usize {
        let mut state = self.lock();
        state.subscribers.retain(Subscriber::is_open);
        state.subscribers.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("fake server state poisoned")
    }

    fn report(&self, req: CompletionRequest) {
        self.lock().results.insert(req.id, req.result);
        self.results_changed.notify_waiters();
    }
}

impl State {
    fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    fn publish(&mut self, queue: &str, kind: WorkKind) {
        self.subscribers.retain(|subscriber| {
            if !subscriber.wants(queue) {
                return subscriber.is_open();
            }
            let event = WorkAvailableEvent {
                queue: queue.to_string(),
                kind,
            };
            subscriber.events.send(Ok(event)).is_ok()
        });
    }
}

#[async_trait]
impl DispatchApi for FakeServer {
    async fn poll_workflow(&self, req: PollRequest) -> RpcResult<Option<WorkflowActivation>> {
        let mut state = self.lock();
        state.polls += 1;
        let queue = state.workflows.get_mut(&req.queue);
        Ok(queue.and_then(VecDeque::pop_front))
    }

    async fn complete_workflow(&self, req: CompletionRequest) -> RpcResult<()> {
        self.report(req);
        Ok(())
    }

    async fn poll_task(&self, req: PollRequest) -> RpcResult<Option<TaskAssignment>> {
        let mut state = self.lock();
        state.polls += 1;
        let queue = state.tasks.get_mut(&req.queue);
        Ok(queue.and_then(VecDeque::pop_front))
    }

    async fn complete_task(&self, req: CompletionRequest) -> RpcResult<()> {
        self.report(req);
        Ok(())
    }

    async fn subscribe_to_notifications(&self, req: SubscriptionRequest) -> RpcResult<EventStream> {
        if req.queues.is_empty() {
            return Err(Status::invalid_argument("subscribe to at least one queue"));
        }
        let (events, stream) = mpsc::unbounded_channel();
        let subscriber = Subscriber {
            queues: req.queues,
            events,
        };
        self.lock().subscribers.push(subscriber);
        Ok(Box::pin(UnboundedReceiverStream::new(stream)))
    }
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;

    fn subscription(queues: &[&str]) -> SubscriptionRequest {
        SubscriptionRequest {
            worker_id: "test".to_string(),
            queues: queues.iter().map(|queue| queue.to_string()).collect(),
        }
    }

    #[tokio::test]
    async fn subscribers_only_hear_about_their_queues() {
        let server = FakeServer::new();
        let mut billing = server
            .subscribe_to_notifications(subscription(&["billing"]))
            .await
            .unwrap();
        server.schedule_task("shipping", "print-label", b"");
        server.start_workflow("billing", "invoice", b"");
        let event = billing.next().await.unwrap().unwrap();
        assert_eq!(event.queue, "billing");
        assert_eq!(event.kind, WorkKind::Workflow);
        drop(billing);
        assert_eq!(server.subscribers(), 0);
    }

    #[tokio::test]
    async fn a_subscription_needs_a_queue() {
        let server = FakeServer::new();
        let status = match server.subscribe_to_notifications(subscription(&[])).await {
            Ok(_) => panic!("subscribed to nothing"),
            Err(status) => status,
        };
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
    }

    #[tokio::test]
    async fn each_poll_hands_out_one_task() {
        let server = FakeServer::new();
        let id = server.schedule_task("default", "echo", b"1");
        let poll = PollRequest {
            worker_id: "test".to_string(),
            queue: "default".to_string(),
        };
        let task = server.poll_task(poll.clone()).await.unwrap().unwrap();
        assert_eq!(task.task_id, id);
        assert_eq!(server.poll_task(poll).await.unwrap(), None);
        assert_eq!(server.polls(), 2);
    }
}
