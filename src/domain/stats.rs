//! Figures for response-time reports, computed the same way whatever the
//! database: counts, the median and the 90th percentile by linear
//! interpolation between closest ranks (as SQL's `percentile_cont`).

/// The `p`-th percentile (0 to 100) of `values`, which must be sorted. The
/// rank is kept in whole hundredths so the same data always gives the same
/// figure, with no binary rounding in the rank.
pub fn percentile(sorted: &[i64], p: u8) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let hundredths = usize::from(p.min(100)) * last;
    let (below, part) = (hundredths / 100, hundredths % 100);
    let lower = *sorted.get(below)?;
    let upper = *sorted.get(below + usize::from(part > 0))?;
    Some(lower as f64 + ((upper - lower) as f64 * part as f64) / 100.0)
}

/// Median and 90th percentile of a set of durations in seconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Spread {
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

impl Spread {
    pub fn of(mut values: Vec<i64>) -> Spread {
        values.sort_unstable();
        Spread {
            median_seconds: percentile(&values, 50),
            p90_seconds: percentile(&values, 90),
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

impl TargetFigures {
    pub fn of(reached: &[Reached]) -> TargetFigures {
        let mut tally = Durations::default();
        for r in reached {
            tally.add(*r);
        }
        tally.figures()
    }
}

/// The durations of one target as requests reach it: all a percentile needs,
/// without the rows they came from.
#[derive(Debug, Default, Clone)]
pub struct Durations {
    business: Vec<i64>,
    wall_clock: Vec<i64>,
    within_target: usize,
}

impl Durations {
    pub fn add(&mut self, (business, wall_clock, met): Reached) {
        self.business.push(business);
        self.wall_clock.push(wall_clock);
        self.within_target += usize::from(met);
    }

    pub fn figures(self) -> TargetFigures {
        let count = self.business.len();
        TargetFigures {
            count,
            business: Spread::of(self.business),
            wall_clock: Spread::of(self.wall_clock),
            within_target: self.within_target,
            within_target_share: (count > 0).then(|| self.within_target as f64 / count as f64),
        }
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

    #[test]
    fn target_figures_count_share_and_spread() {
        let figures = TargetFigures::of(&[(600, 900, true), (1800, 1800, false), (300, 300, true)]);
        assert_eq!(figures.count, 3);
        assert_eq!(figures.within_target, 2);
        assert_eq!(figures.within_target_share, Some(2.0 / 3.0));
        assert_eq!(figures.business.median_seconds, Some(600.0));
        assert_eq!(figures.business.p90_seconds, Some(1560.0));
        assert_eq!(figures.wall_clock.median_seconds, Some(900.0));
        let none = TargetFigures::of(&[]);
        assert_eq!(none.within_target_share, None);
        assert_eq!(none.business.median_seconds, None);
    }
}
