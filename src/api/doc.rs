//! The OpenAPI document, generated from the handlers' annotations. Common
//! error responses are added here, in one place, from each operation's shape.

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayItems, SchemaFormat, SchemaType};
use utoipa::openapi::security::{
    ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, ObjectBuilder, OpenApi as OpenApiDoc, Ref, RefOr, Required,
    Schema, Type,
};
use utoipa::{Modify, OpenApi};

use crate::api::limits::UNLIMITED_PATHS;
use crate::api::{document_endpoints, requests};
use crate::domain::integrations::{Scope, WebhookEvent};
use crate::domain::webhook_signature::{
    DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use crate::error::{FieldError, Problem, PROBLEM_CONTENT_TYPE, UNAVAILABLE_RETRY_AFTER_SECONDS};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "NRU Helpdesk API",
        description = "Guidance requests for a national response unit. Errors are RFC 9457 \
            application/problem+json; lists use cursor pagination (`limit`, `cursor` → `next_cursor`).",
    ),
    servers((url = "http://localhost:8080", description = "A local instance (`nru-helpdesk serve` with the \
        default settings); use your deployment's address instead")),
    components(schemas(Problem, FieldError, requests::input::SortOrder, crate::workflows::webhooks::Payload)),
    modifiers(&Endpoints, &CommonResponses),
    tags(
        (name = "auth", description = "Sign-in and tokens"),
        (name = "me", description = "Your own account"),
        (name = "users", description = "Users administration (admin)"),
        (name = "teams", description = "Teams"),
        (name = "requests", description = "Guidance requests and their lifecycle"),
        (name = "conversation", description = "Messages and the timeline of a request"),
        (name = "need-to-know", description = "Exclusions and break-glass access"),
        (name = "queue", description = "The specialists' queue and claiming work"),
        (name = "audit", description = "The append-only audit trail"),
        (name = "email", description = "The email outbox (admin)"),
        (name = "retention", description = "Subject access exports of one request (admin); free text \
            of long-finished requests is redacted on a schedule"),
        (name = "integrations", description = "API clients for other agencies' systems (admin); a client \
            gets a token at /auth/token (client credentials)"),
        (name = "client requests", description = "An API client submits requests for its organisation's \
            practitioners and reads and follows those it submitted"),
        (name = "webhooks", description = "A client's webhooks (signed event deliveries), their log and redelivery"),
        (name = "response times", description = "SLA events, acknowledgement and reports"),
        (name = "rota", description = "The duty rota: who receives immediate-risk alerts and escalations"),
        (name = "operations", description = "Health, readiness and this document"),
    )
)]
pub struct ApiDoc;

/// The document as YAML, exactly as checked in at the repository root.
pub fn openapi_yaml() -> String {
    ApiDoc::openapi()
        .to_yaml()
        .unwrap_or_else(|e| format!("# the OpenAPI document could not be rendered: {e}\n"))
}

/// The operations, from the one list of endpoints in `api` that also routes them.
struct Endpoints;

impl Modify for Endpoints {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        document_endpoints(openapi);
    }
}

struct CommonResponses;

/// Shared error answers, under `components/responses`, by status.
const RESPONSES: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "The request could not be read: malformed JSON or a bad query parameter (named in `errors`)"),
    ("401", "Unauthorized", "No valid access token: missing, expired, tampered, or its session has ended"),
    ("403", "Forbidden", "Your role may not do this (`/problems/forbidden`), or an administrator set your password and you must change it at `POST /api/v1/me/password` first (`/problems/password-change-required`)"),
    ("404", "NotFound", "No such resource, or not one you may see"),
    ("412", "PreconditionFailed", "Changed since the If-Match ETag"),
    ("413", "PayloadTooLarge", "The body is larger than the configured limit"),
    ("415", "UnsupportedMediaType", "The body must be application/json"),
    ("422", "ValidationError", "Invalid fields, each named in `errors`"),
    ("428", "PreconditionRequired", "If-Match is required"),
    ("429", "TooManyRequests", "Too many requests from you or your address; wait `Retry-After` seconds"),
    ("500", "InternalError", "An unexpected error; details are in the server log"),
    ("503", "ServiceUnavailable", "The database is unreachable; retry after `Retry-After` seconds"),
];

