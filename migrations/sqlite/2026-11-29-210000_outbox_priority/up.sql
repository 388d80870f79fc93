-- Safety-critical emails (immediate risk, escalation, SLA breach) and
-- webhook deliveries (SLA breach) are claimed before routine ones: 0 is
-- safety-critical, 1 routine. The claim orders by (priority,
-- next_attempt_at, id), which the due index now serves.
ALTER TABLE email_outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
UPDATE email_outbox SET priority = 0
    WHERE event IN ('immediate_risk', 'escalation', 'sla_breach');
DROP INDEX email_outbox_due_idx;
CREATE INDEX email_outbox_due_idx ON email_outbox (status, priority, next_attempt_at, id);

ALTER TABLE webhook_deliveries ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
UPDATE webhook_deliveries SET priority = 0 WHERE event = 'request.sla_breached';
DROP INDEX webhook_deliveries_due_idx;
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, priority, next_attempt_at, id);
