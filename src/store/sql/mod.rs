//! The `Store` implementation shared by both backends, one file per part of the store.
//!
//! PostgreSQL and SQLite read the same SQL here (`$n` parameters, `RETURNING`,
//! `ON CONFLICT`); what differs is passed in: how a writing transaction begins and the
//! row-locking suffixes, the statement that tells other instances of a change (PostgreSQL's
//! `pg_notify`; none for SQLite, which one process owns), and the name of the aggregate that
//! builds a JSON array (`json_agg`, `json_group_array`). SQLite has no row locks: its writing transactions begin
//! `IMMEDIATE`, which takes the database's write lock at once and so serializes them.
//! A macro rather than a generic impl, because sqlx's per-database trait bounds would
//! drown the queries.

pub(crate) mod access;
pub(crate) mod codespaces;
pub(crate) mod helpers;
pub(crate) mod orgs;
pub(crate) mod policies;

macro_rules! impl_sql_store {
    (
        store = $store:ident,
        connection = $conn:ty,
        begin_write = $begin:literal,
        for_share = $share:literal,
        for_update = $update:literal,
        notify = $notify:literal,
        json_array_agg = $json_array_agg:literal $(,)?
    ) => {
        use std::sync::Arc;

        use async_trait::async_trait;
        use chrono::Utc;

        use $crate::billing::{BillingMode, Role};
        use $crate::names::Name;
        use $crate::policy::{CompiledPolicySet, Refused};
        use $crate::store::cache::compile_policies;
        use $crate::store::rows::*;
        use $crate::store::*;

        const CODESPACE_SELECT: &str = "SELECT c.id, c.org_id, o.login AS org_login, \
            r.name AS repo_name, c.user_login, c.billable_owner, c.image, c.image_source, \
            c.recovery_mode, c.creation_log, c.created_at, c.updated_at \
            FROM codespaces c JOIN orgs o ON o.id = c.org_id JOIN repos r ON r.id = c.repo_id";

        const POLICY_COLUMNS: &str =
            "id, name, target, has_base_images, version, created_at, updated_at";

        /// The aggregate that collects text values into a JSON array, `ORDER BY` allowed.
        const JSON_ARRAY_AGG: &str = $json_array_agg;

        $crate::store::sql::impl_sql_store! {
            @parts [helpers access orgs policies codespaces]
            $store, $conn, $begin, $share, $update, $notify
        }
    };
    (
        @parts [$($part:ident)*]
        $store:ident, $conn:ty, $begin:literal, $share:literal, $update:literal, $notify:literal
    ) => {
        $(
            $crate::store::sql::$part::impl_part! {
                store = $store,
                connection = $conn,
                begin_write = $begin,
                for_share = $share,
                for_update = $update,
                notify = $notify,
            }
        )*
    };
}

pub(crate) use impl_sql_store;
