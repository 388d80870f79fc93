//! The load benchmark: `cargo bench --bench load` (docs/benchmarks.md).
//!
//! For each database it seeds a small and a large database with
//! `nru-helpdesk synthetic`, measures two floors served from this harness (a
//! `GET` that does no work and one diesel insert of a request row, neither
//! with auth or validation), then starts the release server and drives each
//! scenario with wrk at each concurrency, sampling the server's peak resident
//! memory per run. It prints one markdown table per database and writes it to
//! `--out`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde::Deserialize;
use serde_json::json;

use nru_helpdesk::config::{DatabaseSettings, Secret, SqliteSynchronous};
use nru_helpdesk::db::{Db, DbConnection};
use nru_helpdesk::domain::accounts::{Organisation, Region};
use nru_helpdesk::domain::requests::{Category, ContactMethod, Urgency};
use nru_helpdesk::store::requests::{NewRequest, RequestRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Parser)]
#[command(about = "Load benchmark of the NRU Helpdesk server against floors")]
struct Args {
    /// Requests in the small database.
    #[arg(long, default_value_t = 10_000)]
    small: u64,
    /// Requests in the large database.
    #[arg(long, default_value_t = 1_000_000)]
    large: u64,
    /// Seconds each load runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Open connections per run.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 16, 64])]
    concurrency: Vec<u32>,
    #[arg(long, value_delimiter = ',', value_enum, default_values_t = [Backend::Sqlite, Backend::Postgres])]
    databases: Vec<Backend>,
    /// Only the scenarios whose name contains one of these words (e.g.
    /// `report,queue`); all when left out.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// PostgreSQL server; a database is created and dropped per size.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// Folder the tables are written to.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

/// What wrk's script prints at the end of a run.
#[derive(Debug, Deserialize)]
struct WrkLine {
    requests: u64,
    duration_us: u64,
    p50_us: u64,
    p99_us: u64,
    socket_errors: u64,
    statuses: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
struct Figures {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    statuses: BTreeMap<String, u64>,
    peak_rss_mb: Option<f64>,
}

/// One load: what to send and as whom.
#[derive(Debug, Clone)]
struct Load {
    method: &'static str,
    paths: Vec<String>,
    tokens: Vec<String>,
    body: Option<String>,
}

impl Load {
    fn get(path: impl Into<String>) -> Load {
        Load {
            method: "GET",
            paths: vec![path.into()],
            tokens: Vec::new(),
            body: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Floor {
    Get,
    Insert,
}

/// A row of the results table.
struct Row {
    scenario: &'static str,
    size: u64,
    concurrency: u32,
    figures: Figures,
    floor: Option<f64>,
}

fn wrk(base: &str, load: &Load, concurrency: u32, seconds: u64) -> anyhow::Result<Figures> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/load.lua");
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{concurrency}"), &format!("-d{seconds}s")])
        .args(["--timeout", "30s", "-s"])
        .arg(&script)
        .arg(base)
        .env("BENCH_METHOD", load.method)
        .env("BENCH_PATHS", load.paths.join(" "))
        .env("BENCH_TOKENS", load.tokens.join(" "))
        .env("BENCH_BODY", load.body.as_deref().unwrap_or(""))
        .stderr(Stdio::inherit())
        .output()
        .context("wrk could not start: install it (Debian: apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("wrk printed no figures:\n{stdout}"))?;
    let line: WrkLine = serde_json::from_str(line)?;
    let failed: u64 = line
        .statuses
        .iter()
        .filter(|(status, _)| !status.starts_with('2'))
        .map(|(_, n)| n)
        .sum();
    Ok(Figures {
        rate: line.requests as f64 / (line.duration_us.max(1) as f64 / 1e6),
        p50_ms: line.p50_us as f64 / 1000.0,
        p99_ms: line.p99_us as f64 / 1000.0,
        errors: failed + line.socket_errors,
        statuses: line.statuses,
        peak_rss_mb: None,
    })
}

/// Resident memory of a process in MB: the current figure or the peak since
/// the last [`reset_peak`].
fn rss_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn reset_peak(pid: u32) {
    // Writing 5 resets VmHWM; without the right to do so the peak covers the
    // whole run, which only overstates it.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A fresh database of one backend, dropped afterwards.
struct Database {
    url: String,
    backend: Backend,
    admin_url: String,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl Database {
    fn create(backend: Backend, postgres: &str, label: &str) -> anyhow::Result<Database> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                Ok(Database {
                    url: format!("sqlite://{}/bench.db", dir.path().display()),
                    backend,
                    admin_url: String::new(),
                    name: String::new(),
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let admin_url = format!("{postgres}/postgres");
                let name = format!("nru_bench_{label}_{}", std::process::id());
                let mut conn = PgConnection::establish(&admin_url)?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn)?;
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn)?;
                Ok(Database {
                    url: format!("{postgres}/{name}"),
                    backend,
                    admin_url,
                    name,
                    _dir: None,
                })
            }
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if self.backend == Backend::Postgres {
            if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
                let _ = diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut conn);
            }
        }
    }
}

/// The floors write as the server does: the server inherits
/// `APP__DATABASE__SQLITE_SYNCHRONOUS` from this process, and so do they.
fn connect(url: &str) -> anyhow::Result<Db> {
    let sqlite_synchronous = match std::env::var("APP__DATABASE__SQLITE_SYNCHRONOUS") {
        Ok(mode) if mode.eq_ignore_ascii_case("normal") => SqliteSynchronous::Normal,
        _ => SqliteSynchronous::Full,
    };
    Db::connect(&DatabaseSettings {
        url: Secret::new(url),
        pool_size: 8,
        connect_timeout_seconds: 5,
        sqlite_synchronous,
    })
}

/// Seeds with the product's own command; returns the synthetic accounts'
/// password and the seconds it took.
fn seed(url: &str, requests: u64) -> anyhow::Result<(String, f64)> {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_nru-helpdesk"))
        .args(["synthetic", "--requests", &requests.to_string()])
        .env("APP__DATABASE__URL", url)
        .env("APP__LOG__LEVEL", "warn")
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        bail!("synthetic data failed");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("  {stdout}");
    let secret = stdout
        .split("signs in with: ")
        .nth(1)
        .context("no password printed")?
        .trim()
        .to_owned();
    Ok((secret, started.elapsed().as_secs_f64()))
}

/// The row a submission inserts, for the insert floor.
fn floor_row(requester: &str, n: u64) -> RequestRow {
    let now = chrono::Utc::now().naive_utc();
    RequestRow::from(NewRequest {
        id: uuid::Uuid::now_v7().to_string(),
        reference: format!("FLOOR-{n:09}"),
        requester_id: requester.to_owned(),
        title: "Benchmark request".into(),
        description: "Placeholder text for the load benchmark.".into(),
        category: Category::ChildSexualExploitation,
        urgency: Urgency::High,
        organisation: Organisation::Police,
        region: Region::London,
        local_reference: None,
        yp_age: Some(14),
        yp_age_band: None,
        yp_gender: None,
        yp_flags: String::new(),
        contact_method: ContactMethod::Email,
        contact_times: None,
        created_at: now,
    })
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

fn sample_ids(db: &Db, sql: &'static str) -> anyhow::Result<Vec<String>> {
    let mut conn = db.blocking_writer()?;
    let rows: Vec<IdRow> = match &mut *conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c)?,
    };
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Measures both floors against the database at `url`.
fn floors(
    url: &str,
    requester: &str,
    args: &Args,
    counter: Arc<AtomicU64>,
) -> anyhow::Result<BTreeMap<(u32, bool), f64>> {
    let db = web::Data::new(connect(url)?);
    let requester = requester.to_owned();
    let port = free_port()?;
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let requester = requester.clone();
                let counter = counter.clone();
                App::new()
                    .app_data(db.clone())
                    .route(
                        "/floor/get",
                        web::get().to(|| async { HttpResponse::Ok().finish() }),
                    )
                    .route(
                        "/floor/insert",
                        web::post().to(move |db: web::Data<Db>| {
                            let row =
                                floor_row(&requester, counter.fetch_add(1, Ordering::Relaxed));
                            async move {
                                match db
                                    .write(move |conn| {
                                        Ok(nru_helpdesk::store::requests::insert(conn, &row)?)
                                    })
                                    .await
                                {
                                    Ok(()) => HttpResponse::Created().finish(),
                                    Err(_) => HttpResponse::InternalServerError().finish(),
                                }
                            }
                        }),
                    )
            })
            .bind(("127.0.0.1", port))?
            .run();
            let _ = sender.send(server.handle());
            server.await
        })
    });
    let handle = receiver.recv().context("the floor server did not start")?;
    let base = format!("http://127.0.0.1:{port}");
    let mut figures = BTreeMap::new();
    for floor in [Floor::Get, Floor::Insert] {
        let load = match floor {
            Floor::Get => Load::get("/floor/get"),
            Floor::Insert => Load {
                method: "POST",
                ..Load::get("/floor/insert")
            },
        };
        for &c in &args.concurrency {
            let f = wrk(&base, &load, c, args.seconds)?;
            println!(
                "  floor {:?} c={c}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
                floor, f.rate, f.p50_ms, f.p99_ms, f.errors
            );
            figures.insert((c, floor == Floor::Insert), f.rate);
        }
    }
    actix_web::rt::System::new().block_on(handle.stop(true));
    let _ = thread.join();
    Ok(figures)
}

