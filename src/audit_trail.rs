//! Audit rows of reads, committed in shared transactions.
//!
//! Every staff read of a case is audited, and nothing is shown before its
//! row is committed: a handler hands the row to [`AuditTrail::record`] and
//! waits. Rows that arrive while a commit is under way go into the next one
//! together, so concurrent reads share commits instead of queueing one
//! transaction each behind the single writer. A lone read still commits at
//! once; nothing waits on a timer.

use tokio::sync::{mpsc, oneshot};

use crate::db::Db;
use crate::error::ApiError;
use crate::store::audit::AuditRow;

/// Most rows written in one transaction.
const MAX_BATCH: usize = 256;
/// Rows waiting for a commit before callers wait for room.
const QUEUE: usize = 4096;

struct Entry {
    row: AuditRow,
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
    /// Returns once the row is committed.
    pub async fn record(&self, row: AuditRow) -> Result<(), ApiError> {
        let (done, committed) = oneshot::channel();
        self.sender
            .send(Entry { row, done })
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
            let rows: Vec<AuditRow> = batch.iter().map(|e| e.row.clone()).collect();
            let result = self
                .db
                .write(move |conn| crate::store::audit::insert(conn, &rows))
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
