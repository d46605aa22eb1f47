//! The reference server's `subscribe_to_notifications` handler is exactly
//! what `--rpc stub` writes: a notifier-forwarding version of the same
//! handler, run through the codemod, must give the reference text byte for
//! byte.

use std::path::Path;

use codemod::transform::Transformed;
use codemod::RpcMode;

/// The reference handler, from `async fn subscribe_to_notifications` to
/// the closing brace of its body.
fn handler(source: &str) -> &str {
    let start = source
        .find("    async fn subscribe_to_notifications(")
        .expect("handler present");
    let end = start + source[start..].find("\n    }\n").expect("handler end") + "\n    }\n".len();
    &source[start..end]
}

#[test]
fn reference_stub_is_what_the_codemod_writes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reference-server/src/api/grpc/workflow_dispatch.rs");
    let reference = std::fs::read_to_string(path).unwrap();
    let expected = handler(&reference);

    // The same handler before the migration: it forwarded the notifier's
    // broadcast to the subscriber.
    let legacy_handler = r#"    async fn subscribe_to_notifications(
        &self,
        request: Request<pb::SubscriptionRequest>,
    ) -> Result<Response<Self::SubscribeToNotificationsStream>, Status> {
        let req = request.into_inner();
        let mut events = self.state.notifier.subscribe();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            while let Ok(n) = events.recv().await {
                if n.queue == req.queue {
                    let _ = tx.send(Ok(pb::WorkAvailableEvent { org_id: n.org_id.to_string(), queue: n.queue, timestamp_ms: 0 })).await;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
"#;
    let legacy = format!(
        "struct GrpcState {{ notifier: Arc<WorkerNotifier> }}\nstruct WorkflowDispatchService {{ state: GrpcState }}\n\n#[tonic::async_trait]\nimpl WorkflowDispatch for WorkflowDispatchService {{\n    type SubscribeToNotificationsStream = ReceiverStream<Result<pb::WorkAvailableEvent, Status>>;\n\n{legacy_handler}}}\n"
    );
    let Transformed::Done { output, .. } = codemod::transform_source(&legacy, RpcMode::Stub) else {
        panic!("codemod failed on the legacy handler");
    };
    assert_eq!(handler(&output), expected);
}
