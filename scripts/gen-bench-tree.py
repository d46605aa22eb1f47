#!/usr/bin/env python3
"""Generates a tree of realistic Rust sources for benchmarking the codemod.

    python3 scripts/gen-bench-tree.py DIR [--files N] [--notifier-percent P] [--seed S]

Writes N `.rs` files (50 to 300 lines each: structs, enums, traits, impls,
free and async functions, `match`, iterator chains, `#[cfg(test)]` modules)
under DIR/crates/<crate>/src/, about 100 per crate, each crate with a
Cargo.toml. Every file is a pure function of (seed, file index), so two
trees made with the same seed differ only in the notifier files.

P percent of the files (rounded, at least one when P > 0) carry Flovyn-style
WorkerNotifier code: one `notifier/mod.rs` defining `WorkerNotifier` and
`WorkNotification`; server files with a `GrpcState { storage, notifier }`
and handlers calling `self.notifier.notify_work_available(org_id, &queue)`;
handler modules with `if is_new { state.notifier.notify_work_available(..) }`;
and SDK files whose config struct has `enable_notifications: bool` with a
`Default`. All other files mention none of the codemod's seed names.

The output is valid Rust syntax (not type-checked: names from other modules
are not all defined).
"""

import argparse
import os
import random
import sys

MIN_LINES = 50
MAX_LINES = 300
FILES_PER_CRATE = 100

NOUNS = [
    "account", "batch", "bucket", "cache", "channel", "checkpoint", "client", "cluster",
    "config", "cursor", "deadline", "event", "execution", "filter", "frame", "handle",
    "history", "index", "job", "journal", "lease", "ledger", "limit", "lock", "member",
    "message", "metric", "node", "offset", "partition", "payload", "peer", "policy",
    "pool", "queue", "record", "region", "replica", "request", "retry", "route",
    "schedule", "schema", "segment", "session", "shard", "signal", "snapshot", "span",
    "stage", "state", "stream", "task", "tenant", "timer", "token", "topic", "trace",
    "window", "workflow",
]
VERBS = [
    "apply", "build", "check", "claim", "collect", "compact", "compute", "decode",
    "drain", "encode", "evict", "expire", "fetch", "flush", "load", "lookup", "merge",
    "normalize", "parse", "prepare", "prune", "record", "refresh", "release", "render",
    "replay", "resolve", "restore", "rotate", "sample", "scan", "schedule", "split",
    "store", "summarize", "sync", "track", "update", "validate",
]
ADJS = [
    "active", "pending", "stale", "cached", "remote", "local", "primary", "shared",
    "durable", "partial", "expired", "retained", "current", "next", "last",
]
KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
    "true", "type", "unsafe", "use", "where", "while", "yield", "box", "try", "abstract",
    "become", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual",
    "gen",
}

# (type, an expression of that type, "numeric" | "text" | "other")
TYPES = [
    ("u32", "0", "num"),
    ("u64", "0", "num"),
    ("usize", "0", "num"),
    ("i64", "0", "num"),
    ("bool", "false", "bool"),
    ("String", "String::new()", "text"),
    ("Vec<String>", "Vec::new()", "vec"),
    ("Option<u64>", "None", "opt"),
    ("HashMap<String, u64>", "HashMap::new()", "map"),
    ("Duration", "Duration::from_millis(250)", "dur"),
]

USES = [
    "use std::collections::HashMap;",
    "use std::fmt;",
    "use std::sync::Arc;",
    "use std::time::Duration;",
]
EXTRA_USES = [
    "use std::collections::BTreeMap;",
    "use std::sync::atomic::{AtomicU64, Ordering};",
    "use serde::{Deserialize, Serialize};",
    "use tracing::{debug, info, warn};",
    "use tokio::sync::{mpsc, Mutex, Notify};",
    "use uuid::Uuid;",
    "use anyhow::{Context, Result};",
    "use thiserror::Error;",
]


def snake(*parts):
    name = "_".join(parts)
    return name + "_" if name in KEYWORDS else name


