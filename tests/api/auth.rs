use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn b64(value: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Claims like the server's, signed with `secret`, with fields overridden.
fn forge(app: &TestApp, secret: &str, overrides: serde_json::Value) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "sub": "nobody", "role": "admin", "iat": now, "exp": now + 600,
        "iss": app.settings.auth.issuer, "aud": app.settings.auth.audience,
        "jti": "j", "sid": "s", "typ": "access"
    });
    for (k, v) in overrides.as_object().expect("object") {
        claims[k] = v.clone();
    }
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// The payload of a real token, so forged tokens name a real user and session.
fn payload_of(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("json")
}

#[tokio::test]
async fn sign_in_returns_bearer_tokens_that_open_me() {
    let app = spawn_app().await;
    let reply = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.ok();
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(
        reply.body["expires_in"],
        app.settings.auth.access_token_ttl_seconds
    );
    assert!(reply.body["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 32));
    let token = reply.body["access_token"].as_str().unwrap();
    let claims = payload_of(token);
    for claim in ["sub", "role", "exp", "iat", "iss", "aud", "jti"] {
        assert!(!claims[claim].is_null(), "claim {claim} missing");
    }
    let me = app.get("/api/v1/me", Some(token)).await.ok();
    assert_eq!(me.body["email"], ADMIN_EMAIL);
    assert_eq!(me.body["role"], "admin");
    assert!(me.body.get("password_hash").is_none() && me.body.get("password").is_none());
}

#[tokio::test]
async fn email_is_matched_without_regard_to_case() {
    let app = spawn_app().await;
    app.login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD)
        .await
        .ok();
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong_password = app.login(ADMIN_EMAIL, "not-the-password").await;
    let unknown_email = app.login("nobody@test.local", "not-the-password").await;
    wrong_password.problem(401);
    unknown_email.problem(401);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = spawn_app().await;
    app.get("/api/v1/me", None).await.problem(401);
    app.get("/api/v1/me", Some("not-a-jwt")).await.problem(401);
    let reply = app
        .client
        .get(format!("{}/api/v1/me", app.address))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    read(reply).await.problem(401);
}

#[tokio::test]
async fn expired_tampered_wrong_audience_and_unsigned_tokens_are_refused() {
    let app = spawn_app().await;
    let (token, _) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let real = payload_of(&token);
    let who = json!({"sub": real["sub"], "sid": real["sid"]});
    let secret = app.settings.auth.jwt_secret.expose().to_owned();

    // Control: a token forged with the right secret and claims works, so the refusals below are for the stated reason.
    let good = forge(&app, &secret, who.clone());
    app.get("/api/v1/me", Some(&good)).await.ok();

    let now = chrono::Utc::now().timestamp();
    let mut expired = who.clone();
    expired["exp"] = json!(now - 120);
    expired["iat"] = json!(now - 1000);
    app.get("/api/v1/me", Some(&forge(&app, &secret, expired)))
        .await
        .problem(401);

    let mut audience = who.clone();
    audience["aud"] = json!("another-service");
    app.get("/api/v1/me", Some(&forge(&app, &secret, audience)))
        .await
        .problem(401);

    let mut issuer = who.clone();
    issuer["iss"] = json!("someone-else");
    app.get("/api/v1/me", Some(&forge(&app, &secret, issuer)))
        .await
        .problem(401);

    let mut kind = who.clone();
    kind["typ"] = json!("refresh");
    app.get("/api/v1/me", Some(&forge(&app, &secret, kind)))
        .await
        .problem(401);

    let wrong_key = forge(&app, "a-different-secret-of-sufficient-length", who.clone());
    app.get("/api/v1/me", Some(&wrong_key)).await.problem(401);

    let parts: Vec<&str> = token.split('.').collect();
    let mut escalated = real.clone();
    escalated["role"] = json!("coordinator");
    escalated["exp"] = json!(now + 5000);
    let tampered = format!("{}.{}.{}", parts[0], b64(&escalated), parts[2]);
    app.get("/api/v1/me", Some(&tampered)).await.problem(401);

    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    );
    app.get("/api/v1/me", Some(&unsigned)).await.problem(401);
}

