//! The owners' console through the router in process, on SQLite and on PostgreSQL: its
//! sessions, its CSRF checks, its headers and escaping, and its forms checked against the
//! REST API. The browser tests (`tests/browser/`) drive the same pages in Chromium.

#[path = "../api/helpers.rs"]
#[allow(dead_code)] // the API suite's harness; this binary uses a part of it
mod helpers;

mod client;

mod constraints;
mod csrf;
mod headers;
mod logs;
mod policies;
mod sessions;