def camel(*parts):
    return "".join(p[:1].upper() + p[1:] for p in parts)


class Gen:
    """Rust items from one random stream."""

    def __init__(self, rng):
        self.r = rng
        self.used_types = set()
        self.used_fns = set()

    def noun(self):
        return self.r.choice(NOUNS)

    def fresh_type(self, suffix=""):
        for _ in range(100):
            name = camel(self.r.choice(ADJS), self.noun()) + suffix
            if name not in self.used_types:
                self.used_types.add(name)
                return name
        name = "Item%d%s" % (len(self.used_types), suffix)
        self.used_types.add(name)
        return name

    def fresh_fn(self):
        for _ in range(100):
            name = snake(self.r.choice(VERBS), self.noun())
            if name not in self.used_fns:
                self.used_fns.add(name)
                return name
        name = "step_%d" % len(self.used_fns)
        self.used_fns.add(name)
        return name

    def fields(self, count):
        names, out = set(), []
        while len(out) < count:
            name = snake(self.noun(), self.r.choice(["id", "count", "name", "limit", "ttl", "keys", "ms", "seen"]))
            if name in names:
                name = snake(self.r.choice(ADJS), name)
            if name in names:
                continue
            names.add(name)
            out.append((name,) + self.r.choice(TYPES))
        return out

    def doc(self, text, indent=""):
        if self.r.random() < 0.7:
            return ["%s/// %s" % (indent, text)]
        return []

    # -- items ---------------------------------------------------------

    def struct_with_impl(self):
        name = self.fresh_type()
        fields = self.fields(self.r.randint(2, 7))
        derives = self.r.choice(["Debug, Clone", "Debug, Clone, PartialEq", "Debug, Default", "Clone"])
        lines = self.doc("A %s tracked by the %s stage." % (name, self.noun()))
        lines.append("#[derive(%s)]" % derives)
        lines.append("pub struct %s {" % name)
        for fname, ty, _, _ in fields:
            lines += self.doc("The %s." % fname.replace("_", " "), "    ")
            lines.append("    pub %s: %s," % (fname, ty))
        lines += ["}", "", "impl %s {" % name]
        lines.append("    pub fn new() -> Self {")
        lines.append("        Self {")
        for fname, _, default, _ in fields:
            lines.append("            %s: %s," % (fname, default))
        lines += ["        }", "    }"]
        for _ in range(self.r.randint(1, 3)):
            lines.append("")
            lines += self.method(fields)
        lines.append("}")
        return lines

    def method(self, fields):
        fname, ty, _, kind = self.r.choice(fields)
        m = self.fresh_fn()
        if kind == "num":
            return [
                "    pub fn %s(&mut self, delta: %s) -> %s {" % (m, ty, ty),
                "        self.%s = self.%s.saturating_add(delta);" % (fname, fname),
                "        if self.%s > 1_000 {" % fname,
                "            self.%s = 1_000;" % fname,
                "        }",
                "        self.%s" % fname,
                "    }",
            ]
        if kind == "text":
            return [
                "    pub fn %s(&self, prefix: &str) -> String {" % m,
                "        if self.%s.is_empty() {" % fname,
                '            return format!("{prefix}-none");',
                "        }",
                '        format!("{}-{}", prefix, self.%s.trim())' % fname,
                "    }",
            ]
        if kind == "vec":
            return [
                "    pub fn %s(&self, needle: &str) -> Vec<&str> {" % m,
                "        self.%s" % fname,
                "            .iter()",
                "            .map(String::as_str)",
                "            .filter(|item| item.contains(needle))",
                "            .collect()",
                "    }",
            ]
        if kind == "opt":
            return [
                "    pub fn %s(&self) -> u64 {" % m,
                "        match self.%s {" % fname,
                "            Some(value) if value > %d => value - 1," % self.r.randint(1, 9),
                "            Some(value) => value,",
                "            None => 0,",
                "        }",
                "    }",
            ]
        if kind == "map":
            return [
                "    pub fn %s(&mut self, key: &str) -> u64 {" % m,
                "        let entry = self.%s.entry(key.to_string()).or_insert(0);" % fname,
                "        *entry += 1;",
                "        *entry",
                "    }",
            ]
        if kind == "dur":
            return [
                "    pub fn %s(&self, attempt: u32) -> Duration {" % m,
                "        let factor = 2u32.saturating_pow(attempt.min(%d));" % self.r.randint(4, 10),
                "        self.%s.saturating_mul(factor)" % fname,
                "    }",
            ]
        return [
            "    pub fn %s(&self) -> bool {" % m,
            "        !self.%s" % fname,
            "    }",
        ]

    def enum_with_match(self):
        name = self.fresh_type("Kind")
        variants = []
        for noun in self.r.sample(NOUNS, self.r.randint(3, 7)):
            variants.append(camel(noun))
        lines = self.doc("What a %s can be." % name)
        lines += ["#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]", "pub enum %s {" % name]
        lines += ["    %s," % v for v in variants]
        lines += ["}", "", "impl %s {" % name]
        lines.append("    pub fn as_str(self) -> &'static str {")
        lines.append("        match self {")
        for v in variants:
            lines.append('            %s::%s => "%s",' % (name, v, v.lower()))
        lines += ["        }", "    }", ""]
        lines.append("    pub fn weight(self) -> u32 {")
        lines.append("        match self {")
        head = variants[: self.r.randint(1, len(variants) - 1)]
        lines.append("            %s => %d," % (" | ".join("%s::%s" % (name, v) for v in head), self.r.randint(1, 50)))
        lines.append("            _ => %d," % self.r.randint(51, 100))
        lines += ["        }", "    }", "}", ""]
        lines.append("impl fmt::Display for %s {" % name)
        lines.append("    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {")
        lines.append('        write!(f, "{}", self.as_str())')
        lines += ["    }", "}"]
        return lines

    def error_enum(self):
        name = self.fresh_type("Error")
        noun = self.noun()
        return [
            "#[derive(Debug)]",
            "pub enum %s {" % name,
            "    NotFound(String),",
            "    Conflict { id: u64, reason: String },",
            "    Timeout(Duration),",
            "}",
            "",
            "impl fmt::Display for %s {" % name,
            "    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {",
            "        match self {",
            '            Self::NotFound(key) => write!(f, "%s {key} not found"),' % noun,
            '            Self::Conflict { id, reason } => write!(f, "conflict on {id}: {reason}"),',
            '            Self::Timeout(after) => write!(f, "timed out after {after:?}"),',
            "        }",
            "    }",
            "}",
            "",
            "impl std::error::Error for %s {}" % name,
        ]

    def free_fn(self):
        name = self.fresh_fn()
        choice = self.r.randrange(6)
        if choice == 0:
            return self.doc("Sums the %s values above a threshold." % self.noun()) + [
                "pub fn %s(values: &[u64], threshold: u64) -> u64 {" % name,
                "    let mut total = 0u64;",
                "    for (index, value) in values.iter().enumerate() {",
                "        if *value < threshold {",
                "            continue;",
                "        }",
                "        total = total.wrapping_add(value * (index as u64 + 1));",
                "    }",
                "    total",
                "}",
            ]
        if choice == 1:
            return [
                "pub fn %s(input: &str) -> Result<Vec<(String, u64)>, String> {" % name,
                "    input",
                "        .lines()",
                "        .map(str::trim)",
                "        .filter(|line| !line.is_empty() && !line.starts_with('#'))",
                "        .map(|line| {",
                "            let (key, value) = line",
                "                .split_once('=')",
                '                .ok_or_else(|| format!("missing `=` in {line:?}"))?;',
                "            let value = value",
                "                .trim()",
                "                .parse::<u64>()",
                '                .map_err(|err| format!("bad value for {key}: {err}"))?;',
                "            Ok((key.trim().to_string(), value))",
                "        })",
                "        .collect()",
                "}",
            ]
        if choice == 2:
            return [
                "pub async fn %s(attempts: u32, base: Duration) -> Result<u32, String> {" % name,
                "    let mut delay = base;",
                "    for attempt in 0..attempts {",
                "        if attempt %% %d == 0 && attempt > 0 {" % self.r.randint(2, 5),
                "            return Ok(attempt);",
                "        }",
                "        tokio::time::sleep(delay).await;",
                "        delay = (delay * 2).min(Duration::from_secs(%d));" % self.r.randint(5, 60),
                "    }",
                '    Err(format!("gave up after {attempts} attempts"))',
                "}",
            ]
        if choice == 3:
            return [
                "pub fn %s<T, F>(items: Vec<T>, mut keep: F) -> (Vec<T>, usize)" % name,
                "where",
                "    T: Clone + fmt::Debug,",
                "    F: FnMut(&T) -> bool,",
                "{",
                "    let mut dropped = 0;",
                "    let mut kept = Vec::with_capacity(items.len());",
                "    let mut iter = items.into_iter().peekable();",
                "    while let Some(item) = iter.next() {",
                "        if keep(&item) {",
                "            kept.push(item);",
                "        } else {",
                "            dropped += 1;",
                "        }",
                "        if iter.peek().is_none() {",
                "            break;",
                "        }",
                "    }",
                "    (kept, dropped)",
                "}",
            ]
        if choice == 4:
            a, b = self.r.sample(NOUNS, 2)
            return self.doc("Classifies a status code for the %s handler." % a) + [
                "pub fn %s(code: u16, retries: u32) -> &'static str {" % name,
                "    match (code, retries) {",
                '        (200..=299, _) => "ok",',
                '        (429, n) if n < %d => "retry",' % self.r.randint(2, 8),
                '        (500..=599, 0) => "retry",',
                '        (400..=499, _) => "%s-rejected",' % b,
                '        _ => "failed",',
                "    }",
                "}",
            ]
        return [
            "pub fn %s(entries: &HashMap<String, u64>, limit: usize) -> Vec<String> {" % name,
            "    let mut sorted: Vec<(&String, &u64)> = entries.iter().collect();",
            "    sorted.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));",
            "    sorted",
            "        .into_iter()",
            "        .take(limit)",
            '        .map(|(key, count)| format!("{key}={count}"))',
            "        .collect()",
            "}",
        ]

    def trait_with_impl(self):
        trait = self.fresh_type("Source")
        target = self.fresh_type()
        m = self.fresh_fn()
        return [
            "pub trait %s: Send + Sync {" % trait,
            "    fn %s(&self, key: &str) -> Option<u64>;" % m,
            "",
            "    fn %s_or(&self, key: &str, fallback: u64) -> u64 {" % m,
            "        self.%s(key).unwrap_or(fallback)" % m,
            "    }",
            "}",
            "",
            "#[derive(Debug, Default)]",
            "pub struct %s {" % target,
            "    entries: HashMap<String, u64>,",
            "}",
            "",
            "impl %s for %s {" % (trait, target),
            "    fn %s(&self, key: &str) -> Option<u64> {" % m,
            "        self.entries.get(key).copied()",
            "    }",
            "}",
        ]

    def consts(self):
        lines = []
        for _ in range(self.r.randint(1, 3)):
            name = snake(self.r.choice(ADJS), self.noun(), "limit").upper()
            lines.append("pub const %s: usize = %d;" % (name, self.r.randint(1, 4096)))
        if self.r.random() < 0.5:
            noun = self.noun()
            name = "%s_LABEL" % noun.upper()
            if name not in self.used_types:
                self.used_types.add(name)
                lines.append('const %s: &str = "%s";' % (name, noun))
        return lines

    def tests_module(self):
        lines = ["#[cfg(test)]", "mod tests {", "    use super::*;"]
        for _ in range(self.r.randint(1, 4)):
            name = self.fresh_fn()
            a, b = self.r.randint(0, 99), self.r.randint(0, 99)
            lines += [
                "",
                "    #[test]",
                "    fn %s_works() {" % name,
                "        let values = vec![%d, %d, %d];" % (a, b, a + b),
                "        let total: u64 = values.iter().sum();",
                "        assert_eq!(total, %d);" % (2 * (a + b)),
                '        assert!(!format!("{values:?}").is_empty());',
                "    }",
            ]
        lines.append("}")
        return lines

    def filler_item(self):
        return self.r.choice(
            [
                self.struct_with_impl,
                self.struct_with_impl,
                self.enum_with_match,
                self.free_fn,
                self.free_fn,
                self.trait_with_impl,
                self.error_enum,
                self.consts,
            ]
        )()


