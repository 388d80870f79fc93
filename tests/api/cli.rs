//! The binary's commands, run as a newcomer or an operator would.

use std::process::{Command, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use reqwest::StatusCode;

use crate::helpers::*;
use crate::world::submission;

/// The value after `label` on the first line that has it.
fn value_after(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|line| {
            line.split_once(label)
                .map(|(_, rest)| rest.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {label} in {text}"))
}

#[tokio::test]
async fn demo_prints_credentials_that_sign_in_including_a_generated_first_admin() {
    let (db, url) = TestDb::create();
    let first = run(&url, &["demo"], None);
    let logged = String::from_utf8_lossy(&first.stderr);
    assert!(
        !logged.contains("ERROR"),
        "a newcomer's first command logs no error:\n{logged}"
    );
    let out = stdout(&first);
    let admin_password = value_after(&out, "password:");
    assert_eq!(admin_password.len(), 20);
    let specialist_line = out
        .lines()
        .find(|l| l.contains("specialist@nru.local"))
        .expect("specialist line");
    let demo_password = specialist_line
        .split_whitespace()
        .last()
        .expect("password")
        .to_owned();

    let app = spawn_app_on(db, &url, |_| {}).await;
    app.sign_in("first-admin@test.local", &admin_password).await;
    let (token, _) = app.sign_in("specialist@nru.local", &demo_password).await;
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.body["role"], "specialist");
    assert_eq!(me.body["team_ids"].as_array().map(Vec::len), Some(2));
    for email in ["practitioner@nru.local", "coordinator@nru.local"] {
        app.sign_in(email, &demo_password).await;
    }
    // A second seed is refused rather than duplicating accounts.
    assert!(!run(&url, &["demo"], None).status.success());
}

#[tokio::test]
async fn user_commands_add_list_reset_and_disable_accounts() {
    let (db, url) = TestDb::create();
    let added = stdout(&run(
        &url,
        &[
            "user",
            "add",
            "--email",
            "Pat@Test.Local",
            "--name",
            "Pat",
            "--role",
            "practitioner",
            "--organisation",
            "police",
            "--region",
            "london",
            "--password-stdin",
        ],
        Some("a-password-from-stdin\n"),
    ));
    assert!(
        added.contains("created practitioner pat@test.local"),
        "{added}"
    );
    assert!(
        !added.contains("a-password-from-stdin"),
        "a chosen password is not echoed"
    );

    let bad = run(
        &url,
        &[
            "user",
            "add",
            "--email",
            "x@test.local",
            "--name",
            "X",
            "--role",
            "wizard",
        ],
        None,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
    let incomplete = run(
        &url,
        &[
            "user",
            "add",
            "--email",
            "y@test.local",
            "--name",
            "Y",
            "--role",
            "practitioner",
        ],
        None,
    );
    assert!(!incomplete.status.success());
    assert!(String::from_utf8_lossy(&incomplete.stderr).contains("organisation"));

    let listed = stdout(&run(&url, &["user", "list"], None));
    assert!(listed.contains("pat@test.local"), "{listed}");
    assert!(!listed.contains("y@test.local"));

    let reset = stdout(&run(
        &url,
        &["user", "set-password", "--email", "pat@test.local"],
        None,
    ));
    let new_password = value_after(&reset, "password:");

    let app = spawn_app_on(db, &url, |_| {}).await;
    app.login("pat@test.local", "a-password-from-stdin")
        .await
        .problem(401);
    app.sign_in("pat@test.local", &new_password).await;

    stdout(&run(
        &url,
        &["user", "disable", "--email", "pat@test.local"],
        None,
    ));
    app.login("pat@test.local", &new_password)
        .await
        .problem(401);
    app.login("first-admin@test.local", "wrong")
        .await
        .status_is(401);
}

#[test]
fn openapi_command_prints_the_checked_in_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_nru-helpdesk"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("openapi")
        .env_remove("APP_ENV")
        .output()
        .expect("binary runs");
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout) == checked_in,
        "`nru-helpdesk openapi` differs from the checked-in openapi.yaml"
    );
}

