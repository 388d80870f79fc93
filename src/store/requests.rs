//! Guidance requests: rows, the per-year reference counter, transitions and pauses.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    break_glass_grants, request_pauses, request_sla, request_transitions, requests,
};
use crate::db::{on_backend, DbConnection};
use crate::domain::accounts::{Organisation, Region};
use crate::domain::lifecycle::Status;
use crate::domain::requests::{AgeBand, Category, ContactMethod, Gender, Priority, Urgency};
use crate::domain::retention::REDACTED;
use crate::store::access::excluded_ids;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = requests)]
pub struct RequestRow {
    pub id: String,
    pub reference: String,
    pub requester_id: String,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub urgency: Urgency,
    pub organisation: Organisation,
    pub region: Region,
    pub local_reference: Option<String>,
    pub yp_age: Option<i32>,
    pub yp_age_band: Option<AgeBand>,
    pub yp_gender: Option<Gender>,
    pub yp_flags: String,
    pub contact_method: ContactMethod,
    pub contact_times: Option<String>,
    pub status: Status,
    pub priority: Option<Priority>,
    pub team_id: Option<String>,
    pub assignee_id: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub triaged_at: Option<NaiveDateTime>,
    pub assigned_at: Option<NaiveDateTime>,
    pub first_response_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub paused_at: Option<NaiveDateTime>,
    pub paused_seconds: i64,
    /// The earliest running deadline, or [`super::sla::NO_DEADLINE`].
    pub due_at: NaiveDateTime,
    /// When retention redacted the free text (see `domain::retention`).
    pub redacted_at: Option<NaiveDateTime>,
}

/// What a submission sets; everything else starts as every new request's.
pub struct NewRequest {
    pub id: String,
    pub reference: String,
    pub requester_id: String,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub urgency: Urgency,
    pub organisation: Organisation,
    pub region: Region,
    pub local_reference: Option<String>,
    pub yp_age: Option<i32>,
    pub yp_age_band: Option<AgeBand>,
    pub yp_gender: Option<Gender>,
    pub yp_flags: String,
    pub contact_method: ContactMethod,
    pub contact_times: Option<String>,
    pub created_at: NaiveDateTime,
}

impl From<NewRequest> for RequestRow {
    fn from(new: NewRequest) -> RequestRow {
        RequestRow {
            id: new.id,
            reference: new.reference,
            requester_id: new.requester_id,
            title: new.title,
            description: new.description,
            category: new.category,
            urgency: new.urgency,
            organisation: new.organisation,
            region: new.region,
            local_reference: new.local_reference,
            yp_age: new.yp_age,
            yp_age_band: new.yp_age_band,
            yp_gender: new.yp_gender,
            yp_flags: new.yp_flags,
            contact_method: new.contact_method,
            contact_times: new.contact_times,
            status: Status::New,
            priority: None,
            team_id: None,
            assignee_id: None,
            version: 1,
            created_at: new.created_at,
            updated_at: new.created_at,
            triaged_at: None,
            assigned_at: None,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            withdrawn_at: None,
            paused_at: None,
            paused_seconds: 0,
            due_at: super::sla::NO_DEADLINE,
            redacted_at: None,
        }
    }
}

/// A change to a request; every change bumps the version.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = requests)]
pub struct RequestChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub local_reference: Option<Option<String>>,
    pub yp_age: Option<Option<i32>>,
    pub yp_age_band: Option<Option<AgeBand>>,
    pub yp_gender: Option<Option<Gender>>,
    pub yp_flags: Option<String>,
    pub contact_method: Option<ContactMethod>,
    pub contact_times: Option<Option<String>>,
    pub status: Option<Status>,
    pub category: Option<Category>,
    pub priority: Option<Option<Priority>>,
    pub team_id: Option<Option<String>>,
    pub assignee_id: Option<Option<String>>,
    pub triaged_at: Option<Option<NaiveDateTime>>,
    pub assigned_at: Option<Option<NaiveDateTime>>,
    pub first_response_at: Option<Option<NaiveDateTime>>,
    pub resolved_at: Option<Option<NaiveDateTime>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub withdrawn_at: Option<Option<NaiveDateTime>>,
    pub paused_at: Option<Option<NaiveDateTime>>,
    pub paused_seconds: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = request_transitions)]
pub struct TransitionRow {
    pub id: String,
    pub request_id: String,
    pub from_status: String,
    pub to_status: String,
    pub actor_id: Option<String>,
    pub at: NaiveDateTime,
}

