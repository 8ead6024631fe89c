//! The `Store` implementation shared by both backends, one file per part of the store.
//!
//! PostgreSQL and SQLite read the same SQL here (`$n` parameters, `RETURNING`,
//! `ON CONFLICT`); what differs is passed in: how a writing transaction begins, the
//! row-locking suffix, the two statements that order policy edits against codespace writes
//! (below), the statement that tells other instances of a change (PostgreSQL's `pg_notify`;
//! none for SQLite, which one process owns), and the name of the aggregate that builds a
//! JSON array (`json_agg`, `json_group_array`). SQLite has no row or table locks: its writing
//! transactions begin `IMMEDIATE`, which takes the database's write lock at once and so
//! serializes them, and the statements that are empty for it are skipped.
//!
//! How a policy edit and a codespace write are ordered on PostgreSQL: the edit, just before
//! it bumps the org's policy version, runs `hold_writes` (`LOCK TABLE codespaces IN SHARE
//! MODE`). That waits for every statement or transaction writing codespaces to end, and holds
//! off new ones until the edit commits. Every codespace write holds the table's
//! `ROW EXCLUSIVE` lock until it commits: an `INSERT` or `UPDATE` takes it by itself, before
//! its snapshot, and a longer transaction that reads the version first takes it up front with
//! `join_writes`. So no edit commits between a write's reading of the version and its commit,
//! and a write held off by an edit reads the edited version. A lock on the org's row would do
//! the same, but every creation would then lock the row a second time after its foreign
//! key's lock, a measurable share of the insert's work (docs/benchmarks.md).
//! A macro rather than a generic impl, because sqlx's per-database trait bounds would
//! drown the queries.

pub(crate) mod access;
pub(crate) mod codespace_writes;
pub(crate) mod codespaces;
pub(crate) mod compliance;
pub(crate) mod decisions;
pub(crate) mod exceptions;
pub(crate) mod helpers;
pub(crate) mod idempotency;
pub(crate) mod keys;
pub(crate) mod life;
pub(crate) mod orgs;
pub(crate) mod packages;
pub(crate) mod policies;
pub(crate) mod reach;
pub(crate) mod revisions;
pub(crate) mod secret_helpers;
pub(crate) mod secrets;
pub(crate) mod sessions;

macro_rules! impl_sql_store {
    (
        store = $store:ident,
        connection = $conn:ty,
        begin_write = $begin:literal,
        hold_writes = $hold:literal,
        join_writes = $join:literal,
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
        use $crate::registries::{Level, OrgSecretVisibility, RepoVisibility};
        use $crate::store::cache::compile_policies_with;
        use $crate::store::rows::*;
        use $crate::store::*;

        /// A codespace with its org's and repository's names, and its org's policy version
        /// (which `LockedCodespaceRow` reads and `CodespaceRow` leaves).
        const CODESPACE_SELECT: &str = "SELECT c.id, c.org_id, c.repo_id, o.login AS org_login, \
            r.name AS repo_name, c.user_login, c.billable_owner, c.image, c.image_source, \
            c.recovery_mode, c.creation_log, c.registries, c.created_at, c.updated_at, \
            c.billed_to_org, c.machine, c.state, c.idle_timeout_minutes, c.idle_timeout_requested, \
            c.idle_timeout_notice, c.retention_period_minutes, c.retention_expires_at, c.ports, \
            o.policy_version \
            FROM codespaces c JOIN orgs o ON o.id = c.org_id JOIN repos r ON r.id = c.repo_id";

        const POLICY_COLUMNS: &str =
            "id, name, target, has_base_images, enforcement, version, created_at, updated_at, constraints";

        /// The aggregate that collects text values into a JSON array, `ORDER BY` allowed.
        const JSON_ARRAY_AGG: &str = $json_array_agg;

        $crate::store::sql::impl_sql_store! {
            @parts [helpers access orgs policies revisions codespace_writes codespaces idempotency secret_helpers secrets reach keys packages decisions compliance exceptions life sessions]
            $store, $conn, $begin, $hold, $join, $update, $notify
        }
    };
    (
        @parts [$($part:ident)*]
        $store:ident, $conn:ty, $begin:literal, $hold:literal, $join:literal,
        $update:literal, $notify:literal
    ) => {
        $(
            $crate::store::sql::$part::impl_part! {
                store = $store,
                connection = $conn,
                begin_write = $begin,
                hold_writes = $hold,
                join_writes = $join,
                for_update = $update,
                notify = $notify,
            }
        )*
    };
}

pub(crate) use impl_sql_store;
