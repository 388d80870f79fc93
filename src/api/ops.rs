//! Liveness, readiness and the API description.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::api::state::AppState;
use crate::error::ApiError;

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

/// One background job as `/healthz/jobs` reports it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobHealth {
    #[schema(example = "outbox")]
    pub name: &'static str,
    /// Seconds since its last completed run (since start-up, before the first).
    pub last_success_age_seconds: u64,
    pub stale: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobsHealth {
    #[schema(example = "ok")]
    pub status: &'static str,
    pub jobs: Vec<JobHealth>,
}

/// Whether this replica's background jobs (SLA monitor, mailer, webhook
/// sender, retention, rate-limit upkeep) complete their runs: 200 with
/// each job's age, or 503 problem+json naming each job that has not
/// completed a run within its allowance. Kept apart from `/readyz` on
/// purpose: a stalled job must raise an alert, not take the API out of the
/// load balancer, where it still takes requests whose emails wait safely
/// in the outbox (docs/operations.md).
#[utoipa::path(
    get, path = "/healthz/jobs", tag = "operations",
    operation_id = "check_jobs",
    summary = "Background job health",
    description = "Public. 200 with each background job's seconds since its last completed run while every job completes its runs; 503 problem+json naming each job that has not completed one within its allowance (a few of its intervals). For alerting, not for the load balancer: the API keeps serving while a job is stalled, and what the job would send waits in the database.",
    responses((status = 200, description = "Every job completes its runs", body = JobsHealth))
)]
pub async fn jobs(state: web::Data<AppState>) -> Result<web::Json<JobsHealth>, ApiError> {
    let jobs: Vec<JobHealth> = state
        .jobs
        .report(tokio::time::Instant::now())
        .into_iter()
        .map(|job| JobHealth {
            name: job.name,
            last_success_age_seconds: job.age.as_secs(),
            stale: job.stale,
        })
        .collect();
    let stale: Vec<String> = jobs
        .iter()
        .filter(|job| job.stale)
        .map(|job| {
            format!(
                "{} (last completed a run {} s ago)",
                job.name, job.last_success_age_seconds
            )
        })
        .collect();
    if !stale.is_empty() {
        return Err(ApiError::Unavailable(format!(
            "background job not completing its runs: {}",
            stale.join(", ")
        )));
    }
    Ok(web::Json(JobsHealth { status: "ok", jobs }))
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
    let snapshot = state
        .db
        .read(|conn| Ok(crate::store::metrics::snapshot(conn)?))
        .await?;
    let body = state
        .metrics
        .render(
            &snapshot,
            &state.db.pool_states(),
            state
                .jobs
                .report(tokio::time::Instant::now())
                .iter()
                .map(|job| (job.name, job.age)),
            state.clock.now(),
        )
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(body))
}