# -- notifier code (Flovyn-style) ----------------------------------------
# Each returns (use lines, item lines).


def notifier_mod(g):
    uses = ["use tokio::sync::broadcast;", "use uuid::Uuid;"]
    return uses, [
        "/// Notification sent to workers when work becomes available.",
        "#[derive(Debug, Clone)]",
        "pub struct WorkNotification {",
        "    pub org_id: Uuid,",
        "    pub queue: String,",
        "}",
        "",
        "/// Broadcasts work-available notifications to every connected worker.",
        "pub struct WorkerNotifier {",
        "    sender: broadcast::Sender<WorkNotification>,",
        "}",
        "",
        "impl WorkerNotifier {",
        "    pub fn new(capacity: usize) -> Self {",
        "        let (sender, _) = broadcast::channel(capacity);",
        "        Self { sender }",
        "    }",
        "",
        "    pub fn subscribe(&self) -> broadcast::Receiver<WorkNotification> {",
        "        self.sender.subscribe()",
        "    }",
        "",
        "    pub fn notify_work_available(&self, org_id: Uuid, queue: &str) {",
        "        let _ = self.sender.send(WorkNotification {",
        "            org_id,",
        "            queue: queue.to_string(),",
        "        });",
        "    }",
        "}",
    ]


def grpc_state(g):
    uses = [
        "use std::sync::Arc;",
        "use uuid::Uuid;",
        "use crate::notifier::WorkerNotifier;",
        "use crate::storage::Storage;",
    ]
    lines = [
        "/// State shared by every gRPC service.",
        "#[derive(Clone)]",
        "pub struct GrpcState {",
        "    pub storage: Arc<Storage>,",
        "    pub notifier: Arc<WorkerNotifier>,",
        "}",
        "",
        "impl GrpcState {",
        "    pub fn new(storage: Arc<Storage>, notifier: Arc<WorkerNotifier>) -> Self {",
        "        Self { storage, notifier }",
        "    }",
    ]
    for _ in range(g.r.randint(2, 4)):
        lines += [
            "",
            "    pub async fn %s(&self, org_id: Uuid, queue: String, input: Vec<u8>) -> Result<Uuid, String> {"
            % g.fresh_fn(),
            "        let id = self",
            "            .storage",
            "            .insert_%s(org_id, &queue, input)" % g.noun(),
            "            .await",
            '            .map_err(|err| format!("storage: {err}"))?;',
            "        self.notifier.notify_work_available(org_id, &queue);",
            "        Ok(id)",
            "    }",
        ]
    return uses, lines + ["}"]


