//! Sign-in attempts, kept for throttling (and later for the security log).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::login_attempts;
use crate::db::DbConnection;
use crate::error::ApiError;

pub fn record(
    conn: &mut DbConnection,
    email_key: &str,
    address: &str,
    succeeded: bool,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::id.eq(super::new_id()),
            login_attempts::email_key.eq(email_key),
            login_attempts::address.eq(address),
            login_attempts::succeeded.eq(succeeded),
            login_attempts::attempted_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Failures for an account since `since`, ignoring those before its last success.
pub fn account_failures(
    conn: &mut DbConnection,
    email_key: &str,
    since: NaiveDateTime,
) -> Result<Vec<NaiveDateTime>, ApiError> {
    let last_success: Option<NaiveDateTime> = login_attempts::table
        .filter(login_attempts::email_key.eq(email_key))
        .filter(login_attempts::succeeded.eq(true))
        .filter(login_attempts::attempted_at.gt(since))
        .select(diesel::dsl::max(login_attempts::attempted_at))
        .first(conn)?;
    let since = last_success.map_or(since, |t| t.max(since));
    failures(conn, Key::Email(email_key), since)
}

pub fn address_failures(
    conn: &mut DbConnection,
    address: &str,
    since: NaiveDateTime,
) -> Result<Vec<NaiveDateTime>, ApiError> {
    failures(conn, Key::Address(address), since)
}

enum Key<'a> {
    Email(&'a str),
    Address(&'a str),
}

fn failures(
    conn: &mut DbConnection,
    key: Key<'_>,
    since: NaiveDateTime,
) -> Result<Vec<NaiveDateTime>, ApiError> {
    let mut query = login_attempts::table
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::attempted_at.gt(since))
        .select(login_attempts::attempted_at)
        .order(login_attempts::attempted_at.asc())
        .into_boxed();
    query = match key {
        Key::Email(email) => query.filter(login_attempts::email_key.eq(email.to_owned())),
        Key::Address(address) => query.filter(login_attempts::address.eq(address.to_owned())),
    };
    Ok(query.load(conn)?)
}

/// Forgets attempts made before `before` (older than any throttling window
/// looks back); returns how many.
pub fn forget_before(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(login_attempts::table.filter(login_attempts::attempted_at.lt(before)))
            .execute(conn)?,
    )
}
