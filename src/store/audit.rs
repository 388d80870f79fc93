//! The append-only audit trail. There is no update or delete here, and the
//! database refuses both (triggers in the migrations).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{audit_log, audit_log_requests};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub action: String,
    pub request_id: Option<String>,
    /// JSON; never free text from a request or message.
    pub details: String,
}

impl AuditRow {
    /// A row stamped `now`, from the caller's clock.
    pub fn new(
        actor_id: Option<&str>,
        action: &str,
        request_id: Option<&str>,
        details: serde_json::Value,
        now: NaiveDateTime,
    ) -> AuditRow {
        AuditRow {
            id: super::new_id(),
            at: now,
            actor_id: actor_id.map(str::to_owned),
            action: action.to_owned(),
            request_id: request_id.map(str::to_owned),
            details: details.to_string(),
        }
    }
}

/// Proof that an audit row was written in the caller's transaction: a
/// workflow hands out case data without a further read row only with one
/// (see `audit_trail::Audited::recorded`).
#[derive(Debug)]
pub struct Recorded(());

pub fn append(
    conn: &mut DbConnection,
    actor_id: Option<&str>,
    action: &str,
    request_id: Option<&str>,
    details: serde_json::Value,
    now: NaiveDateTime,
) -> QueryResult<Recorded> {
    insert(
        conn,
        &[AuditRow::new(actor_id, action, request_id, details, now)],
    )?;
    Ok(Recorded(()))
}

pub fn insert(conn: &mut DbConnection, rows: &[AuditRow]) -> QueryResult<()> {
    crate::db::insert_all!(conn, audit_log::table, rows);
    Ok(())
}

/// A request a many-request audit row (a list page) showed.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log_requests)]
pub struct ShownRow {
    pub request_id: String,
    pub audit_id: String,
}

/// Names the requests audit rows showed, after the rows themselves.
pub fn insert_shown(conn: &mut DbConnection, rows: &[ShownRow]) -> QueryResult<()> {
    crate::db::insert_all!(conn, audit_log_requests::table, rows);
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub request_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// A page of the trail, oldest first. A request's trail is its own rows
/// and the list pages that showed it, each read in order along its own
/// index and merged, so neither scan reads past the page.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    // The filters other than the request, on `audit_log`, from any query.
    macro_rules! filtered {
        ($query:expr) => {{
            let mut query = $query;
            if let Some(v) = &filter.actor_id {
                query = query.filter(audit_log::actor_id.eq(v.clone()));
            }
            if let Some(v) = &filter.action {
                query = query.filter(audit_log::action.eq(v.clone()));
            }
            if let Some(v) = filter.from {
                query = query.filter(audit_log::at.ge(v));
            }
            if let Some(v) = filter.to {
                query = query.filter(audit_log::at.lt(v));
            }
            if let Some(after) = after {
                query = query.filter(audit_log::id.gt(after.to_owned()));
            }
            query
        }};
    }
    let own = filtered!(audit_log::table
        .select(AuditRow::as_select())
        .order(audit_log::id.asc())
        .into_boxed());
    let Some(request_id) = &filter.request_id else {
        return own.limit(limit).load(conn);
    };
    let mut rows: Vec<AuditRow> = own
        .filter(audit_log::request_id.eq(request_id.clone()))
        .limit(limit)
        .load(conn)?;
    let pages = filtered!(audit_log_requests::table
        .inner_join(audit_log::table)
        .filter(audit_log_requests::request_id.eq(request_id.clone()))
        .select(AuditRow::as_select())
        .order(audit_log_requests::audit_id.asc())
        .into_boxed());
    rows.extend(pages.limit(limit).load::<AuditRow>(conn)?);
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}
