-- Per-task-execution key/value state (GetState/SetState/...), and the
-- per-attempt timeout of a task.
CREATE TABLE task_state (
    task_id TEXT NOT NULL REFERENCES tasks(id),
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (task_id, key)
);

ALTER TABLE tasks ADD COLUMN timeout_ms INTEGER;
