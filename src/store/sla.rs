//! Response-time facts per request, SLA events (each recorded once) and the
//! duty rota.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::db::schema::{
    messages, request_sla, request_transitions, requests, rota_shifts, sla_events,
};
use crate::db::{on_backend, DbConnection};

/// Stands for "no running deadline" in `requests.due_at`, so the column
/// sorts and indexes alike on both backends (see the migration).
pub const NO_DEADLINE: NaiveDateTime = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(date) => date.and_time(NaiveTime::MIN),
    None => panic!("9999-12-31 is a date"),
};

#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = request_sla, treat_none_as_null = true)]
pub struct SlaRow {
    pub request_id: String,
    pub priority: String,
    pub state: String,
    pub first_response_due_at: Option<NaiveDateTime>,
    pub next_response_cycle: Option<String>,
    pub next_response_started_at: Option<NaiveDateTime>,
    pub next_response_due_at: Option<NaiveDateTime>,
    pub resolution_due_at: Option<NaiveDateTime>,
    pub first_response_business_seconds: Option<i64>,
    pub first_response_wall_seconds: Option<i64>,
    pub first_response_met: Option<bool>,
    pub resolution_business_seconds: Option<i64>,
    pub resolution_wall_seconds: Option<i64>,
    pub resolution_met: Option<bool>,
    pub ack_started_at: Option<NaiveDateTime>,
    pub ack_due_at: Option<NaiveDateTime>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
    pub acknowledgement_seconds: Option<i64>,
    pub escalation_level: i32,
    pub breached_at: Option<NaiveDateTime>,
    pub next_check_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sla_events)]
pub struct EventRow {
    pub id: String,
    pub request_id: String,
    pub clock: String,
    pub cycle: String,
    pub kind: String,
    pub level: i32,
    pub target: Option<String>,
    pub due_at: NaiveDateTime,
    pub crossed_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub notified_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rota_shifts)]
pub struct ShiftRow {
    pub id: String,
    pub user_id: String,
    pub duty: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, request_id: &str) -> QueryResult<Option<SlaRow>> {
    request_sla::table
        .find(request_id)
        .select(SlaRow::as_select())
        .first(conn)
        .optional()
}

/// Writes a request's facts, whether or not a row exists yet; two monitors
/// writing at once both succeed.
pub fn save(conn: &mut DbConnection, row: &SlaRow) -> QueryResult<()> {
    on_backend!(conn, |c| diesel::insert_into(request_sla::table)
        .values(row)
        .on_conflict(request_sla::request_id)
        .do_update()
        .set(row)
        .execute(c)?);
    Ok(())
}

/// SLA states of the given requests, by request id.
pub fn states(
    conn: &mut DbConnection,
    request_ids: &[&str],
) -> QueryResult<std::collections::HashMap<String, String>> {
    Ok(request_sla::table
        .filter(request_sla::request_id.eq_any(request_ids))
        .select((request_sla::request_id, request_sla::state))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Sets the request's earliest running deadline (no version change: the
/// request itself did not change).
pub fn set_due_at(
    conn: &mut DbConnection,
    request_id: &str,
    due: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(requests::table.find(request_id))
        .filter(requests::due_at.ne(due))
        .set(requests::due_at.eq(due))
        .execute(conn)?;
    Ok(())
}

/// Marks the request acknowledged unless someone already did; `true` when
/// this call did.
pub fn acknowledge(
    conn: &mut DbConnection,
    request_id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(request_sla::table.find(request_id))
        .filter(request_sla::acknowledged_at.is_null())
        .set((
            request_sla::acknowledged_at.eq(now),
            request_sla::acknowledged_by.eq(user_id),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Records an event unless the same point of the same clock was recorded
/// before; `true` when this call recorded it.
pub fn record_event(conn: &mut DbConnection, event: &EventRow) -> QueryResult<bool> {
    let inserted = on_backend!(conn, |c| diesel::insert_into(sla_events::table)
        .values(event)
        .on_conflict_do_nothing()
        .execute(c)?);
    Ok(inserted == 1)
}

pub fn events_of(conn: &mut DbConnection, request_id: &str) -> QueryResult<Vec<EventRow>> {
    sla_events::table
        .filter(sla_events::request_id.eq(request_id))
        .order((sla_events::crossed_at.asc(), sla_events::id.asc()))
        .select(EventRow::as_select())
        .load(conn)
}

/// Requests with a warning point or deadline due by `now`.
pub fn due_for_check(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<String>> {
    request_sla::table
        .filter(request_sla::next_check_at.le(now))
        .order(request_sla::next_check_at.asc())
        .select(request_sla::request_id)
        .limit(limit)
        .load(conn)
}

/// A request's status changes in order: `(from, to, at)`.
pub fn transitions(
    conn: &mut DbConnection,
    request_id: &str,
) -> QueryResult<Vec<(String, String, NaiveDateTime)>> {
    request_transitions::table
        .filter(request_transitions::request_id.eq(request_id))
        .order((request_transitions::at.asc(), request_transitions::id.asc()))
        .select((
            request_transitions::from_status,
            request_transitions::to_status,
            request_transitions::at,
        ))
        .load(conn)
}

/// A request's replies in order: `(from the requester, at, message id)`.
pub fn replies(
    conn: &mut DbConnection,
    request_id: &str,
    requester_id: &str,
) -> QueryResult<Vec<(bool, NaiveDateTime, String)>> {
    let rows: Vec<(String, NaiveDateTime, String)> = messages::table
        .filter(messages::request_id.eq(request_id))
        .filter(messages::kind.eq("reply"))
        .order((messages::created_at.asc(), messages::id.asc()))
        .select((messages::author_id, messages::created_at, messages::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(author, at, id)| (author == requester_id, at, id))
        .collect())
}

pub fn insert_shift(conn: &mut DbConnection, shift: &ShiftRow) -> QueryResult<()> {
    diesel::insert_into(rota_shifts::table)
        .values(shift)
        .execute(conn)?;
    Ok(())
}

pub fn find_shift(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ShiftRow>> {
    rota_shifts::table
        .find(id)
        .select(ShiftRow::as_select())
        .first(conn)
        .optional()
}

pub fn delete_shift(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::delete(rota_shifts::table.find(id)).execute(conn)?;
    Ok(())
}

/// Shifts overlapping `[from, to)`, by start; a page after `after` (start, id).
pub fn shifts(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<ShiftRow>> {
    let mut query = rota_shifts::table
        .filter(rota_shifts::ends_at.gt(from))
        .filter(rota_shifts::starts_at.lt(to))
        .select(ShiftRow::as_select())
        .into_boxed();
    if let Some((start, id)) = after {
        query = query.filter(
            rota_shifts::starts_at.gt(*start).or(rota_shifts::starts_at
                .eq(*start)
                .and(rota_shifts::id.gt(id.clone()))),
        );
    }
    query
        .order((rota_shifts::starts_at.asc(), rota_shifts::id.asc()))
        .limit(limit)
        .load(conn)
}

/// Whether `user_id` holds one of `duties` at `at`.
pub fn on_duty(
    conn: &mut DbConnection,
    user_id: &str,
    duties: &[&str],
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let count: i64 = rota_shifts::table
        .filter(rota_shifts::user_id.eq(user_id))
        .filter(rota_shifts::duty.eq_any(duties))
        .filter(rota_shifts::starts_at.le(at))
        .filter(rota_shifts::ends_at.gt(at))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}