#[tokio::test]
async fn refresh_rotates_and_each_refresh_token_works_once() {
    let app = spawn_app().await;
    let (_, first) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let reply = app.refresh(&first).await.ok();
    let second = reply.string("refresh_token");
    let access = reply.string("access_token");
    assert_ne!(second, first);
    app.get("/api/v1/me", Some(&access)).await.ok();
    app.refresh(&second).await.ok();
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_ends_the_whole_session() {
    let app = spawn_app().await;
    let (_, first) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let rotated = app.refresh(&first).await;
    let second = rotated.string("refresh_token");
    let access = rotated.string("access_token");

    // The stolen copy comes back: refused, and the family is revoked.
    app.refresh(&first).await.problem(401);
    app.refresh(&second).await.problem(401);
    app.get("/api/v1/me", Some(&access)).await.problem(401);

    // Other sessions of the same person are untouched.
    let (other, _) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.get("/api/v1/me", Some(&other)).await.ok();
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refused() {
    let app = spawn_app().await;
    app.refresh("made-up").await.problem(401);
}

#[tokio::test]
async fn logout_ends_the_session_for_refresh_and_access_tokens() {
    let app = spawn_app().await;
    let (access, refresh) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.logout(&refresh).await.no_content();
    app.get("/api/v1/me", Some(&access)).await.problem(401);
    app.refresh(&refresh).await.problem(401);
    // Signing out with an unknown token reveals nothing.
    app.logout("made-up").await.no_content();
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_their_tokens_stop_working() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, token) = app
        .user_of_role(&admin, "specialist", "spec@test.local")
        .await;
    let (_, refresh) = app.sign_in("spec@test.local", PASSWORD).await;
    app.get("/api/v1/me", Some(&token)).await.ok();

    let reply = app
        .post(
            &format!("/api/v1/users/{id}/disable"),
            Some(&admin),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(reply.body["active"], false);

    app.get("/api/v1/me", Some(&token)).await.problem(401);
    app.refresh(&refresh).await.problem(401);
    let login = app.login("spec@test.local", PASSWORD).await;
    login.problem(401);
    assert_eq!(
        login.body,
        app.login("nobody@test.local", PASSWORD).await.body
    );

    // Re-enabled, they can sign in again.
    app.post(
        &format!("/api/v1/users/{id}/enable"),
        Some(&admin),
        json!({}),
    )
    .await
    .ok();
    app.login("spec@test.local", PASSWORD).await.ok();
}

#[tokio::test]
async fn repeated_failures_for_an_account_are_throttled_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.auth.login_max_failures_per_account = 3;
        s.auth.login_window_seconds = 600;
    })
    .await;
    app.fail_logins(ADMIN_EMAIL, 3).await;
    let throttled = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    throttled.problem(429);
    let wait: u64 = throttled
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(wait > 500 && wait <= 600, "wait {wait}");
    // An unknown account is throttled the same way, so throttling reveals nothing.
    app.fail_logins("nobody@test.local", 3).await;
    app.login("nobody@test.local", "wrong-password!")
        .await
        .problem(429);
}

#[tokio::test]
async fn sign_in_attempts_and_refresh_tokens_age_by_the_service_clock() {
    // The clock stands still unless moved: only the service's clock can age
    // the attempts and tokens here, never the system's.
    let start = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let app = spawn_app_at(start, |s| {
        s.auth.login_max_failures_per_account = 3;
        s.auth.login_window_seconds = 600;
        s.auth.refresh_token_ttl_seconds = 3600;
    })
    .await;
    app.fail_logins(ADMIN_EMAIL, 3).await;
    app.clock.advance(chrono::Duration::seconds(599));
    let throttled = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    throttled.problem(429);
    assert_eq!(throttled.header("retry-after"), Some("1"));
    app.clock.advance(chrono::Duration::seconds(1));
    let (_, refresh) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    app.clock.advance(chrono::Duration::seconds(3599));
    let next = app.refresh(&refresh).await.ok().string("refresh_token");
    app.clock.advance(chrono::Duration::seconds(3600));
    app.refresh(&next).await.problem(401);
}

