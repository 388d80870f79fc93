//! The retention job every replica runs: redacts the free text that is due
//! (`crate::workflows::retention`) and forgets sign-in attempts, refresh
//! tokens and Idempotency-Keys once they have served their purpose.

use chrono::NaiveDateTime;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::retention::Period;
use crate::error::ApiError;
use crate::jobs::{Job, Pass};
use crate::store;
use crate::workflows::retention;

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
        let redacted = retention::redact_due(&self.db, self.period, self.batch_size, now).await?;
        if !redacted.is_empty() {
            tracing::info!(redacted = redacted.len(), "retention redacted requests");
        }
        self.forget_expired(now).await?;
        Ok(redacted)
    }

    /// Rows kept only while they serve a purpose: sign-in attempts (email
    /// addresses and network addresses) past the throttling window,
    /// refresh tokens past expiry, Idempotency-Keys past their replay
    /// window, all as of `now` on the service's clock.
    async fn forget_expired(&self, now: NaiveDateTime) -> Result<(), ApiError> {
        let attempts_before = now - self.login_window;
        let (attempts, tokens, keys) = self
            .db
            .write(move |conn| {
                Ok((
                    store::login_attempts::forget_before(conn, attempts_before)?,
                    store::sessions::forget_expired_refresh_tokens(conn, now)?,
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
    pub fn job(self) -> Job {
        let interval = std::time::Duration::from_secs(self.interval_seconds.unsigned_abs());
        Job::new("retention", interval, move || {
            let job = self.clone();
            async move {
                job.tick().await?;
                Ok(Pass::Done)
            }
        })
    }
}
