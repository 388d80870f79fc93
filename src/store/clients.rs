//! API clients (other agencies' systems) and the requests each submitted.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{api_clients, client_requests, requests};
use crate::db::DbConnection;
use crate::store::requests::RequestRow;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub organisation: String,
    pub scopes: String,
    pub secret_hash: String,
    pub secret_version: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &ClientRow) -> QueryResult<()> {
    diesel::insert_into(api_clients::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ClientRow>> {
    api_clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()
}

/// Clients in creation order, after the cursor.
pub fn list(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ClientRow>> {
    let mut query = api_clients::table
        .select(ClientRow::as_select())
        .order(api_clients::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(api_clients::id.gt(after.to_owned()));
    }
    query.load(conn)
}

/// A new secret for a live client; tokens issued under the old one stop
/// working because they carry the old version.
pub fn rotate_secret(conn: &mut DbConnection, id: &str, secret_hash: &str) -> QueryResult<bool> {
    let updated = diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(id))
            .filter(api_clients::revoked_at.is_null()),
    )
    .set((
        api_clients::secret_hash.eq(secret_hash),
        api_clients::secret_version.eq(api_clients::secret_version + 1),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes a live client for good.
pub fn revoke(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(id))
            .filter(api_clients::revoked_at.is_null()),
    )
    .set(api_clients::revoked_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Records that `client_id` submitted the request.
pub fn link(conn: &mut DbConnection, request_id: &str, client_id: &str) -> QueryResult<()> {
    diesel::insert_into(client_requests::table)
        .values((
            client_requests::request_id.eq(request_id),
            client_requests::client_id.eq(client_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// The client that submitted the request, if one did.
pub fn submitter(conn: &mut DbConnection, request_id: &str) -> QueryResult<Option<String>> {
    client_requests::table
        .find(request_id)
        .select(client_requests::client_id)
        .first(conn)
        .optional()
}

/// One of the client's requests; `None` for anything else.
pub fn request(
    conn: &mut DbConnection,
    client_id: &str,
    request_id: &str,
) -> QueryResult<Option<RequestRow>> {
    requests::table
        .inner_join(client_requests::table.on(client_requests::request_id.eq(requests::id)))
        .filter(client_requests::client_id.eq(client_id))
        .filter(requests::id.eq(request_id))
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

/// The client's requests, newest first, before the cursor.
pub fn requests(
    conn: &mut DbConnection,
    client_id: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<RequestRow>> {
    let mut query = requests::table
        .inner_join(client_requests::table.on(client_requests::request_id.eq(requests::id)))
        .filter(client_requests::client_id.eq(client_id.to_owned()))
        .select(RequestRow::as_select())
        .order(client_requests::request_id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(client_requests::request_id.lt(before.to_owned()));
    }
    query.load(conn)
}
