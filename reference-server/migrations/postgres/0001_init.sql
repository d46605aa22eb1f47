-- Reference server schema (PostgreSQL): the SQLite schema's tables and
-- columns, so that both backends share their row types. Times are epoch
-- milliseconds; ids are canonical UUID text; payloads are UTF-8 JSON text.

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
    registered_at  BIGINT NOT NULL,
    last_heartbeat BIGINT NOT NULL
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
    priority_ms      BIGINT NOT NULL DEFAULT 0,
    idempotency_key  TEXT,
    parent_id        TEXT,
    child_name       TEXT,
    lease_until      BIGINT,
    wakeup_pending   BIGINT NOT NULL DEFAULT 0,
    task_time_ms     BIGINT NOT NULL,
    ready_at         BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    completed_at     BIGINT
);
CREATE UNIQUE INDEX workflow_idempotency ON workflow_executions(org_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX workflow_ready ON workflow_executions(org_id, queue, priority_ms, ready_at)
    WHERE status = 'PENDING';
CREATE INDEX workflow_leases ON workflow_executions(lease_until) WHERE status = 'RUNNING';

CREATE TABLE workflow_events (
    execution_id    TEXT NOT NULL REFERENCES workflow_executions(id),
    sequence_number BIGINT NOT NULL,
    event_type      TEXT NOT NULL,
    data            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
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
    execution_count       BIGINT NOT NULL DEFAULT 0,
    max_retries           BIGINT NOT NULL,
    timeout_ms            BIGINT,
    idempotency_key       TEXT,
    lease_until           BIGINT,
    ready_at              BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    completed_at          BIGINT
);
CREATE UNIQUE INDEX task_idempotency ON tasks(org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX task_ready ON tasks(org_id, queue, ready_at) WHERE status = 'PENDING';
CREATE INDEX task_leases ON tasks(lease_until) WHERE status = 'RUNNING';

CREATE TABLE timers (
    execution_id TEXT NOT NULL REFERENCES workflow_executions(id),
    timer_id     TEXT NOT NULL,
    fire_at      BIGINT NOT NULL,
    PRIMARY KEY (execution_id, timer_id)
);
CREATE INDEX timers_due ON timers(fire_at);

CREATE TABLE workflow_state (
    execution_id TEXT NOT NULL REFERENCES workflow_executions(id),
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (execution_id, key)
);

-- status: PENDING, RESOLVED, REJECTED, TIMED_OUT.
CREATE TABLE promises (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    execution_id TEXT NOT NULL REFERENCES workflow_executions(id),
    name         TEXT NOT NULL,
    status       TEXT NOT NULL,
    timeout_at   BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX promises_by_name ON promises(execution_id, name, status, created_at);
CREATE INDEX promises_timeouts ON promises(timeout_at) WHERE status = 'PENDING';

-- Each fire time starts one workflow (idempotency key
-- schedule:<id>:<fire time>): never doubled, even with several replicas.
CREATE TABLE schedules (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    name          TEXT NOT NULL,
    cron          TEXT NOT NULL,
    workflow_kind TEXT NOT NULL,
    queue         TEXT NOT NULL,
    input         TEXT NOT NULL,
    paused        BIGINT NOT NULL DEFAULT 0,
    next_fire_at  BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX schedules_name ON schedules(org_id, name);
CREATE INDEX schedules_due ON schedules(next_fire_at) WHERE paused = 0;

CREATE TABLE task_state (
    task_id TEXT NOT NULL REFERENCES tasks(id),
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (task_id, key)
);
