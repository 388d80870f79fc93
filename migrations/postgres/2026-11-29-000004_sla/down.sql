DROP TABLE rota_shifts;
DROP TABLE sla_events;
DROP TABLE request_sla;
DROP INDEX requests_created_idx;
DROP INDEX requests_queue_idx;
ALTER TABLE requests DROP COLUMN due_at;
CREATE INDEX requests_queue_idx ON requests (team_id, status, priority, created_at, id);
