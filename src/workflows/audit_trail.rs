//! Audit rows of reads, committed in shared transactions.
//!
//! Every staff read of a case is audited, and nothing is shown before its
//! row is committed. Workflows hand case data to handlers only as
//! [`Audited`], whose one way out is [`AuditTrail::reveal`]: it commits the
//! read's row and waits. Rows that arrive while a commit is under way go
//! into the next one together, so concurrent reads share commits instead of
//! queueing one transaction each behind the single writer. A lone read still
//! commits at once; nothing waits on a timer.

use chrono::NaiveDateTime;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::db::Db;
use crate::domain::policy::Access;
use crate::error::ApiError;
use crate::store::audit::{AuditRow, Recorded, ShownRow};

/// An audit row still to be committed, with the requests it showed when it
/// covers many (a list page).
struct Pending {
    row: AuditRow,
    shown: Vec<String>,
}

/// Case data on its way to a caller, with the audit row showing it needs.
/// The data comes out only through [`AuditTrail::reveal`], which commits
/// that row first, so case data cannot reach a caller unrecorded.
#[must_use = "case data reaches a caller only through AuditTrail::reveal"]
pub struct Audited<T> {
    value: T,
    pending: Option<Pending>,
}

/// Case data whose audit row, if it needed one, is committed: what the
/// renderers of requests take, and only [`AuditTrail::reveal`] makes.
pub struct Shown<T>(T);

impl<T> Shown<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Shown<Option<T>> {
    pub fn transpose(self) -> Option<Shown<T>> {
        self.0.map(Shown)
    }
}

/// Who reads a request, and how: staff reads are audited, a requester's
/// reads of their own request are not.
pub struct Reader<'a> {
    pub user_id: &'a str,
    pub access: Access,
    pub via_break_glass: bool,
}

impl<T> Audited<T> {
    /// `value` read from request `request_id` as `what` (e.g. `request.read`)
    /// at `now`.
    pub fn read(
        value: T,
        reader: &Reader<'_>,
        what: &str,
        request_id: &str,
        now: NaiveDateTime,
    ) -> Audited<T> {
        let row = (reader.access == Access::Staff).then(|| {
            AuditRow::new(
                Some(reader.user_id),
                what,
                Some(request_id),
                json!({"via_break_glass": reader.via_break_glass}),
                now,
            )
        });
        Audited {
            value,
            pending: row.map(|row| Pending { row, shown: vec![] }),
        }
    }

    /// A page of requests read by staff (`staff`) at `now`, as one row
    /// naming them.
    pub fn page(
        value: T,
        user_id: &str,
        staff: bool,
        what: &str,
        shown: Vec<String>,
        now: NaiveDateTime,
    ) -> Audited<T> {
        let pending = (staff && !shown.is_empty()).then(|| Pending {
            row: AuditRow::new(
                Some(user_id),
                what,
                None,
                json!({"request_ids": shown}),
                now,
            ),
            shown,
        });
        Audited { value, pending }
    }

    /// A request shown to its requester (a practitioner, or an API client
    /// for its organisation's practitioner), whose own reads are not audited.
    pub fn requesters_own(value: T) -> Audited<T> {
        Audited {
            value,
            pending: None,
        }
    }

    /// `value` with its own row, such as an export's.
    pub fn with_row(value: T, row: AuditRow) -> Audited<T> {
        Audited {
            value,
            pending: Some(Pending { row, shown: vec![] }),
        }
    }

    /// `value` from a change whose audit row its transaction wrote: that row
    /// already records who was shown the request.
    pub fn recorded(value: T, _: Recorded) -> Audited<T> {
        Audited {
            value,
            pending: None,
        }
    }

    /// Turns the data into what a handler renders, keeping its audit row.
    pub fn try_map<U>(
        self,
        f: impl FnOnce(T) -> Result<U, ApiError>,
    ) -> Result<Audited<U>, ApiError> {
        Ok(Audited {
            value: f(self.value)?,
            pending: self.pending,
        })
    }
}

/// Most rows written in one transaction.
const MAX_BATCH: usize = 256;
/// Rows waiting for a commit before callers wait for room.
const QUEUE: usize = 4096;

struct Entry {
    pending: Pending,
    done: oneshot::Sender<Result<(), ApiError>>,
}

