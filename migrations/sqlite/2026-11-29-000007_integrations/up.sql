-- Other agencies' systems: API clients bound to one organisation, the
-- requests each submitted, their webhook endpoints, and the delivery outbox
-- (one row per delivery, written in the transaction of the change).

CREATE TABLE api_clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    organisation TEXT NOT NULL,
    -- Space-separated, e.g. "requests:write requests:read".
    scopes TEXT NOT NULL,
    -- SHA-256 of a 256-bit random secret shown once.
    secret_hash TEXT NOT NULL,
    -- Bumped on rotation; tokens carry it, so older tokens stop working.
    secret_version INTEGER NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE client_requests (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES requests (id),
    client_id TEXT NOT NULL REFERENCES api_clients (id)
);
CREATE INDEX client_requests_client_idx ON client_requests (client_id, request_id);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES api_clients (id),
    url TEXT NOT NULL,
    -- Space-separated event names.
    events TEXT NOT NULL,
    -- The signing key, shown once; kept as given because every delivery is
    -- signed with it.
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX webhooks_client_idx ON webhooks (client_id, id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id),
    -- The event's own id: the same in a redelivery.
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    request_id TEXT REFERENCES requests (id),
    -- Ids, reference, status and times: never case text.
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    leased_by TEXT,
    last_error TEXT,
    response_status INTEGER,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at, id);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);
