-- Retention: when a finished request's free text was redacted (null: never).
ALTER TABLE requests ADD COLUMN redacted_at TIMESTAMP;
-- The retention job looks for finished requests not yet redacted, oldest
-- first, by status and time; these hold only those, so they stay small as
-- redacted ones pile up.
CREATE INDEX requests_closed_unredacted_idx ON requests (status, closed_at, id)
    WHERE redacted_at IS NULL;
CREATE INDEX requests_withdrawn_unredacted_idx ON requests (status, withdrawn_at, id)
    WHERE redacted_at IS NULL;
-- Resolved requests finish when their reopen window ends, closed or not.
CREATE INDEX requests_resolved_unredacted_idx ON requests (status, resolved_at, id)
    WHERE redacted_at IS NULL;
-- Redaction rewrites a request's break-glass reasons.
CREATE INDEX break_glass_request_idx ON break_glass_grants (request_id);