/// The scheme an API client may authenticate with at the token endpoint.
const CLIENT_BASIC: &str = "clientBasic";

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        openapi.info.license = None;
        add_webhooks(openapi);
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "client",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/api/v1/auth/token",
                    Scopes::from_iter(Scope::ALL.iter().map(|s| {
                        (
                            s.as_str(),
                            match s {
                                Scope::RequestsWrite => {
                                    "Submit requests for the organisation's practitioners"
                                }
                                Scope::RequestsRead => {
                                    "Read and follow the requests this client submitted"
                                }
                                Scope::WebhooksManage => {
                                    "Register webhooks and read their deliveries"
                                }
                            },
                        )
                    })),
                ))],
                "Another agency's system (an API client): a short-lived token from /auth/token",
            )),
        );
        components.add_security_scheme(
            CLIENT_BASIC,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "An API client's id and secret at /auth/token (RFC 6749 §2.3.1); \
                         they may be sent in the form instead",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for (status, name, description) in RESPONSES {
            let mut response = ResponseBuilder::new().description(*description).content(
                PROBLEM_CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            );
            match *status {
                "401" => {
                    response = response.header(
                        "WWW-Authenticate",
                        HeaderBuilder::new()
                            .schema(ObjectBuilder::new().schema_type(Type::String))
                            .description(Some("Always `Bearer`"))
                            .build(),
                    );
                }
                "429" => response = response.header("Retry-After", retry_after(None)),
                "503" => {
                    response = response.header(
                        "Retry-After",
                        retry_after(Some(UNAVAILABLE_RETRY_AFTER_SECONDS)),
                    )
                }
                _ => {}
            }
            components
                .responses
                .insert((*name).to_owned(), RefOr::T(response.build()));
        }
        reference_page_items(components);
        for (name, schema) in components.schemas.iter_mut() {
            // The token form's client id is whatever the client was given.
            if name != "TokenForm" {
                ids_as_uuids(schema);
            }
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let rate_limited = !UNLIMITED_PATHS.contains(&path.as_str());
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                // An operation that declares no security is public: say so,
                // rather than leave tools to guess.
                operation.security.get_or_insert_with(Vec::new);
                add_common_responses(operation, rate_limited);
                // Ids in paths and in query filters (checked by `uuid_id`).
                for parameter in operation.parameters.iter_mut().flatten() {
                    if is_id(&parameter.name) {
                        if let Some(schema) = parameter.schema.as_mut() {
                            as_uuid(schema);
                        }
                    }
                }
            }
        }
        add_links(openapi);
    }
}

/// The operations of a path item, in a fixed order.
fn operations(item: &PathItem) -> impl Iterator<Item = &Operation> {
    [&item.get, &item.put, &item.post, &item.delete, &item.patch]
        .into_iter()
        .flatten()
}

/// The `$ref` of a response's JSON body.
fn body_schema(operation: &Operation, status: &str) -> Option<String> {
    let RefOr::T(response) = operation.responses.responses.get(status)? else {
        return None;
    };
    match response.content.get("application/json")?.schema.as_ref()? {
        RefOr::Ref(reference) => Some(reference.ref_location.clone()),
        RefOr::T(_) => None,
    }
}

/// Lists answer with a `Page<T>`, which utoipa names `Page_T`.
const PAGE_SCHEMA: &str = "#/components/schemas/Page_";

