//! The seeds of the migration: the names whose removal everything else is
//! derived from. Rules never hard-code these strings; they ask this module.

/// Types removed with their `impl` blocks, and whose mention in a field or
/// parameter type removes that field or parameter.
pub const REMOVED_TYPES: &[&str] = &["WorkerNotifier", "WorkNotification"];

/// The call that tells workers about work.
pub const NOTIFY_METHOD: &str = "notify_work_available";

/// SDK config key: removed everywhere; reading it yields `false`.
pub const CONFIG_FLAG: &str = "enable_notifications";

/// SDK field holding the `Arc<Notify>` woken by the subscription.
pub const NOTIFY_HANDLE: &str = "work_available_notify";

/// Field names removed from any struct, whatever their type.
pub const REMOVED_FIELD_NAMES: &[&str] = &[CONFIG_FLAG, NOTIFY_HANDLE];

/// The SDK method that subscribes and wakes the poll loop.
pub const SUBSCRIPTION_LOOP: &str = "notification_subscription_loop";

/// The streaming RPC, as a Rust method (server handler and SDK client).
pub const RPC_METHOD: &str = "subscribe_to_notifications";

/// The tonic associated stream type of the RPC handler.
pub const RPC_STREAM_TYPE: &str = "SubscribeToNotificationsStream";

/// Proto definitions removed with `--rpc remove`.
pub const PROTO_RPC: &str = "SubscribeToNotifications";
pub const PROTO_MESSAGES: &[&str] = &["SubscriptionRequest", "WorkAvailableEvent"];

/// Names that, in Kotlin sources, point at notification code to review.
pub const KOTLIN_MARKERS: &[&str] = &[
    "SubscribeToNotifications",
    "subscribeToNotifications",
    "enableNotifications",
    "WorkAvailableEvent",
    "notifyWorkAvailable",
];

/// Literal markers of the prefilter: a Rust file containing none of these is
/// not parsed (before the symbol table adds derived names). They are also
/// the names whose remaining mentions (comments, strings, docs) the report
/// lists as left alone.
pub const TRIGGERS: &[&str] = &[
    "WorkerNotifier",
    "WorkNotification",
    NOTIFY_METHOD,
    CONFIG_FLAG,
    NOTIFY_HANDLE,
    SUBSCRIPTION_LOOP,
    RPC_METHOD,
    PROTO_RPC,
];

/// Methods that only read or copy a value: an expression made of these has
/// no side effect worth keeping.
pub const PURE_METHODS: &[&str] = &[
    "clone",
    "to_string",
    "to_owned",
    "as_str",
    "as_ref",
    "as_deref",
    "borrow",
    "into",
    "len",
    "is_empty",
    "is_some",
    "is_none",
    "is_ok",
    "is_err",
    "unwrap_or_default",
    "as_bytes",
    "iter",
    "get",
    "cloned",
    "copied",
    "unwrap_or",
    "map_or",
    // Reading through a lock or an `Option`/`Result`: no effect worth
    // keeping once the value read is not needed.
    "lock",
    "read",
    "unwrap",
    "expect",
    // Iterator and Option adapters: pure when their closures are.
    "into_iter",
    "keys",
    "values",
    "map",
    "filter",
    "filter_map",
    "flat_map",
    "flatten",
    "enumerate",
    "rev",
    "take",
    "skip",
    "zip",
    "chain",
    "collect",
    "count",
    "any",
    "all",
];

/// Macros whose arguments are a comma-separated list of expressions, any
/// of which may go on its own (`tokio::join!(a, async { notify })`).
pub const LIST_MACROS: &[&str] = &["join", "try_join", "vec"];

/// Calls that wrap or share one value without side effects.
pub const WRAPPER_CALLS: &[&str] = &["new", "clone", "Some", "from"];

/// Log macros whose line beside a removed call may go with it.
pub const LOG_MACROS: &[&str] = &["trace", "debug", "info", "warn", "error", "log", "event"];

