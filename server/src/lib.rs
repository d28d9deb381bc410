//! Amtsweg server: configuration, HTTP routes, domain logic, database, mail and jobs.

pub mod accounts;
pub mod api;
pub mod applications;
pub mod assets;
pub mod backoffice;
pub mod backup;
pub mod cache;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod dev;
pub mod domain;
pub mod error;
pub mod export;
/// Invariants for the fuzz targets in `server/fuzz` and their property tests.
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod payments;
pub mod postbox;
pub mod retention;
pub mod secret;
pub mod seed;
pub mod site;
pub mod startup;
pub mod state;
pub mod storage;
pub mod storage_clean;
pub mod telemetry;
pub mod time;
pub mod webhooks;

pub use startup::Application;
