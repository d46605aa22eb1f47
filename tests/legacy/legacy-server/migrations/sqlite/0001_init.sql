-- Reference server schema (SQLite). Times are epoch milliseconds; ids are
-- canonical UUID text; payloads are UTF-8 JSON text.

CREATE TABLE orgs (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE
);

CREATE TABLE workers (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    name           TEXT NOT NULL,
    version        TEXT NOT NULL,
    worker_type    TEXT NOT NULL,
    workflow_kinds TEXT NOT NULL, -- JSON array
    task_kinds     TEXT NOT NULL, -- JSON array
    registered_at  INTEGER NOT NULL,
    last_heartbeat INTEGER NOT NULL
);

-- status: PENDING (pollable), RUNNING (handed out, lease_until set),
-- WAITING (suspended), COMPLETED, FAILED, CANCELLED.
CREATE TABLE workflow_executions (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    kind             TEXT NOT NULL,
    queue            TEXT NOT NULL,
    input            TEXT NOT NULL,
    status           TEXT NOT NULL,
    output           TEXT,
    error            TEXT,
    priority_ms      INTEGER NOT NULL DEFAULT 0,
    idempotency_key  TEXT,
    parent_id        TEXT,
    child_name       TEXT,
    lease_until      INTEGER,
    -- A wake-up event arrived while the execution was RUNNING.
    wakeup_pending   INTEGER NOT NULL DEFAULT 0,
    -- The deterministic clock of the current workflow task.
    task_time_ms     INTEGER NOT NULL,
    -- When the execution last became pollable (dispatch order).
    ready_at         INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    completed_at     INTEGER
);
CREATE UNIQUE INDEX workflow_idempotency ON workflow_executions(org_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX workflow_ready ON workflow_executions(org_id, queue, status, priority_ms, ready_at);
CREATE INDEX workflow_leases ON workflow_executions(status, lease_until);

CREATE TABLE workflow_events (
    execution_id    TEXT NOT NULL REFERENCES workflow_executions(id),
    sequence_number INTEGER NOT NULL,
    event_type      TEXT NOT NULL,
    data            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (execution_id, sequence_number)
);

-- status: PENDING, RUNNING, COMPLETED, FAILED.
CREATE TABLE tasks (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES orgs(id),
    workflow_execution_id TEXT,
    kind                  TEXT NOT NULL,
    queue                 TEXT NOT NULL,
    input                 TEXT NOT NULL,
    status                TEXT NOT NULL,
    output                TEXT,
    error                 TEXT,
    execution_count       INTEGER NOT NULL DEFAULT 0,
    max_retries           INTEGER NOT NULL,
    idempotency_key       TEXT,
    lease_until           INTEGER,
    ready_at              INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    completed_at          INTEGER
);
CREATE UNIQUE INDEX task_idempotency ON tasks(org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX task_ready ON tasks(org_id, queue, status, ready_at);
CREATE INDEX task_leases ON tasks(status, lease_until);

CREATE TABLE timers (
    execution_id TEXT NOT NULL REFERENCES workflow_executions(id),
    timer_id     TEXT NOT NULL,
    fire_at      INTEGER NOT NULL,
    PRIMARY KEY (execution_id, timer_id)
);
CREATE INDEX timers_due ON timers(fire_at);

CREATE TABLE workflow_state (
    execution_id TEXT NOT NULL REFERENCES workflow_executions(id),
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (execution_id, key)
);
