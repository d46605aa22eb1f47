//! Who may call what: one table for every gRPC method and REST route,
//! checked in one place per transport (the gRPC guard layer and the REST
//! middleware). A method or route missing from the table is refused, so a
//! new endpoint is closed until it is listed.
//!
//! Principals are `Worker` keys (the SDK's one token: the fact sheet's
//! "one token for everything" means a worker may call every gRPC method)
//! and `User` keys with a role. REST is the users' API: worker keys are
//! refused there.

use serde::{Deserialize, Serialize};

/// What kind of principal a key stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum PrincipalKind {
    #[serde(alias = "worker", alias = "WORKER")]
    Worker,
    #[serde(alias = "user", alias = "USER")]
    User,
}

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    /// Everything users may do, deleting schedules included.
    #[serde(alias = "admin", alias = "Admin")]
    Admin,
    /// Starts and feeds work (workflows, tasks, promises, schedules), reads.
    #[serde(alias = "member", alias = "Member")]
    Member,
    /// Reads only.
    #[serde(alias = "viewer", alias = "Viewer")]
    Viewer,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Admin => "ADMIN",
            Role::Member => "MEMBER",
            Role::Viewer => "VIEWER",
        })
    }
}

/// A set of principals, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed(u8);

pub const WORKER: Allowed = Allowed(1);
pub const ADMIN: Allowed = Allowed(2);
pub const MEMBER: Allowed = Allowed(4);
pub const VIEWER: Allowed = Allowed(8);

impl Allowed {
    const fn or(self, other: Allowed) -> Allowed {
        Allowed(self.0 | other.0)
    }

    pub fn contains(self, bit: Allowed) -> bool {
        self.0 & bit.0 != 0
    }
}

/// Work a worker does on what it polled.
const WORK: Allowed = WORKER;
/// Starting and feeding work.
const WRITE: Allowed = WORKER.or(ADMIN).or(MEMBER);
/// Reading state.
const READ: Allowed = WRITE.or(VIEWER);
/// Users' writes over REST.
const USER_WRITE: Allowed = ADMIN.or(MEMBER);
/// Users' reads over REST.
const USER_READ: Allowed = USER_WRITE.or(VIEWER);

/// Every gRPC method (`service/method`, package `flovyn.v1`).
pub const GRPC: &[(&str, Allowed)] = &[
    ("WorkflowDispatch/PollWorkflow", WORK),
    ("WorkflowDispatch/SubscribeToNotifications", WORK),
    ("WorkflowDispatch/SubmitWorkflowCommands", WORK),
    ("WorkflowDispatch/ReportExecutionSpans", WORK),
    ("WorkflowDispatch/StartChildWorkflow", WORK),
    ("WorkflowDispatch/StartWorkflow", WRITE),
    ("WorkflowDispatch/ResolvePromise", WRITE),
    ("WorkflowDispatch/RejectPromise", WRITE),
    ("WorkflowDispatch/GetEvents", READ),
    ("WorkflowDispatch/GetVisualWorkflowDefinitionById", READ),
    ("WorkflowQuery/QueryWorkflow", READ),
    ("TaskExecution/SubmitTask", WRITE),
    ("TaskExecution/CancelTask", WRITE),
    ("TaskExecution/PollTask", WORK),
    ("TaskExecution/CompleteTask", WORK),
    ("TaskExecution/FailTask", WORK),
    ("TaskExecution/ReportProgress", WORK),
    ("TaskExecution/Heartbeat", WORK),
    ("TaskExecution/LogMessage", WORK),
    ("TaskExecution/StreamTaskData", WORK),
    ("TaskExecution/SetState", WRITE),
    ("TaskExecution/ClearState", WRITE),
    ("TaskExecution/ClearAllState", WRITE),
    ("TaskExecution/GetState", READ),
    ("TaskExecution/GetStateKeys", READ),
    ("WorkerLifecycle/RegisterWorker", WORK),
    ("WorkerLifecycle/SendHeartbeat", WORK),
];

