//! A password an admin sets can be a one-time one: its holder signs in, but
//! must change it before the rest of the API opens to them.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::world::submission;

const PROBLEM_TYPE: &str = "/problems/password-change-required";
const NEW_PASSWORD: &str = "a-password-of-my-own";

fn practitioner(email: &str, change_required: Option<bool>) -> Value {
    let mut body = json!({
        "email": email, "display_name": "Pat", "role": "practitioner", "password": PASSWORD,
        "organisation": "police", "region": "london"
    });
    if let Some(flag) = change_required {
        body["password_change_required"] = json!(flag);
    }
    body
}

/// Asserts the 403 that holds back an account whose password must change.
fn assert_held_back(reply: &Reply) {
    let problem = reply.problem(403);
    assert_eq!(problem["type"], PROBLEM_TYPE, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("/api/v1/me/password")),
        "the detail says where to change it: {problem}"
    );
}

async fn change_own_password(app: &TestApp, token: &str) {
    app.post(
        "/api/v1/me/password",
        Some(token),
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await
    .no_content();
}

#[tokio::test]
async fn a_one_time_password_signs_in_but_opens_only_me_until_it_is_changed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let created = app
        .create_user(&admin, practitioner("pat@test.local", Some(true)))
        .await;
    assert_eq!(created["password_change_required"], true);

    let login = app.login("pat@test.local", PASSWORD).await.ok();
    assert_eq!(login.body["password_change_required"], true);
    let token = login.string("access_token");
    let refresh = login.string("refresh_token");

    let me = app.get("/api/v1/me", Some(&token)).await.ok();
    assert_eq!(me.body["password_change_required"], true);

    // Reading, writing and their own settings are all held back.
    assert_held_back(&app.get("/api/v1/requests", Some(&token)).await);
    assert_held_back(
        &app.post("/api/v1/requests", Some(&token), submission())
            .await,
    );
    assert_held_back(
        &app.get("/api/v1/me/notification-preferences", Some(&token))
            .await,
    );

    // Refresh stays open, and says the change is still due.
    let refreshed = app.refresh(&refresh).await.ok();
    assert_eq!(refreshed.body["password_change_required"], true);
    let refresh = refreshed.string("refresh_token");

    change_own_password(&app, &token).await;

    // The same session now reaches everything its role allows.
    app.get("/api/v1/requests", Some(&token)).await.ok();
    app.post("/api/v1/requests", Some(&token), submission())
        .await
        .created();
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.body["password_change_required"],
        false
    );
    let refreshed = app.refresh(&refresh).await.ok();
    assert_eq!(refreshed.body["password_change_required"], false);
    let login = app.login("pat@test.local", NEW_PASSWORD).await;
    assert_eq!(login.body["password_change_required"], false);
}

#[tokio::test]
async fn an_account_that_must_change_its_password_can_still_sign_out() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, practitioner("pat@test.local", Some(true)))
        .await;
    let (token, refresh) = app.sign_in("pat@test.local", PASSWORD).await;
    app.logout(&refresh).await.no_content();
    app.get("/api/v1/me", Some(&token)).await.problem(401);
}

#[tokio::test]
async fn an_admins_password_reset_can_require_a_change_and_a_reset_without_it_lifts_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // An admin account, so the role is seen not to get past the hold.
    let (id, _) = app
        .user_of_role(&admin, "admin", "second-admin@test.local")
        .await;
    let path = format!("/api/v1/users/{id}/password");
    let reset = |flag: Option<bool>| {
        let mut body = json!({"password": PASSWORD});
        if let Some(flag) = flag {
            body["password_change_required"] = json!(flag);
        }
        app.put(&path, Some(&admin), body)
    };

    reset(Some(true)).await.no_content();
    let user = app.get(&format!("/api/v1/users/{id}"), Some(&admin)).await;
    assert_eq!(user.body["password_change_required"], true);
    let login = app.login("second-admin@test.local", PASSWORD).await;
    assert_eq!(login.body["password_change_required"], true);
    let token = login.string("access_token");
    assert_held_back(&app.get("/api/v1/users", Some(&token)).await);

    // Reset again without the flag: a password to keep.
    reset(None).await.no_content();
    let user = app.get(&format!("/api/v1/users/{id}"), Some(&admin)).await;
    assert_eq!(user.body["password_change_required"], false);
    let (token, _) = app.sign_in("second-admin@test.local", PASSWORD).await;
    app.get("/api/v1/users", Some(&token)).await.ok();

    // Required again, then met by the holder's own change.
    reset(Some(true)).await;
    let (token, _) = app.sign_in("second-admin@test.local", PASSWORD).await;
    assert_held_back(&app.get("/api/v1/users", Some(&token)).await);
    change_own_password(&app, &token).await;
    app.get("/api/v1/users", Some(&token)).await.ok();
}

