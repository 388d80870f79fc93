//! API clients: admins create, rotate and revoke them; a client exchanges
//! its id and secret for a short-lived token (OAuth 2.0 client credentials,
//! RFC 6749 §4.4).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::auth::client_address;
use crate::api::extract::{FormBody, JsonBody, QueryParams};
use crate::api::not_blank;
use crate::api::pagination::{Page, PageRequest};
use crate::api::state::AppState;
use crate::auth::Caller;
use crate::domain::accounts::{Organisation, Role};
use crate::domain::integrations::{granted_scopes, parse_scopes, scopes_text, Scope};
use crate::error::{ApiError, FieldError};
use crate::store;
use crate::store::clients::ClientRow;
use crate::workflows::sessions::Attempt;

/// Another agency's system, as admins see it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationClient {
    pub id: String,
    pub name: String,
    /// The organisation whose practitioners it submits for.
    pub organisation: Organisation,
    pub scopes: Vec<Scope>,
    /// Goes up at every rotation.
    pub secret_version: i32,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl IntegrationClient {
    fn from_row(row: ClientRow) -> Result<IntegrationClient, ApiError> {
        Ok(IntegrationClient {
            organisation: Organisation::parse(&row.organisation)
                .ok_or_else(|| ApiError::internal("stored organisation is unknown"))?,
            scopes: parse_scopes(&row.scopes).map_err(ApiError::internal)?,
            id: row.id,
            name: row.name,
            secret_version: row.secret_version,
            created_at: row.created_at.and_utc(),
            revoked_at: row.revoked_at.map(|t| t.and_utc()),
        })
    }
}

/// A client with its secret, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientWithSecret {
    pub client: IntegrationClient,
    /// Send with the client id to /auth/token. Only a digest is kept: it
    /// cannot be shown again, only rotated.
    pub client_secret: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    #[validate(length(min = 1, max = 100), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    pub organisation: Organisation,
    #[validate(length(min = 1, max = 3))]
    #[schema(min_items = 1, max_items = 3)]
    pub scopes: Vec<Scope>,
}

#[utoipa::path(
    post, path = "/api/v1/admin/api-clients", tag = "integrations",
    operation_id = "create_integration_client",
    summary = "Create an API client",
    description = "Admins only. Registers another agency's system, bound to one organisation and the scopes it may use. The answer carries the client secret; it is shown this once and only a digest is kept.",
    request_body = CreateClient,
    responses((status = 201, description = "Created; the secret is shown this once", body = ClientWithSecret)),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let body = body.into_inner()?;
    let now = state.clock.now();
    let admin = caller.user_id.clone();
    let (row, secret) = state
        .db
        .write(move |conn| {
            let mut scopes = body.scopes.clone();
            scopes.sort();
            scopes.dedup();
            crate::workflows::integrations::create_client(
                conn,
                &admin,
                &body.name,
                body.organisation,
                &scopes,
                now,
            )
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::LOCATION,
            format!("/api/v1/admin/api-clients/{}", row.id),
        ))
        .json(ClientWithSecret {
            client: IntegrationClient::from_row(row)?,
            client_secret: secret,
        }))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientListQuery {
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/admin/api-clients", tag = "integrations",
    operation_id = "list_integration_clients",
    summary = "List API clients",
    description = "Admins only. API clients, oldest first, revoked ones included; secrets are never shown.",
    params(ClientListQuery),
    responses((status = 200, description = "API clients, oldest first", body = Page<IntegrationClient>)),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ClientListQuery>,
) -> Result<web::Json<Page<IntegrationClient>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let rows = state
        .db
        .read(move |conn| {
            let rows = store::clients::list(conn, page.after.as_deref(), page.fetch())?;
            Ok(page.page(rows, |r| &r.id))
        })
        .await?;
    Ok(web::Json(Page {
        items: rows
            .items
            .into_iter()
            .map(IntegrationClient::from_row)
            .collect::<Result<_, _>>()?,
        next_cursor: rows.next_cursor,
    }))
}

