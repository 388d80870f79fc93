//! Other agencies' systems as API clients: creating, rotating and revoking
//! them, and submitting requests on behalf of their own practitioners. Each
//! function runs inside the caller's transaction.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::auth::{secrets, ClientCaller};
use crate::db::DbConnection;
use crate::domain::accounts::{normalise_email, Organisation, Role};
use crate::domain::integrations::{scopes_text, Scope, WebhookEvent};
use crate::error::ApiError;
use crate::store;
use crate::store::clients::ClientRow;
use crate::store::requests::RequestRow;
use crate::workflows::requests::{self, Idempotency, Rules, Submission};

/// A new client and its secret, which is shown this once.
pub fn create_client(
    conn: &mut DbConnection,
    admin_id: &str,
    name: &str,
    organisation: Organisation,
    scopes: &[Scope],
    now: NaiveDateTime,
) -> Result<(ClientRow, String), ApiError> {
    let secret = secrets::generate();
    let row = ClientRow {
        id: store::new_id(),
        name: name.trim().to_owned(),
        organisation: organisation.as_str().to_owned(),
        scopes: scopes_text(scopes),
        secret_hash: secrets::digest(&secret),
        secret_version: 1,
        created_by: admin_id.to_owned(),
        created_at: now,
        revoked_at: None,
    };
    store::clients::insert(conn, &row)?;
    store::audit::append(
        conn,
        Some(admin_id),
        "api_client.created",
        None,
        json!({"client_id": row.id, "organisation": row.organisation, "scopes": row.scopes}),
        now,
    )?;
    Ok((row, secret))
}

/// A new secret for a live client; tokens issued before stop working.
pub fn rotate_secret(
    conn: &mut DbConnection,
    admin_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<(ClientRow, String), ApiError> {
    let secret = secrets::generate();
    if !store::clients::rotate_secret(conn, id, &secrets::digest(&secret))? {
        return Err(match store::clients::find(conn, id)? {
            Some(_) => ApiError::conflict("the client is revoked"),
            None => ApiError::NotFound,
        });
    }
    store::audit::append(
        conn,
        Some(admin_id),
        "api_client.secret_rotated",
        None,
        json!({"client_id": id}),
        now,
    )?;
    let row = store::clients::find(conn, id)?.ok_or(ApiError::NotFound)?;
    Ok((row, secret))
}

/// Revokes a client: its tokens stop working and its webhooks fall silent.
pub fn revoke(
    conn: &mut DbConnection,
    admin_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<ClientRow, ApiError> {
    if !store::clients::revoke(conn, id, now)? {
        return Err(match store::clients::find(conn, id)? {
            Some(_) => ApiError::conflict("the client is already revoked"),
            None => ApiError::NotFound,
        });
    }
    store::audit::append(
        conn,
        Some(admin_id),
        "api_client.revoked",
        None,
        json!({"client_id": id}),
        now,
    )?;
    store::clients::find(conn, id)?.ok_or(ApiError::NotFound)
}

/// The client whose secret this is, if it is live.
pub fn authenticate(
    conn: &mut DbConnection,
    client_id: &str,
    secret: &str,
) -> Result<Option<ClientRow>, ApiError> {
    let presented = secrets::digest(secret);
    Ok(store::clients::find(conn, client_id)?
        .filter(|c| c.revoked_at.is_none() && constant_time_eq(&c.secret_hash, &presented)))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

const NOT_A_PRACTITIONER: &str = "must be the email of an active practitioner of your organisation";

/// A client submits for one of its organisation's practitioners (named by
/// email in `on_behalf_of`): the request is the practitioner's, made the
/// organisation's, linked to the client and announced to its webhooks.
/// Returns the request and whether an Idempotency-Key replayed it.
pub fn submit_for(
    conn: &mut DbConnection,
    client: &ClientCaller,
    on_behalf_of: Option<&str>,
    mut submission: Submission,
    idempotency: Option<Idempotency<'_>>,
    rules: Rules<'_>,
    now: NaiveDateTime,
) -> Result<(RequestRow, bool), ApiError> {
    let requester = requester_for(conn, client, on_behalf_of, &mut submission)?;
    let (row, replayed) = requests::submit(conn, &requester, &submission, idempotency, rules, now)?;
    after_submit(conn, &client.client_id, &row, replayed, now)?;
    Ok((row, replayed))
}

/// Who a client submits for: an active practitioner of the client's own
/// organisation, named by email. Every other case gets the same answer, so
/// a client learns nothing about other organisations' accounts. The
/// submission is made the organisation's.
fn requester_for(
    conn: &mut DbConnection,
    client: &ClientCaller,
    on_behalf_of: Option<&str>,
    submission: &mut Submission,
) -> Result<String, ApiError> {
    let email = on_behalf_of.ok_or_else(|| ApiError::field("on_behalf_of", NOT_A_PRACTITIONER))?;
    let user = store::users::find_by_email(conn, &normalise_email(email))?
        .filter(|u| {
            u.active
                && u.role == Role::Practitioner
                && u.organisation.as_deref() == Some(client.organisation.as_str())
        })
        .ok_or_else(|| ApiError::field("on_behalf_of", NOT_A_PRACTITIONER))?;
    let organisation = Organisation::parse(&client.organisation)
        .ok_or_else(|| ApiError::internal("stored organisation is unknown"))?;
    match submission.organisation {
        Some(given) if given != organisation => Err(ApiError::field(
            "organisation",
            "must be your client's organisation (or left out)",
        )),
        _ => {
            submission.organisation = Some(organisation);
            Ok(user.id)
        }
    }
}

/// After a client's submission: the request becomes the client's and its
/// webhooks hear of it. A replayed Idempotency-Key must be the client's own.
fn after_submit(
    conn: &mut DbConnection,
    client_id: &str,
    row: &RequestRow,
    replayed: bool,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    if replayed {
        return match store::clients::submitter(conn, &row.id)? {
            Some(owner) if owner == client_id => Ok(()),
            _ => Err(ApiError::field(
                "Idempotency-Key",
                "this key was already used with a different body",
            )),
        };
    }
    store::clients::link(conn, &row.id, client_id)?;
    store::audit::append(
        conn,
        None,
        "request.submitted_by_client",
        Some(&row.id),
        json!({"client_id": client_id}),
        now,
    )?;
    crate::workflows::webhooks::publish(
        conn,
        WebhookEvent::RequestCreated,
        row,
        crate::workflows::webhooks::Detail::default(),
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