def grpc_handlers(g):
    uses = ["use uuid::Uuid;", "use crate::grpc::GrpcState;"]
    lines = []
    for _ in range(g.r.randint(1, 3)):
        if lines:
            lines.append("")
        lines += [
            "pub async fn %s(state: &GrpcState, org_id: Uuid, queue: String, key: String) -> Result<Uuid, String> {"
            % g.fresh_fn(),
            "    let (id, is_new) = state",
            "        .storage",
            "        .upsert_%s(org_id, &queue, &key)" % g.noun(),
            "        .await",
            '        .map_err(|err| format!("storage: {err}"))?;',
            "    if is_new {",
            "        state.notifier.notify_work_available(org_id, &queue);",
            "    }",
            "    Ok(id)",
            "}",
        ]
    return uses, lines


def sdk_config(g):
    name = camel(g.r.choice(["workflow", "task", "activity"]), "worker", "config")
    g.used_types.add(name)
    return [], [
        "/// Configuration of a worker.",
        "#[derive(Debug, Clone)]",
        "pub struct %s {" % name,
        "    /// Queue to poll.",
        "    pub queue: String,",
        "    /// Maximum concurrent executions.",
        "    pub max_concurrent: usize,",
        "    /// Wait before polling again when no work is available.",
        "    pub no_work_backoff: Duration,",
        "    /// Subscribe to instant work notifications.",
        "    pub enable_notifications: bool,",
        "}",
        "",
        "impl Default for %s {" % name,
        "    fn default() -> Self {",
        "        Self {",
        '            queue: "default".to_string(),',
        "            max_concurrent: %d," % g.r.choice([4, 8, 10, 16]),
        "            no_work_backoff: Duration::from_millis(100),",
        "            enable_notifications: true,",
        "        }",
        "    }",
        "}",
    ]


