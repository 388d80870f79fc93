//! The web client in `web/`: its files, embedded in the binary at compile time, served under a
//! prefix that names this build (`/static/<build>/…`) so that browsers and proxies may keep them
//! for good; and its one page, `index.html`, for every path that is the client's own (the client
//! routes in the browser and shows its own "not found").
//!
//! Which part of the service a request is for ([`surface`]) is decided here, by method and path
//! alone, for the routes below, the security headers and the request budgets alike.

use std::borrow::Cow;
use std::collections::HashMap;

use actix_web::http::header::{self, EntityTag, HeaderValue, IfNoneMatch};
use actix_web::http::Method;
use actix_web::middleware::Compress;
use actix_web::web::{self, Bytes};
use actix_web::{guard, HttpMessage, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The files served: an allow-list, so that nothing else put under `web/` (sources, tests, tools'
/// folders) becomes public. The exclusions win over the inclusions (`*` here also matches `/`).
/// In debug builds the files are read from disk, once, at start; release builds carry them.
#[derive(rust_embed::Embed)]
#[folder = "web/"]
#[include = "index.html"]
#[include = "*.css"]
#[include = "js/**/*.mjs"]
#[include = "vendor/*"]
#[exclude = "vendor-src/**"]
#[exclude = "styles/**"]
struct Files;

/// Where the page lists every module for the browser to fetch at once.
const PRELOAD_MARK: &str = "%PRELOAD%";

/// The page's file, whose `%STATIC%` marks become the hashed prefix.
const PAGE: &str = "index.html";
const PREFIX_MARK: &str = "%STATIC%";

/// Paths outside `/api/` that are the service's, not the client's.
const SERVICE_PATHS: [&str; 6] = [
    "/healthz",
    "/healthz/jobs",
    "/readyz",
    "/metrics",
    "/openapi.yaml",
    "/openapi.json",
];

/// Files under the current build's prefix never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The page, and files asked for under another build's prefix (a page from an older or newer
/// replica during a rolling deploy): kept, but checked with the server before each use.
const REVALIDATE: &str = "no-cache";

/// Which part of the service answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The JSON API, the operations endpoints, and every other method or path.
    Api,
    /// The interactive API documentation.
    Docs,
    /// The web client's page: `GET`/`HEAD` of any path that is not the service's.
    Page,
    /// The web client's files: `GET`/`HEAD` under `/static/`.
    Asset,
}

impl Surface {
    pub fn is_web_client(self) -> bool {
        matches!(self, Surface::Page | Surface::Asset)
    }
}

/// Classifies a request by its method and its path as sent (percent-encoded). The path is
/// decoded first, at least as far as the router decodes it, so that no spelling of an API path
/// counts as the web client's.
pub fn surface(method: &Method, path: &str) -> Surface {
    let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if path.starts_with("/docs") {
        Surface::Docs
    } else if !(method == Method::GET || method == Method::HEAD)
        || under("/api")
        || SERVICE_PATHS.contains(&path.as_ref())
    {
        Surface::Api
    } else if under("/static") {
        Surface::Asset
    } else {
        Surface::Page
    }
}

/// One response body, with what is sent along with it.
struct Served {
    body: Bytes,
    content_type: HeaderValue,
    /// Weak, because the same bytes go out gzip-, brotli- or zstd-encoded too.
    etag: EntityTag,
}

impl Served {
    fn new(name: &str, body: Bytes, sha256: &[u8]) -> anyhow::Result<Served> {
        Ok(Served {
            body,
            content_type: HeaderValue::from_str(&content_type(name))?,
            etag: EntityTag::new_weak(hex(sha256)),
        })
    }
}

/// Everything the web client's routes serve, loaded once at start.
pub struct WebClient {
    /// Names this build's files: the first 12 hex digits of a SHA-256 over every file's name
    /// and SHA-256, so it changes whenever any file does.
    build: String,
    page: Served,
    assets: HashMap<String, Served>,
}

impl WebClient {
    pub fn load() -> anyhow::Result<WebClient> {
        let mut files: Vec<(String, Bytes, [u8; 32])> = Vec::new();
        for name in Files::iter() {
            let file = Files::get(&name)
                .ok_or_else(|| anyhow::anyhow!("web/{name}: listed but cannot be read"))?;
            let sha256 = file.metadata.sha256_hash();
            let body = match file.data {
                Cow::Borrowed(bytes) => Bytes::from_static(bytes),
                Cow::Owned(bytes) => Bytes::from(bytes),
            };
            files.push((name.into_owned(), body, sha256));
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let build = build_hash(
            files
                .iter()
                .map(|(name, _, sha256)| (name.as_str(), sha256)),
        );
        let preload = module_preloads(files.iter().map(|(name, _, _)| name.as_str()));
        let mut page = None;
        let mut assets = HashMap::new();
        for (name, body, sha256) in files {
            if name == PAGE {
                let text = std::str::from_utf8(&body)
                    .map_err(|e| anyhow::anyhow!("web/{PAGE} is not UTF-8: {e}"))?;
                let filled = text
                    .replace(PRELOAD_MARK, &preload)
                    .replace(PREFIX_MARK, &format!("/static/{build}"));
                let sha256 = Sha256::digest(filled.as_bytes());
                page = Some(Served::new(PAGE, Bytes::from(filled), &sha256)?);
            } else {
                let served = Served::new(&name, body, &sha256)?;
                assets.insert(name, served);
            }
        }
        let page = page.ok_or_else(|| anyhow::anyhow!("web/{PAGE} is missing"))?;
        Ok(WebClient {
            build,
            page,
            assets,
        })
    }

    fn page(&self, req: &HttpRequest) -> HttpResponse {
        respond(req, &self.page, REVALIDATE)
    }

    fn asset(&self, req: &HttpRequest, build: &str, name: &str) -> Result<HttpResponse, ApiError> {
        let asset = self.assets.get(name).ok_or(ApiError::NotFound)?;
        let cache = if build == self.build {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        Ok(respond(req, asset, cache))
    }
}

/// 304 when the caller's copy is current, the file otherwise.
fn respond(req: &HttpRequest, served: &Served, cache_control: &'static str) -> HttpResponse {
    let current = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(&served.etag)),
        None => false,
    };
    let mut response = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(served.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, "Accept-Encoding"));
    if current {
        response.finish()
    } else {
        response
            .insert_header((header::CONTENT_TYPE, served.content_type.clone()))
            .body(served.body.clone())
    }
}