#[test]
fn production_refuses_to_start_with_the_default_secret() {
    let out = Command::new(env!("CARGO_BIN_EXE_nru-helpdesk"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("migrate")
        .env("APP_ENV", "production")
        .env_remove("APP__AUTH__JWT_SECRET")
        .output()
        .expect("binary runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("auth.jwt_secret"));
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_then_exits_cleanly() {
    let (_db, url) = TestDb::create();
    let (mut server, port) =
        serve_binary(&url, &[("APP__LOG__LEVEL", "warn")], Stdio::null()).await;
    let base = format!("http://127.0.0.1:{port}");

    // A request caught mid-upload: headers and half the body are sent before SIGTERM, the rest after.
    let body = serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("send head");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stream
        .write_all(rest.as_bytes())
        .await
        .expect("send the rest after SIGTERM");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .expect("read answer");
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "in-flight request was cut off: {answer:?}"
    );
    assert!(answer.contains("access_token"));
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exit.success(), "exit status {exit:?}");
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn no_case_text_reaches_the_logs() {
    const MARKER: &str = "ZEBRAMARKER";
    let (_db, url) = TestDb::create();
    let (server, port) = serve_binary(&url, &[("APP__LOG__LEVEL", "debug")], Stdio::piped()).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: serde_json::Value| {
        let mut request = client.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let token =
        |reply: serde_json::Value| reply["access_token"].as_str().expect("token").to_owned();
    let login =
        |email: &str, password: &str| serde_json::json!({"email": email, "password": password});
    let admin = token(
        post(
            "/api/v1/auth/login",
            None,
            login(ADMIN_EMAIL, ADMIN_PASSWORD),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap(),
    );
    let created = post(
        "/api/v1/users",
        Some(&admin),
        serde_json::json!({"email": "pat@test.local", "display_name": "Pat", "role": "practitioner",
                           "password": PASSWORD, "organisation": "police", "region": "london"}),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let pat = token(
        post(
            "/api/v1/auth/login",
            None,
            login("pat@test.local", PASSWORD),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap(),
    );
    let body = serde_json::json!({
        "title": format!("{MARKER} title"),
        "description": format!("{MARKER} description of the case"),
        "category": "trafficking", "urgency": "immediate_risk",
        "local_reference": format!("{MARKER}-REF"),
        "young_person": {"age_band": "13_to_15"},
        "contact": {"method": "email", "times": format!("{MARKER} times")}
    });
    let submitted: serde_json::Value = post("/api/v1/requests", Some(&pat), body)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = submitted["id"].as_str().expect("id");
    // A rejected body is not echoed into the logs either.
    let bad = post(
        "/api/v1/requests",
        Some(&pat),
        serde_json::json!({"title": MARKER}),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reply = post(
        &format!("/api/v1/requests/{id}/messages"),
        Some(&pat),
        serde_json::json!({"kind": "reply", "body": format!("{MARKER} message")}),
    )
    .await
    .unwrap();
    assert_eq!(reply.status(), StatusCode::CREATED);
    let read = client
        .get(format!("{base}/api/v1/requests/{id}?q={MARKER}"))
        .bearer_auth(&pat)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);

    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    let output = tokio::task::spawn_blocking(move || server.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(
        logs.contains("request finished"),
        "control: the logs were captured:\n{logs}"
    );
    assert!(
        logs.contains("/api/v1/requests/{id}"),
        "routes are logged as patterns"
    );
    assert!(
        !logs.contains(MARKER),
        "case text leaked into the logs:\n{logs}"
    );
}

#[tokio::test]
async fn synthetic_data_fills_an_empty_database_that_then_serves_and_reports() {
    let (db, url) = TestDb::create();
    let printed = stdout(&run(
        &url,
        &["synthetic", "--requests", "400", "--seed", "7"],
        None,
    ));
    assert!(printed.starts_with("400 requests"), "{printed}");
    let secret = printed
        .split("signs in with: ")
        .nth(1)
        .expect("password printed")
        .trim()
        .to_owned();
    let again = run(&url, &["synthetic", "--requests", "10"], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds 400 requests"));

    // The service routes by the same rules the synthetic teams were named from.
    let app = spawn_app_on(db, &url, |settings| {
        settings.triage.rules_file = format!("{}/config/triage.toml", env!("CARGO_MANIFEST_DIR"));
    })
    .await;
    let (coordinator, _) = app
        .sign_in("coordinator-00000@synthetic.invalid", &secret)
        .await;
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Days::new(365);
    let report = app
        .get(
            &format!("/api/v1/reports/response-times?from={from}&to={today}&group_by=team"),
            Some(&coordinator),
        )
        .await
        .ok();
    let total = &report.body["total"];
    assert!(total["requests"].as_u64().unwrap() > 100, "{total}");
    assert!(total["first_response"]["business"]["median_seconds"].is_number());
    assert_eq!(report.body["groups"].as_array().unwrap().len(), 5);

    // New work carries on after the synthetic references.
    let (_, practitioner) = app
        .user_of_role(&app.admin_token().await, "practitioner", "new@police.test")
        .await;
    let created = app
        .post("/api/v1/requests", Some(&practitioner), submission())
        .await
        .created();
    assert!(
        created.body["team_id"].is_string(),
        "triage routes new work into the synthetic teams: {}",
        created.body
    );
    let listed = app
        .get("/api/v1/requests?limit=100", Some(&coordinator))
        .await
        .ok();
    let titles: std::collections::HashSet<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    let submitted = submission();
    let expected: std::collections::HashSet<&str> =
        ["Synthetic request", submitted["title"].as_str().unwrap()].into();
    assert_eq!(
        titles, expected,
        "placeholder text only, and the new request"
    );
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_and_reads_the_request_back() {
    let (db, url) = TestDb::create();
    let postgres = db.is_postgres();
    let target = tempfile::tempdir().unwrap();
    let file = target.path().join("backup");
    let file_arg = file.display().to_string();
    if postgres {
        let refused = run(&url, &["backup", &file_arg], None);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("pg_dump"));
    }
    let app = spawn_app_on(db, &url, |_| {}).await;
    let admin = app.admin_token().await;
    let (_, practitioner) = app
        .user_of_role(&admin, "practitioner", "pat@police.test")
        .await;
    let created = app
        .post("/api/v1/requests", Some(&practitioner), submission())
        .await
        .created();
    let id = created.id();

    // Taken while the server runs, the way docs/operations.md says: the
    // backup command on SQLite, pg_dump's custom format on PostgreSQL.
    if postgres {
        let dump = Command::new("pg_dump")
            .args(["--format=custom", "--file", &file_arg, &url])
            .output()
            .expect("pg_dump runs");
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
    } else {
        let backup = run(&url, &["backup", &file_arg], None);
        assert!(stdout(&backup).starts_with("backed up to"));
    }
    app.post("/api/v1/requests", Some(&practitioner), submission())
        .await
        .created();
    if !postgres {
        let again = run(&url, &["backup", &file_arg], None);
        assert!(
            !again.status.success(),
            "an existing file is never overwritten"
        );
    }

    let restored = if postgres {
        let (fresh, fresh_url) = TestDb::create();
        let restore = Command::new("pg_restore")
            .args([
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                &fresh_url,
                &file_arg,
            ])
            .output()
            .expect("pg_restore runs");
        assert!(
            restore.status.success(),
            "{}",
            String::from_utf8_lossy(&restore.stderr)
        );
        spawn_app_on(fresh, &fresh_url, |_| {}).await
    } else {
        spawn_app_on(
            TestDb::Sqlite { _dir: target },
            &format!("sqlite://{}", file.display()),
            |_| {},
        )
        .await
    };
    let (token, _) = restored.sign_in("pat@police.test", PASSWORD).await;
    let read = restored
        .get(&format!("/api/v1/requests/{id}"), Some(&token))
        .await
        .ok();
    assert_eq!(read.body["reference"], created.body["reference"]);
    let listed = restored.get("/api/v1/requests", Some(&token)).await;
    assert_eq!(
        listed.items().len(),
        1,
        "the backup holds what was there when it was taken"
    );
}

/// Starts `serve`, stops it once ready, and returns what it wrote to stderr.
async fn serve_output(env: &[(&str, &str)]) -> String {
    let (_db, url) = TestDb::create();
    let (server, _) = serve_binary(&url, env, Stdio::piped()).await;
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    let output = tokio::task::spawn_blocking(move || server.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn serving_with_the_development_secret_or_open_metrics_warns_at_start() {
    let warned = serve_output(&[("APP__LOG__LEVEL", "warn")]).await;
    assert!(
        warned.contains("WARNING: auth.jwt_secret is the development secret"),
        "{warned}"
    );
    assert!(
        warned.contains("WARNING: metrics.token is empty"),
        "{warned}"
    );

    let secret = "s".repeat(40);
    let token = "t".repeat(40);
    let quiet = serve_output(&[
        ("APP__LOG__LEVEL", "warn"),
        ("APP__AUTH__JWT_SECRET", &secret),
        ("APP__METRICS__TOKEN", &token),
    ])
    .await;
    assert!(!quiet.contains("WARNING"), "{quiet}");
}
