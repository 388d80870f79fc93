//! Figures for response-time reports, computed the same way whatever the
//! database: counts, the median and the 90th percentile by linear
//! interpolation between closest ranks (as SQL's `percentile_cont`).

/// The `p`-th percentile (0 to 100) of `values`, which must be sorted. The
/// rank is kept in whole hundredths so the same data always gives the same
/// figure, with no binary rounding in the rank.
pub fn percentile(sorted: &[u32], p: u8) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let hundredths = usize::from(p.min(100)) * last;
    let (below, part) = (hundredths / 100, hundredths % 100);
    let lower = f64::from(*sorted.get(below)?);
    let upper = f64::from(*sorted.get(below + usize::from(part > 0))?);
    Some(lower + ((upper - lower) * part as f64) / 100.0)
}

/// A duration in whole seconds as reports keep it: four bytes (136 years),
/// so a year of a national unit's requests fits in a few megabytes.
pub fn seconds(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// Median and 90th percentile of a set of durations in seconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Spread {
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

impl Spread {
    /// Sorts `values` in place and reads the spread off them.
    pub fn of(values: &mut [u32]) -> Spread {
        values.sort_unstable();
        Spread {
            median_seconds: percentile(values, 50),
            p90_seconds: percentile(values, 90),
        }
    }
}

/// How one target was met across a group of requests.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct TargetFigures {
    /// Requests that reached this point (responded, or resolved).
    pub count: usize,
    /// Counted under the policy's calendar, without paused time.
    pub business: Spread,
    /// Plain elapsed time from submission.
    pub wall_clock: Spread,
    /// How many reached it within target.
    pub within_target: usize,
    /// `within_target / count`; null when nothing reached it.
    pub within_target_share: Option<f64>,
}

/// One request's figures for one target, once reached: business seconds,
/// wall-clock seconds and whether it was in time.
pub type Reached = (i64, i64, bool);

/// The durations of one target as requests reach it: all a percentile needs,
/// without the rows they came from.
#[derive(Debug, Default, Clone)]
pub struct Durations {
    business: Vec<u32>,
    wall_clock: Vec<u32>,
    within_target: usize,
}

impl Durations {
    pub fn add(&mut self, (business, wall_clock, met): Reached) {
        self.business.push(seconds(business));
        self.wall_clock.push(seconds(wall_clock));
        self.within_target += usize::from(met);
    }

    /// The figures; sorts the durations in place, which [`Durations::absorb`]
    /// does not mind.
    pub fn figures(&mut self) -> TargetFigures {
        let count = self.business.len();
        TargetFigures {
            count,
            business: Spread::of(&mut self.business),
            wall_clock: Spread::of(&mut self.wall_clock),
            within_target: self.within_target,
            within_target_share: (count > 0).then(|| self.within_target as f64 / count as f64),
        }
    }

    /// Takes over another group's durations, for a total: moved, not copied,
    /// so a report holds each duration once.
    pub fn absorb(&mut self, mut other: Durations) {
        self.business.append(&mut other.business);
        self.wall_clock.append(&mut other.wall_clock);
        self.within_target += other.within_target;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_closest_ranks() {
        let v = [10, 20, 30, 40];
        assert_eq!(percentile(&v, 50), Some(25.0));
        assert_eq!(percentile(&v, 90), Some(37.0));
        assert_eq!(percentile(&v, 0), Some(10.0));
        assert_eq!(percentile(&v, 100), Some(40.0));
        assert_eq!(percentile(&[7], 90), Some(7.0));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(
            percentile(&[600, 1200, 2400, 4800], 90),
            Some(4080.0),
            "exact, where a float rank would give 4080.000000000001"
        );
    }

    fn figures_of(reached: &[Reached]) -> TargetFigures {
        let mut durations = Durations::default();
        for r in reached {
            durations.add(*r);
        }
        durations.figures()
    }

    #[test]
    fn a_total_absorbs_groups_figured_before_it() {
        let mut first = Durations::default();
        first.add((300, 300, true));
        first.add((100, 100, true));
        let mut second = Durations::default();
        second.add((200, 900, false));
        assert_eq!(first.figures().business.median_seconds, Some(200.0));
        assert_eq!(second.figures().count, 1);
        let mut total = Durations::default();
        total.absorb(first);
        total.absorb(second);
        let figures = total.figures();
        assert_eq!(figures.count, 3);
        assert_eq!(figures.within_target, 2);
        assert_eq!(figures.business.median_seconds, Some(200.0));
        assert_eq!(figures.wall_clock.p90_seconds, Some(780.0));
    }

    #[test]
    fn seconds_are_kept_in_four_bytes_without_wrapping() {
        assert_eq!(seconds(90), 90);
        assert_eq!(seconds(-5), 0);
        assert_eq!(seconds(i64::MAX), u32::MAX);
    }

    #[test]
    fn target_figures_count_share_and_spread() {
        let figures = figures_of(&[(600, 900, true), (1800, 1800, false), (300, 300, true)]);
        assert_eq!(figures.count, 3);
        assert_eq!(figures.within_target, 2);
        assert_eq!(figures.within_target_share, Some(2.0 / 3.0));
        assert_eq!(figures.business.median_seconds, Some(600.0));
        assert_eq!(figures.business.p90_seconds, Some(1560.0));
        assert_eq!(figures.wall_clock.median_seconds, Some(900.0));
        let none = figures_of(&[]);
        assert_eq!(none.within_target_share, None);
        assert_eq!(none.business.median_seconds, None);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn a_percentile_lies_within_the_values_and_grows_with_p(
                mut values in prop::collection::vec(any::<u32>(), 1..50),
                p in 0u8..100,
            ) {
                values.sort_unstable();
                let (low, high) = (f64::from(values[0]), f64::from(values[values.len() - 1]));
                let at = percentile(&values, p).expect("values are not empty");
                prop_assert!(low <= at && at <= high);
                prop_assert!(percentile(&values, p + 1).expect("not empty") >= at);
            }
        }
    }
}
