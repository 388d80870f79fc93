//! Typed settings: `config/default.toml`, an optional `config/<APP_ENV>.toml`
//! overlay, then `APP__SECTION__KEY` environment variables.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

/// The development secret shipped in `config/default.toml`; production refuses it.
pub const DEFAULT_JWT_SECRET: &str = "insecure-development-secret-change-me";
const MIN_PRODUCTION_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub environment: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub bootstrap: BootstrapSettings,
    pub requests: RequestSettings,
    pub triage: TriageSettings,
    pub sla: SlaSettings,
    pub email: EmailSettings,
    pub integrations: IntegrationSettings,
    pub webhooks: WebhookSettings,
    pub retention: RetentionSettings,
    pub metrics: MetricsSettings,
    pub limits: LimitSettings,
    pub log: LogSettings,
    /// The folder the settings were read from; relative paths in them start here.
    #[serde(skip)]
    pub config_dir: std::path::PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TriageSettings {
    /// Triage rules and team assignment modes (relative to the config folder).
    pub rules_file: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlaSettings {
    /// Response-time policies (relative to the config folder).
    pub policies_file: String,
    /// How often the monitor checks for warning points and deadlines passed.
    pub monitor_interval_seconds: i64,
    /// Response-time reports computed at once; more wait their turn.
    pub reports_at_once: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RetentionSettings {
    /// Free text of requests finished (closed, withdrawn, or resolved and
    /// past the reopen window) this many days ago is redacted.
    pub redact_after_days: i64,
    /// How often each replica looks for requests due.
    pub interval_seconds: i64,
    /// Requests redacted per transaction.
    pub batch_size: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IntegrationSettings {
    /// Lifetime of the access tokens API clients get from /auth/token.
    pub client_token_ttl_seconds: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    /// Plain http to a loopback address (development only; production
    /// refuses it).
    pub allow_http_loopback: bool,
    /// Networks (CIDR) that webhooks may reach although they are not public,
    /// e.g. "127.0.0.0/8" for a receiver on this machine.
    pub allowed_private_networks: Vec<String>,
    /// Connect and response time allowed per delivery.
    pub timeout_seconds: i64,
    pub max_attempts: i32,
    pub retry_base_seconds: i64,
    pub retry_max_seconds: i64,
    pub worker_interval_seconds: i64,
    pub batch_size: i64,
    /// Deliveries sent at once by each replica.
    pub concurrency: i64,
    pub lease_seconds: i64,
}

impl WebhookSettings {
    /// `allowed_private_networks`, parsed; the error names the entry.
    pub fn allowed_networks(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        parse_networks(
            "webhooks.allowed_private_networks",
            &self.allowed_private_networks,
        )
    }
}

/// A list of CIDR networks; the error names the key and the entry.
fn parse_networks(key: &str, networks: &[String]) -> anyhow::Result<Vec<ipnet::IpNet>> {
    networks
        .iter()
        .map(|n| {
            n.parse()
                .map_err(|e| anyhow::anyhow!("{key}: \"{n}\" is not a network in CIDR form: {e}"))
        })
        .collect()
}

/// Request budgets; 0 turns a limit off.
#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    /// Requests per minute for each signed-in person or API client.
    pub per_caller_per_minute: u32,
    /// Requests a caller may make at once before the per-minute rate applies.
    pub per_caller_burst: u32,
    /// Requests per minute from one client address, signed in or not.
    pub per_address_per_minute: u32,
    pub per_address_burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    File,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: Secret,
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EmailSettings {
    pub transport: EmailTransport,
    /// Where the file transport writes (relative to the working directory).
    pub file_dir: String,
    pub from_address: String,
    pub from_name: String,
    pub web_base_url: String,
    /// Relative to the config folder.
    pub templates_dir: String,
    pub max_attempts: i32,
    pub retry_base_seconds: i64,
    pub retry_max_seconds: i64,
    pub worker_interval_seconds: i64,
    pub batch_size: i64,
    /// Emails sent to the relay at once by each replica.
    pub concurrency: i64,
    pub lease_seconds: i64,
    /// Routine events switched off for everyone.
    pub disabled_events: Vec<crate::domain::notifications::EmailEvent>,
    pub smtp: SmtpSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// Bearer token `/metrics` requires; empty leaves it open (development).
    pub token: Secret,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RequestSettings {
    /// How long after resolution a request may be reopened.
    pub reopen_window_days: i64,
    /// How long an Idempotency-Key is remembered.
    pub idempotency_key_ttl_seconds: i64,
    /// How long a break-glass grant lasts.
    pub break_glass_minutes: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub shutdown_timeout_seconds: u64,
    pub json_limit_bytes: usize,
    /// Browser origins (the web client's) allowed to call the API.
    pub cors_allowed_origins: Vec<String>,
    /// The origin browsers see this service at (behind a load balancer, its
    /// public https one): cookie-driven refresh and sign-out accept it.
    pub public_origin: String,
    /// Proxies and load balancers (CIDR) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
}

impl ServerSettings {
    /// `trusted_proxies`, parsed; the error names the entry.
    pub fn trusted_proxy_networks(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        parse_networks("server.trusted_proxies", &self.trusted_proxies)
    }

    /// The public origin and each allowed one must be origins.
    fn check_origins(&self) -> anyhow::Result<()> {
        check_origin("server.public_origin", &self.public_origin)?;
        for origin in &self.cors_allowed_origins {
            check_origin("server.cors_allowed_origins", origin)?;
        }
        Ok(())
    }
}

/// An origin: http(s), a host, nothing after; the error names the setting.
fn check_origin(setting: &str, origin: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(origin).ok();
    let is_origin = parsed.is_some_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some()
            && u.username().is_empty()
            && u.password().is_none()
            && u.path() == "/"
            && !origin.ends_with('/')
            && u.query().is_none()
            && u.fragment().is_none()
    });
    if !is_origin {
        anyhow::bail!(
            "{setting}: \"{origin}\" is not an origin such as https://helpdesk.example.org"
        );
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub pool_size: u32,
    pub connect_timeout_seconds: u64,
    /// SQLite only: when a commit is on disk (see [`SqliteSynchronous`]).
    pub sqlite_synchronous: SqliteSynchronous,
}

/// SQLite's `synchronous` setting under WAL. `full` syncs the log at every
/// commit, so an acknowledged request survives a power cut; `normal` syncs
/// only at checkpoints: a killed process loses nothing, but a power cut
/// may lose the last commits — answers the service already gave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    #[default]
    Full,
    Normal,
}

impl SqliteSynchronous {
    pub fn as_str(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Normal => "NORMAL",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: Secret,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    /// A browser client signs its user out after this long without activity.
    pub idle_timeout_seconds: i64,
    pub login_max_failures_per_account_address: i64,
    pub login_max_failures_per_account: i64,
    pub login_max_failures_per_address: i64,
    pub login_window_seconds: i64,
    /// argon2id memory (KiB) and passes for new password hashes; production
    /// refuses less than OWASP's recommendation.
    pub password_hash_memory_kib: u32,
    pub password_hash_iterations: u32,
}

/// argon2id's memory (KiB) and passes, with one lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl PasswordCost {
    /// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
    pub const OWASP: PasswordCost = PasswordCost {
        memory_kib: 19 * 1024,
        iterations: 2,
    };

    /// The cheapest cost argon2 accepts (8 KiB, one pass): for tests only.
    pub const MINIMUM: PasswordCost = PasswordCost {
        memory_kib: argon2::Params::MIN_M_COST,
        iterations: argon2::Params::MIN_T_COST,
    };

    /// OWASP's configurations of equal strength (memory KiB, passes); a cost
    /// at least as high as one of them in both is strong enough.
    pub const OWASP_EQUIVALENTS: [(u32, u32); 5] = [
        (46 * 1024, 1),
        (19 * 1024, 2),
        (12 * 1024, 3),
        (9 * 1024, 4),
        (7 * 1024, 5),
    ];

    /// Whether this cost is at least one of OWASP's recommended configurations.
    pub fn meets_owasp(self) -> bool {
        Self::OWASP_EQUIVALENTS
            .iter()
            .any(|&(m, t)| self.memory_kib >= m && self.iterations >= t)
    }
}

impl AuthSettings {
    /// The cost new password hashes are made with.
    pub fn password_cost(&self) -> PasswordCost {
        PasswordCost {
            memory_kib: self.password_hash_memory_kib,
            iterations: self.password_hash_iterations,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct BootstrapSettings {
    pub admin_email: String,
    pub admin_password: Secret,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A string that never shows itself in `Debug` or `Display` output.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Settings {
    /// Loads settings from `<dir>/default.toml`, the overlay named by `APP_ENV`,
    /// and the process environment.
    pub fn load(dir: &Path) -> anyhow::Result<Settings> {
        let env_name = std::env::var("APP_ENV").unwrap_or_else(|_| "development".into());
        if env_name != "development" && env_name != "production" {
            anyhow::bail!("APP_ENV must be \"development\" or \"production\", not \"{env_name}\"");
        }
        let raw = config::Config::builder()
            .add_source(config::File::from(dir.join("default.toml")).required(true))
            .add_source(config::File::from(dir.join(format!("{env_name}.toml"))).required(false))
            .add_source(
                config::Environment::with_prefix("APP")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    // Lists come from the environment comma-separated.
                    .list_separator(",")
                    .with_list_parse_key("webhooks.allowed_private_networks")
                    .with_list_parse_key("server.cors_allowed_origins")
                    .with_list_parse_key("server.trusted_proxies")
                    .with_list_parse_key("email.disabled_events"),
            )
            .set_override("environment", env_name)?
            .build()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        let mut settings: Settings = raw
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        settings.config_dir = dir.to_path_buf();
        settings.check()?;
        Ok(settings)
    }

    /// Reads and checks the triage rules file; errors name the setting and file.
    pub fn triage_rules(&self) -> anyhow::Result<crate::domain::triage::TriageConfig> {
        let path = self.config_dir.join(&self.triage.rules_file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!("triage.rules_file: cannot read {}: {e}", path.display())
        })?;
        crate::domain::triage::TriageConfig::parse(&text)
            .map_err(|e| anyhow::anyhow!("triage.rules_file ({}): {e}", path.display()))
    }

    /// Reads and checks the response-time policies; errors name the setting and file.
    pub fn sla_policies(&self) -> anyhow::Result<crate::domain::sla::SlaPolicies> {
        let path = self.config_dir.join(&self.sla.policies_file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!("sla.policies_file: cannot read {}: {e}", path.display())
        })?;
        crate::domain::sla::SlaPolicies::parse(&text)
            .map_err(|e| anyhow::anyhow!("sla.policies_file ({}): {e}", path.display()))
    }

    /// How long finished requests keep their free text.
    pub fn retention_period(&self) -> crate::domain::retention::Period {
        crate::domain::retention::Period {
            redact_after_days: self.retention.redact_after_days,
            reopen_window_days: self.requests.reopen_window_days,
        }
    }

    /// What a development run leaves unsafe, said at start-up so nobody
    /// serves real cases that way by mistake (production refuses both).
    pub fn insecure_defaults(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if self.auth.jwt_secret.expose() == DEFAULT_JWT_SECRET {
            warnings.push("auth.jwt_secret is the development secret shipped in config/default.toml: anyone can forge tokens. Set APP__AUTH__JWT_SECRET (and APP_ENV=production) before serving real cases.");
        }
        if self.metrics.token.expose().is_empty() {
            warnings.push("metrics.token is empty: /metrics is open to anyone who can reach the service. Set APP__METRICS__TOKEN.");
        }
        warnings
    }

    /// Rules a valid file can still break; each message names its key.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.environment == Environment::Production {
            let secret = self.auth.jwt_secret.expose();
            if secret == DEFAULT_JWT_SECRET {
                anyhow::bail!("auth.jwt_secret: the development default is refused in production; set APP__AUTH__JWT_SECRET");
            }
            if secret.len() < MIN_PRODUCTION_SECRET_BYTES {
                anyhow::bail!(
                    "auth.jwt_secret: must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes in production"
                );
            }
            if self.metrics.token.expose().len() < MIN_PRODUCTION_SECRET_BYTES {
                anyhow::bail!(
                    "metrics.token: /metrics is not public in production; set APP__METRICS__TOKEN (at least {MIN_PRODUCTION_SECRET_BYTES} bytes)"
                );
            }
            if self.webhooks.allow_http_loopback {
                anyhow::bail!("webhooks.allow_http_loopback: plain http is for development only and is refused in production");
            }
            if !self.auth.password_cost().meets_owasp() {
                anyhow::bail!("auth.password_hash_memory_kib, auth.password_hash_iterations: below OWASP's recommended argon2id cost (19456 KiB and 2 passes, or an equivalent) is refused in production");
            }
        }
        if self.auth.jwt_secret.expose().is_empty() {
            anyhow::bail!("auth.jwt_secret: must not be empty");
        }
        // Durations are bounded (ten years at most) so turning them into
        // chrono durations and adding them to instants can never overflow.
        const TEN_YEARS_SECONDS: i64 = 10 * 366 * 24 * 3600;
        let bounds = [
            (
                "auth.access_token_ttl_seconds",
                self.auth.access_token_ttl_seconds,
                1,
                TEN_YEARS_SECONDS,
            ),
            (
                "auth.refresh_token_ttl_seconds",
                self.auth.refresh_token_ttl_seconds,
                1,
                TEN_YEARS_SECONDS,
            ),
            (
                "auth.idle_timeout_seconds",
                self.auth.idle_timeout_seconds,
                1,
                TEN_YEARS_SECONDS,
            ),
            (
                "auth.login_window_seconds",
                self.auth.login_window_seconds,
                1,
                TEN_YEARS_SECONDS,
            ),
            (
                "auth.login_max_failures_per_account_address",
                self.auth.login_max_failures_per_account_address,
                1,
                1_000_000_000,
            ),
            (
                "auth.login_max_failures_per_account",
                self.auth.login_max_failures_per_account,
                1,
                1_000_000_000,
            ),
            (
                "auth.login_max_failures_per_address",
                self.auth.login_max_failures_per_address,
                1,
                1_000_000_000,
            ),
            // argon2's own floor; a ceiling of 1 GiB keeps a typo from
            // exhausting memory at each sign-in.
            (
                "auth.password_hash_memory_kib",
                i64::from(self.auth.password_hash_memory_kib),
                8,
                1024 * 1024,
            ),
            (
                "auth.password_hash_iterations",
                i64::from(self.auth.password_hash_iterations),
                1,
                64,
            ),
            (
                "requests.reopen_window_days",
                self.requests.reopen_window_days,
                0,
                3660,
            ),
            (
                "requests.idempotency_key_ttl_seconds",
                self.requests.idempotency_key_ttl_seconds,
                1,
                TEN_YEARS_SECONDS,
            ),
            (
                "sla.monitor_interval_seconds",
                self.sla.monitor_interval_seconds,
                1,
                24 * 3600,
            ),
            ("sla.reports_at_once", self.sla.reports_at_once, 1, 64),
            (
                "email.max_attempts",
                i64::from(self.email.max_attempts),
                1,
                100,
            ),
            (
                "email.retry_base_seconds",
                self.email.retry_base_seconds,
                1,
                24 * 3600,
            ),
            (
                "email.retry_max_seconds",
                self.email.retry_max_seconds,
                1,
                7 * 24 * 3600,
            ),
            (
                "email.worker_interval_seconds",
                self.email.worker_interval_seconds,
                1,
                3600,
            ),
            ("email.batch_size", self.email.batch_size, 1, 1000),
            ("email.concurrency", self.email.concurrency, 1, 64),
            (
                "email.lease_seconds",
                self.email.lease_seconds,
                10,
                24 * 3600,
            ),
            (
                "integrations.client_token_ttl_seconds",
                self.integrations.client_token_ttl_seconds,
                60,
                24 * 3600,
            ),
            (
                "webhooks.timeout_seconds",
                self.webhooks.timeout_seconds,
                1,
                60,
            ),
            (
                "webhooks.max_attempts",
                i64::from(self.webhooks.max_attempts),
                1,
                100,
            ),
            (
                "webhooks.retry_base_seconds",
                self.webhooks.retry_base_seconds,
                1,
                24 * 3600,
            ),
            (
                "webhooks.retry_max_seconds",
                self.webhooks.retry_max_seconds,
                1,
                7 * 24 * 3600,
            ),
            (
                "webhooks.worker_interval_seconds",
                self.webhooks.worker_interval_seconds,
                1,
                3600,
            ),
            ("webhooks.batch_size", self.webhooks.batch_size, 1, 1000),
            ("webhooks.concurrency", self.webhooks.concurrency, 1, 64),
            (
                "webhooks.lease_seconds",
                self.webhooks.lease_seconds,
                10,
                24 * 3600,
            ),
            (
                "retention.redact_after_days",
                self.retention.redact_after_days,
                1,
                3660,
            ),
            (
                "retention.interval_seconds",
                self.retention.interval_seconds,
                60,
                7 * 24 * 3600,
            ),
            ("retention.batch_size", self.retention.batch_size, 1, 1000),
            (
                "requests.break_glass_minutes",
                self.requests.break_glass_minutes,
                1,
                10 * 366 * 24 * 60,
            ),
        ];
        for (key, value, min, max) in bounds {
            if !(min..=max).contains(&value) {
                anyhow::bail!("{key}: must be between {min} and {max}, not {value}");
            }
        }
        if let Some(event) = self
            .email
            .disabled_events
            .iter()
            .find(|e| e.is_safety_critical())
        {
            anyhow::bail!(
                "email.disabled_events: {event} is safety-critical and cannot be switched off"
            );
        }
        self.email
            .from_address
            .parse::<lettre::Address>()
            .map_err(|e| anyhow::anyhow!("email.from_address: {e}"))?;
        url::Url::parse(&self.email.web_base_url)
            .map_err(|e| anyhow::anyhow!("email.web_base_url: {e}"))?;
        if self.email.transport == EmailTransport::Smtp && self.email.smtp.host.trim().is_empty() {
            anyhow::bail!("email.smtp.host: required when email.transport is \"smtp\"");
        }
        self.webhooks.allowed_networks()?;
        self.server.trusted_proxy_networks()?;
        self.server.check_origins()?;
        let budgets = [
            (
                "limits.per_caller",
                self.limits.per_caller_per_minute,
                self.limits.per_caller_burst,
            ),
            (
                "limits.per_address",
                self.limits.per_address_per_minute,
                self.limits.per_address_burst,
            ),
        ];
        if let Some((key, _, _)) = budgets
            .iter()
            .find(|(_, rate, burst)| *rate > 0 && *burst == 0)
        {
            anyhow::bail!("{key}_burst: must be at least 1 while {key}_per_minute is set");
        }
        if self.database.pool_size == 0 {
            anyhow::bail!("database.pool_size: must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev_settings() -> Settings {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let raw = config::Config::builder()
            .add_source(config::File::from(dir.join("default.toml")))
            .build()
            .expect("default.toml parses");
        raw.try_deserialize().expect("default.toml has every key")
    }

    #[test]
    fn default_file_is_complete_and_valid_for_development() {
        let s = dev_settings();
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.database.sqlite_synchronous, SqliteSynchronous::Full);
        s.check().expect("development accepts the defaults");
    }

    #[test]
    fn development_defaults_are_named_as_insecure_until_replaced() {
        let mut s = dev_settings();
        let warnings = s.insecure_defaults();
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].starts_with("auth.jwt_secret"));
        assert!(warnings[1].starts_with("metrics.token"));
        s.auth.jwt_secret = Secret::new("x".repeat(32));
        s.metrics.token = Secret::new("y".repeat(32));
        assert!(s.insecure_defaults().is_empty());
    }

    #[test]
    fn production_refuses_the_default_secret() {
        let mut s = dev_settings();
        s.environment = Environment::Production;
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("auth.jwt_secret"), "{err}");
    }

    #[test]
    fn production_refuses_a_short_secret_and_accepts_a_long_one() {
        let mut s = dev_settings();
        s.environment = Environment::Production;
        s.auth.jwt_secret = Secret::new("x".repeat(31));
        assert!(s.check().is_err());
        s.auth.jwt_secret = Secret::new("x".repeat(32));
        s.metrics.token = Secret::new("m".repeat(32));
        s.check().expect("32 bytes is enough");
    }

    #[test]
    fn production_keeps_metrics_behind_a_token() {
        let mut s = dev_settings();
        s.environment = Environment::Production;
        s.auth.jwt_secret = Secret::new("x".repeat(32));
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("metrics.token"), "{err}");
    }

    #[test]
    fn the_web_client_settings_default_to_the_service_itself_and_are_checked() {
        let s = dev_settings();
        let own = format!("http://{}:{}", s.server.host, s.server.port);
        assert_eq!(s.server.public_origin, own);
        assert_eq!(s.email.web_base_url, own);
        assert_eq!(s.auth.idle_timeout_seconds, 900);
        for bad in ["https://helpdesk.example.org/", "helpdesk.example.org", ""] {
            let mut s = dev_settings();
            s.server.public_origin = bad.into();
            let err = s.check().unwrap_err().to_string();
            assert!(err.starts_with("server.public_origin"), "{err}");
        }
        let mut s = dev_settings();
        s.auth.idle_timeout_seconds = 0;
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("auth.idle_timeout_seconds"), "{err}");
    }

    #[test]
    fn production_refuses_plain_http_webhooks_and_bad_networks_are_named() {
        let mut s = dev_settings();
        s.environment = Environment::Production;
        s.auth.jwt_secret = Secret::new("x".repeat(32));
        s.metrics.token = Secret::new("m".repeat(32));
        s.check().expect("production with secrets set");
        s.webhooks.allow_http_loopback = true;
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("webhooks.allow_http_loopback"), "{err}");

        let mut s = dev_settings();
        s.webhooks.allowed_private_networks = vec!["127.0.0.0/8".into(), "10.0.0.300/8".into()];
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("webhooks.allowed_private_networks"), "{err}");
        assert!(err.contains("10.0.0.300/8"), "{err}");
    }

    #[test]
    fn the_password_hash_cost_defaults_to_owasp_and_production_refuses_less() {
        let s = dev_settings();
        assert_eq!(s.auth.password_cost(), PasswordCost::OWASP);
        let production = |memory_kib, iterations| {
            let mut s = dev_settings();
            s.environment = Environment::Production;
            s.auth.jwt_secret = Secret::new("x".repeat(32));
            s.metrics.token = Secret::new("m".repeat(32));
            s.auth.password_hash_memory_kib = memory_kib;
            s.auth.password_hash_iterations = iterations;
            s.check().map_err(|e| e.to_string())
        };
        production(19 * 1024, 2).expect("OWASP's parameters");
        production(12 * 1024, 3).expect("an OWASP equivalent");
        production(64 * 1024, 1).expect("more memory, one pass");
        for (memory_kib, iterations) in [(19 * 1024 - 1, 2), (19 * 1024, 1), (8, 1)] {
            let err = production(memory_kib, iterations).unwrap_err();
            assert!(err.starts_with("auth.password_hash_memory_kib"), "{err}");
            assert!(err.contains("OWASP"), "{err}");
        }
        // Development (and the tests) may turn it down to argon2's minimum.
        let mut s = dev_settings();
        s.auth.password_hash_memory_kib = 8;
        s.auth.password_hash_iterations = 1;
        s.check().expect("development accepts argon2's minimum");
        for (key, memory_kib, iterations) in [
            ("auth.password_hash_memory_kib", 7, 1),
            ("auth.password_hash_memory_kib", 2 * 1024 * 1024, 1),
            ("auth.password_hash_iterations", 8, 0),
            ("auth.password_hash_iterations", 8, 65),
        ] {
            let mut s = dev_settings();
            s.auth.password_hash_memory_kib = memory_kib;
            s.auth.password_hash_iterations = iterations;
            let err = s.check().unwrap_err().to_string();
            assert!(err.starts_with(key), "{err}");
        }
    }

    #[test]
    fn the_shipped_sla_policies_are_valid() {
        let mut s = dev_settings();
        s.config_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let sla = s.sla_policies().expect("config/sla.toml is valid");
        assert_eq!(sla.acknowledgement.chain.len(), 3);
    }

    /// A config folder holding default.toml with `edit` applied to the shipped one.
    fn config_dir_with(edit: impl Fn(String) -> String) -> tempfile::TempDir {
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .expect("shipped default.toml");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("default.toml"), edit(shipped)).expect("write");
        dir
    }

    #[test]
    fn a_malformed_setting_is_named() {
        let dir = config_dir_with(|s| s.replace("port = 8080", "port = \"eighty\""));
        let err = Settings::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("server.port"), "{err}");
    }

    #[test]
    fn lists_come_from_the_environment_comma_separated() {
        // Only this test sets this variable; others loading settings at the
        // same time would merely see two valid networks.
        let key = "APP__WEBHOOKS__ALLOWED_PRIVATE_NETWORKS";
        std::env::set_var(key, "127.0.0.0/8,::1/128");
        let dir = config_dir_with(|s| s.to_owned());
        let loaded = Settings::load(dir.path());
        std::env::remove_var(key);
        let networks = loaded
            .expect("loads")
            .webhooks
            .allowed_networks()
            .expect("valid");
        assert_eq!(
            networks,
            [
                "127.0.0.0/8".parse::<ipnet::IpNet>().unwrap(),
                "::1/128".parse().unwrap()
            ]
        );
    }

    #[test]
    fn a_missing_setting_is_named() {
        let dir = config_dir_with(|s| s.replace("pool_size = 8\n", ""));
        let err = Settings::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("pool_size"), "{err}");
    }

    #[test]
    fn the_shipped_triage_rules_are_valid() {
        let mut s = dev_settings();
        s.config_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let rules = s.triage_rules().expect("config/triage.toml is valid");
        assert!(!rules.rules.is_empty());
    }

    #[test]
    fn durations_out_of_range_are_refused_by_name() {
        let mut s = dev_settings();
        s.requests.reopen_window_days = i64::MAX;
        assert!(s
            .check()
            .unwrap_err()
            .to_string()
            .contains("requests.reopen_window_days"));
        let mut s = dev_settings();
        s.auth.access_token_ttl_seconds = 0;
        assert!(s
            .check()
            .unwrap_err()
            .to_string()
            .contains("auth.access_token_ttl_seconds"));
        let mut s = dev_settings();
        s.sla.reports_at_once = 0;
        assert!(s
            .check()
            .unwrap_err()
            .to_string()
            .contains("sla.reports_at_once"));
        let mut s = dev_settings();
        s.retention.redact_after_days = 0;
        assert!(s
            .check()
            .unwrap_err()
            .to_string()
            .contains("retention.redact_after_days"));
        let mut s = dev_settings();
        s.retention.interval_seconds = 1;
        assert!(s
            .check()
            .unwrap_err()
            .to_string()
            .contains("retention.interval_seconds"));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = dev_settings();
        let shown = format!("{s:?}");
        assert!(!shown.contains(DEFAULT_JWT_SECRET));
        assert!(shown.contains("[redacted]"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn network() -> impl Strategy<Value = ipnet::IpNet> {
            prop_oneof![
                (any::<u32>(), 0u8..=32)
                    .prop_map(|(ip, len)| ipnet::Ipv4Net::new(ip.into(), len).unwrap().into()),
                (any::<u128>(), 0u8..=128).prop_map(|(ip, len)| ipnet::Ipv6Net::new(
                    ip.into(),
                    len
                )
                .unwrap()
                .into()),
            ]
        }

        proptest! {
            /// Networks written in CIDR form read back in order.
            #[test]
            fn written_networks_read_back(networks in prop::collection::vec(network(), 0..5)) {
                let mut s = dev_settings();
                s.webhooks.allowed_private_networks = networks.iter().map(ToString::to_string).collect();
                prop_assert_eq!(s.webhooks.allowed_networks().unwrap(), networks);
            }

            /// A list with an entry that is not a network is refused, and
            /// the message names the setting and the entry.
            #[test]
            fn a_bad_network_is_named(
                good in network(),
                bad in prop_oneof![any::<String>(), "[0-9]{1,3}(\\.[0-9]{1,4}){3}/[0-9]{1,3}"],
            ) {
                prop_assume!(bad.parse::<ipnet::IpNet>().is_err());
                let mut s = dev_settings();
                s.webhooks.allowed_private_networks = vec![good.to_string(), bad.clone()];
                let error = s.webhooks.allowed_networks().unwrap_err().to_string();
                prop_assert!(error.contains("webhooks.allowed_private_networks"), "{}", error);
                prop_assert!(error.contains(&format!("\"{bad}\"")), "{}", error);
            }
        }
    }
}
