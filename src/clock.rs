//! "Now" as a dependency: the system clock in service, a clock the tests set
//! and move so response-time deadlines can be walked through without waiting.

use std::sync::{Arc, RwLock};

use chrono::{Duration, NaiveDateTime, Timelike};

#[derive(Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Manual(Arc<RwLock<NaiveDateTime>>),
}

/// Microsecond precision, the finest both backends keep, so a value read
/// back equals the value written.
fn truncate(at: NaiveDateTime) -> NaiveDateTime {
    at.with_nanosecond(at.nanosecond() / 1000 * 1000)
        .unwrap_or(at)
}

impl Clock {
    pub fn manual(start: NaiveDateTime) -> Clock {
        Clock::Manual(Arc::new(RwLock::new(truncate(start))))
    }

    pub fn now(&self) -> NaiveDateTime {
        match self {
            Clock::System => truncate(chrono::Utc::now().naive_utc()),
            Clock::Manual(at) => *at.read().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Moves a manual clock on; the system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(at) = self {
            let mut at = at.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            *at = truncate(*at + by);
        }
    }
}