/// The release server as a child process.
struct Server {
    child: Child,
    base: String,
    _mail: tempfile::TempDir,
}

impl Server {
    fn start(url: &str, http: &Http) -> anyhow::Result<Server> {
        let port = free_port()?;
        let mail = tempfile::tempdir()?;
        let child = Command::new(env!("CARGO_BIN_EXE_nru-helpdesk"))
            .arg("serve")
            .env("APP__DATABASE__URL", url)
            .env("APP__SERVER__PORT", port.to_string())
            .env("APP__LOG__LEVEL", "warn")
            .env("APP__AUTH__ACCESS_TOKEN_TTL_SECONDS", "86400")
            // The harness is one caller at one address at thousands a second.
            .env("APP__LIMITS__PER_CALLER_PER_MINUTE", "0")
            .env("APP__LIMITS__PER_ADDRESS_PER_MINUTE", "0")
            .env("APP__EMAIL__FILE_DIR", mail.path())
            .stdout(Stdio::null())
            .spawn()?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _mail: mail,
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if http.ready(&server.base) {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("the server did not become ready")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Blocking HTTP for the few set-up calls.
struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new() -> anyhow::Result<Http> {
        Ok(Http {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            client: reqwest::Client::new(),
        })
    }

    fn ready(&self, base: &str) -> bool {
        self.runtime.block_on(async {
            self.client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
    }

    fn sign_in(&self, base: &str, email: &str, password: &str) -> anyhow::Result<String> {
        self.runtime.block_on(async {
            let reply: serde_json::Value = self
                .client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": email, "password": password}))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            reply["access_token"]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("no access token for {email}: {reply}"))
        })
    }
}

fn run_size(
    backend: Backend,
    size: u64,
    args: &Args,
    rows: &mut Vec<Row>,
    notes: &mut String,
) -> anyhow::Result<()> {
    let label = if size == args.large { "large" } else { "small" };
    println!("{backend:?}, {size} requests");
    let database = Database::create(backend, &args.postgres, label)?;
    let (secret, seconds) = seed(&database.url, size)?;
    let _ = writeln!(notes, "- {size} requests seeded in {seconds:.0} s");

    let db = connect(&database.url)?;
    let spare = sample_ids(
        &db,
        "SELECT id FROM users WHERE email = 'practitioner-00009@synthetic.invalid'",
    )?;
    let requester = spare.first().context("no spare practitioner")?.clone();
    let reads = sample_ids(
        &db,
        "SELECT id FROM requests WHERE team_id IS NOT NULL ORDER BY random() LIMIT 2000",
    )?;
    drop(db);
    let floor = floors(&database.url, &requester, args, Arc::new(AtomicU64::new(0)))?;

    let http = Http::new()?;
    let server = Server::start(&database.url, &http)?;
    std::thread::sleep(Duration::from_secs(2));
    let idle = rss_mb(server.pid(), "VmRSS:").unwrap_or_default();
    let base = server.base.clone();
    let practitioner = http.sign_in(&base, "practitioner-00000@synthetic.invalid", &secret)?;
    let coordinator = http.sign_in(&base, "coordinator-00000@synthetic.invalid", &secret)?;
    // The default triage rule routes the submissions to Duty, the first team
    // the rules name; its specialists are every fifth one from 0.
    let specialists = (0..60)
        .step_by(5)
        .map(|n| {
            http.sign_in(
                &base,
                &format!("specialist-{n:05}@synthetic.invalid"),
                &secret,
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let today = chrono::Utc::now().date_naive();
    let year_ago = today - chrono::Days::new(365);
    let submission = json!({
        "title": "Benchmark request",
        "description": "Placeholder text for the load benchmark.",
        "category": "child_sexual_exploitation",
        "urgency": "high",
        "young_person": {"age": 14},
        "contact": {"method": "email"}
    })
    .to_string();
    let scenarios: Vec<(&'static str, Load, bool)> = vec![
        (
            "submit",
            Load {
                method: "POST",
                tokens: vec![practitioner.clone()],
                body: Some(submission),
                ..Load::get("/api/v1/requests")
            },
            true,
        ),
        (
            "read one (staff)",
            Load {
                paths: reads
                    .iter()
                    .map(|id| format!("/api/v1/requests/{id}"))
                    .collect(),
                tokens: vec![coordinator.clone()],
                ..Load::get("")
            },
            false,
        ),
        (
            "list own",
            Load {
                tokens: vec![practitioner],
                ..Load::get("/api/v1/requests")
            },
            false,
        ),
        (
            "queue first page",
            Load {
                tokens: specialists.clone(),
                ..Load::get("/api/v1/queue")
            },
            false,
        ),
        (
            "claim-next",
            Load {
                method: "POST",
                tokens: specialists,
                ..Load::get("/api/v1/queue/claim-next")
            },
            false,
        ),
        (
            "yearly report",
            Load {
                tokens: vec![coordinator],
                ..Load::get(format!(
                    "/api/v1/reports/response-times?from={year_ago}&to={today}&group_by=team"
                ))
            },
            false,
        ),
    ];
    let chosen = scenarios.into_iter().filter(|(name, _, _)| {
        args.only.is_empty() || args.only.iter().any(|w| name.contains(w.as_str()))
    });
    for (name, load, insert) in chosen {
        for &c in &args.concurrency {
            reset_peak(server.pid());
            let mut figures = wrk(&base, &load, c, args.seconds)?;
            figures.peak_rss_mb = rss_mb(server.pid(), "VmHWM:");
            println!(
                "  {name} c={c}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors, {:?}, peak {:.0} MB",
                figures.rate,
                figures.p50_ms,
                figures.p99_ms,
                figures.errors,
                figures.statuses,
                figures.peak_rss_mb.unwrap_or_default()
            );
            rows.push(Row {
                scenario: name,
                size,
                concurrency: c,
                floor: floor.get(&(c, insert)).copied(),
                figures,
            });
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    let after = rss_mb(server.pid(), "VmRSS:").unwrap_or_default();
    let _ = writeln!(
        notes,
        "- {size} requests: server resident memory idle {idle:.0} MB at start, {after:.0} MB after the runs"
    );
    let _ = writeln!(
        notes,
        "- {size} requests: floors (req/s) GET {}, insert {}",
        args.concurrency
            .iter()
            .map(|c| format!(
                "c={c} {:.0}",
                floor.get(&(*c, false)).copied().unwrap_or_default()
            ))
            .collect::<Vec<_>>()
            .join(", "),
        args.concurrency
            .iter()
            .map(|c| format!(
                "c={c} {:.0}",
                floor.get(&(*c, true)).copied().unwrap_or_default()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn table(backend: Backend, rows: &[Row], notes: &str) -> String {
    let mut out = format!(
        "### {backend:?}\n\n| scenario | requests in DB | concurrency | req/s | p50 ms | p99 ms | errors | peak RSS MB | floor req/s | of floor |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    );
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by_key(|r| (r.scenario, r.concurrency, r.size));
    let order = |name: &str| rows.iter().position(|r| r.scenario == name).unwrap_or(0);
    sorted.sort_by_key(|r| (order(r.scenario), r.concurrency, r.size));
    for r in sorted {
        let f = &r.figures;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.0} | {} | {} |",
            r.scenario,
            r.size,
            r.concurrency,
            f.rate,
            f.p50_ms,
            f.p99_ms,
            if f.errors == 0 {
                "0".to_owned()
            } else {
                format!("{} {:?}", f.errors, f.statuses)
            },
            f.peak_rss_mb.unwrap_or_default(),
            r.floor.map(|x| format!("{x:.0}")).unwrap_or_default(),
            r.floor
                .map(|x| format!("{:.0}%", 100.0 * f.rate / x.max(1.0)))
                .unwrap_or_default(),
        );
    }
    out.push('\n');
    out.push_str(notes);
    out
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let machine = format!(
        "{} cores; wrk 1 thread; {} s per run",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        args.seconds
    );
    for &backend in &args.databases {
        let mut rows = Vec::new();
        let mut notes = format!("- {machine}\n");
        for size in [args.small, args.large] {
            run_size(backend, size, &args, &mut rows, &mut notes)?;
        }
        let text = table(backend, &rows, &notes);
        println!("\n{text}");
        let file = args.out.join(format!("{backend:?}.md").to_lowercase());
        std::fs::write(&file, &text)?;
        println!("written to {}", file.display());
    }
    Ok(())
}