/// A `modulepreload` link for every module the first page needs, so the
/// browser fetches them all at once instead of discovering each import only
/// after its importer arrived (a chain of round trips before the first page
/// shows). Pages under `js/pages/` are fetched when first shown.
fn module_preloads<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .filter(|name| name.ends_with(".mjs") && !name.starts_with("js/pages/"))
        .map(|name| format!(r#"<link rel="modulepreload" href="{PREFIX_MARK}/{name}">"#))
        .collect::<Vec<_>>()
        .join("\n  ")
}

fn build_hash<'a>(files: impl Iterator<Item = (&'a str, &'a [u8; 32])>) -> String {
    let mut hasher = Sha256::new();
    for (name, sha256) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(sha256);
    }
    hex(&hasher.finalize()[..6])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// By the name's extension; text is UTF-8. Browsers want JavaScript modules as
/// `text/javascript`, whatever older tables say.
fn content_type(name: &str) -> String {
    let extension = name.rsplit_once('.').map_or("", |(_, extension)| extension);
    let mime = match extension {
        "mjs" | "js" => mime::TEXT_JAVASCRIPT,
        "LICENSE" => mime::TEXT_PLAIN,
        _ => mime_guess::from_ext(extension).first_or_octet_stream(),
    };
    if mime.type_() == mime::TEXT {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_owned()
    }
}

async fn page(req: HttpRequest, client: web::Data<WebClient>) -> HttpResponse {
    client.page(&req)
}

async fn asset(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    client: web::Data<WebClient>,
) -> Result<HttpResponse, ApiError> {
    let (build, name) = path.into_inner();
    client.asset(&req, &build, &name)
}

