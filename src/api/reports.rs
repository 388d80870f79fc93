//! Response-time reports for coordinators and admins, from stored facts:
//! figures per group for a date range, and the list of missed deadlines.
//! Both as JSON, or as CSV with `Accept: text/csv`.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::QueryParams;
use crate::api::pagination::{parse_time_key, time_key, Page, PageRequest};
use crate::api::state::AppState;
use crate::auth::Caller;
use crate::domain::accounts::Role;
use crate::domain::stats::{seconds, Durations, Reached, Spread, TargetFigures};
use crate::domain::text_enum;
use crate::error::ApiError;
use crate::store;
use crate::store::reports::{BreachRow, FactGroup, FactRow};

/// Dates in reports are days in the unit's time zone.
const REPORT_ZONE: chrono_tz::Tz = chrono_tz::Europe::London;
/// The longest span one report covers.
const MAX_REPORT_DAYS: i64 = 400;
const REPORT_READERS: &[Role] = &[Role::Coordinator, Role::Admin];

text_enum!(
    /// What a response-time report groups requests by.
    GroupBy {
        Priority => "priority",
        Category => "category",
        Region => "region",
        Team => "team",
        Specialist => "specialist",
    }
);

impl From<GroupBy> for FactGroup {
    fn from(by: GroupBy) -> FactGroup {
        match by {
            GroupBy::Priority => FactGroup::Priority,
            GroupBy::Category => FactGroup::Category,
            GroupBy::Region => FactGroup::Region,
            GroupBy::Team => FactGroup::Team,
            GroupBy::Specialist => FactGroup::Specialist,
        }
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResponseTimesQuery {
    /// First day (Europe/London) of submissions to include, e.g. 2026-11-01.
    pub from: NaiveDate,
    /// Last day included; at most 400 days after `from`.
    pub to: NaiveDate,
    /// `priority` (default), `category`, `region`, `team` or `specialist`.
    pub group_by: Option<GroupBy>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BreachesQuery {
    /// First day (Europe/London) of deadlines missed to include.
    pub from: NaiveDate,
    /// Last day included; at most 400 days after `from`.
    pub to: NaiveDate,
    /// Page size for JSON, 1 to 100 (default 25); CSV holds the whole range.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// Acknowledgement of immediate-risk requests.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AcknowledgementFigures {
    /// P1 requests acknowledged.
    pub count: usize,
    /// Seconds from becoming P1 to acknowledgement.
    pub time: Spread,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// Triaged requests submitted in the range.
    pub requests: usize,
    pub first_response: TargetFigures,
    pub resolution: TargetFigures,
    pub acknowledgement: AcknowledgementFigures,
    /// Requests that missed at least one deadline.
    pub breached: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupFigures {
    /// The priority, category, region, team id or specialist id; null for
    /// requests with no team or specialist.
    pub key: Option<String>,
    /// The key, or the team's or specialist's name.
    pub label: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseTimesReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[schema(example = "Europe/London")]
    pub time_zone: String,
    pub group_by: GroupBy,
    pub groups: Vec<GroupFigures>,
    pub total: Figures,
}

/// A missed deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Breach {
    pub event_id: String,
    pub request_id: String,
    pub reference: String,
    pub priority: Option<String>,
    /// Null for admins, who read figures and references only.
    pub category: Option<String>,
    /// Null for admins, who read figures and references only.
    pub region: Option<String>,
    pub team_id: Option<String>,
    pub assignee_id: Option<String>,
    /// `first_response`, `next_response` or `resolution`.
    pub clock: String,
    pub due_at: DateTime<Utc>,
    pub crossed_at: DateTime<Utc>,
}

const BREACH_COLUMNS: [&str; 11] = [
    "event_id",
    "request_id",
    "reference",
    "priority",
    "category",
    "region",
    "team_id",
    "assignee_id",
    "clock",
    "due_at",
    "crossed_at",
];

impl Breach {
    /// The breach as `role` may read it: case attributes (category, region)
    /// are for coordinators, who work cases.
    fn for_reader(row: BreachRow, role: Role) -> Breach {
        let case_access = role == Role::Coordinator;
        Breach {
            event_id: row.event_id,
            request_id: row.request_id,
            reference: row.reference,
            priority: row.priority,
            category: case_access.then_some(row.category),
            region: case_access.then_some(row.region),
            team_id: row.team_id,
            assignee_id: row.assignee_id,
            clock: row.clock,
            due_at: row.due_at.and_utc(),
            crossed_at: row.crossed_at.and_utc(),
        }
    }

    /// The CSV record, in the order of [`BREACH_COLUMNS`].
    fn csv_record(self) -> Vec<String> {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        vec![
            self.event_id,
            self.request_id,
            self.reference,
            self.priority.unwrap_or_default(),
            self.category.unwrap_or_default(),
            self.region.unwrap_or_default(),
            self.team_id.unwrap_or_default(),
            self.assignee_id.unwrap_or_default(),
            self.clock,
            time(self.due_at),
            time(self.crossed_at),
        ]
    }
}

/// The UTC span `[start of from, start of the day after to)` in the report zone.
fn span(from: NaiveDate, to: NaiveDate) -> Result<(NaiveDateTime, NaiveDateTime), ApiError> {
    if to < from {
        return Err(ApiError::bad_query("to", "must not be before from"));
    }
    if (to - from).num_days() >= MAX_REPORT_DAYS {
        return Err(ApiError::bad_query(
            "to",
            format!("a report covers at most {MAX_REPORT_DAYS} days"),
        ));
    }
    let midnight = |day: NaiveDate, field: &str| {
        REPORT_ZONE
            .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.naive_utc())
            .ok_or_else(|| ApiError::bad_query(field.to_owned(), "not a day in Europe/London"))
    };
    let after_to = to
        .checked_add_signed(Duration::days(1))
        .ok_or_else(|| ApiError::bad_query("to", "too far in the future"))?;
    Ok((midnight(from, "from")?, midnight(after_to, "to")?))
}

fn reached(business: Option<i64>, wall: Option<i64>, met: Option<bool>) -> Option<Reached> {
    Some((business?, wall?, met?))
}

/// A group's figures, gathered as its requests stream past.
#[derive(Debug, Default)]
struct Tally {
    requests: usize,
    first_response: Durations,
    resolution: Durations,
    acknowledged: Vec<u32>,
    breached: usize,
}

impl Tally {
    fn add(&mut self, row: &FactRow) {
        self.requests += 1;
        if let Some(r) = reached(
            row.first_response_business_seconds,
            row.first_response_wall_seconds,
            row.first_response_met,
        ) {
            self.first_response.add(r);
        }
        if let Some(r) = reached(
            row.resolution_business_seconds,
            row.resolution_wall_seconds,
            row.resolution_met,
        ) {
            self.resolution.add(r);
        }
        self.acknowledged
            .extend(row.acknowledgement_seconds.map(seconds));
        self.breached += usize::from(row.breached);
    }

    /// The figures; sorts in place, so the tally can still be absorbed.
    fn figures(&mut self) -> Figures {
        Figures {
            requests: self.requests,
            first_response: self.first_response.figures(),
            resolution: self.resolution.figures(),
            acknowledgement: AcknowledgementFigures {
                count: self.acknowledged.len(),
                time: Spread::of(&mut self.acknowledged),
            },
            breached: self.breached,
        }
    }

    fn absorb(&mut self, mut other: Tally) {
        self.requests += other.requests;
        self.first_response.absorb(other.first_response);
        self.resolution.absorb(other.resolution);
        self.acknowledged.append(&mut other.acknowledged);
        self.breached += other.breached;
    }
}

/// Facts grouped as they stream past; the total is made from the groups
/// afterwards, so each duration is held once.
#[derive(Debug, Default)]
struct Tallies {
    groups: BTreeMap<Option<String>, Tally>,
}

impl Tallies {
    fn add(&mut self, mut row: FactRow) {
        let group = row.group.take();
        self.groups.entry(group).or_default().add(&row);
    }

    /// Each group's figures, labelled with names where the key is an id,
    /// and the total's.
    fn report(
        self,
        by: GroupBy,
        names: &std::collections::HashMap<String, String>,
    ) -> (Vec<GroupFigures>, Figures) {
        let none_label = match by {
            GroupBy::Team => "no team",
            _ => "unassigned",
        };
        let mut total = Tally::default();
        let mut groups = Vec::with_capacity(self.groups.len());
        for (key, mut tally) in self.groups {
            groups.push(GroupFigures {
                label: key.as_ref().map_or_else(
                    || none_label.to_owned(),
                    |k| names.get(k).cloned().unwrap_or_else(|| k.clone()),
                ),
                key,
                figures: tally.figures(),
            });
            total.absorb(tally);
        }
        (groups, total.figures())
    }
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/csv"))
}

fn csv_response(filename: &str, records: Vec<Vec<String>>) -> Result<HttpResponse, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in records {
        writer.write_record(&record).map_err(ApiError::internal)?;
    }
    let body = writer.into_inner().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body))
}

fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn figure_cells(f: &Figures) -> Vec<String> {
    let target = |t: &TargetFigures| {
        vec![
            t.count.to_string(),
            number(t.business.median_seconds),
            number(t.business.p90_seconds),
            number(t.wall_clock.median_seconds),
            number(t.wall_clock.p90_seconds),
            t.within_target.to_string(),
            number(t.within_target_share),
        ]
    };
    let mut cells = vec![f.requests.to_string()];
    cells.extend(target(&f.first_response));
    cells.extend(target(&f.resolution));
    cells.extend([
        f.acknowledgement.count.to_string(),
        number(f.acknowledgement.time.median_seconds),
        number(f.acknowledgement.time.p90_seconds),
        f.breached.to_string(),
    ]);
    cells
}

const FIGURE_COLUMNS: [&str; 19] = [
    "requests",
    "first_response_count",
    "first_response_business_median_seconds",
    "first_response_business_p90_seconds",
    "first_response_wall_clock_median_seconds",
    "first_response_wall_clock_p90_seconds",
    "first_response_within_target",
    "first_response_within_target_share",
    "resolution_count",
    "resolution_business_median_seconds",
    "resolution_business_p90_seconds",
    "resolution_wall_clock_median_seconds",
    "resolution_wall_clock_p90_seconds",
    "resolution_within_target",
    "resolution_within_target_share",
    "acknowledgement_count",
    "acknowledgement_median_seconds",
    "acknowledgement_p90_seconds",
    "breached",
];

