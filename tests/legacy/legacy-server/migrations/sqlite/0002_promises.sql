-- Durable promises: created by a workflow (CREATE_PROMISE), resolved or
-- rejected from outside (ResolvePromise / RejectPromise / REST) or by a
-- workflow (RESOLVE_PROMISE), or timed out by the scheduler.
-- status: PENDING, RESOLVED, REJECTED, TIMED_OUT.
CREATE TABLE promises (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    execution_id TEXT NOT NULL REFERENCES workflow_executions(id),
    name         TEXT NOT NULL,
    status       TEXT NOT NULL,
    timeout_at   INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX promises_by_name ON promises(execution_id, name, status, created_at);
CREATE INDEX promises_timeouts ON promises(status, timeout_at);
