//! What clients send about requests: submissions, edits, list filters,
//! triage and assignment bodies, each validated field by field.

use crate::api::extract::{double_option, not_null};
use crate::api::not_blank;
use crate::api::uuid_id;
use crate::domain::accounts::{Organisation, Region};
use crate::domain::deadlines::SlaState;
use crate::domain::lifecycle::Status;
use crate::domain::requests::{
    AgeBand, Category, ContactMethod, Gender, Priority, Urgency, YoungPersonFlag,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YoungPersonInput {
    /// Give an age or an age band, not both. No names, ever.
    #[validate(range(min = 0, max = 25))]
    #[schema(minimum = 0, maximum = 25)]
    pub age: Option<i32>,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
    #[serde(default)]
    #[validate(length(max = 7))]
    #[schema(max_items = 7)]
    pub flags: Vec<YoungPersonFlag>,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub method: ContactMethod,
    /// When you can be reached, e.g. "weekdays 9-5".
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub times: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    #[validate(length(min = 3, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 3, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// The case, described without names.
    #[validate(length(min = 10, max = 20000), custom(function = "not_blank"))]
    #[schema(min_length = 10, max_length = 20000, pattern = r"\S")]
    pub description: String,
    pub category: Category,
    pub urgency: Urgency,
    /// Defaults to your profile's organisation.
    pub organisation: Option<Organisation>,
    /// Defaults to your profile's region.
    pub region: Option<Region>,
    /// Your own system's case reference.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub local_reference: Option<String>,
    #[validate(nested)]
    pub young_person: YoungPersonInput,
    #[validate(nested)]
    pub contact: ContactInput,
    /// API clients only (`POST /client/requests`): the email of the
    /// practitioner of the client's organisation the request is for.
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub on_behalf_of: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditYoungPerson {
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0, max = 25))]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 25)]
    pub age: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<AgeBand>)]
    pub age_band: Option<Option<AgeBand>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<Option<Gender>>,
    #[validate(length(max = 7))]
    #[schema(max_items = 7)]
    pub flags: Option<Vec<YoungPersonFlag>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditContact {
    pub method: Option<ContactMethod>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 200))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub times: Option<Option<String>>,
}

/// Fields to change; absent fields stay, `null` clears an optional one
/// (`title` and `description` are not optional: `null` there is a 422).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    #[serde(default, deserialize_with = "not_null")]
    #[validate(length(min = 3, max = 200), custom(function = "not_blank"))]
    #[schema(value_type = String, required = false, min_length = 3, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[validate(length(min = 10, max = 20000), custom(function = "not_blank"))]
    #[schema(value_type = String, required = false, min_length = 10, max_length = 20000, pattern = r"\S")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub local_reference: Option<Option<String>>,
    #[validate(nested)]
    pub young_person: Option<EditYoungPerson>,
    #[validate(nested)]
    pub contact: Option<EditContact>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Newest,
    Oldest,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestListQuery {
    pub status: Option<Status>,
    pub category: Option<Category>,
    pub priority: Option<Priority>,
    pub urgency: Option<Urgency>,
    #[validate(custom(function = "uuid_id"))]
    pub team_id: Option<String>,
    #[validate(custom(function = "uuid_id"))]
    pub assignee_id: Option<String>,
    pub region: Option<Region>,
    /// Exact reference, e.g. NRU-2026-000123.
    pub reference: Option<String>,
    /// Created at or after this instant (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this instant (RFC 3339).
    pub created_to: Option<DateTime<Utc>>,
    /// Where the request stands against its response-time targets:
    /// `breached`, `at_risk` or `ok`.
    pub sla: Option<SlaState>,
    /// `newest` (default) or `oldest` first.
    pub sort: Option<SortOrder>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageBody {
    pub priority: Priority,
    pub team_id: String,
    /// Corrects the submitted category.
    pub category: Option<Category>,
    /// Why, for the triage history (re-triage keeps every decision).
    #[validate(length(min = 1, max = 500), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// An active specialist in the request's team.
    pub assignee_id: String,
}
