//! NRU Helpdesk: a REST API for guidance requests to a national response unit.

pub mod api;
pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod startup;
pub mod store;
pub mod synthetic;
pub mod telemetry;
pub mod web_client;
pub mod workflows;
