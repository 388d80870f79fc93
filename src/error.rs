//! The one error type of the API, rendered as RFC 9457 `application/problem+json`.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One invalid input, named by its field (dotted path for nested fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, query parameter or header that is wrong.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI reference naming the kind of problem.
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation-error")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The invalid fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub errors: Vec<FieldError>,
    /// The OAuth 2.0 error code (RFC 6749 §5.2), on answers of the token
    /// endpoint only, so OAuth libraries see an error rather than a token.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "invalid_client")]
    pub error: Option<String>,
    /// With `error`: the same text as `detail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

#[derive(Debug)]
pub enum ApiError {
    /// 400: the request could not be read (malformed JSON, bad query string).
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 422: well-formed but invalid fields.
    Validation(Vec<FieldError>),
    Unauthorized(String),
    Forbidden(String),
    /// 403: an admin set this person's password and they have not changed it
    /// yet; only their own account and the password change are open to them.
    PasswordChangeRequired,
    NotFound,
    MethodNotAllowed(String),
    Conflict(String),
    PreconditionFailed(String),
    PreconditionRequired(String),
    PayloadTooLarge(usize),
    UnsupportedMediaType(String),
    TooManyRequests {
        retry_after_seconds: u64,
    },
    Unavailable(String),
    Internal(String),
    /// An error of the OAuth 2.0 token endpoint: `cause` with its RFC 6749
    /// `error` code as extension members.
    OAuth {
        code: &'static str,
        cause: Box<ApiError>,
    },
}

