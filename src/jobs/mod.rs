//! Background jobs under one supervisor: the SLA monitor, the mailer, the
//! webhook sender, retention and rate-limit upkeep. Each run of a job is a
//! task of its own, so a run that panics or fails is logged, counted
//! (`nru_job_failures_total`) and followed by another after a short
//! back-off, instead of ending the job for good. Each completed run is
//! recorded in [`JobHealth`], which `/metrics` and `/healthz/jobs` report.

pub mod mailer;
pub mod outbox;
pub mod retention;
pub mod sla_monitor;
pub mod webhook_sender;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// How a run that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Nothing more is due: the next run comes after the interval.
    Done,
    /// More is due now (an outbox with a backlog): run again at once.
    MoreDue,
}

type RunFuture = Pin<Box<dyn Future<Output = Result<Pass, ApiError>> + Send>>;

/// A background job: its name, how often it runs, and one run.
pub struct Job {
    name: &'static str,
    interval: Duration,
    first_run_after: Duration,
    stale_after: Duration,
    run: Box<dyn FnMut() -> RunFuture + Send>,
}

/// A job that has not completed a run for this many intervals is stale.
pub const STALE_AFTER_INTERVALS: u32 = 3;

impl Job {
    pub fn new<F, Fut>(name: &'static str, interval: Duration, mut run: F) -> Job
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Pass, ApiError>> + Send + 'static,
    {
        Job {
            name,
            interval,
            first_run_after: Duration::ZERO,
            stale_after: interval * STALE_AFTER_INTERVALS,
            run: Box::new(move || Box::pin(run())),
        }
    }

    /// Waits this long before the first run (the first runs at once otherwise).
    pub fn first_run_after(mut self, delay: Duration) -> Job {
        self.first_run_after = delay;
        self
    }

    /// Allows a run to take up to `longest` (an outbox batch may take its
    /// whole lease) before the job counts as stale.
    pub fn runs_may_take(mut self, longest: Duration) -> Job {
        self.stale_after = self.stale_after.max(longest);
        self
    }
}

/// When each job last completed a run, shared by the supervisor and the
/// health and metrics endpoints.
#[derive(Clone, Default)]
pub struct JobHealth {
    jobs: Arc<Mutex<BTreeMap<&'static str, Beat>>>,
}

struct Beat {
    stale_after: Duration,
    /// The last completed run, or the job's start before its first.
    last_completed: Instant,
}

/// One job as the health endpoint and the metrics report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub name: &'static str,
    /// Since the last completed run (since start-up, before the first).
    pub age: Duration,
    pub stale: bool,
}

