DROP INDEX requests_open_assignee_idx;
DROP INDEX requests_queue_idx;
DROP TABLE safety_events;
ALTER TABLE users DROP COLUMN last_assigned_at;
DROP TABLE triage_decisions;
