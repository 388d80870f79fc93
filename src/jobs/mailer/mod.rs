//! Delivers the outbox: a worker leases due emails, renders them, sends them
//! through the configured transport (SMTP, or `.eml` files for local use)
//! and records the outcome; failures are retried with back-off and jitter
//! until the configured number of attempts, then left dead for an admin.
//! Safety-critical emails are leased first, and the worker keeps leasing
//! batches while emails are due, sending `email.concurrency` at a time
//! (`crate::jobs::outbox`).

pub mod templates;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;

use crate::clock::Clock;
use crate::config::{EmailSettings, EmailTransport, SmtpSecurity};
use crate::db::Db;
use crate::domain::accounts::display_name_problem;
use crate::domain::notifications::{retry_delay_seconds, EmailEvent};
use crate::error::ApiError;
use crate::jobs::outbox::{self, Outbox};
use crate::jobs::Job;
use crate::metrics::Metrics;
use crate::store;
use crate::store::outbox::{EmailRow, DEAD, PENDING, SENT, SUPPRESSED};
use templates::Templates;

enum Transport {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Transport {
    fn from_settings(settings: &EmailSettings) -> anyhow::Result<Transport> {
        match settings.transport {
            EmailTransport::File => {
                std::fs::create_dir_all(&settings.file_dir).map_err(|e| {
                    anyhow::anyhow!("email.file_dir: cannot create {}: {e}", settings.file_dir)
                })?;
                Ok(Transport::File(AsyncFileTransport::new(&settings.file_dir)))
            }
            EmailTransport::Smtp => {
                let smtp = &settings.smtp;
                let host = smtp.host.trim();
                let has_credentials = !smtp.username.is_empty();
                let builder = match smtp.security {
                    SmtpSecurity::None => {
                        if !is_loopback(host) {
                            anyhow::bail!("email.smtp.security: \"none\" sends in clear text and is only allowed to a loopback host, not {host}");
                        }
                        if has_credentials {
                            anyhow::bail!("email.smtp.username: credentials are never sent without TLS; set email.smtp.security to \"starttls\" or \"tls\"");
                        }
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    }
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                            .map_err(|e| anyhow::anyhow!("email.smtp.host: {e}"))?
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .map_err(|e| anyhow::anyhow!("email.smtp.host: {e}"))?,
                };
                if smtp.port == 0 {
                    anyhow::bail!("email.smtp.port: must not be 0");
                }
                let mut builder = builder
                    .port(smtp.port)
                    .timeout(Some(StdDuration::from_secs(smtp.timeout_seconds.max(1))));
                if has_credentials {
                    builder = builder.credentials(Credentials::new(
                        smtp.username.clone(),
                        smtp.password.expose().to_owned(),
                    ));
                }
                Ok(Transport::Smtp(builder.build()))
            }
        }
    }

    async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Transport::File(t) => t.send(message).await.map(drop).map_err(|e| e.to_string()),
            Transport::Smtp(t) => t.send(message).await.map(drop).map_err(|e| e.to_string()),
        }
    }
}

/// The outbox worker. Cheap to clone; every replica runs one.
#[derive(Clone)]
pub struct Mailer {
    db: Db,
    transport: Arc<Transport>,
    templates: Arc<Templates>,
    settings: Arc<EmailSettings>,
    clock: Clock,
    metrics: Metrics,
    /// Names this worker's leases.
    worker: String,
}

/// Why an attempt did not deliver.
#[derive(Debug)]
enum Failure {
    /// Worth trying again (the server is down, busy, or refused for now).
    Transient(String),
    /// Will never work (a malformed address or template).
    Permanent(String),
}

impl Mailer {
    pub fn new(
        settings: &EmailSettings,
        config_dir: &std::path::Path,
        db: Db,
        clock: Clock,
        metrics: Metrics,
    ) -> anyhow::Result<Mailer> {
        let templates = Templates::load(&config_dir.join(&settings.templates_dir))?;
        Ok(Mailer {
            db,
            transport: Arc::new(Transport::from_settings(settings)?),
            templates: Arc::new(templates),
            settings: Arc::new(settings.clone()),
            clock,
            metrics,
            worker: uuid::Uuid::new_v4().to_string(),
        })
    }