impl JobHealth {
    fn beats(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Beat>> {
        // A panic elsewhere while holding the lock leaves plain data behind.
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(&self, job: &Job, now: Instant) {
        self.beats().insert(
            job.name,
            Beat {
                stale_after: job.first_run_after + job.stale_after,
                last_completed: now,
            },
        );
    }

    fn completed(&self, job: &Job, now: Instant) {
        self.beats().insert(
            job.name,
            Beat {
                stale_after: job.stale_after,
                last_completed: now,
            },
        );
    }

    /// Every job started so far, by name.
    pub fn report(&self, now: Instant) -> Vec<JobStatus> {
        self.beats()
            .iter()
            .map(|(name, beat)| {
                let age = now.saturating_duration_since(beat.last_completed);
                JobStatus {
                    name,
                    age,
                    stale: age > beat.stale_after,
                }
            })
            .collect()
    }
}

/// The wait before running again after `failures` failed runs in a row:
/// doubling from one second, at most a minute, never longer than the
/// job's own interval.
pub fn back_off(interval: Duration, failures: u32) -> Duration {
    let doubled = Duration::from_secs(1 << failures.saturating_sub(1).min(6));
    doubled.min(Duration::from_secs(60)).min(interval)
}

/// Aborts the run when the supervisor itself is stopped (at shutdown).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a panic said, if it said it in text.
pub(crate) fn panic_message(error: tokio::task::JoinError) -> String {
    if !error.is_panic() {
        return error.to_string();
    }
    let payload = error.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs `job` until the task is dropped: each run in a task of its own; a
/// completed run is recorded in `health`; a failed or panicking one is
/// logged and counted, and the next run follows after [`back_off`].
pub async fn supervise(mut job: Job, health: JobHealth, metrics: Metrics) {
    health.register(&job, Instant::now());
    let mut delay = job.first_run_after;
    let mut failures = 0_u32;
    loop {
        tokio::time::sleep(delay).await;
        let mut run = AbortOnDrop(tokio::spawn((job.run)()));
        let outcome = (&mut run.0).await;
        delay = match outcome {
            Ok(Ok(pass)) => {
                failures = 0;
                health.completed(&job, Instant::now());
                match pass {
                    Pass::Done => job.interval,
                    Pass::MoreDue => Duration::ZERO,
                }
            }
            Ok(Err(error)) => {
                failures += 1;
                metrics.job_failed(job.name, "error");
                tracing::warn!(job = job.name, failures, %error, "background job run failed");
                back_off(job.interval, failures)
            }
            Err(error) => {
                failures += 1;
                metrics.job_failed(job.name, "panic");
                let panic = panic_message(error);
                tracing::error!(job = job.name, failures, %panic, "background job panicked; restarting it");
                back_off(job.interval, failures)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn back_off_doubles_from_a_second_up_to_a_minute_and_never_past_the_interval() {
        let hour = Duration::from_secs(3600);
        let waits: Vec<u64> = (1..=9).map(|n| back_off(hour, n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(back_off(Duration::from_secs(2), 5), Duration::from_secs(2));
        assert_eq!(back_off(hour, u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn a_job_is_stale_once_it_has_not_completed_a_run_for_its_allowance() {
        let health = JobHealth::default();
        let start = Instant::now();
        let job = Job::new("mailer", Duration::from_secs(2), || async {
            Ok(Pass::Done)
        })
        .runs_may_take(Duration::from_secs(120));
        health.register(&job, start);
        let at = |secs| health.report(start + Duration::from_secs(secs));
        assert!(!at(120)[0].stale);
        assert!(at(121)[0].stale);
        health.completed(&job, start + Duration::from_secs(200));
        assert_eq!(
            at(230),
            [JobStatus {
                name: "mailer",
                age: Duration::from_secs(30),
                stale: false
            }]
        );
    }

    #[test]
    fn a_delayed_first_run_counts_its_delay_before_the_job_is_stale() {
        let health = JobHealth::default();
        let start = Instant::now();
        let job = Job::new("sla_monitor", Duration::from_secs(30), || async {
            Ok(Pass::Done)
        })
        .first_run_after(Duration::from_secs(30));
        health.register(&job, start);
        assert!(!health.report(start + Duration::from_secs(120))[0].stale);
        assert!(health.report(start + Duration::from_secs(121))[0].stale);
    }

    fn failures(metrics: &Metrics, job: &str, cause: &str) -> String {
        let text = String::from_utf8(metrics.encode().unwrap()).unwrap();
        let series = format!("nru_job_failures_total{{cause=\"{cause}\",job=\"{job}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&series).map(str::to_owned))
            .unwrap_or_else(|| "absent".to_owned())
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_that_panics_is_counted_and_restarted_and_its_completed_runs_are_recorded() {
        let metrics = Metrics::new().unwrap();
        let health = JobHealth::default();
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        let job = Job::new("flaky", Duration::from_secs(10), move || {
            let run = counted.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                match run {
                    1 => panic!("poisoned input"),
                    2 => Err(ApiError::internal("database away")),
                    _ => Ok(Pass::Done),
                }
            }
        });
        let supervisor = tokio::spawn(supervise(job, health.clone(), metrics.clone()));
        // Run 1 panics, run 2 (after 1 s) fails, run 3 (after 2 s more) completes.
        tokio::time::sleep(Duration::from_millis(3500)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(failures(&metrics, "flaky", "panic"), "1");
        assert_eq!(failures(&metrics, "flaky", "error"), "1");
        let status = &health.report(Instant::now())[0];
        assert_eq!(status.name, "flaky");
        assert!(status.age < Duration::from_secs(1), "{status:?}");
        // Then it keeps its interval.
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        supervisor.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_with_more_due_runs_again_at_once() {
        let metrics = Metrics::new().unwrap();
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        let job = Job::new("outbox", Duration::from_secs(60), move || {
            let run = counted.fetch_add(1, Ordering::SeqCst) + 1;
            async move { Ok(if run < 5 { Pass::MoreDue } else { Pass::Done }) }
        });
        let supervisor = tokio::spawn(supervise(job, JobHealth::default(), metrics));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 5);
        supervisor.abort();
    }
}
