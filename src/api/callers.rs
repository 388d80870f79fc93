//! Reads the bearer token of a request and builds its checked caller
//! (`crate::auth::{Caller, OwnAccountCaller, ClientCaller}`): the token must
//! be valid, its session or client live, and the account active, as stored
//! now, on every call.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::api::state::AppState;
use crate::auth::{Caller, ClientCaller, OwnAccountCaller};
use crate::domain::integrations::parse_scopes;
use crate::error::ApiError;
use crate::store;

fn unauthorized(detail: &str) -> ApiError {
    ApiError::Unauthorized(detail.to_owned())
}

/// The bearer token of a request, or the 401 that says what is wrong.
fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    if req.headers().get(header::AUTHORIZATION).is_none() {
        return Err(unauthorized(
            "send an access token as Authorization: Bearer <token>",
        ));
    }
    bearer(req)
        .map(str::to_owned)
        .ok_or_else(|| unauthorized("the Authorization header must use the Bearer scheme"))
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub(crate) fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

impl Caller {
    /// The signed-in person behind `req`, with whether they must change a
    /// password an admin set before doing anything else: the token must be
    /// valid, its session live and the account active, as stored now.
    fn authenticate(
        req: &HttpRequest,
    ) -> impl Future<Output = Result<(Caller, bool), ApiError>> + 'static {
        let found = app_state(req).and_then(|state| Ok((state, bearer_token(req)?)));
        async move {
            let (state, token) = found?;
            let claims = state
                .keys
                .verify(&token)
                .map_err(|_| unauthorized("the access token is invalid or expired"))?;
            let (user_id, session_id) = (claims.sub, claims.sid);
            let lookup = (user_id.clone(), session_id.clone());
            let account = state
                .db
                .read(move |conn| Ok(store::sessions::live_account(conn, &lookup.0, &lookup.1)?))
                .await?
                .ok_or_else(|| unauthorized("the session has ended or the account is disabled"))?;
            let role = account.role;
            let caller = Caller {
                user_id,
                session_id,
                role,
            };
            Ok((caller, account.password_change_required))
        }
    }
}

/// Every endpoint for people takes a `Caller`, so this is the one place
/// where an account that must change its password is held back (403
/// `/problems/password-change-required`); the endpoints exempt from that
/// take an [`OwnAccountCaller`] instead.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let authenticated = Caller::authenticate(req);
        Box::pin(async move {
            match authenticated.await? {
                (_, true) => Err(ApiError::PasswordChangeRequired),
                (caller, false) => Ok(caller),
            }
        })
    }
}

impl FromRequest for OwnAccountCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<OwnAccountCaller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let authenticated = Caller::authenticate(req);
        Box::pin(async move { Ok(OwnAccountCaller(authenticated.await?.0)) })
    }
}

impl FromRequest for ClientCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ClientCaller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let found = app_state(req).and_then(|state| Ok((state, bearer_token(req)?)));
        Box::pin(async move {
            let (state, token) = found?;
            let claims = state
                .keys
                .verify_client(&token)
                .map_err(|_| unauthorized("the client token is invalid or expired"))?;
            let id = claims.sub.clone();
            let client = state
                .db
                .read(move |conn| Ok(store::clients::find(conn, &id)?))
                .await?
                .filter(|c| c.revoked_at.is_none() && c.secret_version == claims.ver)
                .ok_or_else(|| {
                    unauthorized("the client was revoked or its secret rotated; get a new token")
                })?;
            // A token never carries more than the client holds now.
            let held = parse_scopes(&client.scopes).unwrap_or_default();
            let scopes = parse_scopes(&claims.scope)
                .unwrap_or_default()
                .into_iter()
                .filter(|s| held.contains(s))
                .collect();
            Ok(ClientCaller {
                client_id: client.id,
                organisation: client.organisation,
                scopes,
            })
        })
    }
}
