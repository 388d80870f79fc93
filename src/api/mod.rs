//! HTTP handlers, one module per resource, and the route table.

pub mod auth;
pub mod browser_session;
pub mod callers;
pub mod clients;
pub mod conversation;
pub mod doc;
pub mod export;
pub mod extract;
pub mod integration;
pub mod limits;
pub mod me;
pub mod notifications;
pub mod ops;
pub mod oversight;
pub mod pagination;
pub mod preconditions;
pub mod queue;
pub mod reports;
pub mod requests;
pub mod rota;
pub mod run;
pub mod sla;
pub mod state;
pub mod teams;
pub mod users;
pub mod webhooks;

use actix_web::{web, HttpResponse, Route};

use crate::error::ApiError;

/// Hashes off the async executor: argon2id is deliberately slow.
pub(crate) async fn hash_password(password: String) -> Result<String, ApiError> {
    web::block(move || crate::auth::password::hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// `validator` rule: text must contain something besides white space.
pub(crate) fn not_blank(value: &str) -> Result<(), validator::ValidationError> {
    if value.trim().is_empty() {
        let mut error = validator::ValidationError::new("blank");
        error.message = Some("must not be blank".into());
        return Err(error);
    }
    Ok(())
}

/// Ids are UUIDs; a filter by anything else is refused rather than
/// answered with an empty page, as the document's `format: uuid` promises.
pub(crate) fn uuid_id(value: &str) -> Result<(), validator::ValidationError> {
    if uuid::Uuid::try_parse(value).is_err() {
        let mut error = validator::ValidationError::new("uuid");
        error.message = Some("must be an id (a UUID)".into());
        return Err(error);
    }
    Ok(())
}

/// A resource whose other methods get 405 with an `Allow` header.
fn resource(path: &str, allow: &'static str, routes: Vec<Route>) -> actix_web::Resource {
    let mut resource = web::resource(path);
    for route in routes {
        resource = resource.route(route);
    }
    resource.default_service(web::to(move || async move {
        Err::<HttpResponse, ApiError>(ApiError::MethodNotAllowed(allow))
    }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        "/healthz",
        "GET",
        vec![web::get().to(ops::healthz)],
    ))
    .service(resource("/readyz", "GET", vec![web::get().to(ops::readyz)]))
    .service(resource(
        "/healthz/jobs",
        "GET",
        vec![web::get().to(ops::jobs)],
    ))
    .service(resource(
        "/metrics",
        "GET",
        vec![web::get().to(ops::metrics)],
    ))
    .service(resource(
        "/openapi.yaml",
        "GET",
        vec![web::get().to(ops::openapi_yaml)],
    ))
    .service(
        web::scope("/api/v1")
            .service(resource(
                "/auth/login",
                "POST",
                vec![web::post().to(auth::login)],
            ))
            .service(resource(
                "/auth/refresh",
                "POST",
                vec![web::post().to(auth::refresh_tokens)],
            ))
            .service(resource(
                "/auth/logout",
                "POST",
                vec![web::post().to(auth::logout)],
            ))
            .service(resource("/me", "GET", vec![web::get().to(me::me)]))
            .service(resource(
                "/me/availability",
                "PUT",
                vec![web::put().to(me::set_availability)],
            ))
            .service(resource(
                "/me/notification-preferences",
                "GET, PUT",
                vec![
                    web::get().to(notifications::read_preferences),
                    web::put().to(notifications::set_preferences),
                ],
            ))
            .service(resource(
                "/auth/token",
                "POST",
                vec![web::post().to(clients::token)],
            ))
            .service(resource(
                "/admin/api-clients",
                "GET, POST",
                vec![
                    web::get().to(clients::list),
                    web::post().to(clients::create),
                ],
            ))
            .service(resource(
                "/admin/api-clients/{id}",
                "GET",
                vec![web::get().to(clients::read)],
            ))
            .service(resource(
                "/admin/api-clients/{id}/rotate-secret",
                "POST",
                vec![web::post().to(clients::rotate_secret)],
            ))
            .service(resource(
                "/admin/api-clients/{id}/revoke",
                "POST",
                vec![web::post().to(clients::revoke)],
            ))
            .service(resource(
                "/client/requests",
                "GET, POST",
                vec![
                    web::get().to(integration::list),
                    web::post().to(integration::submit),
                ],
            ))
            .service(resource(
                "/client/requests/{id}",
                "GET",
                vec![web::get().to(integration::read)],
            ))
            .service(resource(
                "/client/requests/{id}/messages",
                "GET",
                vec![web::get().to(integration::messages)],
            ))
            .service(resource(
                "/webhooks",
                "GET, POST",
                vec![
                    web::get().to(webhooks::list),
                    web::post().to(webhooks::create),
                ],
            ))
            .service(resource(
                "/webhooks/{id}",
                "GET, DELETE",
                vec![
                    web::get().to(webhooks::read),
                    web::delete().to(webhooks::delete),
                ],
            ))
            .service(resource(
                "/webhooks/{id}/deliveries",
                "GET",
                vec![web::get().to(webhooks::deliveries)],
            ))
            .service(resource(
                "/webhooks/{id}/deliveries/{delivery_id}/redeliver",
                "POST",
                vec![web::post().to(webhooks::redeliver)],
            ))
            .service(resource(
                "/admin/outbox",
                "GET",
                vec![web::get().to(notifications::outbox)],
            ))
            .service(resource(
                "/admin/requests/{id}/export",
                "GET",
                vec![web::get().to(export::export_request)],
            ))
            .service(resource(
                "/admin/outbox/{id}/retry",
                "POST",
                vec![web::post().to(notifications::retry)],
            ))
            .service(resource(
                "/me/password",
                "POST",
                vec![web::post().to(me::change_password)],
            ))
            .service(resource(
                "/users",
                "GET, POST",
                vec![web::get().to(users::list), web::post().to(users::create)],
            ))
            .service(resource(
                "/users/{id}",
                "GET, PATCH",
                vec![web::get().to(users::read), web::patch().to(users::update)],
            ))
            .service(resource(
                "/users/{id}/disable",
                "POST",
                vec![web::post().to(users::disable)],
            ))
            .service(resource(
                "/users/{id}/enable",
                "POST",
                vec![web::post().to(users::enable)],
            ))
            .service(resource(
                "/users/{id}/password",
                "PUT",
                vec![web::put().to(users::set_password)],
            ))
            .service(resource(
                "/teams",
                "GET, POST",
                vec![web::get().to(teams::list), web::post().to(teams::create)],
            ))
            .service(resource(
                "/teams/{id}",
                "GET",
                vec![web::get().to(teams::read)],
            ))
            .configure(request_routes),
    );
}

fn request_routes(cfg: &mut web::ServiceConfig) {
    let post = |path: &str, route: Route| resource(path, "POST", vec![route]);
    let get = |path: &str, route: Route| resource(path, "GET", vec![route]);
    cfg.service(resource(
        "/requests",
        "GET, POST",
        vec![
            web::get().to(requests::list),
            web::post().to(requests::submit),
        ],
    ))
    .service(resource(
        "/requests/{id}",
        "GET, PATCH",
        vec![
            web::get().to(requests::read),
            web::patch().to(requests::edit),
        ],
    ))
    .service(post(
        "/requests/{id}/withdraw",
        web::post().to(requests::withdraw),
    ))
    .service(post(
        "/requests/{id}/resolve",
        web::post().to(requests::resolve),
    ))
    .service(post(
        "/requests/{id}/reopen",
        web::post().to(requests::reopen),
    ))
    .service(post(
        "/requests/{id}/close",
        web::post().to(requests::close),
    ))
    .service(post(
        "/requests/{id}/request-information",
        web::post().to(requests::request_information),
    ))
    .service(resource(
        "/requests/{id}/triage",
        "GET, POST",
        vec![
            web::get().to(queue::triage_history),
            web::post().to(requests::triage),
        ],
    ))
    .service(post(
        "/requests/{id}/assign",
        web::post().to(requests::assign),
    ))
    .service(post(
        "/requests/{id}/unassign",
        web::post().to(requests::unassign),
    ))
    .service(resource(
        "/requests/{id}/messages",
        "GET, POST",
        vec![
            web::get().to(conversation::list),
            web::post().to(conversation::post),
        ],
    ))
    .service(get(
        "/requests/{id}/timeline",
        web::get().to(conversation::timeline),
    ))
    .service(resource(
        "/requests/{id}/exclusions",
        "GET, POST",
        vec![
            web::get().to(oversight::exclusions),
            web::post().to(oversight::exclude),
        ],
    ))
    .service(resource(
        "/requests/{id}/exclusions/{user_id}",
        "DELETE",
        vec![web::delete().to(oversight::include)],
    ))
    .service(post(
        "/requests/{id}/break-glass",
        web::post().to(oversight::break_glass),
    ))
    .service(get(
        "/requests/{id}/audit",
        web::get().to(oversight::request_audit),
    ))
    .service(post("/requests/{id}/claim", web::post().to(queue::claim)))
    .service(post(
        "/requests/{id}/release",
        web::post().to(queue::release),
    ))
    .service(get("/queue", web::get().to(queue::list)))
    .service(get("/queue/summary", web::get().to(queue::summary)))
    .service(post("/queue/claim-next", web::post().to(queue::claim_next)))
    .service(post(
        "/requests/{id}/acknowledge",
        web::post().to(sla::acknowledge),
    ))
    .service(get("/requests/{id}/sla-events", web::get().to(sla::events)))
    .service(resource(
        "/rota",
        "GET, POST",
        vec![web::get().to(rota::list), web::post().to(rota::create)],
    ))
    .service(resource(
        "/rota/{id}",
        "DELETE",
        vec![web::delete().to(rota::remove)],
    ))
    .service(get(
        "/reports/response-times",
        web::get().to(reports::response_times),
    ))
    .service(get(
        "/reports/sla-breaches",
        web::get().to(reports::sla_breaches),
    ))
    .service(get("/break-glass", web::get().to(oversight::grants)))
    .service(get("/audit", web::get().to(oversight::audit_log)));
}
