//! Retention: the free text of requests finished longer ago than
//! `retention.redact_after_days` is redacted, a batch per transaction, by
//! the job every replica runs and by `nru-helpdesk redact`. Each request is
//! redacted, and audited (`request.redacted`), once however many run.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::clock::Clock;
use crate::config::RetentionSettings;
use crate::db::{Db, DbConnection};
use crate::domain::lifecycle::Status;
use crate::domain::retention::{self, Finished};
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
    settings: &RetentionSettings,
    now: NaiveDateTime,
) -> Result<Batch, ApiError> {
    let days = settings.redact_after_days;
    let candidates = store::requests::due_for_redaction(
        conn,
        retention::cutoff(now, days),
        settings.batch_size,
    )?;
    let mut redacted = Vec::new();
    for row in &candidates {
        let finished = Finished {
            status: Status::parse(&row.status).ok_or_else(|| {
                ApiError::internal(format!("request {} has unknown status", row.id))
            })?,
            closed_at: row.closed_at,
            withdrawn_at: row.withdrawn_at,
            redacted_at: row.redacted_at,
        };
        if !retention::is_due(&finished, now, days) || !store::requests::redact(conn, &row.id, now)?
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
                "finished_at": finished.finished_at().map(|at| at.and_utc()),
                "redact_after_days": days,
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
    settings: &RetentionSettings,
    now: NaiveDateTime,
) -> Result<Vec<String>, ApiError> {
    let mut redacted = Vec::new();
    loop {
        let batch_settings = settings.clone();
        let batch = db
            .write(move |conn| redact_batch(conn, &batch_settings, now))
            .await?;
        // A short batch was the last; one where nothing could be redacted
        // (others hold them) is left for the next run.
        let full = i64::try_from(batch.candidates).unwrap_or(i64::MAX) >= settings.batch_size;
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
    settings: RetentionSettings,
    clock: Clock,
}

impl RetentionJob {
    pub fn new(db: Db, settings: RetentionSettings, clock: Clock) -> RetentionJob {
        RetentionJob {
            db,
            settings,
            clock,
        }
    }

    /// One run: redacts what is due now; returns the ids it redacted.
    pub async fn tick(&self) -> Result<Vec<String>, ApiError> {
        let redacted = redact_due(&self.db, &self.settings, self.clock.now()).await?;
        if !redacted.is_empty() {
            tracing::info!(redacted = redacted.len(), "retention redacted requests");
        }
        Ok(redacted)
    }

    /// Runs every `retention.interval_seconds` until the task is dropped.
    pub async fn run(self) {
        crate::notify::every(self.settings.interval_seconds, "retention", || self.tick()).await;
    }
}
