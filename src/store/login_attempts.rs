//! Sign-in attempts, kept for throttling (and later for the security log).
//!
//! An attempt is reserved as a failure before the secret is checked and
//! marked a success afterwards if it was right, so a burst of concurrent
//! guesses cannot all pass the throttle before any of them is counted.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use crate::db::schema::login_attempts;
use crate::db::DbConnection;
use crate::domain::throttle::Failures;

/// Advisory lock classes (PostgreSQL's two-key form, a key space apart from
/// the one-key migration lock): one for accounts, one for addresses.
const ACCOUNT_LOCK: i32 = 1;
const ADDRESS_LOCK: i32 = 2;

/// Holds the account's and the address's throttles until the transaction
/// ends, so counting and reserving are one step. On PostgreSQL these are
/// transaction-scoped advisory locks, always taken account first, so two
/// callers never wait on each other in a cycle; on SQLite the single writer
/// already runs write transactions one at a time.
pub fn lock(conn: &mut DbConnection, email_key: &str, address: &str) -> QueryResult<()> {
    if let DbConnection::Postgresql(c) = conn {
        for (class, key) in [(ACCOUNT_LOCK, email_key), (ADDRESS_LOCK, address)] {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind::<Integer, _>(class)
                .bind::<Text, _>(key)
                .execute(c)?;
        }
    }
    Ok(())
}

/// Counts as a failure until [`mark_succeeded`]; returns the attempt's id.
pub fn reserve(
    conn: &mut DbConnection,
    email_key: &str,
    address: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let id = super::new_id();
    diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::id.eq(&id),
            login_attempts::email_key.eq(email_key),
            login_attempts::address.eq(address),
            login_attempts::succeeded.eq(false),
            login_attempts::attempted_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn mark_succeeded(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(login_attempts::table.find(id))
        .set(login_attempts::succeeded.eq(true))
        .execute(conn)?;
    Ok(())
}

/// The failures that count against `email_key` from `address` since
/// `since`; the account's own are those after its last success.
pub fn failures(
    conn: &mut DbConnection,
    email_key: &str,
    address: &str,
    since: NaiveDateTime,
) -> QueryResult<Failures> {
    let last_success: Option<NaiveDateTime> = login_attempts::table
        .filter(login_attempts::email_key.eq(email_key))
        .filter(login_attempts::succeeded.eq(true))
        .filter(login_attempts::attempted_at.gt(since))
        .select(diesel::dsl::max(login_attempts::attempted_at))
        .first(conn)?;
    let account_since = last_success.map_or(since, |t| t.max(since));
    let account: Vec<(NaiveDateTime, String)> = login_attempts::table
        .filter(login_attempts::email_key.eq(email_key))
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::attempted_at.gt(account_since))
        .select((login_attempts::attempted_at, login_attempts::address))
        .order(login_attempts::attempted_at.asc())
        .load(conn)?;
    let address_failures = login_attempts::table
        .filter(login_attempts::address.eq(address))
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::attempted_at.gt(since))
        .select(login_attempts::attempted_at)
        .order(login_attempts::attempted_at.asc())
        .load(conn)?;
    Ok(Failures {
        account_address: account
            .iter()
            .filter(|(_, from)| from == address)
            .map(|(at, _)| *at)
            .collect(),
        account: account.into_iter().map(|(at, _)| at).collect(),
        address: address_failures,
    })
}

/// Forgets attempts made before `before` (older than any throttling window
/// looks back); returns how many.
pub fn forget_before(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_attempts::table.filter(login_attempts::attempted_at.lt(before)))
        .execute(conn)
}
