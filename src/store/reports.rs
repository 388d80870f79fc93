//! The stored facts response-time reports are computed from.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{request_sla, requests, sla_events};
use crate::db::DbConnection;
use crate::error::ApiError;

/// One triaged request's response-time facts with what it may be grouped by.
#[derive(Debug, Clone, Queryable)]
pub struct FactRow {
    pub priority: String,
    pub category: String,
    pub region: String,
    pub team_id: Option<String>,
    pub assignee_id: Option<String>,
    pub first_response_business_seconds: Option<i64>,
    pub first_response_wall_seconds: Option<i64>,
    pub first_response_met: Option<bool>,
    pub resolution_business_seconds: Option<i64>,
    pub resolution_wall_seconds: Option<i64>,
    pub resolution_met: Option<bool>,
    pub acknowledgement_seconds: Option<i64>,
    pub breached_at: Option<NaiveDateTime>,
}

/// Facts of the requests submitted in `[from, to)` that have been triaged.
pub fn facts(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<FactRow>, ApiError> {
    Ok(requests::table
        .inner_join(request_sla::table)
        .filter(requests::created_at.ge(from))
        .filter(requests::created_at.lt(to))
        .select((
            request_sla::priority,
            requests::category,
            requests::region,
            requests::team_id,
            requests::assignee_id,
            request_sla::first_response_business_seconds,
            request_sla::first_response_wall_seconds,
            request_sla::first_response_met,
            request_sla::resolution_business_seconds,
            request_sla::resolution_wall_seconds,
            request_sla::resolution_met,
            request_sla::acknowledgement_seconds,
            request_sla::breached_at,
        ))
        .load(conn)?)
}

/// A missed deadline with the request's reference and routing.
#[derive(Debug, Clone, Queryable)]
pub struct BreachRow {
    pub event_id: String,
    pub request_id: String,
    pub reference: String,
    pub priority: Option<String>,
    pub category: String,
    pub region: String,
    pub team_id: Option<String>,
    pub assignee_id: Option<String>,
    pub clock: String,
    pub due_at: NaiveDateTime,
    pub crossed_at: NaiveDateTime,
}

/// Deadlines missed in `[from, to)`, in order; a page after `after`
/// (crossing time, event id) when `limit` is given.
pub fn breaches(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    after: Option<&(NaiveDateTime, String)>,
    limit: Option<i64>,
) -> Result<Vec<BreachRow>, ApiError> {
    let mut query = sla_events::table
        .inner_join(requests::table)
        .filter(sla_events::kind.eq("breach"))
        .filter(sla_events::crossed_at.ge(from))
        .filter(sla_events::crossed_at.lt(to))
        .select((
            sla_events::id,
            sla_events::request_id,
            requests::reference,
            requests::priority,
            requests::category,
            requests::region,
            requests::team_id,
            requests::assignee_id,
            sla_events::clock,
            sla_events::due_at,
            sla_events::crossed_at,
        ))
        .order((sla_events::crossed_at.asc(), sla_events::id.asc()))
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            sla_events::crossed_at.gt(*at).or(sla_events::crossed_at
                .eq(*at)
                .and(sla_events::id.gt(id.clone()))),
        );
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    Ok(query.load(conn)?)
}

/// Display names of teams and users, for report labels.
pub fn names(
    conn: &mut DbConnection,
) -> Result<std::collections::HashMap<String, String>, ApiError> {
    use crate::db::schema::{teams, users};
    let mut names: std::collections::HashMap<String, String> = teams::table
        .select((teams::id, teams::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    names.extend(
        users::table
            .filter(users::role.eq_any(["specialist", "coordinator"]))
            .select((users::id, users::display_name))
            .load::<(String, String)>(conn)?,
    );
    Ok(names)
}