/// The handle handlers record through; [`AuditWriter`] commits the rows.
#[derive(Clone)]
pub struct AuditTrail {
    sender: mpsc::Sender<Entry>,
}

/// Commits what [`AuditTrail`] hands it, until every handle is gone.
pub struct AuditWriter {
    db: Db,
    receiver: mpsc::Receiver<Entry>,
}

pub fn audit_trail(db: Db) -> (AuditTrail, AuditWriter) {
    let (sender, receiver) = mpsc::channel(QUEUE);
    (AuditTrail { sender }, AuditWriter { db, receiver })
}

impl AuditTrail {
    /// The data, once its audit row (if it has one) is committed.
    pub async fn reveal<T>(&self, audited: Audited<T>) -> Result<Shown<T>, ApiError> {
        if let Some(pending) = audited.pending {
            self.record(pending).await?;
        }
        Ok(Shown(audited.value))
    }

    async fn record(&self, pending: Pending) -> Result<(), ApiError> {
        let (done, committed) = oneshot::channel();
        self.sender
            .send(Entry { pending, done })
            .await
            .map_err(|_| ApiError::unavailable("the audit trail is shutting down"))?;
        committed
            .await
            .map_err(|_| ApiError::unavailable("the audit trail is shutting down"))?
    }
}

impl AuditWriter {
    pub async fn run(mut self) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while self.receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let rows: Vec<AuditRow> = batch.iter().map(|e| e.pending.row.clone()).collect();
            let shown: Vec<ShownRow> = batch
                .iter()
                .flat_map(|e| {
                    e.pending.shown.iter().map(|request_id| ShownRow {
                        request_id: request_id.clone(),
                        audit_id: e.pending.row.id.clone(),
                    })
                })
                .collect();
            let result = self
                .db
                .write(move |conn| {
                    crate::store::audit::insert(conn, &rows)?;
                    Ok(crate::store::audit::insert_shown(conn, &shown)?)
                })
                .await;
            if let Err(error) = &result {
                tracing::error!(error = ?error, rows = batch.len(), "audit rows not written");
            }
            for entry in batch.drain(..) {
                let _ = entry.done.send(match &result {
                    Ok(()) => Ok(()),
                    Err(_) => Err(ApiError::unavailable("the audit row could not be written")),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instant the caller's clock says it is.
    fn at() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap()
    }

    fn reader(access: Access) -> Reader<'static> {
        Reader {
            user_id: "u1",
            access,
            via_break_glass: true,
        }
    }

    #[test]
    fn staff_reads_carry_their_row_and_a_requesters_own_reads_none() {
        let staff = Audited::read((), &reader(Access::Staff), "request.read", "r1", at());
        let pending = staff.pending.expect("a staff read is audited");
        assert_eq!(pending.row.action, "request.read");
        assert_eq!(pending.row.request_id.as_deref(), Some("r1"));
        assert_eq!(pending.row.actor_id.as_deref(), Some("u1"));
        assert_eq!(pending.row.details, r#"{"via_break_glass":true}"#);
        assert_eq!(pending.row.at, at(), "stamped by the caller's clock");
        let own = Audited::read((), &reader(Access::Requester), "request.read", "r1", at());
        assert!(own.pending.is_none());
    }

    #[test]
    fn a_staff_page_is_one_row_naming_every_request_it_showed() {
        let shown = vec!["r1".to_owned(), "r2".to_owned()];
        let page = Audited::page((), "u1", true, "queue.listed", shown.clone(), at());
        let pending = page.pending.expect("a staff page is audited");
        assert_eq!(pending.shown, shown);
        assert_eq!(pending.row.request_id, None);
        assert_eq!(pending.row.details, r#"{"request_ids":["r1","r2"]}"#);
        assert_eq!(pending.row.at, at(), "stamped by the caller's clock");
        assert!(
            Audited::page((), "u1", false, "requests.listed", shown, at())
                .pending
                .is_none()
        );
        assert!(Audited::page((), "u1", true, "queue.listed", vec![], at())
            .pending
            .is_none());
    }

    #[test]
    fn mapping_keeps_the_row() {
        let read = Audited::read(1, &reader(Access::Staff), "request.read", "r1", at());
        let mapped = read.try_map(|n| Ok(n + 1)).unwrap();
        assert_eq!(mapped.value, 2);
        assert!(mapped.pending.is_some());
    }
}