#[tokio::test]
async fn a_success_clears_earlier_failures_for_the_account() {
    let app = spawn_app_with(|s| s.auth.login_max_failures_per_account = 3).await;
    app.fail_logins(ADMIN_EMAIL, 2).await;
    app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.fail_logins(ADMIN_EMAIL, 2).await;
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.ok();
}

#[tokio::test]
async fn many_failures_from_one_address_are_throttled_across_accounts() {
    let app = spawn_app_with(|s| {
        s.auth.login_max_failures_per_account = 100;
        s.auth.login_max_failures_per_address = 4;
    })
    .await;
    for i in 0..4 {
        app.fail_logins(&format!("guess{i}@test.local"), 1).await;
    }
    let reply = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    reply.problem(429);
    assert!(reply.header("retry-after").is_some());
}

fn login_request(app: &TestApp, email: &str, password: &str) -> reqwest::RequestBuilder {
    app.client
        .post(format!("{}/api/v1/auth/login", app.address))
        .json(&json!({"email": email, "password": password}))
}

/// A sign-in from `address`, as a trusted proxy forwards it.
fn login_from(
    app: &TestApp,
    address: &str,
    email: &str,
    password: &str,
) -> reqwest::RequestBuilder {
    login_request(app, email, password).header("x-forwarded-for", address)
}

fn statuses(replies: &[Reply]) -> Vec<u16> {
    replies.iter().map(|r| r.status.as_u16()).collect()
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_gets_no_more_tries_than_the_limit() {
    let app = spawn_app_with(|s| s.auth.login_max_failures_per_account_address = 5).await;
    let burst = (0..30)
        .map(|_| login_request(&app, ADMIN_EMAIL, "wrong-password!"))
        .collect();
    let replies = at_once(burst).await;
    assert_eq!(
        (count(&replies, 401), count(&replies, 429)),
        (5, 25),
        "{:?}",
        statuses(&replies)
    );
}

#[tokio::test]
async fn a_burst_after_four_failures_gets_one_try_even_with_the_right_password_last() {
    let app = spawn_app_with(|s| s.auth.login_max_failures_per_account_address = 5).await;
    app.fail_logins(ADMIN_EMAIL, 4).await;
    let mut burst: Vec<_> = (0..29)
        .map(|_| login_request(&app, ADMIN_EMAIL, "wrong-password!"))
        .collect();
    burst.push(login_request(&app, ADMIN_EMAIL, ADMIN_PASSWORD));
    let replies = at_once(burst).await;
    assert_eq!(
        count(&replies, 401) + count(&replies, 200),
        1,
        "exactly one attempt is checked: {:?}",
        statuses(&replies)
    );
    assert_eq!(count(&replies, 429), 29);
}

#[tokio::test]
async fn a_burst_of_wrong_current_passwords_is_throttled_like_sign_in() {
    let app = spawn_app_with(|s| s.auth.login_max_failures_per_account_address = 5).await;
    let (token, _) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let change = |current: &str| {
        app.client
            .post(format!("{}/api/v1/me/password", app.address))
            .bearer_auth(&token)
            .json(&json!({"current_password": current, "new_password": "another-long-password"}))
    };
    let replies = at_once((0..30).map(|_| change("wrong-password!")).collect()).await;
    assert_eq!(
        (count(&replies, 422), count(&replies, 429)),
        (5, 25),
        "{:?}",
        statuses(&replies)
    );
    // The right password is refused too until the wait is over, here and at sign-in.
    let right = read(change(ADMIN_PASSWORD).send().await.unwrap()).await;
    right.problem(429);
    let wait: u64 = right
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(wait > 0);
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.problem(429);
}

#[tokio::test]
async fn a_burst_of_wrong_client_secrets_gets_no_more_tries_than_the_limit() {
    let app = spawn_app_with(|s| s.auth.login_max_failures_per_account_address = 5).await;
    let admin = app.admin_token().await;
    let (id, _) = app.api_client(&admin, "police", &["requests:read"]).await;
    let burst = (0..30)
        .map(|_| {
            app.client
                .post(format!("{}/api/v1/auth/token", app.address))
                .basic_auth(&id, Some("not-the-secret"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
        })
        .collect();
    let replies = at_once(burst).await;
    assert_eq!(
        (count(&replies, 401), count(&replies, 429)),
        (5, 25),
        "{:?}",
        statuses(&replies)
    );
}

#[tokio::test]
async fn a_guesser_elsewhere_does_not_lock_the_owner_out_from_their_own_address() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.0/8".into()];
        s.auth.login_max_failures_per_account_address = 5;
        s.auth.login_max_failures_per_account = 50;
    })
    .await;
    let guesser = "203.0.113.9";
    for _ in 0..5 {
        let reply = login_from(&app, guesser, ADMIN_EMAIL, "wrong-password!");
        read(reply.send().await.unwrap()).await.problem(401);
    }
    let locked = login_from(&app, guesser, ADMIN_EMAIL, ADMIN_PASSWORD);
    read(locked.send().await.unwrap()).await.problem(429);
    let owner = login_from(&app, "192.0.2.10", ADMIN_EMAIL, ADMIN_PASSWORD);
    read(owner.send().await.unwrap()).await.ok();
}

