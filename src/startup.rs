//! Builds the application from settings and binds it (port 0 allowed).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpServer};
use tracing::Instrument;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::extract::BodyLimit;
use crate::api::limits::{rate_limit, RateLimits};
use crate::api::state::AppState;
use crate::api::{self, doc::ApiDoc};
use crate::auth::jwt::TokenKeys;
use crate::bootstrap;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::error::ApiError;
use crate::jobs::mailer::Mailer;
use crate::jobs::retention::RetentionJob;
use crate::jobs::sla_monitor::SlaMonitor;
use crate::jobs::webhook_sender::Dispatcher;
use crate::jobs::{supervise, Job, JobHealth, Pass};
use crate::metrics::Metrics;
use crate::web_client::{self, Surface, WebClient};
use crate::workflows::audit_trail::{audit_trail, AuditWriter};

pub struct Application {
    port: u16,
    server: Server,
    monitor: SlaMonitor,
    mailer: Mailer,
    dispatcher: Dispatcher,
    retention: RetentionJob,
    audit_writer: AuditWriter,
    limits: Arc<RateLimits>,
    metrics: Metrics,
    jobs: JobHealth,
}

impl Application {
    /// Connects, migrates, makes sure an admin exists, and binds.
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Clock::System)
    }

    /// As [`Application::build`], with "now" taken from `clock`.
    pub fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Application> {
        crate::auth::password::set_cost(settings.auth.password_cost());
        let triage = settings.triage_rules()?;
        let sla = Arc::new(settings.sla_policies()?);
        let db = Db::connect(&settings.database)?;
        let applied = db.migrate()?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
        bootstrap::ensure_admin(&db, &settings.bootstrap, clock.now())?;
        let address = (settings.server.host.as_str(), settings.server.port);
        let listener = TcpListener::bind(address).map_err(|e| {
            anyhow::anyhow!(
                "server.host/server.port: cannot listen on {}:{}: {e}",
                address.0,
                address.1
            )
        })?;
        let port = listener.local_addr()?.port();
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let shutdown_timeout = settings.server.shutdown_timeout_seconds;
        let limit = settings.server.json_limit_bytes;
        let monitor = SlaMonitor::new(
            db.clone(),
            sla.clone(),
            clock.clone(),
            std::time::Duration::from_secs(settings.sla.monitor_interval_seconds.unsigned_abs()),
        );
        let metrics = Metrics::new()?;
        let http_metrics = metrics.http();
        let mailer = Mailer::new(
            &settings.email,
            &settings.config_dir,
            db.clone(),
            clock.clone(),
            metrics.clone(),
        )?;
        let dispatcher = Dispatcher::new(&settings.webhooks, db.clone(), clock.clone())?;
        let retention = RetentionJob::new(db.clone(), &settings, clock.clone());
        let (audit, audit_writer) = audit_trail(db.clone());
        let report_turns = Arc::new(tokio::sync::Semaphore::new(
            usize::try_from(settings.sla.reports_at_once).unwrap_or(1),
        ));
        let limits = Arc::new(RateLimits::new(
            &settings.limits,
            settings.server.trusted_proxy_networks()?,
        ));
        let origins = settings.server.cors_allowed_origins.clone();
        let jobs = JobHealth::default();
        let web_client = web::Data::new(WebClient::load()?);
        let state = web::Data::new(AppState {
            db,
            audit,
            report_turns,
            webhook_reach: dispatcher.reach().clone(),
            limits: limits.clone(),
            keys: TokenKeys::new(&settings.auth),
            settings,
            triage: Arc::new(triage),
            sla,
            clock,
            metrics: metrics.clone(),
            jobs: jobs.clone(),
            openapi_yaml: api::doc::openapi_yaml(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web_client.clone())
                .app_data(web::PayloadConfig::new(limit))
                .app_data(BodyLimit(limit))
                .wrap(from_fn(rate_limit))
                // Outside the budgets, so a 429 carries the headers too.
                .wrap(from_fn(security_headers))
                .wrap(cors(&origins))
                .wrap(http_metrics.clone())
                .wrap(from_fn(request_context))
                .configure(api::routes)
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()))
                // Last: its page answers reads of any path the routes above do not take.
                .configure(web_client::routes)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, ApiError>(ApiError::NotFound)
                }))
        })
        .workers(workers)
        .shutdown_timeout(shutdown_timeout)
        .listen(listener)?
        .run();
        tracing::info!(port, workers, "listening");
        Ok(Application {
            port,
            server,
            monitor,
            mailer,
            dispatcher,
            retention,
            audit_writer,
            limits,
            metrics,
            jobs,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn monitor(&self) -> SlaMonitor {
        self.monitor.clone()
    }

    pub fn mailer(&self) -> Mailer {
        self.mailer.clone()
    }

    pub fn dispatcher(&self) -> Dispatcher {
        self.dispatcher.clone()
    }

    pub fn retention(&self) -> RetentionJob {
        self.retention.clone()
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests get the shutdown
    /// timeout to finish. The background jobs — SLA monitor, mailer,
    /// webhook sender, retention, rate-limit upkeep — run alongside under
    /// one supervisor each (`crate::jobs`) and stop with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let limits = self.limits;
        let upkeep = Job::new(
            "rate_limit_upkeep",
            std::time::Duration::from_secs(60),
            move || {
                // The work goes inside the future, which the supervisor runs
                // as a task of its own.
                let limits = limits.clone();
                async move {
                    limits.forget_idle();
                    Ok(Pass::Done)
                }
            },
        );
        let jobs = [
            self.monitor.job(),
            self.mailer.job(),
            self.dispatcher.job(),
            self.retention.job(),
            upkeep,
        ];
        let background: Vec<_> = jobs
            .into_iter()
            .map(|job| tokio::spawn(supervise(job, self.jobs.clone(), self.metrics.clone())))
            .collect();
        // Ends by itself once the server has stopped and its handles are gone.
        tokio::spawn(self.audit_writer.run());
        let served = self.server.await;
        for task in background {
            task.abort();
        }
        served
    }
}

/// Headers on every response, whoever answered it (a handler, an
/// extractor's refusal, the request budgets): browsers must not guess
/// content types or pass request URLs (which hold request ids) to other
/// sites; case data is never framed or mixed with other content, so API
/// answers allow nothing at all, the interactive docs page may load its own
/// scripts, styles and images and call this origin, and the web client may
/// too, with Trusted Types required, no other window sharing its browsing
/// context, its files readable by its own origin only, and no camera,
/// microphone, location, payment or USB; and API answers and every refusal
/// stay out of browser and proxy caches unless the handler set its own
/// `Cache-Control`.
async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let surface = web_client::surface(req.method(), req.path());
    let api = req.path().starts_with("/api/");
    let mut response = next.call(req).await?;
    let refusal = response.status().is_client_error() || response.status().is_server_error();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(content_security_policy(surface)),
    );
    if surface.is_web_client() {
        headers.insert(
            header::CROSS_ORIGIN_OPENER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        headers.insert(
            header::CROSS_ORIGIN_RESOURCE_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        headers.insert(
            header::PERMISSIONS_POLICY,
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
            ),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if (api || refusal) && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

fn content_security_policy(surface: Surface) -> &'static str {
    match surface {
        Surface::Api => {
            "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        }
        Surface::Docs => {
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        }
        Surface::Page | Surface::Asset => {
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"
        }
    }
}

/// Cross-origin access for the web client's origins only. Other origins
/// are answered without CORS headers (not refused), so browsers keep their
/// pages from reading the answer while same-origin pages such as the docs
/// and non-browser callers work as before.
fn cors(origins: &[String]) -> Cors {
    let allowed = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
    allowed
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            REQUEST_ID,
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            header::ETAG,
            header::LINK,
            REQUEST_ID,
        ])
        .max_age(3600)
        .block_on_origin_mismatch(false)
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A caller-supplied id is kept only if short and plain, so logs stay clean.
fn accept_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Gives each request an id (response header `X-Request-Id`), a tracing span
/// carrying it, and one log line with the route pattern — never the query
/// string or body, which may hold case details.
async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| accept_request_id(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::{accept_request_id, content_security_policy};
    use crate::web_client::Surface;

    #[test]
    fn the_web_client_may_load_only_its_own_files_and_needs_trusted_types() {
        for surface in [Surface::Page, Surface::Asset] {
            let policy = content_security_policy(surface);
            assert!(policy.starts_with("default-src 'none'; script-src 'self'; "));
            assert!(policy.contains("require-trusted-types-for 'script'; trusted-types 'none'"));
            assert!(policy.contains("frame-ancestors 'none'"));
            assert!(!policy.contains("unsafe"));
        }
        assert_eq!(
            content_security_policy(Surface::Api),
            "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        );
    }

    #[test]
    fn request_ids_from_callers_must_be_short_and_plain() {
        assert!(accept_request_id("abc-123_x.y"));
        assert!(!accept_request_id(""));
        assert!(!accept_request_id("has space"));
        assert!(!accept_request_id(&"a".repeat(65)));
        assert!(!accept_request_id("inject\nline"));
    }
}
