//! Sends the webhook outbox: a worker leases due deliveries, signs each
//! body, POSTs it to the endpoint (never following redirects, never to an
//! address that is not public unless the configuration allows its network)
//! and records the answer; failures are retried with back-off and jitter
//! until `webhooks.max_attempts`, then left dead for the client to redeliver.
//! Like the mailer, it keeps leasing batches (SLA breaches first) while
//! deliveries are due, `webhooks.concurrency` at a time.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration as StdDuration;

use chrono::Duration;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::clock::Clock;
use crate::config::WebhookSettings;
use crate::db::Db;
use crate::domain::integrations::Reach;
use crate::domain::notifications::retry_delay_seconds;
use crate::domain::webhook_signature::{
    self as signature, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use crate::error::ApiError;
use crate::jobs::outbox::{self, Outbox};
use crate::jobs::Job;
use crate::store;
use crate::store::webhooks::{Attempt, DeliveryRow, DEAD, DELIVERED, PENDING};

/// Resolves names for the HTTP client and keeps only reachable addresses,
/// so a name cannot point a delivery at the unit's own network, and the
/// address checked is the address connected to.
struct GuardedResolver {
    reach: Reach,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.reach.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let safe: Vec<SocketAddr> = found.filter(|a| reach.allows(a.ip())).collect();
            if safe.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(safe.into_iter());
            Ok(addrs)
        })
    }
}

/// The webhook worker. Cheap to clone; every replica runs one.
#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    /// Made at the first delivery: a service without webhooks never holds
    /// an HTTP client and its TLS roots in memory.
    http: Arc<OnceLock<Result<reqwest::Client, String>>>,
    reach: Reach,
    settings: Arc<WebhookSettings>,
    clock: Clock,
    /// Names this worker's leases.
    worker: String,
}

impl Dispatcher {
    pub fn new(settings: &WebhookSettings, db: Db, clock: Clock) -> anyhow::Result<Dispatcher> {
        Ok(Dispatcher {
            db,
            http: Arc::default(),
            reach: Reach::new(settings.allowed_networks()?),
            settings: Arc::new(settings.clone()),
            clock,
            worker: uuid::Uuid::new_v4().to_string(),
        })
    }

    /// Which addresses this worker may reach, for checks at registration.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    fn http(&self) -> Result<&reqwest::Client, String> {
        let timeout = StdDuration::from_secs(self.settings.timeout_seconds.unsigned_abs());
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .connect_timeout(timeout)
                    .timeout(timeout)
                    .user_agent(concat!("nru-helpdesk-webhooks/", env!("CARGO_PKG_VERSION")))
                    .dns_resolver(Arc::new(GuardedResolver {
                        reach: self.reach.clone(),
                    }))
                    .build()
                    .map_err(|e| format!("HTTP client: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// POSTs one delivery; the HTTP status, or why there was none.
    async fn send(&self, delivery: &DeliveryRow, url: &str, secret: &str) -> Sent {
        let http = match self.http() {
            Ok(http) => http,
            Err(e) => return Sent::Failed(e),
        };
        let parsed = match url::Url::parse(url) {
            Ok(parsed) => parsed,
            Err(e) => return Sent::Never(format!("stored URL: {e}")),
        };
        if let Some(problem) = self.reach.refuses_literal(&parsed) {
            return Sent::Never(problem);
        }
        let timestamp = self.clock.now().and_utc().timestamp();
        let body = delivery.payload.clone().into_bytes();
        let signed = signature::sign(secret, timestamp, &body);
        let answer = http
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signed)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(DELIVERY_HEADER, delivery.id.as_str())
            .header(EVENT_HEADER, delivery.event.as_str())
            .body(body)
            .send()
            .await;
        match answer {
            Ok(response) => Sent::Answered(response.status().as_u16()),
            Err(e) => Sent::Failed(error_chain(&e)),
        }
    }

    /// Tries one leased delivery; returns what to record.
    async fn attempt(&self, delivery: &DeliveryRow) -> Result<Attempt, ApiError> {
        let webhook_id = delivery.webhook_id.clone();
        let webhook = self
            .db
            .read(move |conn| Ok(store::webhooks::live_webhook(conn, &webhook_id)?))
            .await?;
        let sent = match webhook {
            Some(hook) => self.send(delivery, &hook.url, &hook.secret).await,
            None => Sent::Never("the webhook was deleted".into()),
        };
        let now = self.clock.now();
        let retry = |error: String, status: Option<i32>| {
            if delivery.attempts >= self.settings.max_attempts {
                return dead(now, error, status);
            }
            let delay = retry_delay_seconds(
                delivery.attempts.unsigned_abs(),
                self.settings.retry_base_seconds,
                self.settings.retry_max_seconds,
                rand::random::<f64>(),
            );
            Attempt {
                status: PENDING,
                next_attempt_at: now + Duration::seconds(delay),
                error: Some(error),
                response_status: status,
                delivered_at: None,
            }
        };
        Ok(match sent {
            Sent::Answered(code) if (200..300).contains(&code) => Attempt {
                status: DELIVERED,
                next_attempt_at: now,
                error: None,
                response_status: Some(i32::from(code)),
                delivered_at: Some(now),
            },
            Sent::Answered(code) if (300..400).contains(&code) => retry(
                format!("answered {code}; redirects are not followed"),
                Some(i32::from(code)),
            ),
            Sent::Answered(code) => retry(format!("answered {code}"), Some(i32::from(code))),
            Sent::Failed(error) => retry(error, None),
            Sent::Never(error) => dead(now, error, None),
        })
    }

    /// Records `attempt` on a leased delivery, if this worker still holds it.
    async fn record(&self, delivery: DeliveryRow, attempt: Attempt) -> Result<(), ApiError> {
        if let Some(error) = &attempt.error {
            tracing::warn!(delivery_id = %delivery.id, event = %delivery.event, attempts = delivery.attempts, %error, "webhook not delivered");
        }
        let worker = self.worker.clone();
        self.db
            .write(move |conn| {
                Ok(store::webhooks::finish(
                    conn,
                    &delivery.id,
                    &worker,
                    &attempt,
                )?)
            })
            .await?;
        Ok(())
    }

    /// Delivers everything due, batch after batch; returns how many were delivered.
    pub async fn deliver_due(&self) -> Result<usize, ApiError> {
        outbox::drain(self).await
    }

    /// The supervised job ([`outbox::job`]).
    pub fn job(self) -> Job {
        let (interval, lease) = (
            self.settings.worker_interval_seconds,
            self.settings.lease_seconds,
        );
        outbox::job("webhook_sender", self, interval, lease)
    }
}

impl Outbox for Dispatcher {
    type Row = DeliveryRow;

