//! The email outbox: rows written with the change that causes them, claimed
//! by workers under a lease, and each person's notification choices.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    email_outbox, notification_preferences, request_exclusions, rota_shifts, team_members, users,
};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = email_outbox)]
pub struct EmailRow {
    pub id: String,
    pub event: String,
    pub request_id: Option<String>,
    pub recipient_id: Option<String>,
    pub to_address: String,
    pub recipient_name: String,
    pub context: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// Claim order (`domain::notifications::outbox_priority`).
    pub priority: i32,
}

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const DEAD: &str = "dead";
pub const SUPPRESSED: &str = "suppressed";

/// Someone an email goes to.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Recipient {
    pub id: String,
    pub email: String,
    pub display_name: String,
}

pub fn insert(conn: &mut DbConnection, row: &EmailRow) -> QueryResult<()> {
    diesel::insert_into(email_outbox::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Active users by id, leaving out anyone excluded from `request_id`.
pub fn recipients(
    conn: &mut DbConnection,
    ids: &[String],
    request_id: &str,
) -> QueryResult<Vec<Recipient>> {
    let excluded = request_exclusions::table
        .filter(request_exclusions::request_id.eq(request_id.to_owned()))
        .select(request_exclusions::user_id);
    users::table
        .filter(users::id.eq_any(ids))
        .filter(users::active.eq(true))
        .filter(users::id.ne_all(excluded))
        .order(users::id.asc())
        .select((users::id, users::email, users::display_name))
        .load(conn)
}

/// Active coordinators, of one team or of the whole unit.
pub fn coordinator_ids(conn: &mut DbConnection, team_id: Option<&str>) -> QueryResult<Vec<String>> {
    let mut query = users::table
        .filter(users::role.eq("coordinator"))
        .filter(users::active.eq(true))
        .select(users::id)
        .into_boxed();
    if let Some(team_id) = team_id {
        let members = team_members::table
            .filter(team_members::team_id.eq(team_id.to_owned()))
            .select(team_members::user_id);
        query = query.filter(users::id.eq_any(members));
    }
    query.load(conn)
}

/// Who holds one of `duties` at `at`.
pub fn on_duty_ids(
    conn: &mut DbConnection,
    duties: &[&str],
    at: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    rota_shifts::table
        .filter(rota_shifts::duty.eq_any(duties))
        .filter(rota_shifts::starts_at.le(at))
        .filter(rota_shifts::ends_at.gt(at))
        .select(rota_shifts::user_id)
        .distinct()
        .load(conn)
}

/// Leases up to `limit` emails that are due, for `worker` until `lease_until`
/// (see [`super::claim_due`]).
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<EmailRow>> {
    Ok(super::claim_due!(
        conn,
        email_outbox,
        EmailRow,
        PENDING,
        worker,
        now,
        lease_until,
        limit
    ))
}

/// Records the outcome of an attempt, if `worker` still holds the lease.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    status: &str,
    next_attempt_at: NaiveDateTime,
    error: Option<&str>,
    sent_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let updated = diesel::update(
        email_outbox::table
            .filter(email_outbox::id.eq(id))
            .filter(email_outbox::leased_by.eq(worker)),
    )
    .set((
        email_outbox::status.eq(status),
        email_outbox::next_attempt_at.eq(next_attempt_at),
        email_outbox::last_error.eq(error),
        email_outbox::sent_at.eq(sent_at),
        email_outbox::lease_until.eq(None::<NaiveDateTime>),
        email_outbox::leased_by.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<EmailRow>> {
    email_outbox::table
        .find(id)
        .select(EmailRow::as_select())
        .first(conn)
        .optional()
}

/// Puts a dead email back in the queue with fresh attempts.
pub fn retry(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        email_outbox::table
            .filter(email_outbox::id.eq(id))
            .filter(email_outbox::status.eq(DEAD)),
    )
    .set((
        email_outbox::status.eq(PENDING),
        email_outbox::attempts.eq(0),
        email_outbox::next_attempt_at.eq(now),
        email_outbox::lease_until.eq(None::<NaiveDateTime>),
        email_outbox::leased_by.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// A page of the outbox, newest first, optionally of one status.
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<EmailRow>> {
    let mut query = email_outbox::table
        .select(EmailRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(email_outbox::status.eq(status.to_owned()));
    }
    if let Some(before) = before {
        query = query.filter(email_outbox::id.lt(before.to_owned()));
    }
    query.order(email_outbox::id.desc()).limit(limit).load(conn)
}

/// Rows of an outbox by status, and when the oldest pending one was written.
pub type Backlog = (Vec<(String, i64)>, Option<NaiveDateTime>);

pub fn backlog(conn: &mut DbConnection) -> QueryResult<Backlog> {
    Ok(super::backlog!(conn, email_outbox, PENDING))
}

/// The events `user_id` has switched off.
pub fn switched_off(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<String>> {
    notification_preferences::table
        .filter(notification_preferences::user_id.eq(user_id))
        .filter(notification_preferences::enabled.eq(false))
        .select(notification_preferences::event)
        .load(conn)
}

/// Replaces `user_id`'s choices with `off` (the events they do not want).
pub fn set_switched_off(conn: &mut DbConnection, user_id: &str, off: &[&str]) -> QueryResult<()> {
    diesel::delete(
        notification_preferences::table.filter(notification_preferences::user_id.eq(user_id)),
    )
    .execute(conn)?;
    // One row at a time: batch inserts are not portable across the backends.
    for event in off {
        diesel::insert_into(notification_preferences::table)
            .values((
                notification_preferences::user_id.eq(user_id),
                notification_preferences::event.eq(*event),
                notification_preferences::enabled.eq(false),
            ))
            .execute(conn)?;
    }
    Ok(())
}
