//! Diesel queries, one module per aggregate. Every function takes
//! `&mut DbConnection`, so it runs alone or inside a caller's transaction.

pub mod access;
pub mod audit;
pub mod idempotency;
pub mod login_attempts;
pub mod messages;
pub mod queue;
pub mod requests;
pub mod sessions;
pub mod teams;
pub mod triage;
pub mod users;

use chrono::{NaiveDateTime, Timelike, Utc};

/// Current UTC time at microsecond precision, the finest both backends keep,
/// so a value read back equals the value written.
pub fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap_or(now)
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
