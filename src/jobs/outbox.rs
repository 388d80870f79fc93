//! Working through an outbox (emails, webhook deliveries): lease a batch of
//! due rows, try them with at most `concurrency` lanes at once, and report
//! whether a full batch suggests more are due. Rows in one lane (deliveries
//! to one webhook) go one after another in claim order; each row is tried
//! in a task of its own, so a row whose attempt panics is recorded dead
//! with the reason, alone, and the rest carry on.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{panic_message, Job, Pass};
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

/// The supervised job of an outbox: a batch per run, at once again while a
/// full batch suggests more are due, else every `interval_seconds`; a run
/// may take as long as a lease before it counts as stalled.
pub fn job<O: Outbox>(
    name: &'static str,
    outbox: O,
    interval_seconds: i64,
    lease_seconds: i64,
) -> Job {
    let interval = Duration::from_secs(interval_seconds.unsigned_abs());
    let lease = Duration::from_secs(lease_seconds.unsigned_abs());
    Job::new(name, interval, move || {
        let outbox = outbox.clone();
        async move { Ok::<Pass, ApiError>(deliver_batch(&outbox).await?.pass()) }
    })
    .runs_may_take(lease)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    /// A row: its lane, its number, and whether trying it panics.
    type Row = (&'static str, u32, bool);

    /// An outbox held in memory, recording what happened to each row.
    #[derive(Clone)]
    struct Memory {
        due: Arc<Mutex<Vec<Row>>>,
        delivered: Arc<Mutex<Vec<Row>>>,
        buried: Arc<Mutex<Vec<(Row, String)>>>,
        batch: usize,
        concurrency: usize,
        running: Arc<AtomicUsize>,
        most_at_once: Arc<AtomicUsize>,
    }

    impl Memory {
        fn new(rows: Vec<Row>, batch: usize, concurrency: usize) -> Memory {
            Memory {
                due: Arc::new(Mutex::new(rows)),
                delivered: Arc::default(),
                buried: Arc::default(),
                batch,
                concurrency,
                running: Arc::default(),
                most_at_once: Arc::default(),
            }
        }
    }

    impl Outbox for Memory {
        type Row = Row;

        fn batch_size(&self) -> usize {
            self.batch
        }

        fn concurrency(&self) -> usize {
            self.concurrency
        }

        fn lane(row: &Row) -> &str {
            row.0
        }

        async fn claim(&self) -> Result<Vec<Row>, ApiError> {
            let mut due = self.due.lock().unwrap();
            let take = due.len().min(self.batch);
            Ok(due.drain(..take).collect())
        }

        async fn deliver(&self, row: Row) -> Result<bool, ApiError> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_at_once.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            assert!(!row.2, "row {} cannot be encoded", row.1);
            self.delivered.lock().unwrap().push(row);
            Ok(true)
        }

        async fn bury(&self, row: Row, reason: String) -> Result<(), ApiError> {
            self.buried.lock().unwrap().push((row, reason));
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_row_whose_attempt_panics_is_buried_alone_and_the_others_are_delivered() {
        let rows = vec![
            ("a", 1, false),
            ("b", 2, true),
            ("c", 3, false),
            ("b", 4, false),
        ];
        let outbox = Memory::new(rows, 20, 4);
        let batch = deliver_batch(&outbox).await.unwrap();
        assert_eq!(
            batch,
            Batch {
                delivered: 3,
                more_due: false
            }
        );
        let buried = outbox.buried.lock().unwrap().clone();
        assert_eq!(buried.len(), 1);
        assert_eq!(buried[0].0, ("b", 2, true));
        assert_eq!(buried[0].1, "failed unexpectedly: row 2 cannot be encoded");
        let mut delivered: Vec<u32> = outbox
            .delivered
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.1)
            .collect();
        delivered.sort_unstable();
        assert_eq!(
            delivered,
            [1, 3, 4],
            "row 4 follows the buried row in its lane"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_lane_goes_in_claim_order_and_no_more_lanes_than_the_concurrency_run_at_once() {
        let mut rows = Vec::new();
        for n in 0..12 {
            rows.push((["x", "y", "z", "w", "v", "u"][n % 6], n as u32, false));
        }
        let outbox = Memory::new(rows, 20, 3);
        deliver_batch(&outbox).await.unwrap();
        assert_eq!(outbox.most_at_once.load(Ordering::SeqCst), 3);
        let delivered = outbox.delivered.lock().unwrap().clone();
        let lane_x: Vec<u32> = delivered
            .iter()
            .filter(|r| r.0 == "x")
            .map(|r| r.1)
            .collect();
        assert_eq!(lane_x, [0, 6]);
    }

    #[tokio::test(start_paused = true)]
    async fn draining_leases_batch_after_batch_until_none_are_due() {
        let rows = (0..45).map(|n| ("lane", n, false)).collect::<Vec<_>>();
        let outbox = Memory::new(rows, 20, 4);
        let first = deliver_batch(&outbox).await.unwrap();
        assert!(first.more_due, "a full batch suggests more are due");
        assert_eq!(first.pass(), Pass::MoreDue);
        assert_eq!(drain(&outbox).await.unwrap(), 25);
        assert!(outbox.due.lock().unwrap().is_empty());
    }
}
