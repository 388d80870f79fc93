DROP TABLE audit_log_requests;
