//! Sign-in building blocks: password hashing, access tokens, refresh tokens
//! (and the browser's refresh cookie), and the extractor that turns a bearer token into a caller.

pub mod browser;
pub mod extractor;
pub mod jwt;
pub mod password;
pub mod secrets;

pub use extractor::{Caller, ClientCaller, OwnAccountCaller};
