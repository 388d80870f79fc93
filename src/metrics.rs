//! Prometheus metrics: HTTP counts and latencies per route pattern and
//! status (actix-web-prom), and the unit's own gauges, read from the
//! database at each scrape, plus connection-pool use.

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use chrono::NaiveDateTime;
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::store::metrics::Snapshot;

/// One registry per application, so several can run in one process.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http: PrometheusMetrics,
    open_requests: IntGaugeVec,
    unassigned: IntGauge,
    unassigned_oldest_age: IntGauge,
    sla_states: IntGaugeVec,
    sla_events: IntGaugeVec,
    pool_connections: IntGaugeVec,
    outbox: IntGaugeVec,
    outbox_oldest_pending_age: IntGauge,
    webhooks: IntGaugeVec,
    webhooks_oldest_pending_age: IntGauge,
    delivery: Histogram,
    job_failures: IntCounterVec,
    job_age: IntGaugeVec,
}

fn gauge_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> anyhow::Result<IntGaugeVec> {
    let gauge = IntGaugeVec::new(Opts::new(name, help).namespace("nru"), labels)?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> anyhow::Result<IntGauge> {
    let gauge = IntGauge::with_opts(Opts::new(name, help).namespace("nru"))?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new();
        let http = PrometheusMetricsBuilder::new("nru")
            .registry(registry.clone())
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        Ok(Metrics {
            open_requests: gauge_vec(
                &registry,
                "open_requests",
                "Open requests by status and priority (none before triage)",
                &["status", "priority"],
            )?,
            unassigned: gauge(
                &registry,
                "unassigned_requests",
                "Triaged requests waiting for a specialist",
            )?,
            unassigned_oldest_age: gauge(
                &registry,
                "unassigned_oldest_age_seconds",
                "Age of the oldest triaged request waiting for a specialist",
            )?,
            sla_states: gauge_vec(
                &registry,
                "open_requests_by_sla_state",
                "Open triaged requests by SLA state (ok, at_risk, breached)",
                &["state"],
            )?,
            sla_events: gauge_vec(
                &registry,
                "sla_events_recorded",
                "SLA events recorded so far, by kind (warning, breach, escalation)",
                &["kind"],
            )?,
            pool_connections: gauge_vec(
                &registry,
                "db_pool_connections",
                "Database pool connections by pool and state (idle, in_use)",
                &["pool", "state"],
            )?,
            outbox: gauge_vec(
                &registry,
                "outbox_emails",
                "Emails in the outbox by status (pending, sent, dead, suppressed)",
                &["status"],
            )?,
            outbox_oldest_pending_age: gauge(
                &registry,
                "outbox_oldest_pending_age_seconds",
                "Age of the oldest email waiting to be delivered",
            )?,
            webhooks: gauge_vec(
                &registry,
                "webhook_deliveries",
                "Webhook deliveries by status (pending, delivered, dead)",
                &["status"],
            )?,
            webhooks_oldest_pending_age: gauge(
                &registry,
                "webhook_oldest_pending_age_seconds",
                "Age of the oldest webhook delivery waiting to be sent",
            )?,
            job_failures: {
                let counter = IntCounterVec::new(
                    Opts::new(
                        "job_failures_total",
                        "Background job runs that failed (cause=error) or panicked (cause=panic); the job runs again after a short back-off",
                    )
                    .namespace("nru"),
                    &["job", "cause"],
                )?;
                registry.register(Box::new(counter.clone()))?;
                counter
            },
            job_age: gauge_vec(
                &registry,
                "job_last_success_age_seconds",
                "Seconds since each background job last completed a run (since start-up, before its first)",
                &["job"],
            )?,
            delivery: {
                let histogram = Histogram::with_opts(
                    HistogramOpts::new(
                        "email_delivery_seconds",
                        "From an email's cause to its delivery, as seen by this replica",
                    )
                    .namespace("nru")
                    .buckets(vec![
                        0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
                    ]),
                )?;
                registry.register(Box::new(histogram.clone()))?;
                histogram
            },
            registry,
            http,
        })
    }

    /// The middleware that counts and times every HTTP request.
    pub fn http(&self) -> PrometheusMetrics {
        self.http.clone()
    }

    pub fn observe_delivery(&self, seconds: f64) {
        self.delivery.observe(seconds);
    }

    /// Counts a run of `job` that failed or panicked (`cause`).
    pub fn job_failed(&self, job: &str, cause: &str) {
        self.job_failures.with_label_values(&[job, cause]).inc();
    }

    /// The text exposition of every metric after taking in the snapshot.
    pub fn render(
        &self,
        snapshot: &Snapshot,
        pools: &[(&str, diesel::r2d2::State)],
        job_ages: impl IntoIterator<Item = (&'static str, std::time::Duration)>,
        now: NaiveDateTime,
    ) -> anyhow::Result<Vec<u8>> {
        for (job, age) in job_ages {
            let age = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
            self.job_age.with_label_values(&[job]).set(age);
        }
        self.open_requests.reset();
        for (status, priority, count) in &snapshot.open {
            self.open_requests
                .with_label_values(&[status.as_str(), priority.as_deref().unwrap_or("none")])
                .set(*count);
        }
        self.unassigned.set(snapshot.unassigned);
        self.unassigned_oldest_age.set(
            snapshot
                .oldest_unassigned
                .map_or(0, |at| (now - at).num_seconds().max(0)),
        );
        self.sla_states.reset();
        for (state, count) in &snapshot.states {
            self.sla_states
                .with_label_values(&[state.as_str()])
                .set(*count);
        }
        self.sla_events.reset();
        for (kind, count) in &snapshot.events {
            self.sla_events
                .with_label_values(&[kind.as_str()])
                .set(*count);
        }
        for (gauges, counts, age, oldest) in [
            (
                &self.outbox,
                &snapshot.outbox,
                &self.outbox_oldest_pending_age,
                snapshot.oldest_pending_email,
            ),
            (
                &self.webhooks,
                &snapshot.webhooks,
                &self.webhooks_oldest_pending_age,
                snapshot.oldest_pending_webhook,
            ),
        ] {
            gauges.reset();
            for (status, count) in counts {
                gauges.with_label_values(&[status.as_str()]).set(*count);
            }
            age.set(oldest.map_or(0, |at| (now - at).num_seconds().max(0)));
        }
        for (pool, state) in pools {
            let idle = i64::from(state.idle_connections);
            let in_use = i64::from(state.connections) - idle;
            self.pool_connections
                .with_label_values(&[pool, "idle"])
                .set(idle);
            self.pool_connections
                .with_label_values(&[pool, "in_use"])
                .set(in_use);
        }
        self.encode()
    }

    /// The text exposition of every metric as it stands.
    pub(crate) fn encode(&self) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(out)
    }
}
