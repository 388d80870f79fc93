//! Abuse limits: request budgets per caller and per address, CORS for the
//! web client's origins only, strict content types everywhere, and the
//! content security policies.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

fn with_limits(
    per_caller: (u32, u32),
    per_address: (u32, u32),
) -> impl FnOnce(&mut nru_helpdesk::config::Settings) {
    move |s| {
        s.limits.per_caller_per_minute = per_caller.0;
        s.limits.per_caller_burst = per_caller.1;
        s.limits.per_address_per_minute = per_address.0;
        s.limits.per_address_burst = per_address.1;
    }
}

/// Asserts a 429 problem whose Retry-After is a whole number of seconds in 1..=max.
fn assert_limited(reply: &Reply, max_wait: u64) {
    reply.problem(429);
    let wait: u64 = reply
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=max_wait).contains(&wait), "Retry-After {wait}");
    // A refusal from the budgets is an answer like any other.
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(reply
        .header("content-security-policy")
        .is_some_and(|p| p.contains("default-src 'none'")));
}

#[tokio::test]
async fn a_caller_past_their_budget_gets_429_with_retry_after_while_others_go_on() {
    // One call every three seconds after a burst of three: slow enough that
    // no refill happens while the test runs, however loaded the machine.
    let app = spawn_app_with(with_limits((20, 3), (0, 0))).await;
    let admin = app.admin_token().await;
    let (_, practitioner) = app
        .user_of_role(&admin, "practitioner", "p@test.local")
        .await;
    // The admin has spent one call creating the practitioner.
    for _ in 0..2 {
        app.get("/api/v1/me", Some(&admin)).await.ok();
    }
    let refused = app.get("/api/v1/me", Some(&admin)).await;
    assert_limited(&refused, 4);
    assert!(refused.body["detail"]
        .as_str()
        .is_some_and(|d| d.contains("try again in")));
    // Every endpoint shares the budget, writes included, and nothing is done.
    let team = app
        .post("/api/v1/teams", Some(&admin), json!({"name": "Limited"}))
        .await;
    assert_limited(&team, 4);

    assert_eq!(
        app.get("/api/v1/me", Some(&practitioner)).await.status,
        StatusCode::OK,
        "another person's budget is their own"
    );
    let health = app.get("/healthz", None).await;
    assert_eq!(
        health.status,
        StatusCode::OK,
        "health checks are never limited"
    );

    // The budget refills at one every three seconds.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let teams = app.get("/api/v1/teams", Some(&admin)).await.ok();
    assert_eq!(
        teams.body["items"],
        json!([]),
        "the refused write did nothing"
    );
}