    fn message(&self, email: &EmailRow, event: EmailEvent) -> Result<Message, Failure> {
        let mut context: Value = serde_json::from_str(&email.context)
            .map_err(|e| Failure::Permanent(format!("stored context: {e}")))?;
        let link = format!(
            "{}/requests/{}",
            self.settings.web_base_url.trim_end_matches('/'),
            email.request_id.as_deref().unwrap_or_default()
        );
        context["recipient_name"] = Value::String(email.recipient_name.clone());
        context["link"] = Value::String(link);
        for key in ["level", "target", "duty"] {
            if context.get(key).is_none() {
                context[key] = Value::Null;
            }
        }
        let rendered = self
            .templates
            .render(event, &context)
            .map_err(Failure::Permanent)?;
        let from = mailbox(
            "from",
            &self.settings.from_name,
            &self.settings.from_address,
        )?;
        let to = mailbox("recipient", &email.recipient_name, &email.to_address)?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(rendered.subject)
            // The same id on every attempt lets a mail system drop a repeat.
            .message_id(Some(format!("<{}@nru-helpdesk>", email.id)))
            .raw_header(lettre::message::header::HeaderValue::new(
                lettre::message::header::HeaderName::new_from_ascii_str("X-NRU-Event"),
                event.as_str().to_owned(),
            ))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(rendered.text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(rendered.html),
                    ),
            )
            .map_err(|e| Failure::Permanent(format!("message: {e}")))
    }

    /// Whether the email is one nobody wants: a routine event switched off
    /// for the unit or by its recipient.
    async fn suppressed(&self, email: &EmailRow, event: EmailEvent) -> Result<bool, ApiError> {
        if event.is_safety_critical() {
            return Ok(false);
        }
        if self.settings.disabled_events.contains(&event) {
            return Ok(true);
        }
        let Some(recipient) = email.recipient_id.clone() else {
            return Ok(false);
        };
        let off = self
            .db
            .read(move |conn| Ok(store::outbox::switched_off(conn, &recipient)?))
            .await?;
        Ok(off.iter().any(|e| e == event.as_str()))
    }

    /// Tries one leased email; returns what to record.
    async fn attempt(&self, email: &EmailRow) -> Result<Outcome, ApiError> {
        let now = self.clock.now();
        let Some(event) = EmailEvent::parse(&email.event) else {
            return Ok(Outcome::dead(now, format!("unknown event {}", email.event)));
        };
        if self.suppressed(email, event).await? {
            return Ok(Outcome {
                status: SUPPRESSED,
                next_attempt_at: now,
                error: None,
                sent_at: None,
            });
        }
        let sent = match self.message(email, event) {
            Ok(message) => self
                .transport
                .send(message)
                .await
                .map_err(Failure::Transient),
            Err(failure) => Err(failure),
        };
        let now = self.clock.now();
        Ok(match sent {
            Ok(()) => {
                let waited = (now - email.created_at).num_milliseconds().max(0) as f64 / 1000.0;
                self.metrics.observe_delivery(waited);
                Outcome {
                    status: SENT,
                    next_attempt_at: now,
                    error: None,
                    sent_at: Some(now),
                }
            }
            Err(Failure::Permanent(error)) => Outcome::dead(now, error),
            Err(Failure::Transient(error)) if email.attempts >= self.settings.max_attempts => {
                Outcome::dead(now, error)
            }
            Err(Failure::Transient(error)) => {
                let delay = retry_delay_seconds(
                    email.attempts.unsigned_abs(),
                    self.settings.retry_base_seconds,
                    self.settings.retry_max_seconds,
                    rand::random::<f64>(),
                );
                Outcome {
                    status: PENDING,
                    next_attempt_at: now + Duration::seconds(delay),
                    error: Some(error),
                    sent_at: None,
                }
            }
        })
    }

    /// Records `outcome` on a leased email, if this worker still holds it.
    async fn record(&self, email: EmailRow, outcome: Outcome) -> Result<(), ApiError> {
        if let Some(error) = &outcome.error {
            tracing::warn!(email_id = %email.id, event = %email.event, attempts = email.attempts, %error, "email not delivered");
        }
        let worker = self.worker.clone();
        self.db
            .write(move |conn| {
                Ok(store::outbox::finish(
                    conn,
                    &email.id,
                    &worker,
                    outcome.status,
                    outcome.next_attempt_at,
                    outcome.error.as_deref(),
                    outcome.sent_at,
                )?)
            })
            .await?;
        Ok(())
    }

    /// Sends everything due, batch after batch; returns how many were sent.
    pub async fn deliver_due(&self) -> Result<usize, ApiError> {
        outbox::drain(self).await
    }

    /// The supervised job ([`outbox::job`]).
    pub fn job(self) -> Job {
        let (interval, lease) = (
            self.settings.worker_interval_seconds,
            self.settings.lease_seconds,
        );
        outbox::job("mailer", self, interval, lease)
    }
}

