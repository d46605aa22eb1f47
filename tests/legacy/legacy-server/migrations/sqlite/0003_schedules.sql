-- Cron schedules: each fire time starts one workflow (idempotency key
-- schedule:<id>:<fire time>, so a fire is never doubled, even across
-- restarts).
CREATE TABLE schedules (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    name          TEXT NOT NULL,
    cron          TEXT NOT NULL,
    workflow_kind TEXT NOT NULL,
    queue         TEXT NOT NULL,
    input         TEXT NOT NULL,
    paused        INTEGER NOT NULL DEFAULT 0,
    next_fire_at  INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX schedules_name ON schedules(org_id, name);
CREATE INDEX schedules_due ON schedules(paused, next_fire_at);
