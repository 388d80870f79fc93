//! Figures `/metrics` reads from the database at each scrape, so every
//! replica reports the same shared state.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{request_sla, requests, sla_events};
use crate::db::DbConnection;
use crate::domain::lifecycle::Status;

pub struct Snapshot {
    /// Open requests by status and priority ("" before triage).
    pub open: Vec<(String, Option<String>, i64)>,
    /// Triaged requests waiting for a specialist, and the oldest one's submission.
    pub unassigned: i64,
    pub oldest_unassigned: Option<NaiveDateTime>,
    /// Open requests by SLA state.
    pub states: Vec<(String, i64)>,
    /// SLA events ever recorded, by kind.
    pub events: Vec<(String, i64)>,
    /// Emails by outbox status, and the oldest one still pending.
    pub outbox: Vec<(String, i64)>,
    pub oldest_pending_email: Option<NaiveDateTime>,
    /// Webhook deliveries by status, and the oldest one still pending.
    pub webhooks: Vec<(String, i64)>,
    pub oldest_pending_webhook: Option<NaiveDateTime>,
}

pub fn snapshot(conn: &mut DbConnection) -> QueryResult<Snapshot> {
    let open_statuses: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let open = requests::table
        .filter(requests::status.eq_any(&open_statuses))
        .group_by((requests::status, requests::priority))
        .select((
            requests::status,
            requests::priority,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let waiting = requests::table
        .filter(requests::status.eq(Status::Triaged.as_str()))
        .filter(requests::assignee_id.is_null());
    let unassigned = waiting.count().get_result(conn)?;
    let oldest_unassigned = waiting
        .select(diesel::dsl::min(requests::created_at))
        .first(conn)?;
    let states = request_sla::table
        .inner_join(requests::table)
        .filter(requests::status.eq_any(&open_statuses))
        .group_by(request_sla::state)
        .select((request_sla::state, diesel::dsl::count_star()))
        .load(conn)?;
    let events = sla_events::table
        .group_by(sla_events::kind)
        .select((sla_events::kind, diesel::dsl::count_star()))
        .load(conn)?;
    let (outbox, oldest_pending_email) = super::outbox::backlog(conn)?;
    let (webhooks, oldest_pending_webhook) = super::webhooks::backlog(conn)?;
    Ok(Snapshot {
        outbox,
        oldest_pending_email,
        webhooks,
        oldest_pending_webhook,
        open,
        unassigned,
        oldest_unassigned,
        states,
        events,
    })
}
