//! Liveness, readiness and the API description.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::startup::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    operation_id = "check_health",
    summary = "Liveness",
    description = "Public. 200 while the process is up; for the orchestrator's liveness probe.",
    responses((status = 200, description = "The process is up", body = Health))
)]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    operation_id = "check_readiness",
    summary = "Readiness",
    description = "Public. 200 when the database answers; 503 otherwise, so a load balancer stops sending traffic here.",
    responses((status = 200, description = "The database answers", body = Health))
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Health>, ApiError> {
    state
        .db
        .read(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1")
                .map_err(ApiError::unavailable)
        })
        .await?;
    Ok(web::Json(Health { status: "ready" }))
}

#[utoipa::path(
    get, path = "/openapi.yaml", tag = "operations",
    operation_id = "get_openapi_document",
    summary = "This OpenAPI document",
    description = "Public. The OpenAPI 3.1 description of this API as YAML, the same as `openapi.yaml` in the repository; generate clients from it.",
    responses((status = 200, description = "The document (a YAML mapping)", content_type = "application/yaml", body = serde_json::Value))
)]
pub async fn openapi_yaml(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml")
        .body(state.openapi_yaml.clone())
}

/// Prometheus metrics. With `metrics.token` set (production requires it) a
/// scrape must send it as a bearer token.
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = state.settings.metrics.token.expose();
    if !token.is_empty() {
        let sent = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Compare digests so the time taken says nothing about the token.
        if Sha256::digest(sent.as_bytes()) != Sha256::digest(token.as_bytes()) {
            return Err(ApiError::Unauthorized(
                "/metrics needs the metrics bearer token".into(),
            ));
        }
    }
    let snapshot = state.db.read(crate::store::metrics::snapshot).await?;
    let body = state
        .metrics
        .render(&snapshot, &state.db.pool_states(), state.clock.now())
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(body))
}
