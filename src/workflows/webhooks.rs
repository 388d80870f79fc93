//! Webhooks: events about an API client's requests, written to the delivery
//! outbox in the transaction of the change that causes them, then signed and
//! sent by the webhook sender job in every replica.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConnection;
use crate::domain::deadlines::ClockKind;
use crate::domain::integrations::WebhookEvent;
use crate::domain::lifecycle::Status;
use crate::domain::notifications::outbox_priority;
use crate::domain::requests::Priority;
use crate::error::ApiError;
use crate::store;
use crate::store::requests::RequestRow;
use crate::store::webhooks::{DeliveryRow, PENDING};

/// The body POSTed to a webhook. Ids, the reference, the status and times
/// only: never case text, so a receiver fetches details through the API
/// under its own authorization.
#[derive(Debug, Serialize, ToSchema)]
pub struct Payload {
    /// The event's id: the same in every delivery of it (retries and
    /// redeliveries), so a receiver can drop repeats.
    pub id: String,
    #[serde(rename = "type")]
    pub event: WebhookEvent,
    pub occurred_at: DateTime<Utc>,
    pub data: PayloadData,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayloadData {
    pub request_id: String,
    pub reference: String,
    // The stored text of a checked enum: typed here for clients only.
    #[schema(value_type = Status)]
    pub status: String,
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<String>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub detail: Detail,
}

/// What only some events carry.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Detail {
    /// `request.status_changed`: the status before.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Status>)]
    pub previous_status: Option<String>,
    /// `message.created`: the reply's id (fetch it from the messages endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// `message.created`: who wrote the reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ReplyAuthor>,
    /// `request.sla_breached`: the clock whose target was missed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ClockKind>)]
    pub clock: Option<String>,
    /// `request.sla_breached`: when the target was due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
}

/// Who wrote a reply that `message.created` announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplyAuthor {
    /// The unit's staff.
    Unit,
    /// The practitioner (or the API client for them) who submitted it.
    Requester,
}

/// A delivery's body for `event` about `row`.
pub fn payload(
    event_id: &str,
    event: WebhookEvent,
    row: &RequestRow,
    detail: Detail,
    at: NaiveDateTime,
) -> Payload {
    Payload {
        id: event_id.to_owned(),
        event,
        occurred_at: at.and_utc(),
        data: PayloadData {
            request_id: row.id.clone(),
            reference: row.reference.clone(),
            status: row.status.as_str().to_owned(),
            priority: row.priority.map(|p| p.as_str().to_owned()),
            updated_at: row.updated_at.and_utc(),
            detail,
        },
    }
}

/// Queues `event` for every live webhook, subscribed to it, of the live
/// client that submitted the request; nothing for other requests.
pub fn publish(
    conn: &mut DbConnection,
    event: WebhookEvent,
    row: &RequestRow,
    detail: Detail,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let hooks: Vec<_> = store::webhooks::of_request(conn, &row.id)?
        .into_iter()
        .filter(|h| h.wants(event.as_str()))
        .collect();
    if hooks.is_empty() {
        return Ok(());
    }
    let event_id = store::new_id();
    let body = serde_json::to_string(&payload(&event_id, event, row, detail, now))
        .map_err(ApiError::internal)?;
    for hook in hooks {
        store::webhooks::insert_delivery(
            conn,
            &DeliveryRow {
                id: store::new_id(),
                webhook_id: hook.id,
                event_id: event_id.clone(),
                event: event.as_str().to_owned(),
                request_id: Some(row.id.clone()),
                payload: body.clone(),
                status: PENDING.to_owned(),
                attempts: 0,
                next_attempt_at: now,
                lease_until: None,
                leased_by: None,
                last_error: None,
                response_status: None,
                created_at: now,
                delivered_at: None,
                priority: outbox_priority(event.is_safety_critical()),
            },
        )?;
    }
    Ok(())
}

/// A new delivery of a past one's event (same event id and body).
pub fn redeliver(
    conn: &mut DbConnection,
    past: &DeliveryRow,
    now: NaiveDateTime,
) -> Result<DeliveryRow, ApiError> {
    let row = DeliveryRow {
        id: store::new_id(),
        status: PENDING.to_owned(),
        attempts: 0,
        next_attempt_at: now,
        lease_until: None,
        leased_by: None,
        last_error: None,
        response_status: None,
        created_at: now,
        delivered_at: None,
        ..past.clone()
    };
    store::webhooks::insert_delivery(conn, &row)?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::{Organisation, Region};
    use crate::domain::requests::{Category, ContactMethod, Gender, Urgency};
    use crate::store::requests::NewRequest;

    #[test]
    fn a_payload_names_the_request_but_carries_no_case_text() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(9, 30, 0))
            .unwrap();
        let row = RequestRow::from(NewRequest {
            id: "r1".into(),
            reference: "NRU-2026-000042".into(),
            requester_id: "u1".into(),
            title: "Secret title".into(),
            description: "Secret description".into(),
            category: Category::ModernSlavery,
            urgency: Urgency::High,
            organisation: Organisation::Police,
            region: Region::London,
            local_reference: Some("Secret local ref".into()),
            yp_age: Some(15),
            yp_age_band: None,
            yp_gender: Some(Gender::Female),
            yp_flags: "in_care".into(),
            contact_method: ContactMethod::Email,
            contact_times: Some("Secret times".into()),
            created_at: at,
        });
        let body = serde_json::json!(payload(
            "e1",
            WebhookEvent::RequestStatusChanged,
            &row,
            Detail {
                previous_status: Some("assigned".into()),
                ..Detail::default()
            },
            at,
        ));
        assert_eq!(body["id"], "e1");
        assert_eq!(body["type"], "request.status_changed");
        assert_eq!(body["occurred_at"], "2026-11-30T09:30:00Z");
        assert_eq!(body["data"]["reference"], "NRU-2026-000042");
        assert_eq!(body["data"]["status"], "new");
        assert_eq!(body["data"]["previous_status"], "assigned");
        assert!(body["data"].get("message_id").is_none());
        let text = body.to_string();
        for secret in [
            "Secret",
            "female",
            "in_care",
            "15",
            "london",
            "modern_slavery",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}
