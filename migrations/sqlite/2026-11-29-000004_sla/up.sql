-- Response times: the earliest running deadline on the request itself (the
-- queue orders by it), the clocks' facts per request, SLA events recorded
-- once per warning point, deadline or escalation step, and the duty rota.

-- '9999-12-31' stands for "no running deadline" so the column can be indexed
-- and sorted the same way on both backends.
ALTER TABLE requests ADD COLUMN due_at TIMESTAMP NOT NULL DEFAULT '9999-12-31 00:00:00';
DROP INDEX requests_queue_idx;
CREATE INDEX requests_queue_idx ON requests (team_id, status, due_at, priority, id);
-- Reports select the requests submitted in a date range.
CREATE INDEX requests_created_idx ON requests (created_at);

CREATE TABLE request_sla (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES requests (id),
    priority TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('ok', 'at_risk', 'breached')),
    first_response_due_at TIMESTAMP,
    next_response_cycle TEXT,
    next_response_started_at TIMESTAMP,
    next_response_due_at TIMESTAMP,
    resolution_due_at TIMESTAMP,
    first_response_business_seconds BIGINT,
    first_response_wall_seconds BIGINT,
    first_response_met BOOLEAN,
    resolution_business_seconds BIGINT,
    resolution_wall_seconds BIGINT,
    resolution_met BOOLEAN,
    ack_started_at TIMESTAMP,
    ack_due_at TIMESTAMP,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT REFERENCES users (id),
    acknowledgement_seconds BIGINT,
    escalation_level INTEGER NOT NULL,
    breached_at TIMESTAMP,
    next_check_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX request_sla_check_idx ON request_sla (next_check_at);
CREATE INDEX request_sla_state_idx ON request_sla (state, request_id);

CREATE TABLE sla_events (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    clock TEXT NOT NULL,
    cycle TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('warning', 'breach', 'escalation')),
    level INTEGER NOT NULL,
    target TEXT,
    due_at TIMESTAMP NOT NULL,
    crossed_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    notified_at TIMESTAMP
);
-- Once per point per clock per request, however many monitors run.
CREATE UNIQUE INDEX sla_events_once_key ON sla_events (request_id, clock, cycle, level);
CREATE INDEX sla_events_crossed_idx ON sla_events (crossed_at, id);
CREATE INDEX sla_events_pending_idx ON sla_events (notified_at, id);

CREATE TABLE rota_shifts (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    duty TEXT NOT NULL CHECK (duty IN ('on_call_specialist', 'duty_coordinator', 'unit_lead')),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX rota_shifts_time_idx ON rota_shifts (ends_at, starts_at);
CREATE INDEX rota_shifts_user_idx ON rota_shifts (user_id, ends_at);