/// Macros that only assert or print: a statement made of one of these that
/// reads a removed field goes with it.
pub const ASSERT_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "println",
    "eprintln",
    "dbg",
];

/// Well-known extension traits and their methods. Such a trait is imported
/// but never named: its import goes when the removed code called its
/// methods and the remaining code calls none of them.
pub const EXTENSION_TRAITS: &[(&str, &[&str])] = &[
    (
        "StreamExt",
        &[
            "next",
            "map",
            "filter",
            "filter_map",
            "then",
            "for_each",
            "collect",
            "take",
            "take_while",
            "skip",
            "skip_while",
            "fuse",
            "chain",
            "merge",
            "timeout",
            "throttle",
            "boxed",
            "peekable",
            "any",
            "all",
            "fold",
            "zip",
            "flat_map",
            "flatten",
            "map_while",
            "chunks",
            "ready_chunks",
            "try_next",
            "timeout_repeating",
            "buffer_unordered",
            "buffered",
            "inspect",
            "enumerate",
            "select_next_some",
            "scan",
            "count",
        ],
    ),
    (
        "TryStreamExt",
        &[
            "try_next",
            "try_collect",
            "map_ok",
            "map_err",
            "and_then",
            "or_else",
            "try_filter",
            "try_for_each",
            "into_stream",
            "try_flatten",
            "try_buffer_unordered",
            "err_into",
            "ok_into",
            "try_filter_map",
        ],
    ),
    (
        "FutureExt",
        &[
            "boxed",
            "map",
            "then",
            "fuse",
            "now_or_never",
            "catch_unwind",
            "shared",
            "left_future",
            "right_future",
            "inspect",
            "poll_unpin",
            "remote_handle",
            "unit_error",
            "never_error",
        ],
    ),
    (
        "SinkExt",
        &[
            "send",
            "send_all",
            "feed",
            "flush",
            "close",
            "with",
            "fanout",
            "sink_map_err",
            "buffer",
        ],
    ),
];

/// Is `name` one of the removed types?
pub fn is_removed_type(name: &str) -> bool {
    REMOVED_TYPES.contains(&name)
}

/// Does a log message only report the notification?
pub fn is_notification_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("notif") || lower.contains("work available") || lower.contains("work_available")
}

/// Does a comment describe the removed push behaviour: waking, notifying or
/// subscribing workers ("wakes idle workers", "notify the subscribed
/// workers")? What a comment on changed code says is removed on this
/// evidence; "notify the admin by email" and "a wake-up event" do not count.
pub fn describes_removed_behaviour(text: &str) -> bool {
    mentions_push(text) && contains_any(text, &["worker", "subscriber", "idle"])
}

/// The looser test for listing a comment as possibly stale: the push verbs
/// said of workers, queues, jobs or polling.
pub fn may_describe_removed_behaviour(text: &str) -> bool {
    mentions_push(text) && contains_any(text, &["worker", "subscriber", "idle", "queue", "job", "poll"])
}

/// Any mention of waking or notifying ("instant wake-up", "wait for
/// notification"): enough on code whose notification branch was removed.
pub fn mentions_wake_or_notify(text: &str) -> bool {
    mentions_push(text) || contains_any(text, &["wake-up", "wakeup", "wake up"])
}

fn mentions_push(text: &str) -> bool {
    contains_any(
        text,
        &[
            "notif",
            "wakes",
            "wake ",
            "wake them",
            "waking",
            "woke",
            "woken",
            "subscrib",
            "subscription",
            "push notification",
        ],
    )
}

fn contains_any(text: &str, words: &[&str]) -> bool {
    let lower = text.to_ascii_lowercase();
    words.iter().any(|w| lower.contains(w))
}

/// The first line a `// This file is @generated` header would sit on.
pub fn is_generated(source: &str) -> bool {
    source
        .lines()
        .take(5)
        .any(|line| line.trim_start().starts_with("//") && line.contains("@generated"))
}
