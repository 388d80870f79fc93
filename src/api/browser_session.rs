//! The web client's session: its refresh token travels in a cookie that
//! scripts cannot read and only the refresh and sign-out endpoints receive,
//! and those endpoints take it only from this service's own pages.

use actix_web::http::header::{self, HeaderName};
use actix_web::{HttpRequest, HttpResponseBuilder};

use crate::config::ServerSettings;
use crate::error::ApiError;

/// `__Secure-`: browsers keep it only when set with `Secure`, so a page
/// served over plain http elsewhere cannot plant one. (`__Host-` would also
/// pin it to the host, but demands `Path=/`, which would send it everywhere.)
pub const REFRESH_COOKIE: &str = "__Secure-nru-refresh";

/// One copy per endpoint that reads it: a cookie has one path, and no path
/// covers refresh and sign-out without also covering sign-in and the API
/// clients' token endpoint, which have no use for it.
const COOKIE_PATHS: [&str; 2] = ["/api/v1/auth/refresh", "/api/v1/auth/logout"];

fn set_cookies(response: &mut HttpResponseBuilder, value: &str, max_age_seconds: i64) {
    for path in COOKIE_PATHS {
        response.append_header((
            header::SET_COOKIE,
            format!(
                "{REFRESH_COOKIE}={value}; Path={path}; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=Strict"
            ),
        ));
    }
}

/// Sets the refresh token, to live as long as the token itself.
pub fn set_refresh_cookie(response: &mut HttpResponseBuilder, token: &str, ttl_seconds: i64) {
    set_cookies(response, token, ttl_seconds);
}

/// Tells the browser to drop the refresh token (same name, paths and
/// attributes, so it replaces the one it has).
pub fn clear_refresh_cookie(response: &mut HttpResponseBuilder) {
    set_cookies(response, "", 0);
}

/// Where the refresh token of a refresh or sign-out came from.
pub enum Presented {
    /// In the JSON body, as non-browser clients send it.
    Body(String),
    /// In the session cookie, from this service's own pages.
    Cookie(String),
}

impl Presented {
    pub fn token(&self) -> &str {
        match self {
            Presented::Body(token) | Presented::Cookie(token) => token,
        }
    }
}

/// The refresh token from the body, or else from the cookie once the
/// request is shown to come from this service's pages (403 otherwise);
/// 401 when there is neither.
pub fn presented(
    req: &HttpRequest,
    body_token: Option<String>,
    server: &ServerSettings,
) -> Result<Presented, ApiError> {
    if let Some(token) = body_token {
        return Ok(Presented::Body(token));
    }
    let Some(cookie) = req.cookie(REFRESH_COOKIE).filter(|c| !c.value().is_empty()) else {
        return Err(ApiError::Unauthorized(
            "refresh_token: send it in the body, or sign in with \"session\": \"cookie\" for the session cookie".into(),
        ));
    };
    check_origin(req, server)?;
    Ok(Presented::Cookie(cookie.value().to_owned()))
}

/// Another site's page could make the browser send the cookie (a same-site
/// subdomain, say, which `SameSite=Strict` lets through). Browsers say who
/// is asking: `Origin` on every POST, and `Sec-Fetch-Site`. Either one is
/// enough when it names this service; a request with neither is not from a
/// browser page, which is the only place the cookie belongs.
fn check_origin(req: &HttpRequest, server: &ServerSettings) -> Result<(), ApiError> {
    let value = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let site = value(HeaderName::from_static("sec-fetch-site"));
    if site == Some("cross-site") {
        return Err(ApiError::Forbidden(
            "Sec-Fetch-Site: another site's page cannot use the session cookie".into(),
        ));
    }
    match value(header::ORIGIN) {
        Some(origin)
            if origin == server.public_origin
                || server.cors_allowed_origins.iter().any(|o| o == origin) =>
        {
            Ok(())
        }
        Some(_) => Err(ApiError::Forbidden(
            "Origin: only this service's pages can use the session cookie".into(),
        )),
        None if site == Some("same-origin") => Ok(()),
        None => Err(ApiError::Forbidden(
            "Origin: the session cookie is accepted from this service's pages only, which send Origin or Sec-Fetch-Site".into(),
        )),
    }
}
