use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.get("/healthz", None).await.ok();
    assert_eq!(health.body["status"], "ok");
    let ready = app.get("/readyz", None).await.ok();
    assert_eq!(ready.body["status"], "ready");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_plain_one_is_echoed() {
    let app = spawn_app().await;
    let reply = app.get("/healthz", None).await;
    assert!(reply.header("x-request-id").is_some_and(|v| v.len() >= 16));
    let echoed = app
        .client
        .get(format!("{}/api/v1/me", app.address))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc-123");
    let replaced = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn unknown_paths_and_methods_get_problems() {
    let app = spawn_app().await;
    app.get("/api/v1/nothing-here", None).await.problem(404);
    let reply = app
        .call(reqwest::Method::DELETE, "/api/v1/users", None, None)
        .await;
    reply.problem(405);
    assert_eq!(reply.header("allow"), Some("GET, POST"));
}

#[tokio::test]
async fn bodies_must_be_json_of_bounded_size() {
    let app = spawn_app_with(|s| s.server.json_limit_bytes = 1024).await;
    let admin = app.admin_token().await;
    let url = format!("{}/api/v1/teams", app.address);

    let wrong_type = app
        .client
        .post(&url)
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body(r#"{"name":"x"}"#)
        .send()
        .await
        .unwrap();
    read(wrong_type).await.problem(415);

    let malformed = app
        .client
        .post(&url)
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    read(malformed).await.problem(400);

    let huge = json!({"name": "x", "description": "y".repeat(4000)});
    let reply = app.post("/api/v1/teams", Some(&admin), huge).await;
    reply.problem(413);

    let teams = app.get("/api/v1/teams", Some(&admin)).await;
    assert_eq!(
        teams.body["items"],
        json!([]),
        "nothing was created by refused bodies"
    );
}

#[tokio::test]
async fn the_body_is_judged_only_after_the_caller_is() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/users", app.address);
    let anonymous = app
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("garbage")
        .send()
        .await
        .unwrap();
    read(anonymous).await.problem(401);
}

#[tokio::test]
async fn the_openapi_document_and_docs_page_are_served() {
    let app = spawn_app().await;
    let reply = app
        .client
        .get(format!("{}/openapi.yaml", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let served = reply.text().await.unwrap();
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    assert_eq!(served, checked_in);
    let docs = app
        .client
        .get(format!("{}/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn every_response_forbids_sniffing_and_referrers_and_api_answers_are_not_stored() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let me = app.get("/api/v1/me", Some(&admin)).await.ok();
    let refused = app.get("/api/v1/me", None).await;
    refused.problem(401);
    for reply in [&me, &refused] {
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    }
    let health = app.get("/healthz", None).await;
    assert_eq!(health.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(health.header("referrer-policy"), Some("no-referrer"));
}