#[tokio::test]
async fn the_account_wide_ceiling_stops_guessing_spread_over_addresses() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.0/8".into()];
        s.auth.login_max_failures_per_account_address = 2;
        s.auth.login_max_failures_per_account = 5;
    })
    .await;
    for address in [
        "203.0.113.1",
        "203.0.113.1",
        "203.0.113.2",
        "203.0.113.2",
        "203.0.113.3",
    ] {
        let reply = login_from(&app, address, ADMIN_EMAIL, "wrong-password!");
        read(reply.send().await.unwrap()).await.problem(401);
    }
    let reply = login_from(&app, "192.0.2.10", ADMIN_EMAIL, ADMIN_PASSWORD);
    let reply = read(reply.send().await.unwrap()).await;
    reply.problem(429);
    assert!(reply.header("retry-after").is_some());
}

#[tokio::test]
async fn login_validates_its_fields() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "", "password": "x"}),
        )
        .await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["email"]);
    let reply = app
        .post("/api/v1/auth/login", None, json!({"email": "a@b.c"}))
        .await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["password"]);
}

#[tokio::test]
async fn changing_your_password_keeps_this_session_and_ends_the_others() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, mine) = app
        .user_of_role(&admin, "coordinator", "coord@test.local")
        .await;
    let (other, _) = app.sign_in("coord@test.local", PASSWORD).await;

    let wrong = app
        .post(
            "/api/v1/me/password",
            Some(&mine),
            json!({"current_password": "nope", "new_password": "another-long-password"}),
        )
        .await;
    wrong.problem(422);
    assert_eq!(wrong.fields(), ["current_password"]);
    let short = app
        .post(
            "/api/v1/me/password",
            Some(&mine),
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    short.problem(422);
    assert_eq!(short.fields(), ["new_password"]);

    app.post(
        "/api/v1/me/password",
        Some(&mine),
        json!({"current_password": PASSWORD, "new_password": "another-long-password"}),
    )
    .await
    .no_content();
    app.get("/api/v1/me", Some(&mine)).await.ok();
    app.get("/api/v1/me", Some(&other)).await.problem(401);
    app.login("coord@test.local", PASSWORD).await.problem(401);
    app.sign_in("coord@test.local", "another-long-password")
        .await;
    app.post(
        "/api/v1/me/password",
        None,
        json!({"current_password": "x", "new_password": "another-long-password"}),
    )
    .await
    .problem(401);
}

// Browser mode: the refresh token lives in an HttpOnly cookie.

const COOKIE: &str = "__Secure-nru-refresh";
const COOKIE_PATHS: [&str; 2] = ["/api/v1/auth/refresh", "/api/v1/auth/logout"];

