//! Webhook endpoints of API clients and their delivery outbox: one row per
//! delivery, written with the change that causes it, leased by workers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{api_clients, client_requests, webhook_deliveries, webhooks};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub client_id: String,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl WebhookRow {
    pub fn wants(&self, event: &str) -> bool {
        self.events.split_ascii_whitespace().any(|e| e == event)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event: String,
    pub request_id: Option<String>,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
    pub response_status: Option<i32>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    /// Claim order (`domain::notifications::outbox_priority`).
    pub priority: i32,
}

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const DEAD: &str = "dead";

pub fn insert(conn: &mut DbConnection, row: &WebhookRow) -> QueryResult<()> {
    diesel::insert_into(webhooks::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One of the client's live webhooks.
pub fn find(conn: &mut DbConnection, client_id: &str, id: &str) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .filter(webhooks::id.eq(id))
        .filter(webhooks::client_id.eq(client_id))
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

/// The client's live webhooks in creation order, after the cursor.
pub fn list(
    conn: &mut DbConnection,
    client_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<WebhookRow>> {
    let mut query = webhooks::table
        .filter(webhooks::client_id.eq(client_id.to_owned()))
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .order(webhooks::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(webhooks::id.gt(after.to_owned()));
    }
    query.load(conn)
}

/// Stops a webhook; its pending deliveries are not sent.
pub fn delete(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(webhooks::table.find(id))
        .set(webhooks::deleted_at.eq(now))
        .execute(conn)?;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(id))
            .filter(webhook_deliveries::status.eq(PENDING)),
    )
    .set((
        webhook_deliveries::status.eq(DEAD),
        webhook_deliveries::last_error.eq("the webhook was deleted"),
    ))
    .execute(conn)?;
    Ok(())
}

/// The live webhooks of the live client that submitted the request.
pub fn of_request(conn: &mut DbConnection, request_id: &str) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .inner_join(client_requests::table.on(client_requests::client_id.eq(webhooks::client_id)))
        .inner_join(api_clients::table.on(api_clients::id.eq(webhooks::client_id)))
        .filter(client_requests::request_id.eq(request_id))
        .filter(api_clients::revoked_at.is_null())
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .order(webhooks::id.asc())
        .load(conn)
}

pub fn insert_delivery(conn: &mut DbConnection, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_delivery(
    conn: &mut DbConnection,
    webhook_id: &str,
    id: &str,
) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(id))
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
}

/// A webhook's deliveries, newest first, before the cursor.
pub fn deliveries(
    conn: &mut DbConnection,
    webhook_id: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id.to_owned()))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before.to_owned()));
    }
    query.load(conn)
}

/// Leases due deliveries (see [`super::claim_due`]).
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    Ok(super::claim_due!(
        conn,
        webhook_deliveries,
        DeliveryRow,
        PENDING,
        worker,
        now,
        lease_until,
        limit
    ))
}

/// The webhook a leased delivery goes to, unless it was deleted.
pub fn live_webhook(conn: &mut DbConnection, id: &str) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .filter(webhooks::id.eq(id))
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

/// What one attempt leaves on a delivery.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub status: &'static str,
    pub next_attempt_at: NaiveDateTime,
    pub error: Option<String>,
    pub response_status: Option<i32>,
    pub delivered_at: Option<NaiveDateTime>,
}

/// Records an attempt, if `worker` still holds the lease.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    attempt: &Attempt,
) -> QueryResult<bool> {
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::leased_by.eq(worker)),
    )
    .set((
        webhook_deliveries::status.eq(attempt.status),
        webhook_deliveries::next_attempt_at.eq(attempt.next_attempt_at),
        webhook_deliveries::last_error.eq(attempt.error.as_deref()),
        webhook_deliveries::response_status.eq(attempt.response_status),
        webhook_deliveries::delivered_at.eq(attempt.delivered_at),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::leased_by.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Deliveries by status, and when the oldest pending one was written.
pub fn backlog(conn: &mut DbConnection) -> QueryResult<super::outbox::Backlog> {
    Ok(super::backlog!(conn, webhook_deliveries, PENDING))
}