#[utoipa::path(
    get, path = "/api/v1/reports/response-times", tag = "response times",
    operation_id = "get_response_times_report",
    summary = "Report response times",
    description = "Coordinators and admins. Volumes, median and p90 first-response and resolution times and SLA compliance for a date range, grouped as asked; JSON, or CSV with `Accept: text/csv`. Figures only, no case content.",
    params(ResponseTimesQuery),
    responses((status = 200, description = "Figures per group and in total",
               content((ResponseTimesReport = "application/json"), (String = "text/csv")))),
    security(("bearer" = []))
)]
pub async fn response_times(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: QueryParams<ResponseTimesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(REPORT_READERS)?;
    let query = query.into_inner()?;
    let (start, end) = span(query.from, query.to)?;
    let by = query.group_by.unwrap_or(GroupBy::Priority);
    let viewer = caller.user_id.clone();
    let _turn = state
        .report_turns
        .acquire()
        .await
        .map_err(|_| ApiError::unavailable("reports are shutting down"))?;
    let (groups, total) = state
        .db
        .read(move |conn| {
            let mut tallies = Tallies::default();
            store::reports::each_fact(conn, start, end, by.into(), &viewer, |row| {
                tallies.add(row)
            })?;
            let names = match by {
                GroupBy::Team | GroupBy::Specialist => store::reports::names(conn)?,
                _ => Default::default(),
            };
            Ok(tallies.report(by, &names))
        })
        .await?;
    if wants_csv(&req) {
        let mut header_row = vec!["group".to_owned(), "label".to_owned()];
        header_row.extend(FIGURE_COLUMNS.iter().map(|c| (*c).to_owned()));
        let mut records = vec![header_row];
        for group in &groups {
            let mut record = vec![group.key.clone().unwrap_or_default(), group.label.clone()];
            record.extend(figure_cells(&group.figures));
            records.push(record);
        }
        let mut total_row = vec![String::new(), "total".to_owned()];
        total_row.extend(figure_cells(&total));
        records.push(total_row);
        return csv_response(
            &format!("response-times-{}-{}.csv", query.from, query.to),
            records,
        );
    }
    Ok(HttpResponse::Ok().json(ResponseTimesReport {
        from: query.from,
        to: query.to,
        time_zone: REPORT_ZONE.name().to_owned(),
        group_by: by,
        groups,
        total,
    }))
}

