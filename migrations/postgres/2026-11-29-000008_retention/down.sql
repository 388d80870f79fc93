DROP INDEX break_glass_request_idx;
DROP INDEX requests_resolved_unredacted_idx;
DROP INDEX requests_withdrawn_unredacted_idx;
DROP INDEX requests_closed_unredacted_idx;
ALTER TABLE requests DROP COLUMN redacted_at;