NOTIFIER_KINDS = [grpc_state, grpc_handlers, sdk_config]


def render_file(seed, index, notifier_kind):
    """The text of file `index`; `notifier_kind` is None or a function
    returning (use lines, item lines)."""
    r = random.Random("%s:%d" % (seed, index))
    g = Gen(r)
    target = r.randint(MIN_LINES, MAX_LINES)
    head = []
    if r.random() < 0.6:
        head += ["//! %s %s handling." % (camel(g.noun()), r.choice(VERBS)), ""]
    uses = set(USES)
    uses.update(r.sample(EXTRA_USES, r.randint(0, 3)))
    body = []
    if notifier_kind is not None:
        special_uses, special = notifier_kind(g)
        uses.update(special_uses)
        body += special
    header = head + sorted(uses) + [""]
    tests = g.tests_module() if r.random() < 0.6 else []
    reserved = len(header) + (len(tests) + 1 if tests else 0)
    for _ in range(60):
        if reserved + len(body) >= target:
            break
        item = g.filler_item()
        if reserved + len(body) + 1 + len(item) > MAX_LINES:
            continue
        if body:
            body.append("")
        body += item
    lines = header + body
    if tests:
        lines += [""] + tests
    return "\n".join(lines) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--notifier-percent", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.files < 1 or not 0 <= args.notifier_percent <= 100:
        parser.error("--files must be positive and --notifier-percent in 0..100")

    notifier_count = round(args.files * args.notifier_percent / 100)
    if args.notifier_percent > 0:
        notifier_count = max(1, notifier_count)
    picker = random.Random("%s:notifier" % args.seed)
    notifier_files = sorted(picker.sample(range(args.files), notifier_count))
    kinds = {}
    for n, index in enumerate(notifier_files):
        kinds[index] = notifier_mod if n == 0 else NOTIFIER_KINDS[(n - 1) % len(NOTIFIER_KINDS)]

    crates = (args.files + FILES_PER_CRATE - 1) // FILES_PER_CRATE
    names = random.Random("%s:crates" % args.seed)
    crate_names = []
    for c in range(crates):
        crate_names.append("%s-%s-%03d" % (names.choice(ADJS), names.choice(NOUNS), c))

    for index in range(args.files):
        crate = crate_names[index // FILES_PER_CRATE]
        src = os.path.join(args.dir, "crates", crate, "src")
        kind = kinds.get(index)
        if index % FILES_PER_CRATE == 0:
            os.makedirs(src, exist_ok=True)
            with open(os.path.join(args.dir, "crates", crate, "Cargo.toml"), "w") as f:
                f.write('[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\n' % crate)
        if kind is notifier_mod:
            rel = os.path.join("notifier", "mod.rs")
        elif index % FILES_PER_CRATE == 0:
            rel = "lib.rs"
        else:
            sub = random.Random("%s:path:%d" % (args.seed, index))
            rel = os.path.join(sub.choice(NOUNS), "%s_%d.rs" % (sub.choice(NOUNS), index))
        path = os.path.join(src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.exists(path):
            parser.error("path collision: %s" % path)
        with open(path, "w") as f:
            f.write(render_file(args.seed, index, kind))
    print(
        "%d files (%d with notifier code) under %s" % (args.files, notifier_count, args.dir),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
