//! The use cases, each whole: what happens when a request is submitted, a
//! message posted, the next request claimed, a request triaged, a deadline
//! comes, an account or API client changes, or old text is redacted. Each
//! function runs in the caller's transaction on a store connection, applies
//! `domain` rules, writes through `store`, and knows nothing of HTTP beyond
//! returning the crate's one error type. `api`, `jobs` and `cli` call these.

pub mod accounts;
pub mod audit_trail;
pub mod integrations;
pub mod lifecycle;
pub mod notifications;
pub mod requests;
pub mod retention;
pub mod routing;
pub mod sessions;
pub mod sla;
pub mod webhooks;
