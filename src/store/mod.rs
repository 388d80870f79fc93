//! Diesel queries, one module per aggregate. Every function takes
//! `&mut DbConnection`, so it runs alone or inside a caller's transaction.

pub mod access;
pub mod audit;
pub mod clients;
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
pub mod webhooks;

/// A stored value outside the vocabulary its column allows: a corrupt row.
pub(crate) fn corrupt(what: String) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(what.into())
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Leases up to `limit` due rows of an outbox table (`email_outbox`,
/// `webhook_deliveries`: `status`, `next_attempt_at`, `lease_until`,
/// `leased_by`, `attempts`) for `worker` until `lease_until`, counting the
/// attempt, and returns them as `$row`, safety-critical rows first
/// (`priority`), then the longest due. On PostgreSQL the candidates are
/// locked with SKIP LOCKED, so workers on several replicas never take the
/// same row; an expired lease (a worker that died) frees a row again.
macro_rules! claim_due {
    ($conn:expr, $table:ident, $row:ty, $pending:expr, $worker:expr, $now:expr, $lease_until:expr, $limit:expr) => {{
        use $crate::db::schema::$table as t;
        let due = t::table
            .filter(t::status.eq($pending))
            .filter(t::next_attempt_at.le($now))
            .filter(t::lease_until.is_null().or(t::lease_until.lt($now)))
            .order((t::priority.asc(), t::next_attempt_at.asc(), t::id.asc()))
            .select(t::id)
            .limit($limit);
        let ids: Vec<String> = match $conn {
            $crate::db::DbConnection::Postgresql(c) => due.for_update().skip_locked().load(c)?,
            $crate::db::DbConnection::Sqlite(c) => due.load(c)?,
        };
        if ids.is_empty() {
            Vec::new()
        } else {
            diesel::update(t::table.filter(t::id.eq_any(&ids)))
                .set((
                    t::lease_until.eq($lease_until),
                    t::leased_by.eq($worker),
                    t::attempts.eq(t::attempts + 1),
                ))
                .execute($conn)?;
            t::table
                .filter(t::id.eq_any(&ids))
                .filter(t::leased_by.eq($worker))
                .order((t::priority.asc(), t::next_attempt_at.asc(), t::id.asc()))
                .select(<$row>::as_select())
                .load($conn)?
        }
    }};
}
pub(crate) use claim_due;

/// An outbox table's rows by status, and when its oldest pending row was
/// written (see [`outbox::Backlog`]).
macro_rules! backlog {
    ($conn:expr, $table:ident, $pending:expr) => {{
        use $crate::db::schema::$table as t;
        let counts = t::table
            .group_by(t::status)
            .select((t::status, diesel::dsl::count_star()))
            .load($conn)?;
        let oldest = t::table
            .filter(t::status.eq($pending))
            .select(diesel::dsl::min(t::created_at))
            .first($conn)?;
        (counts, oldest)
    }};
}
pub(crate) use backlog;