async fn browser_login(app: &TestApp) -> Reply {
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "session": "cookie"}),
    )
    .await
}

fn set_cookies(reply: &Reply) -> Vec<&str> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The refresh token a reply set, asserting one cookie per path, each with
/// the attributes a browser needs to keep it from scripts and other sites.
fn cookie_set(reply: &Reply, max_age: i64) -> String {
    let cookies = set_cookies(reply);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let mut values = Vec::new();
    for (cookie, path) in cookies.iter().zip(COOKIE_PATHS) {
        let mut parts = cookie.split("; ");
        let (name, value) = parts
            .next()
            .and_then(|p| p.split_once('='))
            .expect("name=value");
        assert_eq!(name, COOKIE);
        values.push(value.to_owned());
        let mut attributes: Vec<&str> = parts.collect();
        attributes.sort_unstable();
        let max_age = format!("Max-Age={max_age}");
        let path = format!("Path={path}");
        let mut expected = vec![
            "HttpOnly",
            max_age.as_str(),
            path.as_str(),
            "SameSite=Strict",
            "Secure",
        ];
        expected.sort_unstable();
        assert_eq!(attributes, expected, "{cookie}");
    }
    assert_eq!(values[0], values[1]);
    values.swap_remove(0)
}

/// A refresh or sign-out the way a browser sends it: `{}` and the cookie,
/// with `headers` such as Origin.
async fn by_cookie(app: &TestApp, path: &str, cookie: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = app
        .client
        .post(format!("{}{path}", app.address))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .json(&json!({}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    read(request.send().await.expect("sent")).await
}

fn own_origin(app: &TestApp) -> [(&'static str, &str); 2] {
    [
        ("origin", app.settings.server.public_origin.as_str()),
        ("sec-fetch-site", "same-origin"),
    ]
}

#[tokio::test]
async fn browser_sign_in_puts_the_refresh_token_in_a_narrow_http_only_cookie() {
    let app = spawn_app().await;
    let reply = browser_login(&app).await.ok();
    let token = cookie_set(&reply, app.settings.auth.refresh_token_ttl_seconds);
    assert_eq!(token.len(), 43);
    assert!(reply.body.get("refresh_token").is_none(), "{}", reply.body);
    assert_eq!(
        reply.body["idle_timeout_seconds"],
        app.settings.auth.idle_timeout_seconds
    );
    let access = reply.body["access_token"].as_str().unwrap();
    app.get("/api/v1/me", Some(access)).await.ok();

    // Other clients keep the token in the body, with no cookie.
    for body in [
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "session": "body"}),
    ] {
        let reply = app.post("/api/v1/auth/login", None, body).await.ok();
        assert!(set_cookies(&reply).is_empty());
        assert!(reply.body["refresh_token"].is_string());
        assert!(reply.body.get("idle_timeout_seconds").is_none());
    }
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "session": "localstorage"}),
        )
        .await;
    unknown.problem(422);
    assert_eq!(unknown.fields(), ["session"]);
}

#[tokio::test]
async fn refresh_by_cookie_rotates_the_cookie_and_a_reused_one_ends_the_session() {
    let app = spawn_app().await;
    let ttl = app.settings.auth.refresh_token_ttl_seconds;
    let first = cookie_set(&browser_login(&app).await, ttl);
    let refreshed = by_cookie(&app, "/api/v1/auth/refresh", &first, &own_origin(&app))
        .await
        .ok();
    assert!(refreshed.body.get("refresh_token").is_none());
    assert_eq!(
        refreshed.body["idle_timeout_seconds"],
        app.settings.auth.idle_timeout_seconds
    );
    let second = cookie_set(&refreshed, ttl);
    assert_ne!(second, first);
    let access = refreshed.body["access_token"].as_str().unwrap();
    app.get("/api/v1/me", Some(access)).await.ok();

    // Sequential refreshes with the current cookie, as tabs taking turns make.
    let again = by_cookie(&app, "/api/v1/auth/refresh", &second, &own_origin(&app))
        .await
        .ok();
    let third = cookie_set(&again, ttl);

    // The first cookie again: theft, so the whole session ends.
    by_cookie(&app, "/api/v1/auth/refresh", &first, &own_origin(&app))
        .await
        .problem(401);
    by_cookie(&app, "/api/v1/auth/refresh", &third, &own_origin(&app))
        .await
        .problem(401);
    let access = again.body["access_token"].as_str().unwrap();
    app.get("/api/v1/me", Some(access)).await.problem(401);
}

