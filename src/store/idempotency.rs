//! Idempotency keys for request submission, per user, with an expiry.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::idempotency_keys;
use crate::db::DbConnection;

pub struct StoredKey {
    pub body_hash: String,
    pub request_id: String,
}

/// The live record for a key, dropping it first if it has expired.
pub fn find_live(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<StoredKey>> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(user_id))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::expires_at.le(now)),
    )
    .execute(conn)?;
    let found: Option<(String, String)> = idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::key.eq(key))
        .select((idempotency_keys::body_hash, idempotency_keys::request_id))
        .first(conn)
        .optional()?;
    Ok(found.map(|(body_hash, request_id)| StoredKey {
        body_hash,
        request_id,
    }))
}

pub fn insert(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    body_hash: &str,
    request_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::body_hash.eq(body_hash),
            idempotency_keys::request_id.eq(request_id),
            idempotency_keys::created_at.eq(now),
            idempotency_keys::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Drops the keys that led to a request (retention): they hold a hash of
/// the submitted body, which could confirm a guess at the redacted text.
pub fn forget_request(conn: &mut DbConnection, request_id: &str) -> QueryResult<()> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::request_id.eq(request_id)))
        .execute(conn)?;
    Ok(())
}

/// Forgets keys whose replay window ended before `now`; returns how many.
pub fn forget_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::expires_at.lt(now)))
        .execute(conn)
}
