//! Retention: the free text of requests finished longer ago than
//! `retention.redact_after_days` is redacted, a batch per transaction, by
//! the job every replica runs and by `nru-helpdesk redact`. Each request is
//! redacted, and audited (`request.redacted`), once however many run. The
//! job also forgets sign-in attempts, refresh tokens and Idempotency-Keys
//! once they have served their purpose.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{Db, DbConnection};
use crate::domain::lifecycle::Status;
use crate::domain::retention::{self, Finished, Period};
use crate::error::ApiError;
use crate::store;

/// What one batch found and what this call redacted of it.
struct Batch {
    candidates: usize,
    redacted: Vec<String>,
}

/// Redacts one batch of due requests in the caller's transaction: the
/// request's own text, every message, triage and break-glass reasons and
/// its idempotency keys, with one audit row each. Statistics, transitions,
/// response-time facts and the audit trail are left as they were.
fn redact_batch(
    conn: &mut DbConnection,
    period: &Period,
    batch_size: i64,
    now: NaiveDateTime,
) -> Result<Batch, ApiError> {
    let candidates = store::requests::due_for_redaction(
        conn,
        period.cutoff(now),
        period.resolved_cutoff(now),
        batch_size,
    )?;
    let mut redacted = Vec::new();
    for row in &candidates {
        let finished = Finished {
            status: Status::parse(&row.status).ok_or_else(|| {
                ApiError::internal(format!("request {} has unknown status", row.id))
            })?,
            closed_at: row.closed_at,
            withdrawn_at: row.withdrawn_at,
            resolved_at: row.resolved_at,
            redacted_at: row.redacted_at,
        };
        if !retention::is_due(&finished, now, period)
            || !store::requests::redact(conn, &row.id, now)?
        {
            continue;
        }
        let messages = store::messages::redact_all(conn, &row.id)?;
        store::triage::redact_reasons(conn, &row.id)?;
        store::access::redact_reasons(conn, &row.id)?;
        store::idempotency::forget_request(conn, &row.id)?;
        store::audit::append(
            conn,
            None,
            "request.redacted",
            Some(&row.id),
            json!({
                "reference": row.reference,
                "finished_at": finished.finished_at(period).map(|at| at.and_utc()),
                "redact_after_days": period.redact_after_days,
                "messages": messages,
            }),
        )?;
        redacted.push(row.id.clone());
    }
    Ok(Batch {
        candidates: candidates.len(),
        redacted,
    })
}

/// Redacts every request due at `now`, a batch per transaction, and
/// returns the ids this call redacted.
pub async fn redact_due(
    db: &Db,
    period: Period,
    batch_size: i64,
    now: NaiveDateTime,
) -> Result<Vec<String>, ApiError> {
    let mut redacted = Vec::new();
    loop {
        let batch = db
            .write(move |conn| redact_batch(conn, &period, batch_size, now))
            .await?;
        // A short batch was the last; one where nothing could be redacted
        // (others hold them) is left for the next run.
        let full = i64::try_from(batch.candidates).unwrap_or(i64::MAX) >= batch_size;
        let progressed = !batch.redacted.is_empty();
        redacted.extend(batch.redacted);
        if !full || !progressed {
            return Ok(redacted);
        }
    }
}

/// The retention job every replica runs. Cheap to clone.
#[derive(Clone)]
pub struct RetentionJob {
    db: Db,
    period: Period,
    /// Sign-in attempts older than this are no longer looked at.
    login_window: chrono::Duration,
    batch_size: i64,
    interval_seconds: i64,
    clock: Clock,
}

impl RetentionJob {
    pub fn new(db: Db, settings: &Settings, clock: Clock) -> RetentionJob {
        RetentionJob {
            db,
            period: settings.retention_period(),
            login_window: chrono::Duration::seconds(settings.auth.login_window_seconds),
            batch_size: settings.retention.batch_size,
            interval_seconds: settings.retention.interval_seconds,
            clock,
        }
    }

    /// One run: redacts what is due now and forgets rows past their use;
    /// returns the ids of the requests it redacted.
    pub async fn tick(&self) -> Result<Vec<String>, ApiError> {
        let now = self.clock.now();
        let redacted = redact_due(&self.db, self.period, self.batch_size, now).await?;
        if !redacted.is_empty() {
            tracing::info!(redacted = redacted.len(), "retention redacted requests");
        }
        self.forget_expired(now).await?;
        Ok(redacted)
    }

    /// Rows kept only while they serve a purpose: sign-in attempts (email
    /// addresses and network addresses) past the throttling window,
    /// refresh tokens past expiry, Idempotency-Keys past their replay
    /// window. Attempts and tokens are stamped with the system time, keys
    /// with the service's clock, and each is judged by its own.
    async fn forget_expired(&self, now: NaiveDateTime) -> Result<(), ApiError> {
        let system_now = store::now();
        let attempts_before = system_now - self.login_window;
        let (attempts, tokens, keys) = self
            .db
            .write(move |conn| {
                Ok((
                    store::login_attempts::forget_before(conn, attempts_before)?,
                    store::sessions::forget_expired_refresh_tokens(conn, system_now)?,
                    store::idempotency::forget_expired(conn, now)?,
                ))
            })
            .await?;
        if attempts + tokens + keys > 0 {
            tracing::info!(attempts, tokens, keys, "expired rows forgotten");
        }
        Ok(())
    }

    /// The supervised job: a tick every `retention.interval_seconds`.
    pub fn job(self) -> crate::jobs::Job {
        let interval = std::time::Duration::from_secs(self.interval_seconds.unsigned_abs());
        crate::jobs::Job::new("retention", interval, move || {
            let job = self.clone();
            async move {
                job.tick().await?;
                Ok(crate::jobs::Pass::Done)
            }
        })
    }
}
