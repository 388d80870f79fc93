//! The conversation on a request (messages) and its timeline.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{JsonBody, QueryParams};
use crate::api::not_blank;
use crate::api::pagination::{Page, PageRequest};
use crate::api::preconditions::etag;
use crate::api::run::{as_actor, audited};
use crate::api::state::AppState;
use crate::auth::Caller;
use crate::domain::accounts::CASE_ROLES;
use crate::domain::lifecycle::Status;
use crate::domain::requests::MessageKind;
use crate::error::ApiError;
use crate::store;
use crate::store::messages::MessageRow;
use crate::store::requests::TransitionRow;
use crate::workflows::requests as workflow;

#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub id: String,
    pub request_id: String,
    pub author_id: String,
    pub kind: MessageKind,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl Message {
    pub(crate) fn from_row(row: MessageRow) -> Result<Message, ApiError> {
        Ok(Message {
            kind: MessageKind::parse(&row.kind).ok_or_else(|| {
                ApiError::internal(format!("message {} has an unknown kind", row.id))
            })?,
            created_at: row.created_at.and_utc(),
            id: row.id,
            request_id: row.request_id,
            author_id: row.author_id,
            body: row.body,
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// `reply` is seen by the requester; `internal_note` by unit staff only.
    pub kind: MessageKind,
    #[validate(length(min = 1, max = 20000), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    pub body: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/requests/{id}/messages", tag = "conversation",
    operation_id = "post_message",
    summary = "Post a reply or an internal note",
    description = "Its requester (replies only) and staff within reach. A staff `reply` is seen by the requester and is the first response for the SLA; an `internal_note` is never shown to the requester. 409 once the request takes no more messages.",
    params(("id" = String, Path, description = "Request id")),
    request_body = NewMessage,
    responses(
        (status = 201, description = "Posted", body = Message,
         headers(("ETag" = String, description = "The request's version after the message"))),
        (status = 409, description = "The request takes no more messages", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<NewMessage>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let body = body.into_inner()?;
    let id = id.into_inner();
    let sla = state.sla.clone();
    let (message, request) = as_actor(&state, &caller, true, move |conn, actor| {
        workflow::post_message(conn, actor, &id, body.kind, &body.body, &sla, now)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag(request.version)))
        .json(Message::from_row(message)?))
}

#[utoipa::path(
    get, path = "/api/v1/requests/{id}/messages", tag = "conversation",
    operation_id = "list_messages",
    summary = "List a request's messages",
    description = "Its requester (replies only) and staff within reach, oldest first. Staff reads are audited.",
    params(("id" = String, Path, description = "Request id"), PageQuery),
    responses((status = 200, description = "Messages, oldest first; requesters see replies only", body = Page<Message>)),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: QueryParams<PageQuery>,
) -> Result<web::Json<Page<Message>>, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let id = id.into_inner();
    let rows = audited(&state, &caller, false, move |conn, actor| {
        workflow::read(conn, actor, &id, "messages.read", now)?.try_map(|seen| {
            let rows = store::messages::list(
                conn,
                &id,
                workflow::visible_kind(seen.access),
                page.after.as_deref(),
                page.fetch(),
            )?;
            Ok(page.page(rows, |m| &m.id))
        })
    })
    .await?
    .into_inner();
    let items = rows
        .items
        .into_iter()
        .map(Message::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(Page {
        items,
        next_cursor: rows.next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChange {
    pub from: Status,
    pub to: Status,
    pub actor_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Message,
    StatusChange,
}

/// One event on a request: a message or a change of status.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItem {
    pub id: String,
    pub at: DateTime<Utc>,
    pub kind: TimelineKind,
    /// Set when `kind` is `message`.
    pub message: Option<Message>,
    /// Set when `kind` is `status_change`.
    pub status_change: Option<StatusChange>,
}

fn status_change(row: TransitionRow) -> Result<TimelineItem, ApiError> {
    let parse = |s: &str| {
        Status::parse(s).ok_or_else(|| {
            ApiError::internal(format!("transition {} has an unknown status", row.id))
        })
    };
    Ok(TimelineItem {
        status_change: Some(StatusChange {
            from: parse(&row.from_status)?,
            to: parse(&row.to_status)?,
            actor_id: row.actor_id.clone(),
        }),
        at: row.at.and_utc(),
        kind: TimelineKind::StatusChange,
        message: None,
        id: row.id,
    })
}

#[utoipa::path(
    get, path = "/api/v1/requests/{id}/timeline", tag = "conversation",
    operation_id = "list_timeline",
    summary = "List a request's timeline",
    description = "Its requester and staff within reach: messages and status changes in order; requesters never see internal notes. Staff reads are audited.",
    params(("id" = String, Path, description = "Request id"), PageQuery),
    responses((status = 200, description = "Messages and status changes in order; requesters never see internal notes", body = Page<TimelineItem>)),
    security(("bearer" = []))
)]
pub async fn timeline(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: QueryParams<PageQuery>,
) -> Result<web::Json<Page<TimelineItem>>, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let id = id.into_inner();
    let wanted = page.clone();
    let (messages, transitions) = audited(&state, &caller, false, move |conn, actor| {
        let page = wanted;
        workflow::read(conn, actor, &id, "timeline.read", now)?.try_map(|seen| {
            let after = page.after.as_deref();
            let messages = store::messages::list(
                conn,
                &id,
                workflow::visible_kind(seen.access),
                after,
                page.fetch(),
            )?;
            let transitions = store::requests::transitions(conn, &id, after, page.fetch())?;
            Ok((messages, transitions))
        })
    })
    .await?
    .into_inner();
    // Both tables use time-ordered ids, so merging by id merges by time.
    let mut items = messages
        .into_iter()
        .map(|m| {
            Ok(TimelineItem {
                id: m.id.clone(),
                at: m.created_at.and_utc(),
                kind: TimelineKind::Message,
                status_change: None,
                message: Some(Message::from_row(m)?),
            })
        })
        .chain(transitions.into_iter().map(status_change))
        .collect::<Result<Vec<_>, ApiError>>()?;
    items.sort_by(|a, b| a.id.cmp(&b.id));
    items.truncate(usize::try_from(page.fetch()).unwrap_or(usize::MAX));
    Ok(web::Json(page.page(items, |i| &i.id)))
}