/// Every authenticated REST route (`METHOD path` as the router writes it).
/// `GET /_/health` is public and not listed.
pub const REST: &[(&str, Allowed)] = &[
    ("POST /api/workflows/{kind}", USER_WRITE),
    ("GET /api/orgs/{org}/workflow-executions/{id}", USER_READ),
    ("GET /api/orgs/{org}/workflow-executions/{id}/events", USER_READ),
    ("POST /api/tasks/{kind}", USER_WRITE),
    ("POST /api/promises/{id}/resolve", USER_WRITE),
    ("POST /api/promises/{id}/reject", USER_WRITE),
    ("POST /api/schedules", USER_WRITE),
    ("GET /api/schedules", USER_READ),
    ("DELETE /api/schedules/{id}", ADMIN),
    ("POST /api/schedules/{id}/pause", USER_WRITE),
    ("POST /api/schedules/{id}/resume", USER_WRITE),
];

/// The bit of one principal.
fn bit(kind: PrincipalKind, role: Option<Role>) -> Option<Allowed> {
    match (kind, role) {
        (PrincipalKind::Worker, _) => Some(WORKER),
        (PrincipalKind::User, Some(Role::Admin)) => Some(ADMIN),
        (PrincipalKind::User, Some(Role::Member)) => Some(MEMBER),
        (PrincipalKind::User, Some(Role::Viewer)) => Some(VIEWER),
        (PrincipalKind::User, None) => None,
    }
}

/// Why a call is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("{0} is not a known endpoint")]
    Unlisted(String),
    #[error("{endpoint} is not allowed for {who}")]
    NotAllowed { endpoint: String, who: String },
}

/// May this principal call `endpoint` (a key of `table`)?
pub fn check(table: &[(&str, Allowed)], endpoint: &str, kind: PrincipalKind, role: Option<Role>) -> Result<(), Denied> {
    let allowed = table
        .iter()
        .find(|(name, _)| *name == endpoint)
        .map(|(_, allowed)| *allowed)
        .ok_or_else(|| Denied::Unlisted(endpoint.to_string()))?;
    if bit(kind, role).is_some_and(|b| allowed.contains(b)) {
        return Ok(());
    }
    let who = match (kind, role) {
        (PrincipalKind::Worker, _) => "worker keys".to_string(),
        (PrincipalKind::User, Some(role)) => format!("users with role {role}"),
        (PrincipalKind::User, None) => "users without a role".to_string(),
    };
    Err(Denied::NotAllowed {
        endpoint: endpoint.to_string(),
        who,
    })
}

/// The table's key of a gRPC request path (`/flovyn.v1.Service/Method`).
pub fn grpc_endpoint(path: &str) -> &str {
    path.strip_prefix("/flovyn.v1.").unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_call_every_grpc_method_and_no_rest_route() {
        for (name, _) in GRPC {
            assert_eq!(check(GRPC, name, PrincipalKind::Worker, None), Ok(()), "{name}");
        }
        for (name, _) in REST {
            assert!(check(REST, name, PrincipalKind::Worker, None).is_err(), "{name}");
        }
    }

    #[test]
    fn viewers_only_read_and_only_admins_delete() {
        let viewer = |name| check(REST, name, PrincipalKind::User, Some(Role::Viewer));
        assert_eq!(viewer("GET /api/schedules"), Ok(()));
        assert!(viewer("POST /api/schedules").is_err());
        let member = |name| check(REST, name, PrincipalKind::User, Some(Role::Member));
        assert!(member("DELETE /api/schedules/{id}").is_err());
        assert_eq!(
            check(
                REST,
                "DELETE /api/schedules/{id}",
                PrincipalKind::User,
                Some(Role::Admin)
            ),
            Ok(())
        );
    }

    /// Every `rpc` of the proto, under its service, has a row (and no row
    /// names a method the proto lacks).
    #[test]
    fn the_grpc_table_lists_every_method_of_the_proto() {
        let proto = include_str!(env!("FLOVYN_PROTO_FILE"));
        let mut service = "";
        let mut methods = Vec::new();
        for line in proto.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("service ") {
                service = rest.trim_end_matches('{').trim();
            } else if let Some(rest) = line.strip_prefix("rpc ") {
                let name = rest.split('(').next().unwrap_or_default().trim();
                methods.push(format!("{service}/{name}"));
            }
        }
        let mut listed: Vec<String> = GRPC.iter().map(|(name, _)| name.to_string()).collect();
        methods.sort();
        listed.sort();
        assert_eq!(methods, listed);
    }

    #[test]
    fn unlisted_endpoints_are_refused() {
        assert_eq!(
            check(GRPC, "WorkflowDispatch/Nope", PrincipalKind::Worker, None),
            Err(Denied::Unlisted("WorkflowDispatch/Nope".into()))
        );
    }
}
