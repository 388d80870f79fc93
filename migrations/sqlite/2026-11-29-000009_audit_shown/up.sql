-- The requests a list page showed, for its one audit row: each request's
-- trail finds the pages that showed it through this index.
CREATE TABLE audit_log_requests (
    request_id TEXT NOT NULL,
    audit_id TEXT NOT NULL REFERENCES audit_log (id)
);
CREATE UNIQUE INDEX audit_log_requests_idx ON audit_log_requests (request_id, audit_id);
-- Append-only, like the rows it belongs to.
CREATE TRIGGER audit_log_requests_no_update BEFORE UPDATE ON audit_log_requests
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_requests_no_delete BEFORE DELETE ON audit_log_requests
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
