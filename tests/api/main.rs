//! Integration tests: the real server over HTTP, on SQLite by default and on
//! PostgreSQL when TEST_DATABASE_URL is set.

mod auth;
mod cli;
mod email;
mod faults;
mod helpers;
mod http;
mod indexes;
mod integrations;
mod jobs;
mod layers;
mod limits;
mod openapi;
mod password_change;
mod queue;
mod receiver;
mod replicas;
mod requests;
mod retention;
mod schema;
mod sla;
mod smtp;
mod teams;
mod users;
mod web_client;
mod web_vendor;
mod world;
