//! An API client's webhooks: endpoints it registers for events about the
//! requests it submitted, their delivery log, and redelivery.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::api::conversation::PageQuery;
use crate::api::extract::{JsonBody, QueryParams};
use crate::api::pagination::{Page, PageRequest};
use crate::api::state::AppState;
use crate::auth::{secrets, ClientCaller};
use crate::domain::integrations::Reach;
use crate::domain::integrations::{check_url, Scope, WebhookEvent};
use crate::error::ApiError;
use crate::store;
use crate::store::webhooks::{DeliveryRow, WebhookRow};

/// A registered endpoint (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    fn from_row(row: WebhookRow) -> Webhook {
        Webhook {
            events: row
                .events
                .split_ascii_whitespace()
                .filter_map(WebhookEvent::parse)
                .collect(),
            id: row.id,
            url: row.url,
            created_at: row.created_at.and_utc(),
        }
    }
}

/// A new webhook with its signing secret, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    /// The HMAC-SHA256 key for `X-NRU-Signature` (see the integration guide).
    pub secret: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An https URL on the public internet; redirects are not followed.
    #[validate(length(min = 8, max = 2000))]
    #[schema(min_length = 8, max_length = 2000)]
    pub url: String,
    #[validate(length(min = 1, max = 4))]
    #[schema(min_items = 1, max_items = 4)]
    pub events: Vec<WebhookEvent>,
}

/// One attempt-tracked delivery of an event to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    /// Also sent as `X-NRU-Delivery`.
    pub id: String,
    pub webhook_id: String,
    /// The event's id (`id` in the body); a redelivery keeps it.
    pub event_id: String,
    pub event: WebhookEvent,
    pub request_id: Option<String>,
    /// `pending` (waiting or retrying), `delivered`, or `dead` after the last attempt.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// The endpoint's last HTTP status, if it answered.
    pub response_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The body sent (ids, reference, status and times only).
    pub payload: serde_json::Value,
}

impl Delivery {
    fn from_row(row: DeliveryRow) -> Result<Delivery, ApiError> {
        Ok(Delivery {
            event: WebhookEvent::parse(&row.event)
                .ok_or_else(|| ApiError::internal("a delivery has an unknown event"))?,
            payload: serde_json::from_str(&row.payload).map_err(ApiError::internal)?,
            id: row.id,
            webhook_id: row.webhook_id,
            event_id: row.event_id,
            request_id: row.request_id,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.and_utc(),
            response_status: row.response_status,
            last_error: row.last_error,
            created_at: row.created_at.and_utc(),
            delivered_at: row.delivered_at.map(|t| t.and_utc()),
        })
    }
}

/// The URL's problem, if it is malformed or points out of reach. A name is
/// resolved now, for an early answer, and again at every delivery.
async fn url_problem(url: &str, http_loopback: bool, reach: &Reach) -> Option<String> {
    let url = match check_url(url, http_loopback) {
        Ok(url) => url,
        Err(problem) => return Some(problem.to_string()),
    };
    if let Some(problem) = reach.refuses_literal(&url) {
        return Some(problem);
    }
    let Some(url::Host::Domain(name)) = url.host() else {
        return None;
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let found: Vec<_> = match tokio::net::lookup_host((name, port)).await {
        Ok(found) => found.collect(),
        Err(_) => return Some(format!("{name} does not resolve")),
    };
    (!found.iter().any(|a| reach.allows(a.ip())))
        .then(|| format!("{name} resolves to no public address"))
}

#[utoipa::path(
    post, path = "/api/v1/webhooks", tag = "webhooks",
    operation_id = "create_webhook",
    summary = "Register a webhook",
    description = "API clients with `webhooks:manage`. Subscribes an HTTPS URL to events about the requests this client submitted. The signing secret is shown this once. URLs that resolve to private, loopback or other special-purpose addresses are refused (422).",
    request_body = CreateWebhook,
    responses((status = 201, description = "Registered; the signing secret is shown this once", body = WebhookWithSecret)),
    security(("client" = ["webhooks:manage"]))
)]
pub async fn create(
    state: web::Data<AppState>,
    client: ClientCaller,
    body: JsonBody<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    client.require(Scope::WebhooksManage)?;
    let body = body.into_inner()?;
    let http_loopback = state.settings.webhooks.allow_http_loopback;
    if let Some(problem) = url_problem(&body.url, http_loopback, &state.webhook_reach).await {
        return Err(ApiError::field("url", problem));
    }
    let mut events = body.events.clone();
    events.sort();
    events.dedup();
    let secret = secrets::generate();
    let now = state.clock.now();
    let row = WebhookRow {
        id: store::new_id(),
        client_id: client.client_id.clone(),
        url: body.url.trim().to_owned(),
        events: events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        secret: secret.clone(),
        created_at: now,
        deleted_at: None,
    };
    let stored = row.clone();
    state
        .db
        .write(move |conn| {
            store::webhooks::insert(conn, &stored)?;
            Ok(store::audit::append(
                conn,
                None,
                "webhook.created",
                None,
                serde_json::json!({"client_id": stored.client_id, "webhook_id": stored.id, "url": stored.url, "events": stored.events}),
                now,
            )?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, format!("/api/v1/webhooks/{}", row.id)))
        .json(WebhookWithSecret {
            webhook: Webhook::from_row(row),
            secret,
        }))
}