    fn batch_size(&self) -> usize {
        usize::try_from(self.settings.batch_size).unwrap_or(1)
    }

    fn concurrency(&self) -> usize {
        usize::try_from(self.settings.concurrency).unwrap_or(1)
    }

    /// An endpoint gets its deliveries one at a time, in claim order (SLA
    /// breaches first, then as written), never over two connections.
    fn lane(delivery: &DeliveryRow) -> &str {
        &delivery.webhook_id
    }

    async fn claim(&self) -> Result<Vec<DeliveryRow>, ApiError> {
        let now = self.clock.now();
        let lease_until = now + Duration::seconds(self.settings.lease_seconds);
        let (worker, limit) = (self.worker.clone(), self.settings.batch_size);
        self.db
            .write(move |conn| {
                Ok(store::webhooks::claim(
                    conn,
                    &worker,
                    now,
                    lease_until,
                    limit,
                )?)
            })
            .await
    }

    async fn deliver(&self, delivery: DeliveryRow) -> Result<bool, ApiError> {
        let attempt = self.attempt(&delivery).await?;
        let delivered = attempt.status == DELIVERED;
        self.record(delivery, attempt).await?;
        Ok(delivered)
    }

    async fn bury(&self, delivery: DeliveryRow, reason: String) -> Result<(), ApiError> {
        self.record(delivery, dead(self.clock.now(), reason, None))
            .await
    }
}

/// How a send ended.
enum Sent {
    /// The endpoint answered with this status.
    Answered(u16),
    /// No answer (refused, timed out, unresolvable): worth another try.
    Failed(String),
    /// Will never be sent (deleted webhook, address out of reach).
    Never(String),
}

fn dead(now: chrono::NaiveDateTime, error: String, status: Option<i32>) -> Attempt {
    Attempt {
        status: DEAD,
        next_attempt_at: now,
        error: Some(error),
        response_status: status,
        delivered_at: None,
    }
}

/// An error with its causes, which say what actually went wrong
/// (reqwest's own message is only "error sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_and_allowed_networks_are_in_reach() {
        let reach = Reach::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(reach.allows("127.0.0.1".parse().unwrap()));
        assert!(reach.allows("8.8.8.8".parse().unwrap()));
        assert!(!reach.allows("10.0.0.1".parse().unwrap()));
        assert!(!reach.allows("::1".parse().unwrap()));
        let url = |u: &str| url::Url::parse(u).unwrap();
        assert_eq!(
            reach.refuses_literal(&url("https://169.254.169.254/latest")),
            Some("169.254.169.254 is not a public address".into())
        );
        assert_eq!(reach.refuses_literal(&url("http://127.0.0.1:9000/")), None);
        assert_eq!(
            reach.refuses_literal(&url("https://hooks.example.org/")),
            None
        );
    }
}
