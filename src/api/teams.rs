//! Teams: the queues specialists work from.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{JsonBody, QueryParams};
use crate::api::not_blank;
use crate::api::pagination::{Page, PageRequest};
use crate::api::state::AppState;
use crate::auth::Caller;
use crate::domain::accounts::Role;
use crate::error::ApiError;
use crate::store;
use crate::store::teams::{self, TeamRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A team with the ids of its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDetail {
    #[serde(flatten)]
    pub team: Team,
    pub member_ids: Vec<String>,
}

impl From<TeamRow> for Team {
    fn from(row: TeamRow) -> Team {
        Team {
            id: row.id,
            name: row.name,
            description: row.description,
            created_at: row.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    /// Unique, compared without regard to case.
    #[validate(length(min = 1, max = 100), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TeamListQuery {
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// Who may see teams: admins manage them, coordinators route work to them.
const TEAM_READERS: &[Role] = &[Role::Admin, Role::Coordinator];

#[utoipa::path(
    post, path = "/api/v1/teams", tag = "teams",
    operation_id = "create_team",
    summary = "Create a team",
    description = "Admins only. A team of specialists that triage rules can route requests to. 409 if the name is taken.",
    request_body = CreateTeam,
    responses(
        (status = 201, description = "Created", body = Team,
         headers(("Location" = String, description = "URL of the new team"))),
        (status = 409, description = "The name is taken", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateTeam>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let body = body.into_inner()?;
    let name = body.name.trim().to_owned();
    let row = TeamRow {
        id: store::new_id(),
        name_key: teams::name_key(&name),
        name,
        description: body
            .description
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty()),
        created_at: state.clock.now(),
    };
    let team = Team::from(row.clone());
    state
        .db
        .write(move |conn| {
            if teams::insert(conn, &row)? {
                Ok(())
            } else {
                Err(ApiError::conflict(format!(
                    "a team named \"{}\" already exists",
                    row.name
                )))
            }
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/teams/{}", team.id)))
        .json(team))
}

#[utoipa::path(
    get, path = "/api/v1/teams", tag = "teams",
    operation_id = "list_teams",
    summary = "List teams",
    description = "Admins and coordinators. Teams, by name.",
    params(TeamListQuery),
    responses((status = 200, description = "A page of teams", body = Page<Team>)),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<TeamListQuery>,
) -> Result<web::Json<Page<Team>>, ApiError> {
    caller.require(TEAM_READERS)?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let rows = state
        .db
        .read(move |conn| {
            let rows = teams::list(conn, page.after.as_deref(), page.fetch())?;
            Ok(page.page(rows, |r| &r.id))
        })
        .await?;
    Ok(web::Json(rows.map(Team::from)))
}

#[utoipa::path(
    get, path = "/api/v1/teams/{id}", tag = "teams",
    operation_id = "get_team",
    summary = "Get a team",
    description = "Admins and coordinators. One team and its members.",
    params(("id" = String, Path, description = "Team id")),
    responses((status = 200, description = "The team and its members", body = TeamDetail)),
    security(("bearer" = []))
)]
pub async fn read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<TeamDetail>, ApiError> {
    caller.require(TEAM_READERS)?;
    let id = id.into_inner();
    let (row, member_ids) = state
        .db
        .read(move |conn| {
            let row = teams::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            let members = teams::member_ids(conn, &id)?;
            Ok((row, members))
        })
        .await?;
    Ok(web::Json(TeamDetail {
        team: Team::from(row),
        member_ids,
    }))
}