#[utoipa::path(
    get, path = "/api/v1/reports/sla-breaches", tag = "response times",
    operation_id = "list_sla_breaches",
    summary = "List SLA breaches",
    description = "Coordinators and admins. Deadlines missed in the range, in order, by reference; JSON, or CSV with `Accept: text/csv`.",
    params(BreachesQuery),
    responses((status = 200, description = "Deadlines missed in the range, in order",
               content((Page<Breach> = "application/json"), (String = "text/csv")))),
    security(("bearer" = []))
)]
pub async fn sla_breaches(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: QueryParams<BreachesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(REPORT_READERS)?;
    let query = query.into_inner()?;
    let (start, end) = span(query.from, query.to)?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let after = parse_time_key(page.after.as_deref())?;
    let (viewer, role) = (caller.user_id.clone(), caller.role);
    if wants_csv(&req) {
        let rows = state
            .db
            .read(move |conn| {
                Ok(store::reports::breaches(
                    conn, start, end, &viewer, None, None,
                )?)
            })
            .await?;
        let mut records = vec![BREACH_COLUMNS.iter().map(|c| (*c).to_owned()).collect()];
        records.extend(
            rows.into_iter()
                .map(|row| Breach::for_reader(row, role).csv_record()),
        );
        return csv_response(
            &format!("sla-breaches-{}-{}.csv", query.from, query.to),
            records,
        );
    }
    let rows = state
        .db
        .read(move |conn| {
            let rows = store::reports::breaches(
                conn,
                start,
                end,
                &viewer,
                after.as_ref(),
                Some(page.fetch()),
            )?;
            Ok(page.page_by(rows, |row| time_key(row.crossed_at, &row.event_id)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.map(|row| Breach::for_reader(row, role))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

    fn day() -> impl Strategy<Value = NaiveDate> {
        prop_oneof![
            (0i64..(100 * 366))
                .prop_map(|d| NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(d)),
            any::<i32>().prop_filter_map("not a day", NaiveDate::from_num_days_from_ce_opt),
        ]
    }

    fn breach_row() -> BreachRow {
        let at = NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap();
        BreachRow {
            event_id: "e1".into(),
            request_id: "r1".into(),
            reference: "NRU-2026-000001".into(),
            priority: Some("P1".into()),
            category: "trafficking".into(),
            region: "london".into(),
            team_id: Some("t1".into()),
            assignee_id: None,
            clock: "first_response".into(),
            due_at: at,
            crossed_at: at,
        }
    }

    #[test]
    fn admins_read_a_breach_without_its_category_or_region() {
        let admin = Breach::for_reader(breach_row(), Role::Admin);
        assert_eq!((admin.category, admin.region), (None, None));
        assert_eq!(admin.reference, "NRU-2026-000001");
        let coordinator = Breach::for_reader(breach_row(), Role::Coordinator);
        assert_eq!(coordinator.category.as_deref(), Some("trafficking"));
        assert_eq!(coordinator.region.as_deref(), Some("london"));
    }

    #[test]
    fn a_breach_record_has_a_cell_for_every_column() {
        let record = Breach::for_reader(breach_row(), Role::Admin).csv_record();
        assert_eq!(record.len(), BREACH_COLUMNS.len());
        assert_eq!(record[4], "", "category, empty for admins");
        assert_eq!(record[9], "2026-11-30T15:00:00Z");
    }

    proptest! {
        /// A range is taken exactly when it runs forwards over at most the
        /// maximum days, and then covers its days whole: 24 hours each, give
        /// or take an hour for a clock change.
        #[test]
        fn report_ranges_run_forwards_over_whole_days(from in day(), days in -3i64..(MAX_REPORT_DAYS + 3)) {
            let Some(to) = from.checked_add_signed(Duration::days(days)) else {
                return Ok(());
            };
            match span(from, to) {
                Ok((start, end)) => {
                    prop_assert!((0..MAX_REPORT_DAYS).contains(&days));
                    let hours = (end - start).num_hours();
                    prop_assert!((hours - 24 * (days + 1)).abs() <= 1, "{} hours", hours);
                }
                Err(ApiError::BadRequest { errors, .. }) => {
                    prop_assert!(!(0..MAX_REPORT_DAYS).contains(&days) || from.year() < -200_000 || from.year() > 200_000);
                    prop_assert!(["from", "to"].contains(&errors[0].field.as_str()));
                }
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
