//! Working through an outbox (emails, webhook deliveries): lease a batch of
//! due rows, try them with at most `concurrency` lanes at once, and report
//! whether a full batch suggests more are due. Rows in one lane (deliveries
//! to one webhook) go one after another in claim order; each row is tried
//! in a task of its own, so a row whose attempt panics is recorded dead
//! with the reason, alone, and the rest carry on.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{panic_message, Pass};
use crate::error::ApiError;

/// An outbox worker: what it leases, tries and records.
pub trait Outbox: Clone + Send + Sync + 'static {
    type Row: Clone + Send + 'static;

    /// Most rows leased at once.
    fn batch_size(&self) -> usize;

    /// Most lanes worked at once (connections to the relay or endpoints).
    fn concurrency(&self) -> usize;

    /// Rows with the same lane are tried in claim order, one at a time.
    fn lane(row: &Self::Row) -> &str;

    /// Leases up to a batch of due rows, safety-critical first.
    fn claim(&self) -> impl Future<Output = Result<Vec<Self::Row>, ApiError>> + Send;

    /// Tries one leased row and records the outcome; whether it went out.
    fn deliver(&self, row: Self::Row) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Records a leased row as dead for `reason` (its attempt panicked).
    fn bury(
        &self,
        row: Self::Row,
        reason: String,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// What one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub delivered: usize,
    /// The batch was full, so more rows may be due now.
    pub more_due: bool,
}

impl Batch {
    pub fn pass(self) -> Pass {
        if self.more_due {
            Pass::MoreDue
        } else {
            Pass::Done
        }
    }
}

/// Tries one row in a task of its own, so that a panic (a row the mail
/// library cannot encode, say) buries that row instead of the worker.
async fn try_alone<O: Outbox>(outbox: O, row: O::Row) -> Result<bool, ApiError> {
    let attempt = {
        let (outbox, row) = (outbox.clone(), row.clone());
        tokio::spawn(async move { outbox.deliver(row).await })
    };
    match attempt.await {
        Ok(delivered) => delivered,
        Err(error) => {
            let reason = format!("failed unexpectedly: {}", panic_message(error));
            tracing::error!(%reason, "outbox row buried");
            outbox.bury(row, reason).await.map(|()| false)
        }
    }
}

/// `rows` in lanes, each in claim order, the lanes in order of their first row.
fn lanes<O: Outbox>(rows: Vec<O::Row>) -> Vec<Vec<O::Row>> {
    let mut lanes: Vec<Vec<O::Row>> = Vec::new();
    for row in rows {
        match lanes
            .iter_mut()
            .find(|lane| O::lane(&lane[0]) == O::lane(&row))
        {
            Some(lane) => lane.push(row),
            None => lanes.push(vec![row]),
        }
    }
    lanes
}

/// Tries a lane's rows in order; how many went out. Every row is tried
/// even when recording one fails; the first such error is returned.
async fn work_lane<O: Outbox>(outbox: O, lane: Vec<O::Row>) -> Result<usize, ApiError> {
    let mut delivered = 0;
    let mut first_error = None;
    for row in lane {
        match try_alone(outbox.clone(), row).await {
            Ok(sent) => delivered += usize::from(sent),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    first_error.map_or(Ok(delivered), Err)
}

/// Leases one batch and tries every row, `concurrency` lanes at a time.
/// Every row is tried even when recording one fails; the first such error
/// is returned after the others are done (leases keep the rows safe).
pub async fn deliver_batch<O: Outbox>(outbox: &O) -> Result<Batch, ApiError> {
    let rows = outbox.claim().await?;
    let more_due = rows.len() >= outbox.batch_size();
    let turns = Arc::new(Semaphore::new(outbox.concurrency().max(1)));
    let mut tasks = JoinSet::new();
    for lane in lanes::<O>(rows) {
        let turn = turns
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        let outbox = outbox.clone();
        tasks.spawn(async move {
            let delivered = work_lane(outbox, lane).await;
            drop(turn);
            delivered
        });
    }
    let mut delivered = 0;
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined.map_err(|e| ApiError::internal(panic_message(e))) {
            Ok(Ok(sent)) => delivered += sent,
            Ok(Err(error)) | Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(Batch {
            delivered,
            more_due,
        }),
    }
}

/// Batches until no more are due; how many rows went out.
pub async fn drain<O: Outbox>(outbox: &O) -> Result<usize, ApiError> {
    let mut delivered = 0;
    loop {
        let batch = deliver_batch(outbox).await?;
        delivered += batch.delivered;
        if !batch.more_due {
            return Ok(delivered);
        }
    }
}