#[tokio::test]
async fn no_change_is_required_unless_the_admin_asks_for_one() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let me = app.get("/api/v1/me", Some(&admin)).await;
    assert_eq!(
        me.body["password_change_required"], false,
        "the bootstrap admin"
    );
    let created = app
        .create_user(&admin, practitioner("pat@test.local", None))
        .await;
    assert_eq!(created["password_change_required"], false);
    let login = app.login("pat@test.local", PASSWORD).await;
    assert_eq!(login.body["password_change_required"], false);
    let token = login.body["access_token"].as_str().unwrap();
    app.get("/api/v1/requests", Some(token)).await.ok();

    let explicit = app
        .create_user(&admin, practitioner("kim@test.local", Some(false)))
        .await;
    assert_eq!(explicit["password_change_required"], false);
}

#[tokio::test]
async fn only_an_admin_can_require_a_password_change() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (target, _) = app
        .user_of_role(&admin, "practitioner", "target@test.local")
        .await;
    for role in ["practitioner", "specialist", "coordinator"] {
        let (_, token) = app
            .user_of_role(&admin, role, &format!("{role}@test.local"))
            .await;
        app.put(
            &format!("/api/v1/users/{target}/password"),
            Some(&token),
            json!({"password": "yet-another-password", "password_change_required": true}),
        )
        .await
        .problem(403);
        app.post(
            "/api/v1/users",
            Some(&token),
            practitioner(&format!("new-{role}@test.local"), Some(true)),
        )
        .await
        .problem(403);
        // Nor can anyone set it through their own password change.
        let own = app
            .post(
                "/api/v1/me/password",
                Some(&token),
                json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                       "password_change_required": true}),
            )
            .await;
        own.problem(422);
        assert_eq!(own.fields(), ["password_change_required"]);
    }
    let target_now = app
        .get(&format!("/api/v1/users/{target}"), Some(&admin))
        .await;
    assert_eq!(target_now.body["password_change_required"], false);
    app.sign_in("target@test.local", PASSWORD).await;
}

#[tokio::test]
async fn a_password_change_flag_that_is_not_a_boolean_is_named() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (target, _) = app
        .user_of_role(&admin, "practitioner", "target@test.local")
        .await;
    for value in [json!("yes"), json!(1), json!(null)] {
        let mut body = practitioner("pat@test.local", None);
        body["password_change_required"] = value.clone();
        let reply = app.post("/api/v1/users", Some(&admin), body).await;
        reply.problem(422);
        assert_eq!(reply.fields(), ["password_change_required"], "{value}");

        let reply = app
            .call(
                Method::PUT,
                &format!("/api/v1/users/{target}/password"),
                Some(&admin),
                Some(
                    json!({"password": "yet-another-password", "password_change_required": value}),
                ),
            )
            .await;
        reply.problem(422);
        assert_eq!(reply.fields(), ["password_change_required"], "{value}");
    }
    // Not a field of a profile update: passwords are set at /password.
    let reply = app
        .patch(
            &format!("/api/v1/users/{target}"),
            Some(&admin),
            json!({"password_change_required": true}),
        )
        .await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["password_change_required"]);
    let all = app.get("/api/v1/users", Some(&admin)).await;
    assert_eq!(all.items().len(), 2);
    app.sign_in("target@test.local", PASSWORD).await;
}
