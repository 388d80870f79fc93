//! Who gets a request when a team hands out work automatically, and the
//! order a queue is worked in.

use chrono::NaiveDateTime;

use super::accounts::Skill;
use super::requests::Priority;

/// A member of the team, as auto-assignment sees them.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub user_id: String,
    pub available: bool,
    pub skills: Vec<Skill>,
    pub open_requests: i64,
    pub limit: Option<i32>,
    pub last_assigned_at: Option<NaiveDateTime>,
    /// Excluded from this request (conflict of interest).
    pub excluded: bool,
}

impl Candidate {
    pub fn has_room(&self) -> bool {
        self.limit
            .is_none_or(|limit| self.open_requests < i64::from(limit))
    }
}

/// `least_loaded`: among available, not excluded specialists with the needed
/// skill and room under their limit, the one with the fewest open requests;
/// ties go to whoever has waited longest since their last assignment (never
/// assigned counts as longest), then to the lower id so the choice is stable.
pub fn least_loaded(candidates: &[Candidate], needed: Option<Skill>) -> Option<&Candidate> {
    candidates
        .iter()
        .filter(|c| c.available && !c.excluded && c.has_room())
        .filter(|c| needed.is_none_or(|skill| c.skills.contains(&skill)))
        .min_by(|a, b| {
            a.open_requests
                .cmp(&b.open_requests)
                .then_with(|| a.last_assigned_at.cmp(&b.last_assigned_at))
                .then_with(|| a.user_id.cmp(&b.user_id))
        })
}

/// The order a queue is worked in: the earliest running deadline first,
/// requests without one (paused) last; then the most urgent priority; then
/// by id, which is time-ordered, so the older first. The store's queue query
/// sorts by the same columns.
pub fn queue_order(
    a: (Option<NaiveDateTime>, Option<Priority>, &str),
    b: (Option<NaiveDateTime>, Option<Priority>, &str),
) -> std::cmp::Ordering {
    let key = |due: Option<NaiveDateTime>, p: Option<Priority>| {
        (due.is_none(), due, p.map_or(u8::MAX, |p| p as u8))
    };
    key(a.0, a.1).cmp(&key(b.0, b.1)).then(a.2.cmp(b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0)
            .expect("valid")
            .naive_utc()
    }

    fn candidate(id: &str, open: i64) -> Candidate {
        Candidate {
            user_id: id.into(),
            available: true,
            skills: vec![Skill::Health],
            open_requests: open,
            limit: Some(5),
            last_assigned_at: None,
            excluded: false,
        }
    }

    #[test]
    fn the_least_loaded_available_specialist_is_chosen() {
        let people = [candidate("a", 3), candidate("b", 1), candidate("c", 2)];
        assert_eq!(
            least_loaded(&people, None).map(|c| c.user_id.as_str()),
            Some("b")
        );
    }

    #[test]
    fn ties_go_to_whoever_has_waited_longest() {
        let mut a = candidate("a", 1);
        a.last_assigned_at = Some(at(10));
        let mut b = candidate("b", 1);
        b.last_assigned_at = Some(at(5));
        let c = candidate("c", 1);
        assert_eq!(
            least_loaded(&[a.clone(), b.clone()], None).unwrap().user_id,
            "b"
        );
        assert_eq!(
            least_loaded(&[a, b, c], None).unwrap().user_id,
            "c",
            "never assigned waits longest"
        );
    }

    #[test]
    fn unavailable_excluded_full_or_unskilled_people_are_passed_over() {
        let mut away = candidate("away", 0);
        away.available = false;
        let mut excluded = candidate("excluded", 0);
        excluded.excluded = true;
        let mut full = candidate("full", 5);
        full.limit = Some(5);
        let mut unskilled = candidate("unskilled", 0);
        unskilled.skills = vec![Skill::CrimeAndJustice];
        let people = [away, excluded, full, unskilled, candidate("ok", 4)];
        assert_eq!(
            least_loaded(&people, Some(Skill::Health)).unwrap().user_id,
            "ok"
        );
        assert!(least_loaded(&people[..4], Some(Skill::Health)).is_none());
        assert_eq!(
            least_loaded(&people[..4], None).unwrap().user_id,
            "unskilled"
        );
    }

    #[test]
    fn no_limit_means_always_room() {
        let mut busy = candidate("busy", 1000);
        busy.limit = None;
        assert!(busy.has_room());
    }

    #[test]
    fn queues_run_by_earliest_deadline_then_priority_then_age() {
        let mut items = [
            (Some(at(30)), Some(Priority::P1), "a2"),
            (None, Some(Priority::P1), "a0"),
            (Some(at(10)), Some(Priority::P3), "a3"),
            (Some(at(10)), Some(Priority::P2), "a4"),
            (Some(at(10)), Some(Priority::P2), "a1"),
        ];
        items.sort_by(|a, b| queue_order(*a, *b));
        let ids: Vec<&str> = items.iter().map(|i| i.2).collect();
        assert_eq!(ids, ["a1", "a4", "a3", "a2", "a0"]);
    }
}
