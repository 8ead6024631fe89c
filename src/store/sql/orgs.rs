//! Orgs, repositories, memberships, billing and the audit log.

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
        #[async_trait]
        impl OrgStore for $store {
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
                let key = login.key();
                self.reads
                    .read_through(
                        |m| m.orgs.get(&key).cloned().map(Some),
                        async {
                            let row: Option<OrgRow> = sqlx::query_as(
                                "SELECT id, login, billing_mode, created_at FROM orgs \
                                 WHERE login_key = $1",
                            )
                            .bind(&key)
                            .fetch_optional(&self.pool)
                            .await?;
                            row.map(Org::try_from).transpose()
                        },
                        |m, org| {
                            if let Some(org) = org {
                                m.orgs.insert(key.clone(), org);
                            }
                        },
                    )
                    .await
            }

            async fn role_of(&self, org_id: i64, user_id: i64) -> StoreResult<Option<Role>> {
                self.reads
                    .read_through(
                        |m| m.roles.get(&(org_id, user_id)).copied(),
                        async {
                            let role: Option<String> = sqlx::query_scalar(
                                "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2",
                            )
                            .bind(org_id)
                            .bind(user_id)
                            .fetch_optional(&self.pool)
                            .await?;
                            role.as_deref().map(parse_role).transpose()
                        },
                        // No role is an answer too, and is kept.
                        |m, role| {
                            m.roles.insert((org_id, user_id), role);
                        },
                    )
                    .await
            }

            async fn put_repo(
                &self,
                org_id: i64,
                name: &Name,
                visibility: Option<RepoVisibility>,
            ) -> StoreResult<(Repo, bool)> {
                let mut tx = self.begin_write().await?;
                let created: Option<RepoRow> = sqlx::query_as(
                    "INSERT INTO repos (org_id, name, name_key, visibility, created_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (org_id, name_key) DO NOTHING \
                     RETURNING id, name, visibility, created_at",
                )
                .bind(org_id)
                .bind(name.as_str())
                .bind(name.key())
                .bind(visibility.unwrap_or(RepoVisibility::Private).as_str())
                .bind(Utc::now())
                .fetch_optional(&mut *tx)
                .await?;
                let (row, was_created) = match (created, visibility) {
                    (Some(row), _) => (row, true),
                    (None, Some(visibility)) => {
                        let row: RepoRow = sqlx::query_as(
                            "UPDATE repos SET visibility = $1 WHERE org_id = $2 AND name_key = $3 \
                             RETURNING id, name, visibility, created_at",
                        )
                        .bind(visibility.as_str())
                        .bind(org_id)
                        .bind(name.key())
                        .fetch_one(&mut *tx)
                        .await?;
                        (row, false)
                    }
                    (None, None) => {
                        let row: RepoRow = sqlx::query_as(
                            "SELECT id, name, visibility, created_at FROM repos \
                             WHERE org_id = $1 AND name_key = $2",
                        )
                        .bind(org_id)
                        .bind(name.key())
                        .fetch_one(&mut *tx)
                        .await?;
                        (row, false)
                    }
                };
                // A visibility change makes cached repositories stale on every instance.
                self.commit_change(tx).await?;
                Ok((row.try_into()?, was_created))
            }

            async fn find_repo(&self, org_id: i64, name: &Name) -> StoreResult<Option<Repo>> {
                let key = (org_id, name.key());
                self.reads
                    .read_through(
                        |m| m.repos.get(&key).cloned().map(Some),
                        async {
                            let row: Option<RepoRow> = sqlx::query_as(
                                "SELECT id, name, visibility, created_at FROM repos \
                                 WHERE org_id = $1 AND name_key = $2",
                            )
                            .bind(org_id)
                            .bind(&key.1)
                            .fetch_optional(&self.pool)
                            .await?;
                            row.map(Repo::try_from).transpose()
                        },
                        |m, repo| {
                            if let Some(repo) = repo {
                                m.repos.insert(key.clone(), repo);
                            }
                        },
                    )
                    .await
            }

            async fn list_repos(&self, org_id: i64, page: PageRequest) -> StoreResult<Paged<Repo>> {
                let total_count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM repos WHERE org_id = $1")
                        .bind(org_id)
                        .fetch_one(&self.pool)
                        .await?;
                let rows: Vec<RepoRow> = sqlx::query_as(
                    "SELECT id, name, visibility, created_at FROM repos WHERE org_id = $1 \
                     ORDER BY name_key LIMIT $2 OFFSET $3",
                )
                .bind(org_id)
                .bind(page.per_page)
                .bind(page.offset())
                .fetch_all(&self.pool)
                .await?;
                let items = rows.into_iter().map(Repo::try_from).collect::<StoreResult<_>>()?;
                Ok(Paged { total_count, items })
            }

            async fn set_membership(
                &self,
                org_id: i64,
                user: &Name,
                role: Role,
                actor: &str,
            ) -> StoreResult<Membership> {
                let mut tx = self.begin_write().await?;
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
                self.commit_change(tx).await?;
                Ok(Membership { username, role })
            }

            async fn remove_membership(&self, org_id: i64, user: &Name, actor: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
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
                self.commit_change(tx).await?;
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
                let mut tx = self.begin_write().await?;
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
                self.commit_change(tx).await?;
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
        }
    };
}

pub(crate) use impl_part;
