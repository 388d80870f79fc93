//! Starts the real server on port 0 with a fresh database (a temp SQLite file,
//! or a fresh PostgreSQL database when TEST_DATABASE_URL is set) and talks to
//! it over HTTP.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::NaiveDateTime;
use diesel::{Connection, PgConnection, RunQueryDsl};
use nru_helpdesk::clock::Clock;
use nru_helpdesk::config::{Secret, Settings};
use nru_helpdesk::jobs::mailer::Mailer;
use nru_helpdesk::jobs::retention::RetentionJob;
use nru_helpdesk::jobs::sla_monitor::SlaMonitor;
use nru_helpdesk::jobs::webhook_sender::Dispatcher;
use nru_helpdesk::startup::Application;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const ADMIN_EMAIL: &str = "admin@test.local";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "a-long-enough-password";

/// A fresh database that is removed when the test ends.
pub enum TestDb {
    /// Held so the directory lives as long as the test.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    /// Creates a database and returns it with its URL.
    pub fn create() -> (TestDb, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("nru_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn =
                    PgConnection::establish(&admin_url).expect("TEST_DATABASE_URL reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let url = replace_database(&admin_url, &name);
                (TestDb::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (TestDb::Sqlite { _dir: dir }, url)
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// The cheapest argon2id cost, for the service run as its own process (a
/// test may override it, e.g. to check production's refusal).
pub const CHEAP_PASSWORD_HASHES: [(&str, &str); 2] = [
    ("APP__AUTH__PASSWORD_HASH_MEMORY_KIB", "8"),
    ("APP__AUTH__PASSWORD_HASH_ITERATIONS", "1"),
];

pub fn test_settings(database_url: &str) -> Settings {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut settings = Settings::load(&dir).expect("config/default.toml loads");
    settings.server.host = "127.0.0.1".into();
    settings.server.port = 0;
    settings.server.workers = 1;
    settings.server.shutdown_timeout_seconds = 1;
    settings.database.url = Secret::new(database_url);
    settings.database.pool_size = 4;
    settings.bootstrap.admin_email = ADMIN_EMAIL.into();
    settings.bootstrap.admin_password = Secret::new(ADMIN_PASSWORD);
    // Every account's password is hashed at the cheapest cost argon2 allows
    // (production keeps OWASP's); `CHEAP_PASSWORD_HASHES` for the processes.
    settings.auth.password_hash_memory_kib = 8;
    settings.auth.password_hash_iterations = 1;
    // Requests stay `new` unless a test routes them with rules of its own.
    settings.triage.rules_file = fixture("triage-manual.toml");
    // Emails stay in the outbox unless a test delivers them (tests/api/email.rs).
    settings.email.worker_interval_seconds = 3600;
    // Webhooks too (tests/api/integrations.rs).
    settings.webhooks.worker_interval_seconds = 3600;
    // Tests of the limits set their own (tests/api/limits.rs).
    settings.limits.per_caller_per_minute = 0;
    settings.limits.per_address_per_minute = 0;
    settings.email.file_dir = std::env::temp_dir()
        .join("nru-helpdesk-test-mail")
        .display()
        .to_string();
    settings
}

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    /// "Now" for the service; tests that walk through time use a manual one.
    pub clock: Clock,
    /// Ticks the response-time monitor on demand.
    pub monitor: SlaMonitor,
    /// Delivers the outbox on demand.
    pub mailer: Mailer,
    /// Delivers webhooks on demand.
    pub dispatcher: Dispatcher,
    /// Redacts what retention says is due, on demand.
    pub retention: RetentionJob,
    /// Dropped with the app, removing the database.
    _db: TestDb,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let (db, url) = TestDb::create();
    spawn_app_on(db, &url, customise).await
}

/// A fresh app whose clock stands still at `start` until the test moves it.
pub async fn spawn_app_at(start: NaiveDateTime, customise: impl FnOnce(&mut Settings)) -> TestApp {
    let (db, url) = TestDb::create();
    serve(db, &url, Clock::manual(start), customise).await
}

/// Serves an existing database (one the CLI has already written to, say).
pub async fn spawn_app_on(db: TestDb, url: &str, customise: impl FnOnce(&mut Settings)) -> TestApp {
    serve(db, url, Clock::System, customise).await
}

async fn serve(
    db: TestDb,
    url: &str,
    clock: Clock,
    customise: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = test_settings(url);
    customise(&mut settings);
    let app =
        Application::build_with_clock(settings.clone(), clock.clone()).expect("application builds");
    let monitor = app.monitor();
    let mailer = app.mailer();
    let dispatcher = app.dispatcher();
    let retention = app.retention();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        settings,
        clock,
        monitor,
        mailer,
        dispatcher,
        retention,
        _db: db,
    }
}

/// A response read whole: status, headers and JSON body (Null when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts the status is `code` (printing the body when not), and
    /// returns the reply.
    #[track_caller]
    pub fn status_is(self, code: u16) -> Reply {
        assert_eq!(self.status.as_u16(), code, "body: {}", self.body);
        self
    }

    /// Asserts 200 OK.
    #[track_caller]
    pub fn ok(self) -> Reply {
        self.status_is(200)
    }

    /// Asserts 201 Created.
    #[track_caller]
    pub fn created(self) -> Reply {
        self.status_is(201)
    }

    /// Asserts 204 No Content.
    #[track_caller]
    pub fn no_content(self) -> Reply {
        self.status_is(204)
    }

    /// The body's `"id"`.
    #[track_caller]
    pub fn id(&self) -> String {
        self.body.id()
    }

    /// The body's string `key` (a token, a reference, ...).
    #[track_caller]
    pub fn string(&self, key: &str) -> String {
        match self.body[key].as_str() {
            Some(value) => value.to_owned(),
            None => panic!("no string {key:?} in {}", self.body),
        }
    }

    /// The body's `"items"` (a page of a list).
    #[track_caller]
    pub fn items(&self) -> Vec<Value> {
        match self.body["items"].as_array() {
            Some(items) => items.clone(),
            None => panic!("no items in {}", self.body),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status, and returns it.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")));
        assert!(self.body["title"].is_string());
        &self.body
    }

    /// The fields named by a validation problem.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `.id()` on a JSON object (a reply's body, a list's item, a created
/// user): its `"id"` string.
pub trait Id {
    fn id(&self) -> String;
}

impl Id for Value {
    #[track_caller]
    fn id(&self) -> String {
        match self["id"].as_str() {
            Some(id) => id.to_owned(),
            None => panic!("no \"id\" in {self}"),
        }
    }
}

/// One call to the server at `base`, read whole.
pub async fn call_at(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = client.request(method, format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    read(request.send().await.expect("request sent")).await
}

/// Runs `nru-helpdesk serve` as its own process on a free port, with the
/// test admin, one worker, JSON logs and `env` on top, and waits until it is
/// ready.
pub async fn serve_binary(
    url: &str,
    env: &[(&str, &str)],
    stderr: std::process::Stdio,
) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_nru-helpdesk"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("serve")
        .env("APP__DATABASE__URL", url)
        .env("APP__SERVER__PORT", port.to_string())
        .env("APP__SERVER__WORKERS", "1")
        .env("APP__SERVER__SHUTDOWN_TIMEOUT_SECONDS", "20")
        .env("APP__BOOTSTRAP__ADMIN_EMAIL", ADMIN_EMAIL)
        .env("APP__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("APP__LOG__FORMAT", "json")
        .envs(CHEAP_PASSWORD_HASHES)
        .env_remove("APP_ENV")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("server starts");
    let base = format!("http://127.0.0.1:{port}");
    // A debug build hashing its bootstrap password (argon2id) while the rest
    // of the suite runs on two cores can take well over ten seconds.
    for _ in 0..600 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (server, port);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    panic!("server did not become ready");
}

/// Runs one of the binary's commands (`args`) against the database at
/// `url`, with `stdin` fed in, as an operator would; returns its output.
pub fn run(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nru-helpdesk"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("APP__DATABASE__URL", url)
        .env("APP__BOOTSTRAP__ADMIN_EMAIL", "first-admin@test.local")
        .env("APP__BOOTSTRAP__ADMIN_PASSWORD", "")
        .env("APP__LOG__LEVEL", "warn")
        .envs(CHEAP_PASSWORD_HASHES)
        .env_remove("APP_ENV")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("binary finishes")
}

/// The command's stdout, asserting it succeeded.
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The service as its own process (`serve_binary`), stopped when dropped.
pub struct ServerProcess {
    pub base: String,
    pub client: reqwest::Client,
    child: std::process::Child,
}

impl ServerProcess {
    pub async fn start(url: &str, env: &[(&str, &str)]) -> ServerProcess {
        let (child, port) = serve_binary(url, env, std::process::Stdio::null()).await;
        ServerProcess {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            child,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        call_at(&self.client, &self.base, method, path, Some(token), body).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        call_at(
            &self.client,
            &self.base,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
        .ok()
        .string("access_token")
    }

    /// Every item of a paginated list.
    pub async fn all(&self, path: &str, token: &str) -> Vec<Value> {
        let join = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = match &cursor {
                Some(c) => format!("{path}{join}limit=100&cursor={c}"),
                None => format!("{path}{join}limit=100"),
            };
            let reply = self.call(Method::GET, &page, token, None).await.ok();
            items.extend(reply.items());
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// SIGKILL: the process gets no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

impl TestApp {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        call_at(&self.client, &self.address, method, path, token, body).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Trades a refresh token (sent in the body) for new tokens.
    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh_token}),
        )
        .await
    }

    /// Signs out with a refresh token (sent in the body).
    pub async fn logout(&self, refresh_token: &str) -> Reply {
        self.post(
            "/api/v1/auth/logout",
            None,
            json!({"refresh_token": refresh_token}),
        )
        .await
    }

    /// Makes `times` sign-in attempts with a wrong password, each refused with 401.
    pub async fn fail_logins(&self, email: &str, times: usize) {
        for _ in 0..times {
            self.login(email, "wrong-password!").await.problem(401);
        }
    }

    /// Signs in and returns (access token, refresh token), asserting success.
    pub async fn sign_in(&self, email: &str, password: &str) -> (String, String) {
        let reply = self.login(email, password).await.ok();
        (reply.string("access_token"), reply.string("refresh_token"))
    }

    pub async fn admin_token(&self) -> String {
        self.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.0
    }
}

/// Sends all `requests` at once (each on its own task) and returns the
/// replies in the same order, for races.
pub async fn at_once(requests: Vec<reqwest::RequestBuilder>) -> Vec<Reply> {
    let calls: Vec<_> = requests
        .into_iter()
        .map(|request| tokio::spawn(async move { read(request.send().await.expect("sent")).await }))
        .collect();
    let mut replies = Vec::with_capacity(calls.len());
    for call in calls {
        replies.push(call.await.expect("call task"));
    }
    replies
}

/// How many replies have `status`.
pub fn count(replies: &[Reply], status: u16) -> usize {
    replies
        .iter()
        .filter(|r| r.status.as_u16() == status)
        .count()
}

pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        headers,
        body,
    }
}
