//! Retention: the free text of requests finished longer ago than
//! `retention.redact_after_days` is redacted, a batch per transaction, by
//! the retention job every replica runs and by
//! `nru-helpdesk redact`. Each request is redacted, and audited
//! (`request.redacted`), once however many run.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::{Db, DbConnection};
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
            status: row.status,
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
            now,
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
