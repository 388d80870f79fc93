//! The application state every handler and extractor reads: the database,
//! token keys, settings, rules, clock, metrics, the audit trail and the
//! request budgets. `startup` builds it; nothing here knows about binding
//! or background jobs.

use std::sync::Arc;

use crate::api::limits::RateLimits;
use crate::auth::jwt::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::integrations::Reach;
use crate::domain::sla::SlaPolicies;
use crate::domain::triage::TriageConfig;
use crate::jobs::JobHealth;
use crate::metrics::Metrics;
use crate::workflows::audit_trail::AuditTrail;

/// Shared by every request.
pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub settings: Settings,
    pub triage: Arc<TriageConfig>,
    pub sla: Arc<SlaPolicies>,
    /// "Now" for everything response times measure.
    pub clock: Clock,
    pub metrics: Metrics,
    /// Where audited reads record their rows.
    pub audit: AuditTrail,
    /// Turns for computing response-time reports (`sla.reports_at_once`).
    pub report_turns: Arc<tokio::sync::Semaphore>,
    /// Which addresses webhooks may reach, checked at registration too.
    pub webhook_reach: Reach,
    /// Request budgets per caller and per address, and who the address is.
    pub limits: Arc<RateLimits>,
    /// When each background job last completed a run.
    pub jobs: JobHealth,
    pub openapi_yaml: String,
}
