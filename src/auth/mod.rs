//! Credentials: password hashing, access and refresh tokens, client
//! secrets, and the checked callers they prove. Nothing here speaks HTTP;
//! the HTTP layer (`api::callers`) reads the bearer token and builds the callers.

mod callers;
pub mod jwt;
pub mod password;
pub mod secrets;

pub use callers::{Caller, ClientCaller, OwnAccountCaller};