impl Outbox for Mailer {
    type Row = EmailRow;

    fn batch_size(&self) -> usize {
        usize::try_from(self.settings.batch_size).unwrap_or(1)
    }

    fn concurrency(&self) -> usize {
        usize::try_from(self.settings.concurrency).unwrap_or(1)
    }

    /// Emails are independent of each other: each has a lane of its own.
    fn lane(email: &EmailRow) -> &str {
        &email.id
    }

    async fn claim(&self) -> Result<Vec<EmailRow>, ApiError> {
        let now = self.clock.now();
        let lease_until = now + Duration::seconds(self.settings.lease_seconds);
        let (worker, limit) = (self.worker.clone(), self.settings.batch_size);
        self.db
            .write(move |conn| {
                Ok(store::outbox::claim(
                    conn,
                    &worker,
                    now,
                    lease_until,
                    limit,
                )?)
            })
            .await
    }

    async fn deliver(&self, email: EmailRow) -> Result<bool, ApiError> {
        let outcome = self.attempt(&email).await?;
        let sent = outcome.status == SENT;
        self.record(email, outcome).await?;
        Ok(sent)
    }

    async fn bury(&self, email: EmailRow, reason: String) -> Result<(), ApiError> {
        self.record(email, Outcome::dead(self.clock.now(), reason))
            .await
    }
}

/// A mailbox for a header, or why there can be none: a name that would
/// break the header (older rows predate the display-name rule) or an
/// address that does not parse makes the email dead, never a panic.
fn mailbox(role: &str, name: &str, address: &str) -> Result<Mailbox, Failure> {
    if let Some(problem) = display_name_problem(name) {
        return Err(Failure::Permanent(format!("{role} name {problem}")));
    }
    let address = address
        .parse()
        .map_err(|e| Failure::Permanent(format!("{role} address: {e}")))?;
    Ok(Mailbox::new(Some(name.to_owned()), address))
}

/// What one attempt leaves on the row.
struct Outcome {
    status: &'static str,
    next_attempt_at: chrono::NaiveDateTime,
    error: Option<String>,
    sent_at: Option<chrono::NaiveDateTime>,
}

impl Outcome {
    fn dead(now: chrono::NaiveDateTime, error: String) -> Outcome {
        Outcome {
            status: DEAD,
            next_attempt_at: now,
            error: Some(error),
            sent_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(result: Result<Mailbox, Failure>) -> String {
        match result {
            Err(Failure::Permanent(reason)) => reason,
            Err(Failure::Transient(reason)) => panic!("transient: {reason}"),
            Ok(mailbox) => panic!("accepted: {mailbox}"),
        }
    }

    #[test]
    fn a_name_that_would_break_a_header_gives_a_reason_instead_of_a_mailbox() {
        let why = reason(mailbox(
            "recipient",
            "Eve\r\nBcc: attacker@evil.example",
            "eve@unit.test",
        ));
        assert_eq!(
            why,
            "recipient name must not contain control characters such as line breaks"
        );
        assert!(
            reason(mailbox("recipient", "Eve", "not an address")).starts_with("recipient address")
        );
        let ok = mailbox("recipient", "Zoë O'Brien", "zoe@unit.test").unwrap();
        // The mail library can put it in a header.
        assert!(Message::builder()
            .from(ok.clone())
            .to(ok)
            .body(String::new())
            .is_ok());
    }
}