#[utoipa::path(
    get, path = "/api/v1/admin/api-clients/{id}", tag = "integrations",
    operation_id = "get_integration_client",
    summary = "Get an API client",
    description = "Admins only. One API client: its organisation, scopes, secret version and whether it is revoked. 404 for an unknown id.",
    params(("id" = String, Path, description = "Client id")),
    responses((status = 200, description = "The client", body = IntegrationClient)),
    security(("bearer" = []))
)]
pub async fn read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<IntegrationClient>, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner();
    let row = state
        .db
        .read(move |conn| Ok(store::clients::find(conn, &id)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(web::Json(IntegrationClient::from_row(row)?))
}

#[utoipa::path(
    post, path = "/api/v1/admin/api-clients/{id}/rotate-secret", tag = "integrations",
    operation_id = "rotate_integration_client_secret",
    summary = "Rotate an API client's secret",
    description = "Admins only. Issues a new secret (shown this once) and bumps the secret version, so tokens issued under the old secret stop working at once. 409 if the client is revoked.",
    params(("id" = String, Path, description = "Client id")),
    responses(
        (status = 200, description = "A new secret, shown this once; tokens issued under the old one stop working", body = ClientWithSecret),
        (status = 409, description = "The client is revoked", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (id, admin) = (id.into_inner(), caller.user_id.clone());
    let now = state.clock.now();
    let (row, secret) = state
        .db
        .write(move |conn| crate::workflows::integrations::rotate_secret(conn, &admin, &id, now))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ClientWithSecret {
            client: IntegrationClient::from_row(row)?,
            client_secret: secret,
        }))
}

#[utoipa::path(
    post, path = "/api/v1/admin/api-clients/{id}/revoke", tag = "integrations",
    operation_id = "revoke_integration_client",
    summary = "Revoke an API client",
    description = "Admins only. The client can no longer get tokens, its current tokens stop working and its webhooks stop. 409 if it is already revoked.",
    params(("id" = String, Path, description = "Client id")),
    responses(
        (status = 200, description = "Revoked: its tokens stop working and its webhooks stop", body = IntegrationClient),
        (status = 409, description = "Already revoked", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<IntegrationClient>, ApiError> {
    caller.require(&[Role::Admin])?;
    let (id, admin) = (id.into_inner(), caller.user_id.clone());
    let now = state.clock.now();
    let row = state
        .db
        .write(move |conn| crate::workflows::integrations::revoke(conn, &admin, &id, now))
        .await?;
    Ok(web::Json(IntegrationClient::from_row(row)?))
}

/// An OAuth 2.0 token request (RFC 6749 §4.4.2). The client authenticates
/// with `client_id` and `client_secret` here, or with HTTP Basic. Other
/// parameters are ignored, as RFC 6749 §3.2 asks.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct TokenForm {
    /// Must be `client_credentials`.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub grant_type: String,
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub client_id: Option<String>,
    #[validate(length(max = 256))]
    #[schema(max_length = 256)]
    pub client_secret: Option<String>,
    /// Space-separated scopes wanted; all the client holds when left out.
    #[validate(length(max = 256))]
    #[schema(max_length = 256)]
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientToken {
    /// A JWT to send as `Authorization: Bearer <token>` to the client endpoints.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until it expires; ask for a new one then (there is no refresh token).
    pub expires_in: i64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// Where clients get tokens; its errors carry RFC 6749 members.
pub const TOKEN_PATH: &str = "/api/v1/auth/token";

const BAD_CLIENT: &str = "the client id or secret is not correct, or the client is revoked";

/// `client_id` and `client_secret` from HTTP Basic (RFC 6749 §2.3.1), if sent.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let refused = || ApiError::Unauthorized(BAD_CLIENT.into());
    let encoded = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Basic "))
        .ok_or_else(refused)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(refused)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(refused)?;
    let unescape = |part: &str| {
        form_urlencoded::parse(format!("v={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    match (unescape(id), unescape(secret)) {
        (Some(id), Some(secret)) => Ok(Some((id, secret))),
        _ => Err(refused()),
    }
}

#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth",
    operation_id = "issue_client_token",
    summary = "Get an API client token (OAuth 2.0 client credentials)",
    description = "For API clients (other agencies' systems), RFC 6749 §4.4. Send `grant_type=client_credentials` as a form, with the client's id and secret either in HTTP Basic (`clientBasic`) or as `client_id` and `client_secret` in the body, not both. Unknown form parameters are ignored. Errors are problem+json that also carry RFC 6749's `error` and `error_description`: `invalid_client` (401: unknown client, wrong secret or revoked, indistinguishable), `invalid_request` or `unsupported_grant_type` or `invalid_scope` (400), and `temporarily_unavailable` (429 after repeated failures, with Retry-After).",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A short-lived client token", body = ClientToken),
        (status = 400, description = "`invalid_request` (a missing, repeated or invalid parameter, each named in \
            `errors`), `unsupported_grant_type` or `invalid_scope`, in `error`",
         body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret or a revoked client (indistinguishable)",
         body = crate::error::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Basic realm=\"api-clients\"`"))),
        (status = 429, description = "`temporarily_unavailable`: too many failures for this client or address",
         body = crate::error::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    // HTTP Basic, or no header with the credentials in the form.
    security(("clientBasic" = []), ())
)]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: FormBody<TokenForm>,
) -> Result<HttpResponse, ApiError> {
    issue_token(state, req, form)
        .await
        .map_err(ApiError::into_oauth)
}

