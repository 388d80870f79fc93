//! The conversation on a request: replies and internal notes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::messages;
use crate::db::DbConnection;
use crate::domain::retention::REDACTED;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: String,
    pub request_id: String,
    pub author_id: String,
    pub kind: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &MessageRow) -> QueryResult<()> {
    diesel::insert_into(messages::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Messages in order; `kind` narrows to one kind (replies, for requesters).
pub fn list(
    conn: &mut DbConnection,
    request_id: &str,
    kind: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<MessageRow>> {
    let mut query = messages::table
        .filter(messages::request_id.eq(request_id.to_owned()))
        .select(MessageRow::as_select())
        .order(messages::id.asc())
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(messages::kind.eq(kind.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(messages::id.gt(after.to_owned()));
    }
    query.limit(limit).load(conn)
}

pub fn count(conn: &mut DbConnection, request_id: &str, kind: Option<&str>) -> QueryResult<i64> {
    let mut query = messages::table
        .filter(messages::request_id.eq(request_id.to_owned()))
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(messages::kind.eq(kind.to_owned()));
    }
    query.count().get_result(conn)
}

/// Replaces the body of every message on a request (retention); returns how many.
pub fn redact_all(conn: &mut DbConnection, request_id: &str) -> QueryResult<usize> {
    diesel::update(messages::table.filter(messages::request_id.eq(request_id)))
        .set(messages::body.eq(REDACTED))
        .execute(conn)
}
