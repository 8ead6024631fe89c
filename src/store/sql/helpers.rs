//! Queries the store's operations share: users, policy versions and the compiled-set cache
//! (policies and exceptions), policies with their repositories and values, the audit trail,
//! billing, codespace rows.

macro_rules! impl_part {
    (
        store = $store:ident,
        connection = $conn:ty,
        begin_write = $begin:literal,
        hold_writes = $hold:literal,
        join_writes = $join:literal,
        for_update = $update:literal,
        notify = $notify:literal $(,)?
    ) => {
        impl $store {
            /// Begins a writing transaction in a task of its own. A caller dropped while its
            /// `BEGIN` completes (a client that hung up, a deadline) then drops a finished
            /// `Transaction`, which rolls back; awaited in place, sqlx's SQLite connection
            /// could count a transaction nobody held and keep the write lock forever
            /// (`tests/api/cancelled.rs`).
            async fn begin_write(
                &self,
            ) -> StoreResult<
                sqlx::Transaction<'static, <$conn as sqlx::Connection>::Database>,
            > {
                let pool = self.pool.clone();
                tokio::spawn(async move { pool.begin_with($begin).await })
                    .await
                    .map_err(|e| StoreError::Internal(format!("beginning a transaction: {e}")))?
                    .map_err(Into::into)
            }

            async fn upsert_user(conn: &mut $conn, login: &Name) -> StoreResult<i64> {
                sqlx::query(
                    "INSERT INTO users (login, login_key, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (login_key) DO NOTHING",
                )
                .bind(login.as_str())
                .bind(login.key())
                .bind(Utc::now())
                .execute(&mut *conn)
                .await?;
                let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE login_key = $1")
                    .bind(login.key())
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(id)
            }

            /// Makes the caller's transaction a codespace writer from here to its end, so that
            /// no policy edit commits in between (see `sql/mod.rs`).
            async fn join_codespace_writes(conn: &mut $conn) -> StoreResult<()> {
                if !$join.is_empty() {
                    sqlx::query($join).execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Reads the org's policy version, holding its row with `lock`.
            async fn policy_version(conn: &mut $conn, org_id: i64, lock: &str) -> StoreResult<i64> {
                let sql = format!("SELECT policy_version FROM orgs WHERE id = $1{lock}");
                Ok(sqlx::query_scalar(&sql).bind(org_id).fetch_one(&mut *conn).await?)
            }

            /// Bumps the org's policy version, once codespace writes are held off until the
            /// caller's transaction ends (see `sql/mod.rs`): the last step of a policy edit
            /// before its commit, so that creations wait only for the bump and the commit.
            /// With writes held off, the per-user counts follow the edit (`RECONCILE_HELD`).
            async fn bump_policy_version(conn: &mut $conn, org_id: i64) -> StoreResult<()> {
                if !$hold.is_empty() {
                    sqlx::query($hold).execute(&mut *conn).await?;
                }
                sqlx::query("UPDATE orgs SET policy_version = policy_version + 1 WHERE id = $1")
                    .bind(org_id)
                    .execute(&mut *conn)
                    .await?;
                if !Self::RECONCILE_HELD.is_empty() {
                    sqlx::query(Self::RECONCILE_HELD)
                        .bind(org_id)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// The compiled set, with the org's exceptions, for the version the caller's
            /// transaction read.
            async fn compiled_set(
                &self,
                conn: &mut $conn,
                org_id: i64,
                version: i64,
            ) -> StoreResult<Arc<CompiledPolicySet>> {
                if let Some(set) = self.cache.get(org_id, version) {
                    return Ok(set);
                }
                let policies = Self::fetch_policies(conn, org_id, None, None).await?;
                let exceptions = Self::fetch_exceptions(conn, org_id, None, None).await?;
                let set = Arc::new(
                    compile_policies_with(&policies, &exceptions).map_err(StoreError::Internal)?,
                );
                self.cache.put(org_id, version, Arc::clone(&set));
                Ok(set)
            }

            /// Policies of the org with their repositories and values: one policy
            /// (`policy_id`), one page, or all of them.
            async fn fetch_policies(
                conn: &mut $conn,
                org_id: i64,
                policy_id: Option<i64>,
                page: Option<PageRequest>,
            ) -> StoreResult<Vec<Policy>> {
                // One statement text for each shape, binding only what it filters by: a
                // statement with optional filters (`$2 IS NULL OR id = $2`) got a generic plan
                // from PostgreSQL after its fifth run that took 2.2 s for an org of 1,000
                // policies, against 9 ms for the plan made for the values.
                let (selected, first, second) = match (policy_id, page) {
                    (Some(id), _) => ("SELECT id FROM policies WHERE org_id = $1 AND id = $2", Some(id), None),
                    (None, Some(p)) => (
                        "SELECT id FROM policies WHERE org_id = $1 ORDER BY id LIMIT $2 OFFSET $3",
                        Some(p.per_page),
                        Some(p.offset()),
                    ),
                    (None, None) => ("SELECT id FROM policies WHERE org_id = $1", None, None),
                };
                // One row per policy, its items aggregated into JSON arrays (see `PolicyRow`).
                // Set-based rather than a subquery per policy: PostgreSQL planned those on the
                // statistics of a freshly loaded table, and scanned every repository once per
                // policy. The repositories' `org_id` (always the policy's org) lets it hash the
                // org's repositories once instead of probing the index once per link.
                let sql = format!(
                    "SELECT {POLICY_COLUMNS}, \
                     COALESCE(CAST(repo_lists.items AS TEXT), '[]') AS repositories, \
                     COALESCE(CAST(value_lists.items AS TEXT), '[]') AS allowed_values \
                     FROM policies p \
                     LEFT JOIN (SELECT pr.policy_id, \
                             {JSON_ARRAY_AGG}(r.name ORDER BY r.name_key) AS items \
                         FROM policy_repos pr \
                         JOIN repos r ON r.id = pr.repo_id AND r.org_id = $1 \
                         WHERE pr.policy_id IN ({selected}) GROUP BY pr.policy_id) repo_lists \
                         ON repo_lists.policy_id = p.id \
                     LEFT JOIN (SELECT v.policy_id, \
                             {JSON_ARRAY_AGG}(v.value ORDER BY v.position) AS items \
                         FROM policy_allowed_values v \
                         WHERE v.policy_id IN ({selected}) GROUP BY v.policy_id) value_lists \
                         ON value_lists.policy_id = p.id \
                     WHERE p.id IN ({selected}) ORDER BY p.id"
                );
                let mut query = sqlx::query_as::<_, PolicyRow>(&sql).bind(org_id);
                if let Some(first) = first {
                    query = query.bind(first);
                }
                if let Some(second) = second {
                    query = query.bind(second);
                }
                let rows: Vec<PolicyRow> = query.fetch_all(&mut *conn).await?;
                rows.into_iter().map(PolicyRow::into_policy).collect()
            }

            async fn fetch_policy(conn: &mut $conn, org_id: i64, policy_id: i64) -> StoreResult<Policy> {
                Self::fetch_policies(conn, org_id, Some(policy_id), None)
                    .await?
                    .pop()
                    .ok_or(StoreError::NotFound)
            }

            /// Writes a policy's repositories and values (after clearing the old ones).
            async fn write_policy_items(
                conn: &mut $conn,
                org_id: i64,
                policy_id: i64,
                draft: &PolicyDraft,
            ) -> StoreResult<()> {
                sqlx::query("DELETE FROM policy_repos WHERE policy_id = $1")
                    .bind(policy_id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("DELETE FROM policy_allowed_values WHERE policy_id = $1")
                    .bind(policy_id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("UPDATE policies SET constraints = $1 WHERE id = $2")
                    .bind(draft.constraints.to_stored())
                    .bind(policy_id)
                    .execute(&mut *conn)
                    .await?;
                for (index, name) in draft.repositories.iter().enumerate() {
                    let repo_id: Option<i64> = sqlx::query_scalar(
                        "SELECT id FROM repos WHERE org_id = $1 AND name_key = $2",
                    )
                    .bind(org_id)
                    .bind(name.key())
                    .fetch_optional(&mut *conn)
                    .await?;
                    let repo_id = repo_id.ok_or_else(|| StoreError::Invalid {
                        field: format!("repositories[{index}]"),
                        message: format!(
                            "names repository '{name}', which does not exist in this organization"
                        ),
                    })?;
                    sqlx::query(
                        "INSERT INTO policy_repos (policy_id, repo_id) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(policy_id)
                    .bind(repo_id)
                    .execute(&mut *conn)
                    .await?;
                }
                for (position, value) in draft.base_images.iter().flatten().enumerate() {
                    sqlx::query(
                        "INSERT INTO policy_allowed_values (policy_id, position, value) \
                         VALUES ($1, $2, $3)",
                    )
                    .bind(policy_id)
                    .bind(position as i64)
                    .bind(value.as_str())
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }

            /// Commits a write that can make cached reads stale: tells the other instances in
            /// the transaction (delivered on commit), commits, then forgets this instance's
            /// cached reads. Clearing after the commit keeps a concurrent read of the old rows
            /// from being cached past it.
            async fn commit_change(
                &self,
                mut tx: sqlx::Transaction<'_, <$conn as sqlx::Connection>::Database>,
            ) -> StoreResult<()> {
                if !$notify.is_empty() {
                    sqlx::query($notify).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                self.reads.clear();
                Ok(())
            }

            /// Records a change, in the caller's transaction.
            async fn audit(
                conn: &mut $conn,
                org_id: Option<i64>,
                actor: &str,
                action: &str,
                before: Option<serde_json::Value>,
                after: Option<serde_json::Value>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO audit_log (org_id, actor, action, before, after, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(org_id)
                .bind(actor)
                .bind(action)
                .bind(before.map(|v| v.to_string()))
                .bind(after.map(|v| v.to_string()))
                .bind(Utc::now())
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            async fn fetch_billing(conn: &mut $conn, org_id: i64) -> StoreResult<Billing> {
                let mode: String = sqlx::query_scalar("SELECT billing_mode FROM orgs WHERE id = $1")
                    .bind(org_id)
                    .fetch_one(&mut *conn)
                    .await?;
                let mode = BillingMode::parse(&mode)
                    .ok_or_else(|| StoreError::Internal(format!("stored billing mode '{mode}'")))?;
                let selected_usernames: Vec<String> = sqlx::query_scalar(
                    "SELECT login FROM billing_selected_users WHERE org_id = $1 ORDER BY login_key",
                )
                .bind(org_id)
                .fetch_all(&mut *conn)
                .await?;
                Ok(Billing { mode, selected_usernames })
            }

            async fn fetch_codespace(conn: &mut $conn, id: &str) -> StoreResult<Codespace> {
                let row: CodespaceRow =
                    sqlx::query_as(&format!("{CODESPACE_SELECT} WHERE c.id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                row.try_into()
            }
        }
    };
}

pub(crate) use impl_part;