/// A scope problem, as RFC 6749 names it.
fn invalid_scope(detail: String, message: String) -> ApiError {
    ApiError::oauth(
        "invalid_scope",
        ApiError::BadRequest {
            detail,
            errors: vec![FieldError::new("scope", message)],
        },
    )
}

async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: FormBody<TokenForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner()?;
    if form.grant_type != "client_credentials" {
        return Err(ApiError::oauth(
            "unsupported_grant_type",
            ApiError::BadRequest {
                detail: "only client_credentials is supported".into(),
                errors: vec![FieldError::new("grant_type", "must be client_credentials")],
            },
        ));
    }
    let asked = form
        .scope
        .as_deref()
        .map(parse_scopes)
        .transpose()
        .map_err(|unknown| {
            invalid_scope(
                format!("{unknown} is not a scope"),
                format!("unknown scope {unknown}"),
            )
        })?;
    let (client_id, secret) = match (basic_credentials(&req)?, form.client_id, form.client_secret) {
        (Some(basic), None, None) => basic,
        (None, Some(id), Some(secret)) => (id, secret),
        (Some(_), _, _) => {
            return Err(ApiError::BadRequest {
                detail: "send the client's credentials once, in the header or the body".into(),
                errors: vec![FieldError::new("client_id", "sent twice")],
            })
        }
        (None, _, _) => return Err(ApiError::Unauthorized(BAD_CLIENT.into())),
    };
    let key = format!("client:{client_id}");
    let address = client_address(&state, &req);
    let attempt = Attempt::begin(
        &state.db,
        &state.settings.auth,
        &key,
        &address,
        state.clock.now(),
    )
    .await?;
    let client = state
        .db
        .write(move |conn| {
            let client = crate::workflows::integrations::authenticate(conn, &client_id, &secret)?;
            if client.is_some() {
                attempt.succeeded(conn)?;
            }
            Ok(client)
        })
        .await?
        .ok_or_else(|| ApiError::Unauthorized(BAD_CLIENT.into()))?;
    let held = parse_scopes(&client.scopes).map_err(ApiError::internal)?;
    let granted = granted_scopes(&held, asked.as_deref()).map_err(|missing| {
        invalid_scope(
            format!("this client does not hold {}", missing.as_str()),
            format!("{} is not held", missing.as_str()),
        )
    })?;
    let scope = scopes_text(&granted);
    let ttl = state.settings.integrations.client_token_ttl_seconds;
    let access_token = state
        .keys
        .issue_client(&client.id, &scope, client.secret_version, ttl, Utc::now())
        .map_err(ApiError::internal)?;
    tracing::info!(client_id = %client.id, "client token issued");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ClientToken {
            access_token,
            token_type: "Bearer",
            expires_in: ttl,
            scope,
        }))
}
