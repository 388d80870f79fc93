DROP INDEX webhook_deliveries_due_idx;
ALTER TABLE webhook_deliveries DROP COLUMN priority;
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at, id);

DROP INDEX email_outbox_due_idx;
ALTER TABLE email_outbox DROP COLUMN priority;
CREATE INDEX email_outbox_due_idx ON email_outbox (status, next_attempt_at, id);
