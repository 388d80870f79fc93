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

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, HttpResponse, Responder, Route};
use utoipa::__dev::{SchemaReferences, Tags};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::OpenApi;

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

/// Routes grouped by path, in the order first added (so no route shadows a
/// later one): one resource each, which answers its other methods with 405
/// and an `Allow` header naming the grouped ones.
#[derive(Default)]
struct Resources(Vec<(String, Vec<(HttpMethod, Route)>)>);

impl Resources {
    /// A handler at the path and methods of its `#[utoipa::path]` attribute.
    fn add<P, F, Args>(&mut self, handler: F)
    where
        P: utoipa::Path,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        for method in P::methods() {
            let route = web::method(actix_method(&method)).to(handler.clone());
            self.route(P::path(), method, route);
        }
    }

    fn route(&mut self, path: String, method: HttpMethod, route: Route) {
        match self.0.iter_mut().find(|(known, _)| *known == path) {
            Some((_, routes)) => routes.push((method, route)),
            None => self.0.push((path, vec![(method, route)])),
        }
    }

    fn register(self, cfg: &mut web::ServiceConfig) {
        for (path, mut routes) in self.0 {
            // `Allow` in one fixed order, whatever the list's: GET first.
            routes.sort_by(|(a, _), (b, _)| a.cmp(b));
            let allow = routes
                .iter()
                .map(|(method, _)| actix_method(method).as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", ");
            let mut resource = web::resource(path);
            for (_, route) in routes {
                resource = resource.route(route);
            }
            cfg.service(resource.default_service(web::to(move || {
                let allow = allow.clone();
                async move { Err::<HttpResponse, ApiError>(ApiError::MethodNotAllowed(allow)) }
            })));
        }
    }
}

fn actix_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// An endpoint's operation in the document, under the tags of its attribute,
/// and the schemas it refers to: what `#[openapi(paths(...))]` adds, through
/// the same (hidden) traits its derive uses.
fn document<P>(openapi: &mut OpenApi)
where
    P: utoipa::Path + Tags<'static> + SchemaReferences,
{
    let mut operation = P::operation();
    let tags = operation.tags.get_or_insert_with(Vec::new);
    tags.extend(P::tags().into_iter().map(str::to_owned));
    openapi
        .paths
        .add_path_operation(P::path(), P::methods(), operation);
    let mut schemas = Vec::new();
    P::schemas(&mut schemas);
    let components = openapi.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
}

/// The one list of endpoints, in the order their routes are tried. Each is
/// declared once, by its `#[utoipa::path]` attribute, which gives both its
/// route (path and method) and its operation in the OpenAPI document.
macro_rules! endpoints {
    ($($module:ident :: $handler:ident),+ $(,)?) => {
        pastey::paste! {
            fn add_endpoints(resources: &mut Resources) {
                $( resources.add::<$module::[<__path_ $handler>], _, _>($module::$handler); )+
            }

            /// Adds every endpoint's operation to the document.
            pub(crate) fn document_endpoints(openapi: &mut OpenApi) {
                $( document::<$module::[<__path_ $handler>]>(openapi); )+
            }
        }
    };
}

endpoints![
    ops::healthz,
    ops::readyz,
    ops::jobs,
    ops::openapi_yaml,
    auth::login,
    auth::refresh_tokens,
    auth::logout,
    me::me,
    me::set_availability,
    notifications::read_preferences,
    notifications::set_preferences,
    clients::token,
    clients::list,
    clients::create,
    clients::read,
    clients::rotate_secret,
    clients::revoke,
    integration::list,
    integration::submit,
    integration::read,
    integration::messages,
    webhooks::list,
    webhooks::create,
    webhooks::read,
    webhooks::delete,
    webhooks::deliveries,
    webhooks::redeliver,
    notifications::outbox,
    export::export_request,
    notifications::retry,
    me::change_password,
    users::list,
    users::create,
    users::read,
    users::update,
    users::disable,
    users::enable,
    users::set_password,
    teams::list,
    teams::create,
    teams::read,
    requests::list,
    requests::submit,
    requests::read,
    requests::edit,
    requests::withdraw,
    requests::resolve,
    requests::reopen,
    requests::close,
    requests::request_information,
    queue::triage_history,
    requests::triage,
    requests::assign,
    requests::unassign,
    conversation::list,
    conversation::post,
    conversation::timeline,
    oversight::exclusions,
    oversight::exclude,
    oversight::include,
    oversight::break_glass,
    oversight::request_audit,
    queue::claim,
    queue::release,
    queue::list,
    queue::summary,
    queue::claim_next,
    sla::acknowledge,
    sla::events,
    rota::list,
    rota::create,
    rota::remove,
    reports::response_times,
    reports::sla_breaches,
    oversight::grants,
    oversight::audit_log,
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    let mut resources = Resources::default();
    // Scraped by Prometheus, not part of the API's document.
    resources.route(
        "/metrics".to_owned(),
        HttpMethod::Get,
        web::get().to(ops::metrics),
    );
    add_endpoints(&mut resources);
    resources.register(cfg);
}

#[cfg(test)]
mod tests {
    use actix_web::http::{header, Method, StatusCode};
    use actix_web::{test, App};
    use utoipa::OpenApi;

    /// Every documented path is routed with exactly its documented methods:
    /// another method is refused with an `Allow` naming those.
    #[actix_web::test]
    async fn the_document_names_the_allowed_methods() {
        let app = test::init_service(App::new().configure(super::routes)).await;
        for (path, item) in super::doc::ApiDoc::openapi().paths.paths {
            let documented = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
            ];
            let allow = documented
                .iter()
                .filter(|(_, present)| *present)
                .map(|(method, _)| *method)
                .collect::<Vec<_>>()
                .join(", ");
            let uri = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "x"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let request = test::TestRequest::default()
                .method(Method::TRACE)
                .uri(&uri)
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
            let allowed = response.headers().get(header::ALLOW);
            assert_eq!(
                allowed.and_then(|v| v.to_str().ok()),
                Some(allow.as_str()),
                "{path}"
            );
        }
    }
}
