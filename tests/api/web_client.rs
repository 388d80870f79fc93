//! The web client served by the binary: its page for every path that is the client's own, its
//! files under a prefix naming the build, cached for good only under the current build's prefix,
//! compressed, and under a policy of their own; the API and the docs keep theirs.

use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

const API_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

async fn fetch(app: &TestApp, method: Method, path: &str) -> reqwest::Response {
    fetch_with(app, method, path, &[]).await
}

async fn fetch_with(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app.client.request(method, format!("{}{path}", app.address));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request sent")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// The page, and the build hash its asset prefix carries.
async fn page(app: &TestApp) -> (String, String) {
    let response = fetch(app, Method::GET, "/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let start = text.find("/static/").expect("the page names its files") + "/static/".len();
    let build = text[start..].chars().take(12).collect::<String>();
    (text, build)
}

/// The `/static/…` addresses in the page's `href` and `src` attributes.
fn references(page: &str) -> Vec<String> {
    page.split(['"', '\''])
        .filter(|part| part.starts_with("/static/"))
        .map(str::to_owned)
        .collect()
}

/// Sends a request line exactly as written (no client tidying up `..`), and returns the status.
async fn raw_status(app: &TestApp, target: &str) -> u16 {
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer}"))
}

#[tokio::test]
async fn the_root_is_the_page_under_a_strict_policy_with_its_files_under_the_build_prefix() {
    let app = spawn_app().await;
    let response = fetch(&app, Method::GET, "/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-type").starts_with("text/html"));
    let policy = header(&response, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(
        header(&response, "cross-origin-opener-policy"),
        "same-origin"
    );
    assert_eq!(
        header(&response, "cross-origin-resource-policy"),
        "same-origin"
    );
    let permissions = header(&response, "permissions-policy");
    for feature in [
        "camera=()",
        "microphone=()",
        "geolocation=()",
        "payment=()",
        "usb=()",
    ] {
        assert!(permissions.contains(feature), "{permissions}");
    }
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "cache-control"), "no-cache");
    let etag = header(&response, "etag").to_owned();

    let (text, build) = page(&app).await;
    assert!(
        !text.contains("%STATIC%") && !text.contains("%PRELOAD%"),
        "{text}"
    );
    assert!(
        text.contains(r#"<link rel="modulepreload" href="/static/"#)
            && text.contains("/js/main.mjs\">"),
        "every module is preloaded: {text}"
    );
    assert_eq!(build.len(), 12);
    assert!(build.bytes().all(|c| c.is_ascii_hexdigit()), "{build}");
    assert!(
        text.contains(&format!("\"/static/{build}/app.css\"")),
        "{text}"
    );
    assert!(!references(&text).is_empty());
    for reference in references(&text) {
        assert!(
            reference.starts_with(&format!("/static/{build}/")),
            "{reference}"
        );
    }

    let again = fetch_with(&app, Method::GET, "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "etag"), etag);
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn client_side_routes_get_the_same_page_and_head_gets_its_headers_only() {
    let app = spawn_app().await;
    let (root, _) = page(&app).await;
    for path in [
        "/requests",
        "/requests/0190a0b1-7c2e-7000-8000-00000000abcd",
        "/account",
        "/anything/at/all",
    ] {
        let response = fetch(&app, Method::GET, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(header(&response, "content-security-policy").contains("trusted-types"));
        assert_eq!(response.text().await.unwrap(), root, "{path}");
    }
    let head = fetch(&app, Method::HEAD, "/requests").await;
    assert_eq!(head.status(), StatusCode::OK);
    assert!(header(&head, "content-type").starts_with("text/html"));
    assert!(head.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn api_paths_and_other_methods_keep_their_problems_and_the_api_policy() {
    let app = spawn_app().await;
    let nope = app.get("/api/v1/nope", None).await;
    nope.problem(404);
    assert_eq!(nope.header("content-security-policy"), Some(API_POLICY));
    assert_eq!(nope.header("cache-control"), Some("no-store"));
    assert!(nope.header("cross-origin-opener-policy").is_none());

    let health = app.get("/healthz", None).await.ok();
    assert_eq!(health.header("content-security-policy"), Some(API_POLICY));

    for (method, path) in [
        (Method::POST, "/"),
        (Method::DELETE, "/requests"),
        (Method::PUT, "/account"),
    ] {
        let reply = app.call(method.clone(), path, None, None).await;
        reply.problem(404);
        assert_eq!(
            reply.header("content-security-policy"),
            Some(API_POLICY),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn the_docs_keep_their_own_page_and_policy() {
    let app = spawn_app().await;
    let docs = fetch(&app, Method::GET, "/docs/").await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert_eq!(header(&docs, "content-security-policy"), DOCS_POLICY);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn files_of_this_build_are_kept_for_good_and_revalidated_by_etag() {
    let app = spawn_app().await;
    let (_, build) = page(&app).await;
    let path = format!("/static/{build}/app.css");
    let css = fetch(&app, Method::GET, &path).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(header(&css, "content-type").starts_with("text/css"));
    assert_eq!(header(&css, "cache-control"), IMMUTABLE);
    assert!(header(&css, "content-security-policy").contains("require-trusted-types-for"));
    assert_eq!(header(&css, "cross-origin-resource-policy"), "same-origin");
    let etag = header(&css, "etag").to_owned();
    let on_disk = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/web/app.css")).unwrap();
    assert_eq!(css.bytes().await.unwrap(), on_disk);

    let again = fetch_with(&app, Method::GET, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "etag"), etag);
    assert_eq!(header(&again, "cache-control"), IMMUTABLE);
    assert!(again.bytes().await.unwrap().is_empty());

    let stale = fetch_with(&app, Method::GET, &path, &[("if-none-match", "W/\"0000\"")]).await;
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn modules_are_served_as_javascript() {
    let app = spawn_app().await;
    let (_, build) = page(&app).await;
    let module = fetch(
        &app,
        Method::GET,
        &format!("/static/{build}/vendor/preact.mjs"),
    )
    .await;
    assert_eq!(module.status(), StatusCode::OK);
    assert!(
        header(&module, "content-type").starts_with("text/javascript"),
        "{}",
        header(&module, "content-type")
    );
}

#[tokio::test]
async fn files_asked_for_under_another_build_are_served_but_never_kept_for_good() {
    let app = spawn_app().await;
    let (_, build) = page(&app).await;
    let other = if build == "000000000000" {
        "111111111111"
    } else {
        "000000000000"
    };
    let css = fetch(&app, Method::GET, &format!("/static/{other}/app.css")).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(header(&css, "cache-control"), "no-cache");
    assert!(header(&css, "etag").len() > 2);
}

#[tokio::test]
async fn sources_and_paths_outside_the_embedded_files_are_not_found() {
    let app = spawn_app().await;
    let (_, build) = page(&app).await;
    for file in [
        "vendor-src/package.json",
        "styles/app.scss",
        "index.html",
        "no-such-file.css",
        "..%2FCargo.toml",
        "..%2F..%2FCargo.toml",
        "%2E%2E%2FCargo.toml",
    ] {
        let reply = app.get(&format!("/static/{build}/{file}"), None).await;
        reply.problem(404);
    }
    for target in [
        format!("/static/{build}/../Cargo.toml"),
        format!("/static/{build}/../../Cargo.toml"),
        format!("/static/{build}/vendor/../../Cargo.toml"),
    ] {
        assert_eq!(raw_status(&app, &target).await, 404, "{target}");
    }
    let post = app
        .call(
            Method::POST,
            &format!("/static/{build}/app.css"),
            None,
            None,
        )
        .await;
    post.problem(404);
}

#[tokio::test]
async fn the_page_and_its_files_are_compressed_for_browsers_that_accept_it_and_the_api_is_not() {
    let app = spawn_app().await;
    let (_, build) = page(&app).await;
    let raw = std::fs::metadata(concat!(env!("CARGO_MANIFEST_DIR"), "/web/app.css"))
        .unwrap()
        .len();
    for accepted in ["gzip", "br", "gzip, deflate, br, zstd"] {
        let css = fetch_with(
            &app,
            Method::GET,
            &format!("/static/{build}/app.css"),
            &[("accept-encoding", accepted)],
        )
        .await;
        assert_eq!(css.status(), StatusCode::OK);
        let encoding = header(&css, "content-encoding").to_owned();
        if accepted == "gzip" {
            assert_eq!(encoding, "gzip");
        }
        let body = css.bytes().await.unwrap();
        assert!(
            (body.len() as u64) < raw / 4,
            "{encoding}: {} of {raw} bytes",
            body.len()
        );
        if encoding == "gzip" {
            assert_eq!(&body[..2], &[0x1f, 0x8b]);
        }
    }
    let page = fetch_with(&app, Method::GET, "/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&page, "content-encoding"), "gzip");

    let plain = fetch(&app, Method::GET, &format!("/static/{build}/app.css")).await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap().len() as u64, raw);
    for path in ["/api/v1/nope", "/healthz", "/openapi.yaml"] {
        let api = fetch_with(&app, Method::GET, path, &[("accept-encoding", "gzip")]).await;
        assert!(api.headers().get("content-encoding").is_none(), "{path}");
    }
}

#[tokio::test]
async fn the_page_and_its_files_do_not_count_against_an_address_budget() {
    let app = spawn_app_with(|s| {
        s.limits.per_address_per_minute = 6;
        s.limits.per_address_burst = 3;
    })
    .await;
    let (_, build) = page(&app).await;
    for _ in 0..5 {
        for path in ["/".to_owned(), format!("/static/{build}/app.css")] {
            let response = fetch(&app, Method::GET, &path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }
    }
    let mut spent = 0;
    while app.get("/api/v1/me", None).await.status != StatusCode::TOO_MANY_REQUESTS {
        spent += 1;
        assert!(spent <= 3, "the API is still limited");
    }
}

#[tokio::test]
async fn every_file_the_page_refers_to_is_served() {
    let app = spawn_app().await;
    let (text, _) = page(&app).await;
    let references = references(&text);
    assert!(!references.is_empty());
    let mut missing = Vec::new();
    for reference in references {
        if fetch(&app, Method::GET, &reference).await.status() != StatusCode::OK {
            missing.push(reference);
        }
    }
    assert!(missing.is_empty(), "not served: {missing:?}");
}