/// OpenAPI links, so a client (or stateful testing) can follow a resource
/// from a response that returns it to what it can do with it next. A
/// response carrying the resource that `GET {base}/{id}` returns, and the
/// first item of the list at `GET {base}`, link to every operation under
/// `{base}/{id}` that takes no other path parameter, with the id and, where
/// the operation takes `If-Match`, the response's ETag.
fn add_links(openapi: &mut OpenApiDoc) {
    let base_of = |path: &str| path.find("/{id}").map(|at| path[..at].to_owned());
    let mut resources = std::collections::BTreeMap::<String, String>::new();
    let mut targets = std::collections::BTreeMap::<String, Vec<(String, bool)>>::new();
    for (path, item) in &openapi.paths.paths {
        let Some(base) = base_of(path) else { continue };
        if path.matches('{').count() != 1 {
            continue;
        }
        if *path == format!("{base}/{{id}}") {
            if let Some(schema) = item.get.as_ref().and_then(|get| body_schema(get, "200")) {
                resources.insert(base.clone(), schema);
            }
        }
        for operation in operations(item) {
            let takes_if_match = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| p.name == "If-Match");
            if let Some(id) = &operation.operation_id {
                targets
                    .entry(base.clone())
                    .or_default()
                    .push((id.clone(), takes_if_match));
            }
        }
    }
    for (path, item) in openapi.paths.paths.iter_mut() {
        let base = base_of(path).unwrap_or_else(|| path.clone());
        let (Some(resource), Some(targets)) = (resources.get(&base), targets.get(&base)) else {
            continue;
        };
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for status in ["200", "201"] {
                let id = match body_schema(operation, status) {
                    Some(schema) if schema == *resource => "$response.body#/id",
                    Some(schema) if schema.starts_with(PAGE_SCHEMA) && base == *path => {
                        "$response.body#/items/0/id"
                    }
                    _ => continue,
                };
                let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) else {
                    continue;
                };
                let has_etag = response.headers.contains_key("ETag");
                let links: serde_json::Map<_, _> = targets
                    .iter()
                    .map(|(target, takes_if_match)| {
                        let mut parameters = serde_json::json!({ "path.id": id });
                        if *takes_if_match && has_etag {
                            parameters["header.If-Match"] = "$response.header.ETag".into();
                        }
                        let link = serde_json::json!({
                            "operationId": target,
                            "parameters": parameters,
                        });
                        (target.clone(), link)
                    })
                    .collect();
                // Written as raw JSON: utoipa 5.5's `Link` names its fields
                // in snake_case (`operation_id`), which OpenAPI tools ignore.
                response
                    .extensions
                    .get_or_insert_with(Default::default)
                    .insert("links".to_owned(), links.into());
            }
        }
    }
}

/// A `Retry-After` header in seconds.
fn retry_after(example: Option<u64>) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .examples(example),
        )
        .description(Some("Seconds to wait before trying again"))
        .build()
}

/// utoipa inlines the item type of each `Page_T`, so generated clients
/// would name it `PageTItemsItem` and leave `T` unused: point at `T`.
fn reference_page_items(components: &mut utoipa::openapi::Components) {
    for (name, schema) in components.schemas.iter_mut() {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        let RefOr::T(Schema::Object(page)) = schema else {
            continue;
        };
        if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
            items.items =
                ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
        }
    }
}

/// Every id is a UUID: `id`, `…_id`, and the lists named `…_ids`.
fn is_id(name: &str) -> bool {
    name == "id" || name.ends_with("_id") || name.ends_with("_ids")
}

/// Marks the string properties of a schema that hold ids as UUIDs, through
/// nested objects, arrays and `allOf`.
fn ids_as_uuids(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(object)) => {
            for (name, property) in object.properties.iter_mut() {
                if is_id(name) {
                    as_uuid(property);
                } else {
                    ids_as_uuids(property);
                }
            }
        }
        RefOr::T(Schema::Array(array)) => {
            if let ArrayItems::RefOrSchema(item) = &mut array.items {
                ids_as_uuids(item);
            }
        }
        RefOr::T(Schema::AllOf(all)) => all.items.iter_mut().for_each(ids_as_uuids),
        _ => {}
    }
}