#[tokio::test]
async fn an_address_past_its_budget_is_refused_signed_in_or_not_and_tokens_do_not_help() {
    let app = spawn_app_with(with_limits((0, 0), (6, 4))).await;
    let admin = app.admin_token().await;
    app.get("/api/v1/me", Some(&admin)).await.ok();
    app.get("/api/v1/me", None).await.problem(401);
    let tampered = format!("{admin}x");
    app.get("/api/v1/me", Some(&tampered)).await.problem(401);
    // The sign-in, the three calls above: the address has spent four.
    assert_limited(&app.get("/api/v1/me", Some(&admin)).await, 11);
    assert_limited(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 11);
    assert_limited(&app.get("/openapi.json", None).await, 11);
    app.get("/readyz", None).await.ok();
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_budget() {
    let app = spawn_app_with(|s| {
        with_limits((0, 0), (6, 2))(s);
        s.server.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await;
    let from = |address: &str| {
        app.client
            .get(format!("{}/api/v1/me", app.address))
            .header("x-forwarded-for", format!("198.51.100.99, {address}"))
            .send()
    };
    for _ in 0..2 {
        read(from("192.0.2.1").await.unwrap()).await.problem(401);
    }
    assert_limited(&read(from("192.0.2.1").await.unwrap()).await, 11);
    read(from("192.0.2.2").await.unwrap()).await.problem(401);
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_addresses_are_ignored() {
    let app = spawn_app_with(with_limits((0, 0), (6, 2))).await;
    for address in ["192.0.2.1", "192.0.2.2"] {
        let reply = app
            .client
            .get(format!("{}/api/v1/me", app.address))
            .header("x-forwarded-for", address)
            .send()
            .await
            .unwrap();
        read(reply).await.problem(401);
    }
    let third = app
        .client
        .get(format!("{}/api/v1/me", app.address))
        .header("x-forwarded-for", "192.0.2.3")
        .send()
        .await
        .unwrap();
    assert_limited(&read(third).await, 11);
}

#[tokio::test]
async fn the_web_clients_origin_may_call_the_api_and_other_origins_get_no_cors_headers() {
    let app = spawn_app_with(|s| {
        s.server.cors_allowed_origins = vec!["https://helpdesk.nru.example".into()];
    })
    .await;
    let admin = app.admin_token().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}/api/v1/requests", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, idempotency-key",
            )
            .send()
    };
    let allowed = preflight("https://helpdesk.nru.example").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://helpdesk.nru.example"
    );
    let allowed_headers = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in ["authorization", "content-type", "idempotency-key"] {
        assert!(allowed_headers.contains(name), "{allowed_headers}");
    }
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let get = |origin: &'static str| {
        app.client
            .get(format!("{}/api/v1/me", app.address))
            .bearer_auth(&admin)
            .header("origin", origin)
            .send()
    };
    let reply = get("https://helpdesk.nru.example").await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(
        reply.headers()["access-control-allow-origin"],
        "https://helpdesk.nru.example"
    );
    let exposed = reply.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("location"));
    // Credentials are bearer tokens: no page elsewhere may send the session cookie.
    assert!(allowed
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    assert!(reply
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    let elsewhere = get("https://evil.example").await.unwrap();
    assert!(elsewhere
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn api_answers_allow_no_content_and_the_docs_page_only_its_own() {
    let app = spawn_app().await;
    let api = app.get("/api/v1/me", None).await;
    let policy = api.header("content-security-policy").unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"));

    let docs = app
        .client
        .get(format!("{}/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let policy = docs.headers()["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
}

#[tokio::test]
async fn every_operation_that_takes_a_body_refuses_other_content_types_with_415() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (client_id, secret) = app
        .api_client(
            &admin,
            "police",
            &["requests:write", "requests:read", "webhooks:manage"],
        )
        .await;
    let client = app.client_token(&client_id, &secret).await;
    // Handlers check the role before the body, so each operation is tried
    // as each role until one may use it.
    let team = app.create_team(&admin, "Content types").await;
    let mut people = vec![admin.clone()];
    for role in ["specialist", "coordinator"] {
        let email = format!("{role}@test.local");
        app.create_user(
            &admin,
            json!({"email": email, "display_name": role, "role": role, "password": PASSWORD, "team_ids": [team]}),
        )
        .await;
        people.push(app.sign_in(&email, PASSWORD).await.0);
    }
    let (_, practitioner) = app
        .user_of_role(&admin, "practitioner", "practitioner@test.local")
        .await;
    people.push(practitioner);
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&nru_helpdesk::api::doc::openapi_yaml()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        for (method, operation) in item.as_mapping().unwrap() {
            if operation.get("requestBody").is_none() {
                continue;
            }
            // Path ids are made up: the body is refused before any lookup.
            let url = path
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        uuid::Uuid::now_v7().to_string()
                    } else {
                        part.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let method =
                Method::from_bytes(method.as_str().unwrap().to_uppercase().as_bytes()).unwrap();
            let tokens =
                if path.starts_with("/api/v1/client/") || path.starts_with("/api/v1/webhooks") {
                    vec![client.clone()]
                } else {
                    people.clone()
                };
            let mut reply = None;
            for token in &tokens {
                let sent = app
                    .client
                    .request(method.clone(), format!("{}{url}", app.address))
                    .bearer_auth(token)
                    .header("content-type", "text/plain")
                    .body("{}")
                    .send()
                    .await
                    .unwrap();
                let answer = read(sent).await;
                let forbidden = answer.status == StatusCode::FORBIDDEN;
                reply = Some(answer);
                if !forbidden {
                    break;
                }
            }
            let reply = reply.expect("one role tried");
            assert_eq!(
                reply.status.as_u16(),
                415,
                "{method} {path}: {}",
                reply.body
            );
            reply.problem(415);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations take a body");
}