#[utoipa::path(
    get, path = "/api/v1/webhooks", tag = "webhooks",
    operation_id = "list_webhooks",
    summary = "List this client's webhooks",
    description = "API clients with `webhooks:manage`. The webhooks this client registered; never their secrets.",
    params(PageQuery),
    responses((status = 200, description = "This client's webhooks", body = Page<Webhook>)),
    security(("client" = ["webhooks:manage"]))
)]
pub async fn list(
    state: web::Data<AppState>,
    client: ClientCaller,
    query: QueryParams<PageQuery>,
) -> Result<web::Json<Page<Webhook>>, ApiError> {
    client.require(Scope::WebhooksManage)?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let rows = state
        .db
        .read(move |conn| {
            let rows = store::webhooks::list(
                conn,
                &client.client_id,
                page.after.as_deref(),
                page.fetch(),
            )?;
            Ok(page.page(rows, |r| &r.id))
        })
        .await?;
    Ok(web::Json(Page {
        items: rows.items.into_iter().map(Webhook::from_row).collect(),
        next_cursor: rows.next_cursor,
    }))
}

/// One of the client's webhooks, else 404.
async fn own_webhook(
    state: &AppState,
    client: &ClientCaller,
    id: String,
) -> Result<WebhookRow, ApiError> {
    let client_id = client.client_id.clone();
    state
        .db
        .read(move |conn| Ok(store::webhooks::find(conn, &client_id, &id)?))
        .await?
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    operation_id = "get_webhook",
    summary = "Get a webhook",
    description = "API clients with `webhooks:manage`. One of this client's webhooks; 404 for any other.",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "The webhook", body = Webhook)),
    security(("client" = ["webhooks:manage"]))
)]
pub async fn read(
    state: web::Data<AppState>,
    client: ClientCaller,
    id: web::Path<String>,
) -> Result<web::Json<Webhook>, ApiError> {
    client.require(Scope::WebhooksManage)?;
    let row = own_webhook(&state, &client, id.into_inner()).await?;
    Ok(web::Json(Webhook::from_row(row)))
}

#[utoipa::path(
    delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    operation_id = "delete_webhook",
    summary = "Delete a webhook",
    description = "API clients with `webhooks:manage`. Removes one of this client's webhooks; deliveries still waiting are not sent. 404 for any other.",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted; deliveries still waiting are not sent")),
    security(("client" = ["webhooks:manage"]))
)]
pub async fn delete(
    state: web::Data<AppState>,
    client: ClientCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    client.require(Scope::WebhooksManage)?;
    let row = own_webhook(&state, &client, id.into_inner()).await?;
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            store::webhooks::delete(conn, &row.id, now)?;
            Ok(store::audit::append(
                conn,
                None,
                "webhook.deleted",
                None,
                serde_json::json!({"client_id": row.client_id, "webhook_id": row.id}),
                now,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    operation_id = "list_webhook_deliveries",
    summary = "List a webhook's deliveries",
    description = "API clients with `webhooks:manage`. The delivery log of one of this client's webhooks, newest first: status, attempts, the last answer and the next try.",
    params(("id" = String, Path, description = "Webhook id"), PageQuery),
    responses((status = 200, description = "The delivery log, newest first", body = Page<Delivery>)),
    security(("client" = ["webhooks:manage"]))
)]
pub async fn deliveries(
    state: web::Data<AppState>,
    client: ClientCaller,
    id: web::Path<String>,
    query: QueryParams<PageQuery>,
) -> Result<web::Json<Page<Delivery>>, ApiError> {
    client.require(Scope::WebhooksManage)?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let hook = own_webhook(&state, &client, id.into_inner()).await?;
    let rows = state
        .db
        .read(move |conn| {
            let rows =
                store::webhooks::deliveries(conn, &hook.id, page.after.as_deref(), page.fetch())?;
            Ok(page.page(rows, |r| &r.id))
        })
        .await?;
    Ok(web::Json(Page {
        items: rows
            .items
            .into_iter()
            .map(Delivery::from_row)
            .collect::<Result<_, _>>()?,
        next_cursor: rows.next_cursor,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    operation_id = "redeliver_webhook_delivery",
    summary = "Send a delivery again",
    description = "API clients with `webhooks:manage`. Queues a new delivery of the same event (same event id and body, so receivers can drop repeats). 404 for a delivery of another webhook.",
    params(("id" = String, Path, description = "Webhook id"),
           ("delivery_id" = String, Path, description = "The delivery to send again")),
    responses((status = 202, description = "A new delivery of the same event (same event id and body), queued now", body = Delivery)),
    security(("client" = ["webhooks:manage"]))
)]
pub async fn redeliver(
    state: web::Data<AppState>,
    client: ClientCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    client.require(Scope::WebhooksManage)?;
    let (id, delivery_id) = path.into_inner();
    let hook = own_webhook(&state, &client, id).await?;
    let now = state.clock.now();
    let row = state
        .db
        .write(move |conn| {
            let past = store::webhooks::find_delivery(conn, &hook.id, &delivery_id)?
                .ok_or(ApiError::NotFound)?;
            crate::workflows::webhooks::redeliver(conn, &past, now)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(Delivery::from_row(row)?))
}