/// `format: uuid` on a string (nullable or not), or on an array's strings.
fn as_uuid(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(object)) => {
            let is_string = match &object.schema_type {
                SchemaType::Type(t) => *t == Type::String,
                SchemaType::Array(types) => types.contains(&Type::String),
                SchemaType::AnyValue => false,
            };
            if is_string {
                object.format = Some(SchemaFormat::Custom("uuid".to_owned()));
            }
        }
        RefOr::T(Schema::Array(array)) => {
            if let ArrayItems::RefOrSchema(item) = &mut array.items {
                as_uuid(item);
            }
        }
        _ => {}
    }
}

/// The webhook deliveries a client can subscribe to, as OpenAPI 3.1
/// `webhooks`, from the same payload type the sender serialises.
fn add_webhooks(openapi: &mut OpenApiDoc) {
    let header = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
    };
    let mut webhooks = serde_json::Map::new();
    for event in WebhookEvent::ALL {
        let operation = OperationBuilder::new()
            .operation_id(Some(format!("webhook_{}", event.as_str().replace('.', "_"))))
            .summary(Some(format!("`{}`, sent to the webhooks subscribed to it", event.as_str())))
            .description(Some(format!(
                "The service POSTs this to each HTTPS URL an API client subscribed to `{}`. \
                 Check the signature before trusting the body, drop repeats by the body's `id`, \
                 and answer 2XX quickly; the body carries ids and statuses only, so fetch details \
                 through the API under the client's own token.",
                event.as_str()
            )))
            // The receiver's endpoint, called by this service: no credentials
            // of ours, only the signature.
            .securities(Some(Vec::<SecurityRequirement>::new()))
            .parameters(Some([
                header(SIGNATURE_HEADER, "`v1=` and the lowercase hex HMAC-SHA256, keyed with the webhook's secret, of `<timestamp>.<body>`"),
                header(TIMESTAMP_HEADER, "Unix seconds when signed; reject deliveries older than your tolerance (replays)"),
                header(DELIVERY_HEADER, "The delivery id: the same on every retry"),
                header(EVENT_HEADER, "The event name, also the body's `type`"),
            ]))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Payload")))
                            .build(),
                    )
                    .required(Some(Required::True))
                    .build(),
            ))
            .response(
                "2XX",
                ResponseBuilder::new()
                    .description("Received; anything else (or no answer within the timeout) is retried with back-off"),
            )
            .build();
        let item = PathItem::new(HttpMethod::Post, operation);
        if let Ok(value) = serde_json::to_value(item) {
            webhooks.insert(event.as_str().to_owned(), value);
        }
    }
    openapi
        .extensions
        .get_or_insert_with(Default::default)
        .insert("webhooks".to_owned(), serde_json::Value::Object(webhooks));
}

/// Whether an operation needs credentials: a security requirement that is
/// not the empty (anonymous) one.
fn requires_authentication(operation: &Operation) -> bool {
    operation.security.as_ref().is_some_and(|requirements| {
        !requirements.is_empty()
            && !requirements
                .iter()
                .any(|r| *r == SecurityRequirement::default())
    })
}

fn add_common_responses(operation: &mut Operation, rate_limited: bool) {
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let has_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let has_header = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Header));
    let if_match = params.iter().find(|p| p.name == "If-Match");
    let has_body = operation.request_body.is_some();
    // Form bodies are OAuth token requests, whose invalid fields are a 400
    // (RFC 6749 §5.2), never a 422.
    let has_json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    let secured = requires_authentication(operation);
    let wanted = |status: &str| match status {
        "400" => has_query || has_header || has_body,
        "401" | "403" => secured,
        "429" => rate_limited,
        "404" => has_path,
        "412" => if_match.is_some(),
        "413" | "415" => has_body,
        "422" => has_json_body,
        "428" => if_match.is_some_and(|p| matches!(p.required, Required::True)),
        _ => true,
    };
    for (status, name, _) in RESPONSES {
        if wanted(status) {
            operation
                .responses
                .responses
                .entry((*status).to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
        }
    }
}
