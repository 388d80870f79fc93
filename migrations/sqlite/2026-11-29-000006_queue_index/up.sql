-- The queue shows a team's waiting requests and the caller's own; with the
-- assignee in the index the requests assigned to others are passed over
-- without reading their rows.
DROP INDEX requests_queue_idx;
CREATE INDEX requests_queue_idx ON requests (team_id, status, due_at, priority, id, assignee_id);
