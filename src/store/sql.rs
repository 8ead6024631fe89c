//! The `Store` implementation shared by both backends.
//!
//! PostgreSQL and SQLite read the same SQL here (`$n` parameters, `RETURNING`,
//! `ON CONFLICT`); what differs is passed in: how a writing transaction begins and the
//! row-locking suffixes. SQLite has no row locks: its writing transactions begin
//! `IMMEDIATE`, which takes the database's write lock at once and so serializes them.
//! A macro rather than a generic impl, because sqlx's per-database trait bounds would
//! drown the queries.

macro_rules! impl_sql_store {
    (
        store = $store:ident,
        connection = $conn:ty,
        begin_write = $begin:literal,
        for_share = $share:literal,
        for_update = $update:literal $(,)?
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

        impl $store {
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

            /// Reads the org's policy version, holding its row with `lock`.
            async fn policy_version(conn: &mut $conn, org_id: i64, lock: &str) -> StoreResult<i64> {
                let sql = format!("SELECT policy_version FROM orgs WHERE id = $1{lock}");
                Ok(sqlx::query_scalar(&sql).bind(org_id).fetch_one(&mut *conn).await?)
            }

            async fn bump_policy_version(conn: &mut $conn, org_id: i64) -> StoreResult<()> {
                sqlx::query("UPDATE orgs SET policy_version = policy_version + 1 WHERE id = $1")
                    .bind(org_id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            /// The compiled set for the version the caller's transaction read.
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
                let set = Arc::new(
                    compile_policies(&policies).map_err(StoreError::Internal)?,
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
                let (limit, offset) = page.map_or((i64::MAX, 0), |p| (p.per_page, p.offset()));
                let selected = "SELECT id FROM policies WHERE org_id = $1 \
                    AND ($2 IS NULL OR id = $2) ORDER BY id LIMIT $3 OFFSET $4";
                let rows: Vec<PolicyRow> = sqlx::query_as(&format!(
                    "SELECT {POLICY_COLUMNS} FROM policies WHERE id IN ({selected}) ORDER BY id"
                ))
                .bind(org_id)
                .bind(policy_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *conn)
                .await?;
                let mut policies =
                    rows.into_iter().map(PolicyRow::into_policy).collect::<StoreResult<Vec<_>>>()?;
                let repos: Vec<PolicyItemRow> = sqlx::query_as(&format!(
                    "SELECT pr.policy_id, r.name AS item FROM policy_repos pr \
                     JOIN repos r ON r.id = pr.repo_id \
                     WHERE pr.policy_id IN ({selected}) ORDER BY pr.policy_id, r.name_key"
                ))
                .bind(org_id)
                .bind(policy_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *conn)
                .await?;
                let values: Vec<PolicyItemRow> = sqlx::query_as(&format!(
                    "SELECT policy_id, value AS item FROM policy_allowed_values \
                     WHERE policy_id IN ({selected}) ORDER BY policy_id, position"
                ))
                .bind(org_id)
                .bind(policy_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *conn)
                .await?;
                attach_items(&mut policies, repos, values);
                Ok(policies)
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

        #[async_trait]
        impl Store for $store {
            fn pool_connections(&self) -> (u64, u64) {
                let size = u64::from(self.pool.size());
                let idle = self.pool.num_idle() as u64;
                (size.saturating_sub(idle), idle)
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn find_token(&self, token_hash: &[u8]) -> StoreResult<Option<TokenRecord>> {
                let row: Option<TokenRow> = sqlx::query_as(
                    "SELECT t.id, t.kind, t.token_hash, u.id AS user_id, u.login AS user_login \
                     FROM tokens t LEFT JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn has_site_admin_token(&self) -> StoreResult<bool> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tokens WHERE kind = 'site_admin' AND revoked_at IS NULL",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(count > 0)
            }

            async fn find_user(&self, login: &Name) -> StoreResult<Option<User>> {
                let row: Option<(i64, String)> =
                    sqlx::query_as("SELECT id, login FROM users WHERE login_key = $1")
                        .bind(login.key())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(id, login)| User { id, login }))
            }

            async fn insert_token(
                &self,
                kind: TokenKind,
                token_hash: &[u8],
                user: Option<&Name>,
                name: Option<&str>,
                actor: &str,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                let user_id = match user {
                    Some(login) => Some(Self::upsert_user(&mut tx, login).await?),
                    None => None,
                };
                sqlx::query(
                    "INSERT INTO tokens (token_hash, kind, user_id, name, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO NOTHING",
                )
                .bind(token_hash)
                .bind(kind.as_str())
                .bind(user_id)
                .bind(name)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
                let after = token_snapshot(kind, user.map(Name::as_str), name);
                Self::audit(&mut tx, None, actor, "token.create", None, Some(after)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn revoke_token(&self, token_hash: &[u8], actor: &str) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                let revoked: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
                    "UPDATE tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL \
                     RETURNING kind, name, (SELECT login FROM users WHERE users.id = tokens.user_id)",
                )
                .bind(Utc::now())
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let (kind, name, user) = revoked.ok_or(StoreError::NotFound)?;
                let kind = TokenKind::parse(&kind).unwrap_or(TokenKind::User);
                let before = token_snapshot(kind, user.as_deref(), name.as_deref());
                Self::audit(&mut tx, None, actor, "token.revoke", Some(before), None).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_org(&self, login: &Name) -> StoreResult<Org> {
                let row: Option<OrgRow> = sqlx::query_as(
                    "INSERT INTO orgs (login, login_key, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (login_key) DO NOTHING \
                     RETURNING id, login, billing_mode, created_at",
                )
                .bind(login.as_str())
                .bind(login.key())
                .bind(Utc::now())
                .fetch_optional(&self.pool)
                .await?;
                row.ok_or_else(|| StoreError::Conflict("Organization already exists".into()))?
                    .try_into()
            }

            async fn find_org(&self, login: &Name) -> StoreResult<Option<Org>> {
                let row: Option<OrgRow> = sqlx::query_as(
                    "SELECT id, login, billing_mode, created_at FROM orgs WHERE login_key = $1",
                )
                .bind(login.key())
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn role_of(&self, org_id: i64, user_id: i64) -> StoreResult<Option<Role>> {
                let role: Option<String> = sqlx::query_scalar(
                    "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2",
                )
                .bind(org_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                role.as_deref().map(parse_role).transpose()
            }

            async fn role_of_login(&self, org_id: i64, login: &Name) -> StoreResult<Option<Role>> {
                let role: Option<String> = sqlx::query_scalar(
                    "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id \
                     WHERE m.org_id = $1 AND u.login_key = $2",
                )
                .bind(org_id)
                .bind(login.key())
                .fetch_optional(&self.pool)
                .await?;
                role.as_deref().map(parse_role).transpose()
            }

            async fn put_repo(&self, org_id: i64, name: &Name) -> StoreResult<(Repo, bool)> {
                let created: Option<RepoRow> = sqlx::query_as(
                    "INSERT INTO repos (org_id, name, name_key, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (org_id, name_key) DO NOTHING RETURNING id, name, created_at",
                )
                .bind(org_id)
                .bind(name.as_str())
                .bind(name.key())
                .bind(Utc::now())
                .fetch_optional(&self.pool)
                .await?;
                match created {
                    Some(row) => Ok((row.into(), true)),
                    None => {
                        let repo = self.find_repo(org_id, name).await?.ok_or(StoreError::NotFound)?;
                        Ok((repo, false))
                    }
                }
            }

            async fn find_repo(&self, org_id: i64, name: &Name) -> StoreResult<Option<Repo>> {
                let row: Option<RepoRow> = sqlx::query_as(
                    "SELECT id, name, created_at FROM repos WHERE org_id = $1 AND name_key = $2",
                )
                .bind(org_id)
                .bind(name.key())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn list_repos(&self, org_id: i64, page: PageRequest) -> StoreResult<Paged<Repo>> {
                let total_count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM repos WHERE org_id = $1")
                        .bind(org_id)
                        .fetch_one(&self.pool)
                        .await?;
                let rows: Vec<RepoRow> = sqlx::query_as(
                    "SELECT id, name, created_at FROM repos WHERE org_id = $1 \
                     ORDER BY name_key LIMIT $2 OFFSET $3",
                )
                .bind(org_id)
                .bind(page.per_page)
                .bind(page.offset())
                .fetch_all(&self.pool)
                .await?;
                Ok(Paged { total_count, items: rows.into_iter().map(Into::into).collect() })
            }

            async fn set_membership(
                &self,
                org_id: i64,
                user: &Name,
                role: Role,
                actor: &str,
            ) -> StoreResult<Membership> {
                let mut tx = self.pool.begin_with($begin).await?;
                let user_id = Self::upsert_user(&mut tx, user).await?;
                let before: Option<String> = sqlx::query_scalar(
                    "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2",
                )
                .bind(org_id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(org_id)
                .bind(user_id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
                let username: String = sqlx::query_scalar("SELECT login FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let snapshot = |role: &str| serde_json::json!({ "username": username, "role": role });
                Self::audit(
                    &mut tx,
                    Some(org_id),
                    actor,
                    "membership.set",
                    before.as_deref().map(snapshot),
                    Some(snapshot(role.as_str())),
                )
                .await?;
                tx.commit().await?;
                Ok(Membership { username, role })
            }

            async fn remove_membership(&self, org_id: i64, user: &Name, actor: &str) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                let removed: Option<(String, String)> = sqlx::query_as(
                    "DELETE FROM memberships WHERE org_id = $1 \
                     AND user_id = (SELECT id FROM users WHERE login_key = $2) \
                     RETURNING role, (SELECT login FROM users WHERE login_key = $2)",
                )
                .bind(org_id)
                .bind(user.key())
                .fetch_optional(&mut *tx)
                .await?;
                let (role, username) = removed.ok_or(StoreError::NotFound)?;
                let before = serde_json::json!({ "username": username, "role": role });
                Self::audit(&mut tx, Some(org_id), actor, "membership.remove", Some(before), None)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn billing(&self, org_id: i64) -> StoreResult<Billing> {
                let mut conn = self.pool.acquire().await?;
                Self::fetch_billing(&mut conn, org_id).await
            }

            async fn set_billing(
                &self,
                org_id: i64,
                mode: BillingMode,
                selected: &[Name],
                actor: &str,
            ) -> StoreResult<Billing> {
                let mut tx = self.pool.begin_with($begin).await?;
                let before = Self::fetch_billing(&mut tx, org_id).await?;
                sqlx::query("UPDATE orgs SET billing_mode = $1 WHERE id = $2")
                    .bind(mode.as_str())
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM billing_selected_users WHERE org_id = $1")
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
                for name in selected {
                    sqlx::query(
                        "INSERT INTO billing_selected_users (org_id, login_key, login) \
                         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(org_id)
                    .bind(name.key())
                    .bind(name.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                let after = Self::fetch_billing(&mut tx, org_id).await?;
                Self::audit(
                    &mut tx,
                    Some(org_id),
                    actor,
                    "billing.update",
                    Some(billing_snapshot(&before)),
                    Some(billing_snapshot(&after)),
                )
                .await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn is_selected_for_billing(&self, org_id: i64, user: &Name) -> StoreResult<bool> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM billing_selected_users WHERE org_id = $1 AND login_key = $2",
                )
                .bind(org_id)
                .bind(user.key())
                .fetch_one(&self.pool)
                .await?;
                Ok(count > 0)
            }

            async fn list_policies(&self, org_id: i64, page: PageRequest) -> StoreResult<Paged<Policy>> {
                let mut conn = self.pool.acquire().await?;
                let total_count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM policies WHERE org_id = $1")
                        .bind(org_id)
                        .fetch_one(&mut *conn)
                        .await?;
                let items = Self::fetch_policies(&mut conn, org_id, None, Some(page)).await?;
                Ok(Paged { total_count, items })
            }

            async fn get_policy(&self, org_id: i64, policy_id: i64) -> StoreResult<Policy> {
                let mut conn = self.pool.acquire().await?;
                Self::fetch_policy(&mut conn, org_id, policy_id).await
            }

            async fn create_policy(
                &self,
                org_id: i64,
                draft: &PolicyDraft,
                actor: &str,
            ) -> StoreResult<Policy> {
                let mut tx = self.pool.begin_with($begin).await?;
                Self::policy_version(&mut tx, org_id, $update).await?;
                let now = Utc::now();
                let policy_id: i64 = sqlx::query_scalar(
                    "INSERT INTO policies (org_id, name, target, has_base_images, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(org_id)
                .bind(&draft.name)
                .bind(draft.target.as_str())
                .bind(draft.base_images.is_some())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Self::write_policy_items(&mut tx, org_id, policy_id, draft).await?;
                Self::bump_policy_version(&mut tx, org_id).await?;
                let policy = Self::fetch_policy(&mut tx, org_id, policy_id).await?;
                let after = Some(policy_snapshot(&policy));
                Self::audit(&mut tx, Some(org_id), actor, "policy.create", None, after).await?;
                tx.commit().await?;
                Ok(policy)
            }

            async fn update_policy(
                &self,
                org_id: i64,
                policy_id: i64,
                if_version: Option<i64>,
                draft: PolicyMerge<'_>,
                actor: &str,
            ) -> StoreResult<Policy> {
                let mut tx = self.pool.begin_with($begin).await?;
                Self::policy_version(&mut tx, org_id, $update).await?;
                let current = Self::fetch_policy(&mut tx, org_id, policy_id).await?;
                if if_version.is_some_and(|v| v != current.version) {
                    return Err(StoreError::PreconditionFailed);
                }
                let draft = draft(&current)?;
                sqlx::query(
                    "UPDATE policies SET name = $1, target = $2, has_base_images = $3, \
                     version = version + 1, updated_at = $4 WHERE id = $5",
                )
                .bind(&draft.name)
                .bind(draft.target.as_str())
                .bind(draft.base_images.is_some())
                .bind(Utc::now())
                .bind(policy_id)
                .execute(&mut *tx)
                .await?;
                Self::write_policy_items(&mut tx, org_id, policy_id, &draft).await?;
                Self::bump_policy_version(&mut tx, org_id).await?;
                let policy = Self::fetch_policy(&mut tx, org_id, policy_id).await?;
                Self::audit(
                    &mut tx,
                    Some(org_id),
                    actor,
                    "policy.update",
                    Some(policy_snapshot(&current)),
                    Some(policy_snapshot(&policy)),
                )
                .await?;
                tx.commit().await?;
                Ok(policy)
            }

            async fn delete_policy(
                &self,
                org_id: i64,
                policy_id: i64,
                if_version: Option<i64>,
                actor: &str,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                Self::policy_version(&mut tx, org_id, $update).await?;
                let current = Self::fetch_policy(&mut tx, org_id, policy_id).await?;
                if if_version.is_some_and(|v| v != current.version) {
                    return Err(StoreError::PreconditionFailed);
                }
                let before = Some(policy_snapshot(&current));
                Self::audit(&mut tx, Some(org_id), actor, "policy.delete", before, None).await?;
                sqlx::query("DELETE FROM policies WHERE id = $1")
                    .bind(policy_id)
                    .execute(&mut *tx)
                    .await?;
                Self::bump_policy_version(&mut tx, org_id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn policy_set(&self, org_id: i64) -> StoreResult<Arc<CompiledPolicySet>> {
                let mut conn = self.pool.acquire().await?;
                let version = Self::policy_version(&mut conn, org_id, "").await?;
                self.compiled_set(&mut conn, org_id, version).await
            }

            async fn create_codespace(
                &self,
                new: NewCodespace,
                plan: BuildPlan<'_>,
            ) -> StoreResult<Result<Codespace, Refused>> {
                let mut tx = self.pool.begin_with($begin).await?;
                let version = Self::policy_version(&mut tx, new.org_id, $share).await?;
                let set = self.compiled_set(&mut tx, new.org_id, version).await?;
                let build = match plan(&set) {
                    Ok(build) => build,
                    Err(refused) => return Ok(Err(refused)),
                };
                let now = Utc::now();
                sqlx::query(
                    "INSERT INTO codespaces (id, org_id, repo_id, user_login, billable_owner, image, \
                     image_source, recovery_mode, creation_log, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                )
                .bind(&new.id)
                .bind(new.org_id)
                .bind(new.repo_id)
                .bind(&new.user)
                .bind(&build.billable_owner)
                .bind(&build.image)
                .bind(build.image_source.as_str())
                .bind(build.recovery_mode)
                .bind(encode_log(&build.creation_log)?)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let codespace = Self::fetch_codespace(&mut tx, &new.id).await?;
                tx.commit().await?;
                Ok(Ok(codespace))
            }

            async fn rebuild_codespace(
                &self,
                id: &str,
                plan: BuildPlan<'_>,
            ) -> StoreResult<Result<Codespace, Refused>> {
                let mut tx = self.pool.begin_with($begin).await?;
                let org_id = Self::fetch_codespace(&mut tx, id).await?.org_id;
                let version = Self::policy_version(&mut tx, org_id, $share).await?;
                let set = self.compiled_set(&mut tx, org_id, version).await?;
                let build = match plan(&set) {
                    Ok(build) => build,
                    Err(refused) => return Ok(Err(refused)),
                };
                sqlx::query(
                    "UPDATE codespaces SET billable_owner = $1, image = $2, image_source = $3, \
                     recovery_mode = $4, creation_log = $5, updated_at = $6 WHERE id = $7",
                )
                .bind(&build.billable_owner)
                .bind(&build.image)
                .bind(build.image_source.as_str())
                .bind(build.recovery_mode)
                .bind(encode_log(&build.creation_log)?)
                .bind(Utc::now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let codespace = Self::fetch_codespace(&mut tx, id).await?;
                tx.commit().await?;
                Ok(Ok(codespace))
            }

            async fn append_codespace_log(&self, id: &str, line: &str) -> StoreResult<Codespace> {
                let mut tx = self.pool.begin_with($begin).await?;
                let log: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT creation_log FROM codespaces WHERE id = $1",
                    $update
                ))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let mut lines: Vec<String> = serde_json::from_str(&log.ok_or(StoreError::NotFound)?)
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                lines.push(line.to_string());
                sqlx::query("UPDATE codespaces SET creation_log = $1, updated_at = $2 WHERE id = $3")
                    .bind(encode_log(&lines)?)
                    .bind(Utc::now())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let codespace = Self::fetch_codespace(&mut tx, id).await?;
                tx.commit().await?;
                Ok(codespace)
            }

            async fn begin_idempotent(
                &self,
                scope: &str,
                key: &str,
                request_hash: &[u8],
                lease: std::time::Duration,
                keep: std::time::Duration,
            ) -> StoreResult<IdempotencyStart> {
                let now = Utc::now();
                let ago = |d: std::time::Duration| {
                    now - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
                };
                let mut tx = self.pool.begin_with($begin).await?;
                sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                    .bind(ago(keep))
                    .execute(&mut *tx)
                    .await?;
                let claimed = sqlx::query(
                    "INSERT INTO idempotency_keys (scope, key, request_hash, state, created_at) \
                     VALUES ($1, $2, $3, 'in_flight', $4) ON CONFLICT (scope, key) DO NOTHING",
                )
                .bind(scope)
                .bind(key)
                .bind(request_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let start = if claimed == 1 {
                    IdempotencyStart::Started
                } else {
                    let row: (Vec<u8>, String, Option<i64>, Option<String>, chrono::DateTime<Utc>) =
                        sqlx::query_as(concat!(
                            "SELECT request_hash, state, status, response, created_at \
                             FROM idempotency_keys WHERE scope = $1 AND key = $2",
                            $update
                        ))
                        .bind(scope)
                        .bind(key)
                        .fetch_one(&mut *tx)
                        .await?;
                    let (hash, state, status, response, created_at) = row;
                    if hash != request_hash {
                        IdempotencyStart::Mismatch
                    } else if state == "done" {
                        IdempotencyStart::Replay {
                            status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
                            body: response.unwrap_or_default(),
                        }
                    } else if created_at > ago(lease) {
                        IdempotencyStart::InFlight
                    } else {
                        sqlx::query(
                            "UPDATE idempotency_keys SET created_at = $1 \
                             WHERE scope = $2 AND key = $3",
                        )
                        .bind(now)
                        .bind(scope)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                        IdempotencyStart::Started
                    }
                };
                tx.commit().await?;
                Ok(start)
            }

            async fn finish_idempotent(
                &self,
                scope: &str,
                key: &str,
                status: u16,
                body: &str,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE idempotency_keys SET state = 'done', status = $1, response = $2 \
                     WHERE scope = $3 AND key = $4",
                )
                .bind(i64::from(status))
                .bind(body)
                .bind(scope)
                .bind(key)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn abandon_idempotent(&self, scope: &str, key: &str) -> StoreResult<()> {
                sqlx::query(
                    "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'in_flight'",
                )
                .bind(scope)
                .bind(key)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn audit_log(
                &self,
                org_id: i64,
                page: PageRequest,
            ) -> StoreResult<Paged<AuditEntry>> {
                let total_count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE org_id = $1")
                        .bind(org_id)
                        .fetch_one(&self.pool)
                        .await?;
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "SELECT id, actor, action, before, after, created_at FROM audit_log \
                     WHERE org_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
                )
                .bind(org_id)
                .bind(page.per_page)
                .bind(page.offset())
                .fetch_all(&self.pool)
                .await?;
                Ok(Paged { total_count, items: rows.into_iter().map(Into::into).collect() })
            }

            async fn get_codespace(&self, id: &str) -> StoreResult<Codespace> {
                let mut conn = self.pool.acquire().await?;
                Self::fetch_codespace(&mut conn, id).await
            }

            async fn list_codespaces(
                &self,
                org_id: i64,
                page: PageRequest,
            ) -> StoreResult<Paged<Codespace>> {
                let total_count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM codespaces WHERE org_id = $1")
                        .bind(org_id)
                        .fetch_one(&self.pool)
                        .await?;
                let rows: Vec<CodespaceRow> = sqlx::query_as(&format!(
                    "{CODESPACE_SELECT} WHERE c.org_id = $1 ORDER BY c.created_at, c.id \
                     LIMIT $2 OFFSET $3"
                ))
                .bind(org_id)
                .bind(page.per_page)
                .bind(page.offset())
                .fetch_all(&self.pool)
                .await?;
                let items = rows.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?;
                Ok(Paged { total_count, items })
            }
        }
    };
}

pub(crate) use impl_sql_store;
