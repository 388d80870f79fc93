//! Who is behind a request, once checked: `Caller`, the signed-in person;
//! `OwnAccountCaller`, a signed-in person on the few endpoints still open
//! to them while they must change a password an admin set; `ClientCaller`,
//! an API client. The HTTP layer (`api::callers`) builds them from the
//! bearer token.

use crate::domain::accounts::Role;
use crate::domain::integrations::Scope;
use crate::error::ApiError;

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

/// The signed-in person on the endpoints that stay open while they must
/// change a password an admin set: reading their own account (`GET /me`)
/// and changing the password (`POST /me/password`). Checked like
/// [`Caller`] in every other way. (Refresh and sign-out take the refresh
/// token, not an access token, so they stay open too.)
#[derive(Debug, Clone)]
pub struct OwnAccountCaller(pub Caller);

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
