//! The rule ids: the "rule" column of reports. A leaf module, so that the
//! edit engine and the report can name a rule without depending on the
//! rules themselves.

use serde::Serialize;

use crate::spec;

/// The shapes of code the codemod removes; the "rule" column of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    /// `WorkerNotifier` / `WorkNotification` types and their impls.
    NotifierType,
    /// Struct fields of a removed type or name, their initialisers and reads.
    RemovedField,
    /// Function parameters of a removed type and the arguments passed for them.
    RemovedParam,
    /// Functions that only produce a removed value (`fn notifier(&self) ->
    /// &WorkerNotifier`) or only store one (`with_notifier`), and their calls.
    RemovedFn,
    /// `notify_work_available` calls and the log lines reporting them.
    NotifyCall,
    /// Code that only served removed code: lets, empty ifs and loops.
    DeadCode,
    /// `enable_notifications` guards and assertions.
    ConfigFlag,
    /// `notification_subscription_loop` and the task spawning it.
    SubscriptionLoop,
    /// `tokio::select!` branches waiting on the work notification.
    SelectBranch,
    /// The `subscribe_to_notifications` handler replaced by a stub.
    RpcStub,
    /// The `subscribe_to_notifications` RPC removed (`--rpc remove`).
    RpcRemove,
    /// `use` items that nothing refers to any more.
    UnusedImport,
    /// What the compiler said after the syntactic edits: rustc's own
    /// suggestions, and items it reports unused.
    Compiler,
    /// Proto definitions of the notification RPC.
    Proto,
}

impl RuleId {
    pub fn name(self) -> &'static str {
        match self {
            RuleId::NotifierType => "notifier-type",
            RuleId::RemovedField => "removed-field",
            RuleId::RemovedParam => "removed-param",
            RuleId::RemovedFn => "removed-fn",
            RuleId::NotifyCall => "notify-call",
            RuleId::DeadCode => "dead-code",
            RuleId::ConfigFlag => "config-flag",
            RuleId::SubscriptionLoop => "subscription-loop",
            RuleId::SelectBranch => "select-branch",
            RuleId::RpcStub => "rpc-stub",
            RuleId::RpcRemove => "rpc-remove",
            RuleId::UnusedImport => "unused-import",
            RuleId::Compiler => "compiler",
            RuleId::Proto => "proto",
        }
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl RuleId {
    /// The rule of a removed struct field, literal field or `Debug` entry
    /// named `name`: the config flag has its own.
    pub fn of_field(name: &str) -> RuleId {
        if name == spec::CONFIG_FLAG {
            RuleId::ConfigFlag
        } else {
            RuleId::RemovedField
        }
    }
}
