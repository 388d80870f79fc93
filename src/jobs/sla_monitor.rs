//! The response-time monitor every replica runs: it finds the requests whose
//! next warning point, deadline or escalation step has come and refreshes
//! each (`crate::workflows::sla::refresh`), which records the events once
//! whichever replica gets there first.

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::clock::Clock;
use crate::db::Db;
use crate::domain::sla::SlaPolicies;
use crate::error::ApiError;
use crate::jobs::{Job, Pass};
use crate::store;
use crate::store::sla::EventRow;
use crate::workflows::sla;

/// The response-time monitor: on each tick it records the warning points,
/// deadlines and escalation steps that have come.
#[derive(Clone)]
pub struct SlaMonitor {
    db: Db,
    policies: Arc<SlaPolicies>,
    clock: Clock,
    interval: std::time::Duration,
}

impl SlaMonitor {
    pub fn new(
        db: Db,
        policies: Arc<SlaPolicies>,
        clock: Clock,
        interval: std::time::Duration,
    ) -> SlaMonitor {
        SlaMonitor {
            db,
            policies,
            clock,
            interval,
        }
    }

    pub async fn tick(&self) -> Result<Vec<EventRow>, ApiError> {
        tick(&self.db, self.policies.clone(), self.clock.now()).await
    }

    /// The supervised job: a tick every interval, the first after one
    /// whole interval (start-up has just migrated).
    pub fn job(self) -> Job {
        let interval = self.interval;
        Job::new("sla_monitor", interval, move || {
            let monitor = self.clone();
            async move {
                let events = monitor.tick().await?;
                if !events.is_empty() {
                    tracing::info!(recorded = events.len(), "sla events recorded");
                }
                Ok(Pass::Done)
            }
        })
        .first_run_after(interval)
    }
}

/// One pass of the monitor: every request whose next warning point,
/// deadline or escalation step has come is refreshed, each in its own
/// transaction. Returns the events recorded.
async fn tick(
    db: &Db,
    policies: Arc<SlaPolicies>,
    now: NaiveDateTime,
) -> Result<Vec<EventRow>, ApiError> {
    const BATCH: i64 = 200;
    let mut recorded = Vec::new();
    let mut seen = std::collections::HashSet::new();
    loop {
        let ids = db
            .read(move |conn| Ok(store::sla::due_for_check(conn, now, BATCH)?))
            .await?;
        let mut progressed = false;
        for id in ids.iter().filter(|id| seen.insert((*id).clone())) {
            let id = id.clone();
            let policies = policies.clone();
            let events = db
                .write(move |conn| {
                    let Some(mut row) = store::requests::find(conn, &id)? else {
                        return Ok(Vec::new());
                    };
                    sla::refresh(conn, &policies, &mut row, now)
                })
                .await?;
            progressed = true;
            recorded.extend(events);
        }
        if (ids.len() as i64) < BATCH || !progressed {
            return Ok(recorded);
        }
    }
}
