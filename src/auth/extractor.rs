//! `Caller`: the signed-in person behind a request, and `ClientCaller`: the
//! API client behind one; both checked on every call. `OwnAccountCaller` is
//! the signed-in person on the few endpoints still open to them while they
//! must change a password an admin set.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::domain::accounts::Role;
use crate::domain::integrations::{parse_scopes, Scope};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;

#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub session_id: String,
    /// The role as stored now, not as it was when the token was issued.
    pub role: Role,
}

impl Caller {
    /// 403 unless the caller holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} may not do this",
                self.role
            )))
        }
    }
}

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
                .read(move |conn| store::sessions::live_account(conn, &lookup.0, &lookup.1))
                .await?
                .ok_or_else(|| unauthorized("the session has ended or the account is disabled"))?;
            let role = Role::parse(&account.role)
                .ok_or_else(|| ApiError::internal("stored role is unknown"))?;
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

/// The signed-in person on the endpoints that stay open while they must
/// change a password an admin set: reading their own account (`GET /me`)
/// and changing the password (`POST /me/password`). Checked like
/// [`Caller`] in every other way. (Refresh and sign-out take the refresh
/// token, not an access token, so they stay open too.)
#[derive(Debug, Clone)]
pub struct OwnAccountCaller(pub Caller);

impl FromRequest for OwnAccountCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<OwnAccountCaller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let authenticated = Caller::authenticate(req);
        Box::pin(async move { Ok(OwnAccountCaller(authenticated.await?.0)) })
    }
}

/// An API client (another agency's system) behind a request, checked on
/// every call: the client must still exist unrevoked with the secret the
/// token was issued under.
#[derive(Debug, Clone)]
pub struct ClientCaller {
    pub client_id: String,
    pub organisation: String,
    pub scopes: Vec<Scope>,
}

impl ClientCaller {
    /// 403 unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token lacks the {} scope",
                scope.as_str()
            )))
        }
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
                .read(move |conn| store::clients::find(conn, &id))
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
