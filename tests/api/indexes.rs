//! The hot queries are served by indexes on both backends (EXPLAIN).

use diesel::prelude::*;
use diesel::sql_types::Text;
use nru_helpdesk::db::{run_migrations, DbConnection, DbTarget};

use crate::helpers::TestDb;

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

/// The plan of `sql` as text. On PostgreSQL sequential scans are switched off
/// first: with a handful of rows the planner would rightly prefer them, and
/// the question here is whether a usable index exists.
fn plan(conn: &mut DbConnection, sql: &str) -> String {
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<SqlitePlan>(c)
            .unwrap()
            .into_iter()
            .map(|p| p.detail)
            .collect::<Vec<_>>()
            .join("\n"),
        DbConnection::Postgresql(c) => {
            diesel::sql_query("SET enable_seqscan = off")
                .execute(c)
                .unwrap();
            diesel::sql_query(format!("EXPLAIN {sql}"))
                .load::<PgPlan>(c)
                .unwrap()
                .into_iter()
                .map(|p| p.line)
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

#[test]
fn queue_list_and_audit_queries_use_their_indexes() {
    let (_db, url) = TestDb::create();
    let mut conn = match DbTarget::parse(&url) {
        DbTarget::Postgres(url) => DbConnection::Postgresql(PgConnection::establish(&url).unwrap()),
        DbTarget::Sqlite(path) => DbConnection::Sqlite(SqliteConnection::establish(&path).unwrap()),
    };
    run_migrations(&mut conn).unwrap();
    let cases = [
        (
            "the queue (claim-next)",
            "SELECT id FROM requests WHERE team_id = 'a' AND status = 'triaged' AND assignee_id IS NULL \
             ORDER BY due_at, priority, id LIMIT 1",
            "requests_queue_idx",
        ),
        (
            "a practitioner's own requests",
            "SELECT id FROM requests WHERE requester_id = 'a' ORDER BY id DESC LIMIT 26",
            "requests_requester_idx",
        ),
        (
            "a specialist's open load",
            "SELECT count(*) FROM requests WHERE assignee_id = 'a' AND status IN ('assigned', 'awaiting_requester')",
            "requests_open_assignee_idx",
        ),
        (
            "a request's audit trail",
            "SELECT id FROM audit_log WHERE request_id = 'a' ORDER BY id LIMIT 26",
            "audit_log_request_idx",
        ),
        (
            "the list pages that showed a request",
            "SELECT audit_log.id FROM audit_log_requests \
             JOIN audit_log ON audit_log.id = audit_log_requests.audit_id \
             WHERE audit_log_requests.request_id = 'a' ORDER BY audit_log_requests.audit_id LIMIT 26",
            "audit_log_requests_idx",
        ),
        (
            "a request's messages",
            "SELECT id FROM messages WHERE request_id = 'a' ORDER BY id LIMIT 26",
            "messages_request_idx",
        ),
        (
            "closed requests due for redaction",
            "SELECT id FROM requests WHERE redacted_at IS NULL AND status = 'closed' \
             AND closed_at <= '2026-01-01' \
             ORDER BY closed_at, id LIMIT 100",
            "requests_closed_unredacted_idx",
        ),
        (
            "withdrawn requests due for redaction",
            "SELECT id FROM requests WHERE redacted_at IS NULL AND status = 'withdrawn' \
             AND withdrawn_at <= '2026-01-01' \
             ORDER BY withdrawn_at, id LIMIT 100",
            "requests_withdrawn_unredacted_idx",
        ),
        (
            "resolved requests due for redaction",
            "SELECT id FROM requests WHERE redacted_at IS NULL AND status = 'resolved' \
             AND resolved_at <= '2026-01-01' ORDER BY resolved_at, id LIMIT 100",
            "requests_resolved_unredacted_idx",
        ),
        (
            "a request's break-glass grants",
            "SELECT id FROM break_glass_grants WHERE request_id = 'a'",
            "break_glass_request_idx",
        ),
    ];
    for (what, sql, index) in cases {
        let plan = plan(&mut conn, sql);
        assert!(
            plan.contains(index),
            "{what}: expected {index} in the plan:\n{plan}"
        );
    }
}
