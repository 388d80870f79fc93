//! Diesel queries, one module per aggregate. Every function takes
//! `&mut DbConnection`, so it runs alone or inside a caller's transaction.

pub mod access;
pub mod audit;
pub mod idempotency;
pub mod login_attempts;
pub mod messages;
pub mod metrics;
pub mod outbox;
pub mod queue;
pub mod reports;
pub mod requests;
pub mod sessions;
pub mod sla;
pub mod teams;
pub mod triage;
pub mod users;

use chrono::NaiveDateTime;

/// Current UTC time from the system clock, for what response times never
/// measure (sign-in, accounts, audit stamps).
pub fn now() -> NaiveDateTime {
    crate::clock::Clock::System.now()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
