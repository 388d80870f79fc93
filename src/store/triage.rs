//! Triage history and safety events waiting to be notified.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{safety_events, triage_decisions};
use crate::db::DbConnection;
use crate::domain::retention::REDACTED;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = triage_decisions)]
pub struct DecisionRow {
    pub id: String,
    pub request_id: String,
    pub rule: Option<String>,
    pub reason: String,
    pub priority: Option<String>,
    pub team_id: Option<String>,
    pub skill: Option<String>,
    /// None when the rules decided.
    pub actor_id: Option<String>,
    pub decided_at: NaiveDateTime,
}

pub fn record(conn: &mut DbConnection, row: &DecisionRow) -> QueryResult<()> {
    diesel::insert_into(triage_decisions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Replaces the reasons of a request's triage decisions (retention): a
/// coordinator's reason is free text, and a rule's may quote a keyword the
/// request mentioned. The rule, priority, team and skill stay.
pub fn redact_reasons(conn: &mut DbConnection, request_id: &str) -> QueryResult<()> {
    diesel::update(triage_decisions::table.filter(triage_decisions::request_id.eq(request_id)))
        .set(triage_decisions::reason.eq(REDACTED))
        .execute(conn)?;
    Ok(())
}

/// The decisions on a request, oldest first.
pub fn history(conn: &mut DbConnection, request_id: &str) -> QueryResult<Vec<DecisionRow>> {
    triage_decisions::table
        .filter(triage_decisions::request_id.eq(request_id))
        .select(DecisionRow::as_select())
        .order(triage_decisions::id.asc())
        .load(conn)
}

/// The skill the latest decision asked for, to re-run auto-assignment.
pub fn needed_skill(conn: &mut DbConnection, request_id: &str) -> QueryResult<Option<String>> {
    Ok(triage_decisions::table
        .filter(triage_decisions::request_id.eq(request_id))
        .order(triage_decisions::id.desc())
        .select(triage_decisions::skill)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Records a safety event (such as an immediate-risk alert) for the
/// notifier, in the same transaction as its cause.
pub fn raise_safety_event(
    conn: &mut DbConnection,
    request_id: &str,
    kind: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(safety_events::table)
        .values((
            safety_events::id.eq(super::new_id()),
            safety_events::request_id.eq(request_id),
            safety_events::kind.eq(kind),
            safety_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn pending_safety_events(
    conn: &mut DbConnection,
    request_id: &str,
) -> QueryResult<Vec<String>> {
    safety_events::table
        .filter(safety_events::request_id.eq(request_id))
        .filter(safety_events::handled_at.is_null())
        .select(safety_events::kind)
        .load(conn)
}
