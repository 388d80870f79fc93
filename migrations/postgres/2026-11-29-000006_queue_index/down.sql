DROP INDEX requests_queue_idx;
CREATE INDEX requests_queue_idx ON requests (team_id, status, due_at, priority, id);
