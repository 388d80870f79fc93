-- Email notifications: the transactional outbox (one row per email, written
-- in the transaction of the change that causes it) and each person's choices.

CREATE TABLE email_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    event TEXT NOT NULL,
    request_id TEXT REFERENCES requests (id),
    recipient_id TEXT REFERENCES users (id),
    to_address TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    -- Reference, status, priority, due time and the like: never case text.
    context TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead', 'suppressed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    leased_by TEXT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX email_outbox_due_idx ON email_outbox (status, next_attempt_at, id);
CREATE INDEX email_outbox_status_idx ON email_outbox (status, id);

CREATE TABLE notification_preferences (
    user_id TEXT NOT NULL REFERENCES users (id),
    event TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, event)
);
