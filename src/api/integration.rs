//! What an API client does with requests: submit them for its
//! organisation's practitioners, and read and follow those it submitted
//! (anything else is 404, as if it did not exist).

use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::conversation::{Message, PageQuery};
use crate::api::extract::{JsonBody, QueryParams};
use crate::api::pagination::{Page, PageRequest};
use crate::api::requests::input::SubmitRequest;
use crate::api::requests::view::{extras, respond, summaries, RequestSummary};
use crate::api::requests::{create, Submitter};
use crate::api::state::AppState;
use crate::auth::ClientCaller;
use crate::domain::integrations::Scope;
use crate::domain::policy::Access;
use crate::error::ApiError;
use crate::store;
use crate::workflows::audit_trail::Audited;
use crate::workflows::requests as workflow;

#[utoipa::path(
    post, path = "/api/v1/client/requests", tag = "client requests",
    operation_id = "submit_client_request",
    summary = "Submit a request for a practitioner (API client)",
    description = "API clients with `requests:write`. Submits a guidance request on behalf of a practitioner of the client's own organisation, named in `on_behalf_of`; it is triaged like any other. Send an `Idempotency-Key` to retry safely. 422 names each invalid field.",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = r"^[!-~]{1,255}$",
            description = "Repeat a submission safely: the same key and body return the first result")),
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "Submitted for the practitioner named in `on_behalf_of`", body = crate::api::requests::view::GuidanceRequest,
         headers(("Location" = String, description = "URL of the request"), ("ETag" = String, description = "The version"))),
    ),
    security(("client" = ["requests:write"]))
)]
pub async fn submit(
    state: web::Data<AppState>,
    client: ClientCaller,
    req: HttpRequest,
    body: JsonBody<SubmitRequest>,
) -> Result<HttpResponse, ApiError> {
    client.require(Scope::RequestsWrite)?;
    let body = body.into_inner()?;
    create(&state, Submitter::Client(client), &req, body).await
}

#[utoipa::path(
    get, path = "/api/v1/client/requests", tag = "client requests",
    operation_id = "list_client_requests",
    summary = "List the requests this client submitted",
    description = "API clients with `requests:read`. Only the requests this client submitted, newest first, as their requester sees them.",
    params(PageQuery),
    responses((status = 200, description = "The requests this client submitted, newest first", body = Page<RequestSummary>)),
    security(("client" = ["requests:read"]))
)]
pub async fn list(
    state: web::Data<AppState>,
    client: ClientCaller,
    query: QueryParams<PageQuery>,
) -> Result<web::Json<Page<RequestSummary>>, ApiError> {
    client.require(Scope::RequestsRead)?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let rows = state
        .db
        .read(move |conn| {
            let rows = store::clients::requests(
                conn,
                &client.client_id,
                page.after.as_deref(),
                page.fetch(),
            )?;
            summaries(conn, page.page(rows, |r| &r.id))
        })
        .await?;
    Ok(web::Json(rows))
}

#[utoipa::path(
    get, path = "/api/v1/client/requests/{id}", tag = "client requests",
    operation_id = "get_client_request",
    summary = "Get a request this client submitted",
    description = "API clients with `requests:read`. The request as its requester sees it (no internal notes or staff-only fields). 404 for any request this client did not submit.",
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, description = "The request, as its requester sees it", body = crate::api::requests::view::GuidanceRequest,
               headers(("ETag" = String, description = "The version")))),
    security(("client" = ["requests:read"]))
)]
pub async fn read(
    state: web::Data<AppState>,
    client: ClientCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    client.require(Scope::RequestsRead)?;
    let id = id.into_inner();
    let shown = state
        .db
        .read(move |conn| {
            let row =
                store::clients::request(conn, &client.client_id, &id)?.ok_or(ApiError::NotFound)?;
            let count = extras(conn, &row, workflow::visible_kind(Access::Requester))?;
            Ok(Audited::requesters_own((row, count)))
        })
        .await?;
    respond(HttpResponse::Ok(), state.audit.reveal(shown).await?)
}

#[utoipa::path(
    get, path = "/api/v1/client/requests/{id}/messages", tag = "client requests",
    operation_id = "list_client_request_messages",
    summary = "List the replies on a request this client submitted",
    description = "API clients with `requests:read`. The unit's and the requester's replies, oldest first; internal notes are never included. 404 for any request this client did not submit.",
    params(("id" = String, Path, description = "Request id"), PageQuery),
    responses((status = 200, description = "The replies on the request, oldest first (never internal notes)", body = Page<Message>)),
    security(("client" = ["requests:read"]))
)]
pub async fn messages(
    state: web::Data<AppState>,
    client: ClientCaller,
    id: web::Path<String>,
    query: QueryParams<PageQuery>,
) -> Result<web::Json<Page<Message>>, ApiError> {
    client.require(Scope::RequestsRead)?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let id = id.into_inner();
    let rows = state
        .db
        .read(move |conn| {
            store::clients::request(conn, &client.client_id, &id)?.ok_or(ApiError::NotFound)?;
            let rows = store::messages::list(
                conn,
                &id,
                workflow::visible_kind(Access::Requester),
                page.after.as_deref(),
                page.fetch(),
            )?;
            Ok(page.page(rows, |m| &m.id))
        })
        .await?;
    Ok(web::Json(Page {
        items: rows
            .items
            .into_iter()
            .map(Message::from_row)
            .collect::<Result<_, _>>()?,
        next_cursor: rows.next_cursor,
    }))
}
