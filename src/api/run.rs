//! Running a workflow for a signed-in caller: as their `Actor`, in one
//! transaction when it writes, and revealing what it hands out only once
//! the audit row of showing it is committed.

use crate::api::state::AppState;
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::workflows::audit_trail::{Audited, Shown};
use crate::workflows::lifecycle::Actor;

/// Runs `f` as the caller: staff work is written (their reads are audited),
/// a requester's reads are not.
pub(crate) async fn as_actor<T, F>(
    state: &AppState,
    caller: &Caller,
    write: bool,
    f: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection, &Actor) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let (user_id, role) = (caller.user_id.clone(), caller.role);
    let work = move |conn: &mut DbConnection| {
        let actor = Actor::load(conn, &user_id, role)?;
        f(conn, &actor)
    };
    if write {
        state.db.write(work).await
    } else {
        state.db.read(work).await
    }
}

/// Runs a workflow as the caller (`write`: in one transaction, else on a
/// reader connection) and reveals what it hands out once the audit row of
/// showing it is committed.
pub(crate) async fn audited<T, F>(
    state: &AppState,
    caller: &Caller,
    write: bool,
    f: F,
) -> Result<Shown<T>, ApiError>
where
    F: FnOnce(&mut DbConnection, &Actor) -> Result<Audited<T>, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let shown = as_actor(state, caller, write, f).await?;
    state.audit.reveal(shown).await
}
