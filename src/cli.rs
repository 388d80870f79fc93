//! The command line: serve (default), migrate, user administration, openapi,
//! demo, backup, redact, synthetic.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use diesel::Connection;

use crate::auth::password;
use crate::bootstrap::{generate_password, seed_demo};
use crate::clock::Clock;
use crate::config::{Environment, Settings};
use crate::db::Db;
use crate::domain::accounts::{normalise_email, password_problem, Organisation, Region, Role};
use crate::startup::Application;
use crate::store;
use crate::workflows::accounts::{self, NewAccount};

#[derive(Debug, Parser)]
#[command(
    name = "nru-helpdesk",
    version,
    about = "NRU Helpdesk API server and administration"
)]
pub struct Cli {
    /// Folder holding default.toml and the APP_ENV overlay.
    #[arg(long, global = true, default_value = "config", env = "APP_CONFIG_DIR")]
    pub config_dir: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the OpenAPI document (YAML).
    Openapi,
    /// Seed one account of each role and a few teams, and print their credentials.
    Demo,
    /// Copy the SQLite database to a new file, consistently, while the
    /// service runs (PostgreSQL is backed up with pg_dump: docs/operations.md).
    Backup {
        /// The file to write; it must not exist yet.
        file: PathBuf,
    },
    /// Redact now the free text of requests finished (closed, withdrawn, or
    /// resolved past the reopen window) more than
    /// retention.redact_after_days ago (the service also does this every
    /// retention.interval_seconds); statistics and the audit trail stay.
    Redact,
    /// Fill an empty database with synthetic requests over two years, for benchmarks.
    Synthetic {
        /// How many requests.
        #[arg(long, default_value_t = 10_000)]
        requests: u64,
        /// Random seed, so runs can be repeated.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from stdin with --password-stdin, else generated and printed.
    Add(AddUser),
    /// List accounts.
    List,
    /// Disable an account and end its sessions.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Set a new password and end the account's sessions.
    SetPassword {
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddUser {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    #[arg(long, value_parser = parse_organisation)]
    pub organisation: Option<Organisation>,
    #[arg(long, value_parser = parse_region)]
    pub region: Option<Region>,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

fn parse_with<T>(
    parse: fn(&str) -> Option<T>,
    all: &[T],
    name: &str,
    text: &str,
) -> Result<T, String>
where
    T: std::fmt::Display,
{
    parse(text).ok_or_else(|| {
        let names: Vec<String> = all.iter().map(ToString::to_string).collect();
        format!("unknown {name} \"{text}\"; one of: {}", names.join(", "))
    })
}

fn parse_role(text: &str) -> Result<Role, String> {
    parse_with(Role::parse, Role::ALL, "role", text)
}

fn parse_organisation(text: &str) -> Result<Organisation, String> {
    parse_with(Organisation::parse, Organisation::ALL, "organisation", text)
}

fn parse_region(text: &str) -> Result<Region, String> {
    parse_with(Region::parse, Region::ALL, "region", text)
}

/// Reads a password from stdin, or generates one (returned with `true` so it can be shown).
fn obtain_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((generate_password(), true));
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let secret = input.trim_end_matches(['\r', '\n']).to_owned();
    if let Some(problem) = password_problem(&secret) {
        anyhow::bail!("password: {problem}");
    }
    Ok((secret, false))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(&cli.config_dir)?;
    crate::telemetry::init(&settings.log);
    crate::auth::password::set_cost(settings.auth.password_cost());
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            for warning in settings.insecure_defaults() {
                // Both: the log may go to a collector nobody reads at start.
                eprintln!("WARNING: {warning}");
                tracing::warn!("{warning}");
            }
            Application::build(settings)?.run_until_stopped().await?
        }
        Command::Migrate => {
            let applied = Db::connect(&settings.database)?.migrate()?;
            println!("{applied} migration(s) applied");
        }
        Command::Openapi => print!("{}", crate::api::doc::openapi_yaml()),
        Command::Demo => {
            if settings.environment == Environment::Production {
                anyhow::bail!("demo data is refused when APP_ENV=production");
            }
            let db = Db::connect(&settings.database)?;
            db.migrate()?;
            let now = Clock::System.now();
            crate::bootstrap::ensure_admin(&db, &settings.bootstrap, now)?;
            println!("Demo accounts (sign in at POST /api/v1/auth/login):");
            for (role, email, secret) in seed_demo(&db, now)? {
                println!("  {:<13} {email:<28} {secret}", role.as_str());
            }
        }
        Command::Synthetic { requests, seed } => {
            if settings.environment == Environment::Production {
                anyhow::bail!("synthetic data is refused when APP_ENV=production");
            }
            let db = Db::connect(&settings.database)?;
            db.migrate()?;
            let secret = generate_password();
            let plan = crate::synthetic::Plan {
                requests,
                teams: crate::synthetic::teams_of(&settings.triage_rules()?),
                seed,
                now: Clock::System.now(),
                password_hash: password::hash(&secret)?,
            };
            let summary = crate::synthetic::fill(&db, &settings.sla_policies()?, &plan)?;
            println!(
                "{} requests, {} messages, {} transitions, {} audit rows and {} users in {:.1} s",
                summary.requests,
                summary.messages,
                summary.transitions,
                summary.audit_rows,
                summary.users,
                summary.seconds
            );
            println!("Every synthetic account (e.g. specialist-00000@synthetic.invalid) signs in with: {secret}");
        }
        Command::Backup { file } => {
            let started = std::time::Instant::now();
            Db::connect(&settings.database)?.backup_to(&file)?;
            println!(
                "backed up to {} in {:.1} s",
                file.display(),
                started.elapsed().as_secs_f64()
            );
        }
        Command::Redact => {
            let db = Db::connect(&settings.database)?;
            db.migrate()?;
            let redacted = crate::workflows::retention::redact_due(
                &db,
                settings.retention_period(),
                settings.retention.batch_size,
                Clock::System.now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{} request(s) redacted (finished more than {} days ago)",
                redacted.len(),
                settings.retention.redact_after_days
            );
        }
        Command::User(command) => run_user(&settings, command)?,
    }
    Ok(())
}

fn run_user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database)?;
    db.migrate()?;
    let mut conn = db.blocking_writer()?;
    let fail = |e: crate::error::ApiError| anyhow::anyhow!("{e}");
    let failed = |e: diesel::result::Error| fail(e.into());
    match command {
        UserCommand::Add(add) => {
            let (secret, generated) = obtain_password(add.password_stdin)?;
            let account = NewAccount {
                email: add.email,
                display_name: add.name,
                role: add.role,
                organisation: add.organisation,
                region: add.region,
                skills: Vec::new(),
                team_ids: Vec::new(),
                available: false,
                max_open_requests: None,
                password_change_required: false,
            };
            let hash = password::hash(&secret)?;
            let record = conn
                .transaction(|conn| accounts::create(conn, &account, hash, Clock::System.now()))
                .map_err(fail)?;
            println!(
                "created {} {} ({})",
                record.row.role, record.row.email, record.row.id
            );
            if generated {
                println!("password: {secret}");
            }
        }
        UserCommand::List => {
            let filter = store::users::UserFilter::default();
            let mut after: Option<String> = None;
            loop {
                let rows = store::users::list(&mut conn, &filter, after.as_deref(), 500)
                    .map_err(failed)?;
                for row in &rows {
                    let state = if row.active { "active" } else { "disabled" };
                    println!(
                        "{}  {:<13} {:<8} {}  {}",
                        row.id, row.role, state, row.email, row.display_name
                    );
                }
                match rows.last() {
                    Some(last) if rows.len() == 500 => after = Some(last.id.clone()),
                    _ => break,
                }
            }
        }
        UserCommand::Disable { email } => {
            let user = store::users::find_by_email(&mut conn, &normalise_email(&email))
                .map_err(failed)?
                .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))?;
            // The CLI acts as the operator, not as any account.
            conn.transaction(|conn| {
                accounts::set_active(conn, "", &user.id, false, Clock::System.now())
            })
            .map_err(fail)?;
            println!("disabled {}", user.email);
        }
        UserCommand::SetPassword {
            email,
            password_stdin,
        } => {
            let user = store::users::find_by_email(&mut conn, &normalise_email(&email))
                .map_err(failed)?
                .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))?;
            let (secret, generated) = obtain_password(password_stdin)?;
            let hash = password::hash(&secret)?;
            conn.transaction(|conn| {
                accounts::set_password_hash(conn, &user.id, hash, false, None, Clock::System.now())
            })
            .map_err(fail)?;
            println!("password set for {}; their sessions have ended", user.email);
            if generated {
                println!("password: {secret}");
            }
        }
    }
    Ok(())
}
