//! `Caller`: the signed-in person behind a request, checked on every call.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::domain::accounts::Role;
use crate::error::ApiError;
use crate::startup::AppState;
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

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header_value = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let value = header_value.ok_or_else(|| {
                unauthorized("send an access token as Authorization: Bearer <token>")
            })?;
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    unauthorized("the Authorization header must use the Bearer scheme")
                })?;
            let claims = state
                .keys
                .verify(token)
                .map_err(|_| unauthorized("the access token is invalid or expired"))?;
            let (user_id, session_id) = (claims.sub, claims.sid);
            let lookup = (user_id.clone(), session_id.clone());
            let role = state
                .db
                .read(move |conn| store::sessions::live_role(conn, &lookup.0, &lookup.1))
                .await?
                .ok_or_else(|| unauthorized("the session has ended or the account is disabled"))?;
            let role =
                Role::parse(&role).ok_or_else(|| ApiError::internal("stored role is unknown"))?;
            Ok(Caller {
                user_id,
                session_id,
                role,
            })
        })
    }
}
