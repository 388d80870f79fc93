//! Email: each person's notification choices, and the outbox for admins.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{JsonBody, QueryParams};
use crate::api::pagination::{Page, PageRequest};
use crate::api::state::AppState;
use crate::auth::Caller;
use crate::domain::accounts::Role;
use crate::domain::notifications::EmailEvent;
use crate::domain::text_enum;
use crate::error::{ApiError, FieldError};
use crate::store;
use crate::store::outbox::EmailRow;

/// Whether you receive one kind of email.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preference {
    pub event: EmailEvent,
    pub enabled: bool,
    /// Immediate risk, escalation and missed deadlines always send.
    pub safety_critical: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Preferences {
    pub events: Vec<Preference>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPreferences {
    /// Events to switch on (true) or off (false); events not named keep
    /// their setting. Safety-critical events cannot be switched off.
    pub events: BTreeMap<EmailEvent, bool>,
}

fn preferences(off: &[String]) -> Preferences {
    Preferences {
        events: EmailEvent::ALL
            .iter()
            .map(|e| Preference {
                event: *e,
                enabled: !off.iter().any(|o| o == e.as_str()),
                safety_critical: e.is_safety_critical(),
            })
            .collect(),
    }
}

#[utoipa::path(
    get, path = "/api/v1/me/notification-preferences", tag = "me",
    operation_id = "get_my_notification_preferences",
    summary = "Get your email preferences",
    description = "Any signed-in person. Which routine emails you receive; safety-critical alerts are always sent and are not listed as optional.",
    responses((status = 200, description = "Which emails you receive", body = Preferences)),
    security(("bearer" = []))
)]
pub async fn read_preferences(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<Preferences>, ApiError> {
    let user_id = caller.user_id.clone();
    let off = state
        .db
        .read(move |conn| Ok(store::outbox::switched_off(conn, &user_id)?))
        .await?;
    Ok(web::Json(preferences(&off)))
}

#[utoipa::path(
    put, path = "/api/v1/me/notification-preferences", tag = "me",
    operation_id = "set_my_notification_preferences",
    summary = "Set your email preferences",
    description = "Any signed-in person. Turns routine emails on or off; an attempt to turn off a safety-critical alert (immediate risk, escalation, SLA breach) is a 422.",
    request_body = SetPreferences,
    responses((status = 200, description = "Which emails you receive now", body = Preferences)),
    security(("bearer" = []))
)]
pub async fn set_preferences(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<SetPreferences>,
) -> Result<web::Json<Preferences>, ApiError> {
    let body = body.into_inner()?;
    let refused: Vec<FieldError> = body
        .events
        .iter()
        .filter(|(event, on)| !**on && event.is_safety_critical())
        .map(|(event, _)| {
            FieldError::new(
                format!("events.{event}"),
                "safety-critical emails cannot be switched off",
            )
        })
        .collect();
    if !refused.is_empty() {
        return Err(ApiError::Validation(refused));
    }
    let user_id = caller.user_id.clone();
    let off = state
        .db
        .write(move |conn| {
            let mut off = store::outbox::switched_off(conn, &user_id)?;
            for (event, on) in &body.events {
                off.retain(|o| o != event.as_str());
                if !on {
                    off.push(event.as_str().to_owned());
                }
            }
            let names: Vec<&str> = off.iter().map(String::as_str).collect();
            store::outbox::set_switched_off(conn, &user_id, &names)?;
            Ok(off)
        })
        .await?;
    Ok(web::Json(preferences(&off)))
}

text_enum!(
    /// Where an email is: waiting (or retrying), delivered, given up on after
    /// the last attempt, or not sent because its recipient switched it off.
    OutboxStatus {
        Pending => "pending",
        Sent => "sent",
        Dead => "dead",
        Suppressed => "suppressed",
    }
);

/// An email in the outbox, as admins see it (no body: it is rendered when sent).
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxEmail {
    pub id: String,
    pub event: String,
    pub request_id: Option<String>,
    pub recipient_id: Option<String>,
    pub to_address: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl OutboxEmail {
    fn from_row(row: EmailRow) -> Result<OutboxEmail, ApiError> {
        Ok(OutboxEmail {
            status: OutboxStatus::parse(&row.status)
                .ok_or_else(|| ApiError::internal("an outbox row has an unknown status"))?,
            id: row.id,
            event: row.event,
            request_id: row.request_id,
            recipient_id: row.recipient_id,
            to_address: row.to_address,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.and_utc(),
            last_error: row.last_error,
            created_at: row.created_at.and_utc(),
            sent_at: row.sent_at.map(|t| t.and_utc()),
        })
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    pub status: Option<OutboxStatus>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/admin/outbox", tag = "email",
    operation_id = "list_outbox_emails",
    summary = "List emails in the outbox",
    description = "Admins only. Outgoing emails, newest first, with their status, attempts and last error, filterable by status; emails carry no case content.",
    params(OutboxQuery),
    responses((status = 200, description = "Emails, newest first", body = Page<OutboxEmail>)),
    security(("bearer" = []))
)]
pub async fn outbox(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<OutboxQuery>,
) -> Result<web::Json<Page<OutboxEmail>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let status = query.status.map(OutboxStatus::as_str);
    let rows = state
        .db
        .read(move |conn| {
            let rows = store::outbox::list(conn, status, page.after.as_deref(), page.fetch())?;
            Ok(page.page(rows, |r| &r.id))
        })
        .await?;
    let items = rows
        .items
        .into_iter()
        .map(OutboxEmail::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(Page {
        items,
        next_cursor: rows.next_cursor,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/admin/outbox/{id}/retry", tag = "email",
    operation_id = "retry_outbox_email",
    summary = "Retry a dead email",
    description = "Admins only. Queues an email that gave up (`dead`) again with fresh attempts. 409 for an email that is not dead.",
    params(("id" = String, Path, description = "Email id")),
    responses(
        (status = 200, description = "Queued again with fresh attempts", body = OutboxEmail),
        (status = 409, description = "Only a dead email can be retried", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn retry(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner();
    let now = state.clock.now();
    let actor = caller.user_id.clone();
    let row = state
        .db
        .write(move |conn| {
            let row = store::outbox::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            if !store::outbox::retry(conn, &id, now)? {
                return Err(ApiError::conflict(format!(
                    "the email is {}; only a dead email can be retried",
                    row.status
                )));
            }
            store::audit::append(
                conn,
                Some(&actor),
                "email.retried",
                row.request_id.as_deref(),
                serde_json::json!({"email_id": id, "event": row.event}),
                now,
            )?;
            store::outbox::find(conn, &id)?.ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(OutboxEmail::from_row(row)?))
}
