-- Guidance requests, their conversation and lifecycle, idempotent submission,
-- need-to-know exclusions, break-glass access and the append-only audit log.

CREATE TABLE reference_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_value BIGINT NOT NULL
);

CREATE TABLE requests (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL,
    requester_id TEXT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    urgency TEXT NOT NULL,
    organisation TEXT NOT NULL,
    region TEXT NOT NULL,
    local_reference TEXT,
    yp_age INTEGER,
    yp_age_band TEXT,
    yp_gender TEXT,
    yp_flags TEXT NOT NULL,
    contact_method TEXT NOT NULL,
    contact_times TEXT,
    status TEXT NOT NULL,
    priority TEXT,
    team_id TEXT REFERENCES teams (id),
    assignee_id TEXT REFERENCES users (id),
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    triaged_at TIMESTAMP,
    assigned_at TIMESTAMP,
    first_response_at TIMESTAMP,
    resolved_at TIMESTAMP,
    closed_at TIMESTAMP,
    withdrawn_at TIMESTAMP,
    paused_at TIMESTAMP,
    paused_seconds BIGINT NOT NULL
);
CREATE UNIQUE INDEX requests_reference_key ON requests (reference);
CREATE INDEX requests_requester_idx ON requests (requester_id, id);
CREATE INDEX requests_team_idx ON requests (team_id, id);
CREATE INDEX requests_assignee_idx ON requests (assignee_id, id);
CREATE INDEX requests_status_idx ON requests (status, id);

CREATE TABLE request_pauses (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX request_pauses_request_idx ON request_pauses (request_id, id);

CREATE TABLE request_transitions (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor_id TEXT REFERENCES users (id),
    at TIMESTAMP NOT NULL
);
CREATE INDEX request_transitions_request_idx ON request_transitions (request_id, id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_request_idx ON messages (request_id, id);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE request_exclusions (
    request_id TEXT NOT NULL REFERENCES requests (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    excluded_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (request_id, user_id)
);

CREATE TABLE break_glass_grants (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    reason TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX break_glass_user_idx ON break_glass_grants (user_id, request_id, expires_at);
CREATE INDEX break_glass_id_idx ON break_glass_grants (id);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    request_id TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_request_idx ON audit_log (request_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);

-- The audit log is append-only: the database itself refuses changes.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
