-- Triage decisions, assignment history for fair auto-assignment, safety
-- events waiting to be notified, and indexes for the queue.

ALTER TABLE users ADD COLUMN last_assigned_at TIMESTAMP;

-- Every triage decision, automatic (by rule, actor NULL) or by a coordinator.
CREATE TABLE triage_decisions (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    rule TEXT,
    reason TEXT NOT NULL,
    priority TEXT,
    team_id TEXT REFERENCES teams (id),
    skill TEXT,
    actor_id TEXT REFERENCES users (id),
    decided_at TIMESTAMP NOT NULL
);
CREATE INDEX triage_decisions_request_idx ON triage_decisions (request_id, id);

CREATE TABLE safety_events (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    handled_at TIMESTAMP
);
CREATE INDEX safety_events_pending_idx ON safety_events (handled_at, id);

CREATE INDEX requests_queue_idx ON requests (team_id, status, priority, created_at, id);
CREATE INDEX requests_open_assignee_idx ON requests (assignee_id, status);