/// Seconds a client should wait before retrying a 503.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 5;

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn bad_query(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let error = FieldError::new(field, message);
        ApiError::BadRequest {
            detail: format!("query parameter `{}`: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::Conflict(detail.into())
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::Forbidden(detail.into())
    }

    /// Logs the cause (never shown to the caller) and returns a bare 500.
    pub fn internal(cause: impl fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::Internal("an unexpected error occurred".into())
    }

    pub fn unavailable(cause: impl fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "database unavailable");
        ApiError::Unavailable("the service is temporarily unavailable; retry shortly".into())
    }

    /// The error as the token endpoint answers it (RFC 6749 §5.2): a
    /// validation problem becomes a 400, as the RFC asks, and the code says
    /// what kind of failure it was unless the caller has named one already.
    pub fn into_oauth(self) -> ApiError {
        let code = match &self {
            ApiError::OAuth { .. } => return self,
            ApiError::Unauthorized(_) => "invalid_client",
            ApiError::TooManyRequests { .. } | ApiError::Unavailable(_) => {
                "temporarily_unavailable"
            }
            ApiError::Internal(_) => "server_error",
            _ => "invalid_request",
        };
        ApiError::oauth(code, self)
    }

    /// `cause` with an explicit RFC 6749 error code.
    pub fn oauth(code: &'static str, cause: ApiError) -> ApiError {
        let cause = match cause {
            ApiError::Validation(errors) => ApiError::BadRequest {
                detail: ApiError::Validation(errors.clone())
                    .detail()
                    .unwrap_or_default(),
                errors,
            },
            other => other,
        };
        ApiError::OAuth {
            code,
            cause: Box::new(cause),
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::OAuth { cause, .. } => cause.slug_and_title(),
            ApiError::BadRequest { .. } => ("bad-request", "The request could not be read"),
            ApiError::Validation(_) => ("validation-error", "The request has invalid fields"),
            ApiError::Unauthorized(_) => ("unauthorized", "Authentication is required"),
            ApiError::Forbidden(_) => ("forbidden", "This action is not allowed for you"),
            ApiError::PasswordChangeRequired => (
                "password-change-required",
                "You must change your password first",
            ),
            ApiError::NotFound => ("not-found", "No such resource"),
            ApiError::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            ApiError::Conflict(_) => ("conflict", "The request conflicts with current state"),
            ApiError::PreconditionFailed(_) => ("precondition-failed", "Precondition failed"),
            ApiError::PreconditionRequired(_) => ("precondition-required", "Precondition required"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "The request body is too large"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            ApiError::Unavailable(_) => ("service-unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal-error", "Internal server error"),
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            ApiError::OAuth { cause, .. } => cause.detail(),
            ApiError::BadRequest { detail, .. } => Some(detail.clone()),
            ApiError::Validation(errors) => Some(
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::Conflict(d)
            | ApiError::PreconditionFailed(d)
            | ApiError::PreconditionRequired(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::Unavailable(d)
            | ApiError::Internal(d) => Some(d.clone()),
            ApiError::PasswordChangeRequired => Some(
                "an administrator set your password: change it at POST /api/v1/me/password \
                 before doing anything else"
                    .into(),
            ),
            ApiError::NotFound => None,
            ApiError::MethodNotAllowed(allowed) => Some(format!("allowed methods: {allowed}")),
            ApiError::PayloadTooLarge(limit) => Some(format!("the limit is {limit} bytes")),
            ApiError::TooManyRequests {
                retry_after_seconds,
            } => Some(format!("try again in {retry_after_seconds} seconds")),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let (errors, error) = match self {
            ApiError::Validation(errors) | ApiError::BadRequest { errors, .. } => {
                (errors.clone(), None)
            }
            ApiError::OAuth { code, cause } => (cause.problem().errors, Some(code.to_string())),
            _ => (Vec::new(), None),
        };
        let detail = self.detail();
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            error_description: error.as_ref().and(detail.clone()),
            detail,
            errors,
            error,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (_, title) = self.slug_and_title();
        match self.detail() {
            Some(detail) => write!(f, "{title}: {detail}"),
            None => f.write_str(title),
        }
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::OAuth { cause, .. } => cause.status_code(),
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::PasswordChangeRequired => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        let cause = match self {
            ApiError::OAuth { cause, .. } => cause.as_ref(),
            other => other,
        };
        match (self, cause) {
            // RFC 6749 §5.2: the scheme a client may authenticate with here.
            (ApiError::OAuth { .. }, ApiError::Unauthorized(_)) => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="api-clients""#));
            }
            (_, ApiError::Unauthorized(_)) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            (
                _,
                ApiError::TooManyRequests {
                    retry_after_seconds,
                },
            ) => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            (_, ApiError::Unavailable(_)) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    UNAVAILABLE_RETRY_AFTER_SECONDS.to_string(),
                ));
            }
            (_, ApiError::MethodNotAllowed(allowed)) => {
                response.insert_header((header::ALLOW, allowed.as_str()));
            }
            _ => {}
        }
        let body = serde_json::to_string(&self.problem())
            .unwrap_or_else(|_| r#"{"type":"/problems/internal-error","title":"Internal server error","status":500}"#.into());
        response.body(body)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::conflict("a resource with the same unique value already exists")
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::Unavailable("a concurrent change interfered; retry the request".into())
            }
            // The database went away mid-request (restarted, failed over):
            // nothing was committed, and a retry will get a new connection.
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                ApiError::unavailable(info.message())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(e: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        flatten_validation("", &e, &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::Validation(out)
    }
}

fn flatten_validation(
    prefix: &str,
    errors: &validator::ValidationErrors,
    out: &mut Vec<FieldError>,
) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for err in list {
                    let message = err
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| describe_validation_code(err));
                    out.push(FieldError::new(path.clone(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten_validation(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten_validation(&format!("{path}[{index}]"), inner, out);
                }
            }
        }
    }
}

fn describe_validation_code(err: &validator::ValidationError) -> String {
    let param = |name: &str| err.params.get(name).map(|v| v.to_string());
    match err.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            _ => "invalid length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "out of range".into(),
        },
        "email" => "must be a valid email address".into(),
        other => format!("invalid ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn validation_problem_names_each_field() {
        let err = ApiError::Validation(vec![FieldError::new(
            "email",
            "must be a valid email address",
        )]);
        let problem = err.problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.problem_type, "/problems/validation-error");
        assert_eq!(problem.errors[0].field, "email");
    }

    #[test]
    fn too_many_requests_carries_retry_after_and_problem_content_type() {
        let resp = ApiError::TooManyRequests {
            retry_after_seconds: 42,
        }
        .error_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "42");
        assert_eq!(
            resp.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_CONTENT_TYPE
        );
        let body = resp.into_body().try_into_bytes().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["status"], 429);
    }

    #[test]
    fn token_endpoint_errors_carry_their_oauth_code_and_validation_is_a_400() {
        let code = |e: ApiError| match e.into_oauth() {
            ApiError::OAuth { code, .. } => code,
            _ => unreachable!(),
        };
        assert_eq!(code(ApiError::Unauthorized("x".into())), "invalid_client");
        assert_eq!(
            code(ApiError::TooManyRequests {
                retry_after_seconds: 3
            }),
            "temporarily_unavailable"
        );
        assert_eq!(code(ApiError::Internal("x".into())), "server_error");
        assert_eq!(code(ApiError::field("grant_type", "x")), "invalid_request");
        assert_eq!(
            code(ApiError::oauth(
                "invalid_scope",
                ApiError::field("scope", "x")
            )),
            "invalid_scope"
        );
        let problem = ApiError::field("grant_type", "required")
            .into_oauth()
            .problem();
        assert_eq!(problem.status, 400);
        assert_eq!(problem.error.as_deref(), Some("invalid_request"));
        assert_eq!(problem.error_description, problem.detail);
        assert_eq!(problem.errors[0].field, "grant_type");
        assert!(ApiError::NotFound.problem().error.is_none());
    }

    #[test]
    fn a_required_password_change_is_a_403_of_its_own_type() {
        // The web client keys on this type; it must not change.
        let problem = ApiError::PasswordChangeRequired.problem();
        assert_eq!(problem.status, 403);
        assert_eq!(problem.problem_type, "/problems/password-change-required");
        assert!(problem
            .detail
            .is_some_and(|d| d.contains("POST /api/v1/me/password")));
    }

    #[test]
    fn unavailable_says_when_to_retry() {
        let resp = ApiError::Unavailable("down".into()).error_response();
        assert_eq!(
            resp.headers().get(header::RETRY_AFTER).unwrap(),
            &UNAVAILABLE_RETRY_AFTER_SECONDS.to_string()
        );
    }

    #[test]
    fn diesel_not_found_maps_to_404() {
        assert!(matches!(
            ApiError::from(diesel::result::Error::NotFound),
            ApiError::NotFound
        ));
    }
}