/// Only the web client's requests match these (other methods and paths go on to the API's
/// routes and its "not found"), and only its answers are compressed.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let on = |wanted: Surface| {
        guard::fn_guard(move |ctx| surface(&ctx.head().method, ctx.head().uri.path()) == wanted)
    };
    cfg.service(
        web::resource("/static/{build}/{file:.*}")
            .guard(on(Surface::Asset))
            .wrap(Compress::default())
            .to(asset),
    )
    .service(
        web::resource("/{route:.*}")
            .guard(on(Surface::Page))
            .wrap(Compress::default())
            .to(page),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_of_paths_that_are_not_the_services_are_the_page() {
        for path in [
            "/",
            "/requests",
            "/requests/0190a0b1-0000-7000-8000-000000000000",
        ] {
            assert_eq!(surface(&Method::GET, path), Surface::Page, "{path}");
        }
        assert_eq!(surface(&Method::HEAD, "/account"), Surface::Page);
        assert_eq!(surface(&Method::GET, "/apiary"), Surface::Page);
        assert_eq!(surface(&Method::GET, "/staticky"), Surface::Page);
    }

    #[test]
    fn static_files_are_assets_but_only_to_read() {
        assert_eq!(surface(&Method::GET, "/static/abc/app.css"), Surface::Asset);
        assert_eq!(surface(&Method::HEAD, "/static/abc/x"), Surface::Asset);
        assert_eq!(surface(&Method::POST, "/static/abc/x"), Surface::Api);
    }

    #[test]
    fn the_api_operations_and_other_methods_are_never_the_web_clients() {
        for path in SERVICE_PATHS {
            assert_eq!(surface(&Method::GET, path), Surface::Api, "{path}");
        }
        for path in ["/api", "/api/v1/requests", "/api/v2/nope"] {
            assert_eq!(surface(&Method::GET, path), Surface::Api, "{path}");
        }
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(surface(&method, "/"), Surface::Api);
            assert_eq!(surface(&method, "/requests"), Surface::Api);
        }
    }

    #[test]
    fn an_encoded_spelling_of_an_api_path_is_still_the_api() {
        assert_eq!(surface(&Method::GET, "/%61pi/v1/requests"), Surface::Api);
        assert_eq!(surface(&Method::GET, "/%68ealthz"), Surface::Api);
        assert_eq!(surface(&Method::GET, "/api%2Fv1/requests"), Surface::Api);
        assert_eq!(surface(&Method::GET, "/%64ocs/"), Surface::Docs);
    }

    #[test]
    fn the_docs_are_the_docs_whatever_the_method() {
        assert_eq!(surface(&Method::GET, "/docs/"), Surface::Docs);
        assert_eq!(surface(&Method::POST, "/docs/index.html"), Surface::Docs);
    }

    #[test]
    fn every_module_and_nothing_else_is_preloaded() {
        let links = module_preloads(
            [
                "app.css",
                "index.html",
                "js/main.mjs",
                "vendor/preact.mjs",
                "vendor/htm.LICENSE",
            ]
            .into_iter(),
        );
        assert_eq!(
            links,
            "<link rel=\"modulepreload\" href=\"%STATIC%/js/main.mjs\">\n  \
             <link rel=\"modulepreload\" href=\"%STATIC%/vendor/preact.mjs\">"
        );
    }

    #[test]
    fn the_build_hash_is_12_hex_digits_and_changes_with_any_name_or_content() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        let hash = build_hash([("app.css", &a), ("index.html", &b)].into_iter());
        assert_eq!(hash.len(), 12);
        assert!(hash
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(
            hash,
            build_hash([("app.css", &a), ("index.html", &b)].into_iter())
        );
        assert_ne!(
            hash,
            build_hash([("app.css", &b), ("index.html", &b)].into_iter())
        );
        assert_ne!(
            hash,
            build_hash([("app.cs", &a), ("index.html", &b)].into_iter())
        );
    }

    #[test]
    fn modules_are_javascript_and_text_is_utf_8() {
        assert_eq!(
            content_type("js/main.mjs"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("app.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("vendor/preact.LICENSE"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(content_type("blob"), "application/octet-stream");
    }

    #[test]
    fn the_embedded_set_holds_the_page_and_no_sources() {
        let client = WebClient::load().expect("web/ loads");
        assert!(client.assets.contains_key("app.css"));
        assert!(client.assets.contains_key("vendor/preact.mjs"));
        assert!(!client.assets.contains_key(PAGE));
        assert!(client
            .assets
            .keys()
            .all(|name| !name.starts_with("vendor-src/") && !name.starts_with("styles/")));
        let page = std::str::from_utf8(&client.page.body).expect("UTF-8");
        assert!(!page.contains(PREFIX_MARK));
        assert!(page.contains(&format!("/static/{}/app.css", client.build)));
    }
}