/// The next number of `year`'s reference sequence, in one statement that
/// creates the year's counter if missing. The counter row stays locked until
/// the transaction ends, so callers take it as late as they can.
pub fn next_reference_number(conn: &mut DbConnection, year: i32) -> QueryResult<i64> {
    use crate::db::schema::reference_counters as counters;
    Ok(on_backend!(conn, |c| diesel::insert_into(counters::table)
        .values((counters::year.eq(year), counters::last_value.eq(1_i64)))
        .on_conflict(counters::year)
        .do_update()
        .set(counters::last_value.eq(counters::last_value + 1_i64))
        .returning(counters::last_value)
        .get_result::<i64>(c)?))
}

/// Gives a submitted request its reference (see [`next_reference_number`]).
pub fn set_reference(conn: &mut DbConnection, id: &str, reference: &str) -> QueryResult<()> {
    diesel::update(requests::table.find(id))
        .set(requests::reference.eq(reference))
        .execute(conn)?;
    Ok(())
}

pub fn insert(conn: &mut DbConnection, row: &RequestRow) -> QueryResult<()> {
    diesel::insert_into(requests::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<RequestRow>> {
    requests::table
        .find(id)
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

/// Up to `limit` finished requests, not yet redacted, that finished at or
/// before `cutoff`: closed ones, then withdrawn ones, then resolved ones
/// whose resolution is at or before `resolved_cutoff` (they finish when the
/// reopen window ends), each kind oldest first. On PostgreSQL they stay
/// locked until the caller's transaction ends and locked ones are passed
/// over (SKIP LOCKED), so replicas running retention at once take different
/// requests; SQLite writes one at a time. Each kind is found by its status
/// and its time through a partial index of unredacted requests;
/// `domain::retention::is_due` has the last word.
pub fn due_for_redaction(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    resolved_cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<RequestRow>> {
    macro_rules! finished_before {
        ($status:expr, $at:ident, $cutoff:expr, $limit:expr) => {{
            let query = requests::table
                .filter(requests::redacted_at.is_null())
                .filter(requests::status.eq($status.as_str()))
                .filter(requests::$at.le($cutoff))
                .order((requests::$at.asc(), requests::id.asc()))
                .select(requests::id)
                .limit($limit);
            let ids: Vec<String> = match &mut *conn {
                DbConnection::Postgresql(c) => query.for_update().skip_locked().load(c)?,
                DbConnection::Sqlite(c) => query.load(c)?,
            };
            requests::table
                .filter(requests::id.eq_any(&ids))
                .order((requests::$at.asc(), requests::id.asc()))
                .select(RequestRow::as_select())
                .load::<RequestRow>(&mut *conn)?
        }};
    }
    let mut due: Vec<RequestRow> = finished_before!(Status::Closed, closed_at, cutoff, limit);
    let left = |due: &Vec<RequestRow>| limit - i64::try_from(due.len()).unwrap_or(limit);
    if left(&due) > 0 {
        let more = finished_before!(Status::Withdrawn, withdrawn_at, cutoff, left(&due));
        due.extend(more);
    }
    if left(&due) > 0 {
        let more = finished_before!(Status::Resolved, resolved_at, resolved_cutoff, left(&due));
        due.extend(more);
    }
    Ok(due)
}

/// Replaces a request's free text (title, description, local reference,
/// the young person, contact times) with [`REDACTED`] or nothing and stamps
/// `redacted_at`, unless it is redacted already: true when this call did
/// it, so a request is redacted, and audited, once. The version moves on so
/// copies read before go stale; `updated_at` is left for the statistics.
pub fn redact(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        requests::table
            .filter(requests::id.eq(id))
            .filter(requests::redacted_at.is_null()),
    )
    .set((
        requests::title.eq(REDACTED),
        requests::description.eq(REDACTED),
        requests::local_reference.eq(None::<String>),
        requests::yp_age.eq(None::<i32>),
        requests::yp_age_band.eq(None::<String>),
        requests::yp_gender.eq(None::<String>),
        requests::yp_flags.eq(""),
        requests::contact_times.eq(None::<String>),
        requests::version.eq(requests::version + 1),
        requests::redacted_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Applies `changes` only if the request is still at `expected_version`
/// and returns the changed row; `None` when someone else changed it first.
pub fn update_versioned(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i32,
    changes: &RequestChanges,
    now: NaiveDateTime,
) -> QueryResult<Option<RequestRow>> {
    let updated = diesel::update(
        requests::table
            .filter(requests::id.eq(id))
            .filter(requests::version.eq(expected_version)),
    )
    .set((
        changes,
        requests::version.eq(expected_version + 1),
        requests::updated_at.eq(now),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

pub fn record_transition(
    conn: &mut DbConnection,
    request_id: &str,
    from: &str,
    to: &str,
    actor_id: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(request_transitions::table)
        .values((
            request_transitions::id.eq(super::new_id()),
            request_transitions::request_id.eq(request_id),
            request_transitions::from_status.eq(from),
            request_transitions::to_status.eq(to),
            request_transitions::actor_id.eq(actor_id),
            request_transitions::at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn transitions(
    conn: &mut DbConnection,
    request_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<TransitionRow>> {
    let mut query = request_transitions::table
        .filter(request_transitions::request_id.eq(request_id.to_owned()))
        .select(TransitionRow::as_select())
        .order(request_transitions::id.asc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(request_transitions::id.gt(after.to_owned()));
    }
    query.limit(limit).load(conn)
}

pub fn start_pause(
    conn: &mut DbConnection,
    request_id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(request_pauses::table)
        .values((
            request_pauses::id.eq(super::new_id()),
            request_pauses::request_id.eq(request_id),
            request_pauses::started_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn end_pause(conn: &mut DbConnection, request_id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        request_pauses::table
            .filter(request_pauses::request_id.eq(request_id))
            .filter(request_pauses::ended_at.is_null()),
    )
    .set(request_pauses::ended_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// Who is asking, for filtering lists to what they may see.
pub enum Visibility {
    Requester(String),
    Coordinator(String),
    Specialist {
        user_id: String,
        team_ids: Vec<String>,
        now: NaiveDateTime,
    },
}

#[derive(Debug, Default, Clone)]
pub struct RequestFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub urgency: Option<String>,
    pub team_id: Option<String>,
    pub assignee_id: Option<String>,
    pub region: Option<String>,
    pub reference: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    /// Where the request stands against its response-time targets.
    pub sla_state: Option<String>,
    pub newest_first: bool,
}

pub fn list(
    conn: &mut DbConnection,
    visibility: &Visibility,
    filter: &RequestFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<RequestRow>> {
    let mut query = requests::table.select(RequestRow::as_select()).into_boxed();
    query = match visibility {
        Visibility::Requester(user_id) => query.filter(requests::requester_id.eq(user_id.clone())),
        Visibility::Coordinator(user_id) => {
            query.filter(requests::id.ne_all(excluded_ids(user_id)))
        }
        Visibility::Specialist {
            user_id,
            team_ids,
            now,
        } => {
            let glass = break_glass_grants::table
                .filter(break_glass_grants::user_id.eq(user_id.clone()))
                .filter(break_glass_grants::expires_at.gt(*now))
                .select(break_glass_grants::request_id);
            query
                .filter(
                    requests::team_id
                        .eq_any(team_ids.clone())
                        .or(requests::assignee_id.eq(user_id.clone()))
                        .or(requests::id.eq_any(glass)),
                )
                .filter(requests::id.ne_all(excluded_ids(user_id)))
        }
    };
    if let Some(v) = &filter.status {
        query = query.filter(requests::status.eq(v.clone()));
    }
    if let Some(v) = &filter.category {
        query = query.filter(requests::category.eq(v.clone()));
    }
    if let Some(v) = &filter.priority {
        query = query.filter(requests::priority.eq(v.clone()));
    }
    if let Some(v) = &filter.urgency {
        query = query.filter(requests::urgency.eq(v.clone()));
    }
    if let Some(v) = &filter.team_id {
        query = query.filter(requests::team_id.eq(v.clone()));
    }
    if let Some(v) = &filter.assignee_id {
        query = query.filter(requests::assignee_id.eq(v.clone()));
    }
    if let Some(v) = &filter.region {
        query = query.filter(requests::region.eq(v.clone()));
    }
    if let Some(v) = &filter.sla_state {
        let in_state = request_sla::table
            .filter(request_sla::state.eq(v.clone()))
            .select(request_sla::request_id);
        query = query.filter(requests::id.eq_any(in_state));
    }
    if let Some(v) = &filter.reference {
        query = query.filter(requests::reference.eq(v.clone()));
    }
    if let Some(v) = filter.created_from {
        query = query.filter(requests::created_at.ge(v));
    }
    if let Some(v) = filter.created_to {
        query = query.filter(requests::created_at.lt(v));
    }
    // Ids are UUIDv7, so id order is creation order and a stable cursor key.
    query = match (filter.newest_first, after) {
        (true, Some(after)) => query
            .filter(requests::id.lt(after.to_owned()))
            .order(requests::id.desc()),
        (true, None) => query.order(requests::id.desc()),
        (false, Some(after)) => query
            .filter(requests::id.gt(after.to_owned()))
            .order(requests::id.asc()),
        (false, None) => query.order(requests::id.asc()),
    };
    query.limit(limit).load(conn)
}
