-- The requests a list page showed, for its one audit row: each request's
-- trail finds the pages that showed it through this index.
CREATE TABLE audit_log_requests (
    request_id TEXT COLLATE "C" NOT NULL,
    audit_id TEXT COLLATE "C" NOT NULL REFERENCES audit_log (id),
    CONSTRAINT audit_log_requests_idx PRIMARY KEY (request_id, audit_id)
);
-- Append-only, like the rows it belongs to.
CREATE TRIGGER audit_log_requests_no_change BEFORE UPDATE OR DELETE ON audit_log_requests
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_requests_no_truncate BEFORE TRUNCATE ON audit_log_requests
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
