//! Need-to-know records: exclusions (conflict of interest) and break-glass grants.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{break_glass_grants, request_exclusions};
use crate::db::DbConnection;
use crate::domain::retention::REDACTED;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = break_glass_grants)]
pub struct GrantRow {
    pub id: String,
    pub request_id: String,
    pub user_id: String,
    pub reason: String,
    pub granted_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// The ids of the requests `user_id` is excluded from, as a subquery: an
/// excluded request is absent from every list, queue and report they read.
pub type ExcludedIds = diesel::dsl::Select<
    diesel::dsl::Filter<
        request_exclusions::table,
        diesel::dsl::Eq<request_exclusions::user_id, String>,
    >,
    request_exclusions::request_id,
>;

pub fn excluded_ids(user_id: &str) -> ExcludedIds {
    request_exclusions::table
        .filter(request_exclusions::user_id.eq(user_id.to_owned()))
        .select(request_exclusions::request_id)
}

pub fn is_excluded(conn: &mut DbConnection, request_id: &str, user_id: &str) -> QueryResult<bool> {
    let count: i64 = request_exclusions::table
        .filter(request_exclusions::request_id.eq(request_id))
        .filter(request_exclusions::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

pub fn exclude(
    conn: &mut DbConnection,
    request_id: &str,
    user_id: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if is_excluded(conn, request_id, user_id)? {
        return Ok(false);
    }
    diesel::insert_into(request_exclusions::table)
        .values((
            request_exclusions::request_id.eq(request_id),
            request_exclusions::user_id.eq(user_id),
            request_exclusions::excluded_by.eq(by),
            request_exclusions::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn remove_exclusion(
    conn: &mut DbConnection,
    request_id: &str,
    user_id: &str,
) -> QueryResult<bool> {
    let removed = diesel::delete(
        request_exclusions::table
            .filter(request_exclusions::request_id.eq(request_id))
            .filter(request_exclusions::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

pub fn excluded_users(conn: &mut DbConnection, request_id: &str) -> QueryResult<Vec<String>> {
    request_exclusions::table
        .filter(request_exclusions::request_id.eq(request_id))
        .select(request_exclusions::user_id)
        .order(request_exclusions::user_id.asc())
        .load(conn)
}

pub fn has_live_grant(
    conn: &mut DbConnection,
    request_id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let count: i64 = break_glass_grants::table
        .filter(break_glass_grants::request_id.eq(request_id))
        .filter(break_glass_grants::user_id.eq(user_id))
        .filter(break_glass_grants::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

pub fn grant(conn: &mut DbConnection, row: &GrantRow) -> QueryResult<()> {
    diesel::insert_into(break_glass_grants::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Grants, newest first, for a coordinator to review: all but those on
/// requests the reviewer is excluded from.
pub fn grants(
    conn: &mut DbConnection,
    reviewer: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<GrantRow>> {
    let mut query = break_glass_grants::table
        .select(GrantRow::as_select())
        .filter(break_glass_grants::request_id.ne_all(excluded_ids(reviewer)))
        .order(break_glass_grants::id.desc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(break_glass_grants::id.lt(after.to_owned()));
    }
    query.limit(limit).load(conn)
}

/// A request's grants, oldest first (a subject access export).
pub fn grants_of_request(conn: &mut DbConnection, request_id: &str) -> QueryResult<Vec<GrantRow>> {
    break_glass_grants::table
        .filter(break_glass_grants::request_id.eq(request_id))
        .select(GrantRow::as_select())
        .order(break_glass_grants::id.asc())
        .load(conn)
}

/// Replaces the stated reasons of a request's grants (retention): staff
/// write them and may describe the case. Who, when and until when stay.
pub fn redact_reasons(conn: &mut DbConnection, request_id: &str) -> QueryResult<()> {
    diesel::update(break_glass_grants::table.filter(break_glass_grants::request_id.eq(request_id)))
        .set(break_glass_grants::reason.eq(REDACTED))
        .execute(conn)?;
    Ok(())
}