#[tokio::test]
async fn cookie_refresh_and_sign_out_are_refused_to_other_sites_pages() {
    let foreign = "https://evil.example";
    let web_client = "https://helpdesk.nru.example";
    let app = spawn_app_with(|s| s.server.cors_allowed_origins = vec![web_client.into()]).await;
    let ttl = app.settings.auth.refresh_token_ttl_seconds;
    let own = app.settings.server.public_origin.clone();
    let mut cookie = cookie_set(&browser_login(&app).await, ttl);
    let refused: [&[(&str, &str)]; 5] = [
        &[("origin", foreign)],
        &[("origin", foreign), ("sec-fetch-site", "same-origin")],
        &[("origin", "null")],
        &[("origin", &own), ("sec-fetch-site", "cross-site")],
        &[],
    ];
    for path in COOKIE_PATHS {
        for headers in refused {
            let reply = by_cookie(&app, path, &cookie, headers).await;
            let problem = reply.problem(403);
            assert!(
                problem["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("Origin") || d.starts_with("Sec-Fetch-Site")),
                "{problem}"
            );
            assert!(set_cookies(&reply).is_empty());
        }
    }
    // None of that spent the token or ended the session.
    let accepted: [&[(&str, &str)]; 4] = [
        &[("origin", &own)],
        &[("sec-fetch-site", "same-origin")],
        &[("origin", web_client), ("sec-fetch-site", "same-site")],
        &[("origin", &own), ("sec-fetch-site", "same-origin")],
    ];
    for headers in accepted {
        let reply = by_cookie(&app, "/api/v1/auth/refresh", &cookie, headers).await;
        assert_eq!(reply.status, StatusCode::OK, "{headers:?}: {}", reply.body);
        cookie = cookie_set(&reply, ttl);
    }
}

#[tokio::test]
async fn sign_out_by_cookie_clears_the_cookie_and_ends_the_session() {
    let app = spawn_app().await;
    let ttl = app.settings.auth.refresh_token_ttl_seconds;
    let reply = browser_login(&app).await;
    let access = reply.string("access_token");
    let cookie = cookie_set(&reply, ttl);
    let out = by_cookie(&app, "/api/v1/auth/logout", &cookie, &own_origin(&app))
        .await
        .no_content();
    assert_eq!(cookie_set(&out, 0), "");
    by_cookie(&app, "/api/v1/auth/refresh", &cookie, &own_origin(&app))
        .await
        .problem(401);
    app.get("/api/v1/me", Some(&access)).await.problem(401);

    // A sign-out with the token in the body clears a cookie too.
    let (_, refresh) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let out = app.logout(&refresh).await.no_content();
    assert_eq!(cookie_set(&out, 0), "");
}

#[tokio::test]
async fn a_refresh_without_a_good_token_is_refused() {
    let app = spawn_app_with(|s| s.auth.refresh_token_ttl_seconds = 1).await;
    for path in COOKIE_PATHS {
        let reply = app.post(path, None, json!({})).await;
        assert!(reply.problem(401)["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("refresh_token")));
    }
    let cookie = cookie_set(&browser_login(&app).await, 1);
    let mut tampered = cookie.clone();
    tampered.replace_range(0..1, if cookie.starts_with('A') { "B" } else { "A" });
    by_cookie(&app, "/api/v1/auth/refresh", &tampered, &own_origin(&app))
        .await
        .problem(401);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    by_cookie(&app, "/api/v1/auth/refresh", &cookie, &own_origin(&app))
        .await
        .problem(401);
}
