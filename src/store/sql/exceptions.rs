//! Policy exceptions. Every write is a policy write as far as codespaces are concerned: it
//! locks the org's row against other edits, records its audit entry, and last, with
//! codespace writes held off, bumps the org's policy version (`sql/mod.rs`), so that the
//! compiled sets every instance caches are renewed with it. Expiry needs no write: the
//! decision compares `expires_at` with the service's clock.

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
        use $crate::store::exception_store::ExceptionRow;

        impl $store {
            /// The org's exceptions with their repositories' names: one (`id`), one page, or all.
            async fn fetch_exceptions(
                conn: &mut $conn,
                org_id: i64,
                id: Option<i64>,
                page: Option<PageRequest>,
            ) -> StoreResult<Vec<ExceptionRecord>> {
                let (limit, offset) = page.map_or((i64::MAX, 0), |p| (p.per_page, p.offset()));
                let rows: Vec<ExceptionRow> = sqlx::query_as(
                    "SELECT e.id, r.name AS repository, e.user_login, e.allowed_values, \
                     e.expires_at, e.reason, e.created_at, e.created_by \
                     FROM policy_exceptions e LEFT JOIN repos r ON r.id = e.repo_id \
                     WHERE e.org_id = $1 AND ($2 IS NULL OR e.id = $2) \
                     ORDER BY e.id LIMIT $3 OFFSET $4",
                )
                .bind(org_id)
                .bind(id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *conn)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn fetch_exception(
                conn: &mut $conn,
                org_id: i64,
                id: i64,
            ) -> StoreResult<ExceptionRecord> {
                Self::fetch_exceptions(conn, org_id, Some(id), None)
                    .await?
                    .pop()
                    .ok_or(StoreError::NotFound)
            }
        }

        #[async_trait]
        impl ExceptionStore for $store {
            async fn list_exceptions(
                &self,
                org_id: i64,
                page: PageRequest,
            ) -> StoreResult<Paged<ExceptionRecord>> {
                let mut conn = self.pool.acquire().await?;
                let total_count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM policy_exceptions WHERE org_id = $1")
                        .bind(org_id)
                        .fetch_one(&mut *conn)
                        .await?;
                let items = Self::fetch_exceptions(&mut conn, org_id, None, Some(page)).await?;
                Ok(Paged { total_count, items })
            }

            async fn get_exception(&self, org_id: i64, id: i64) -> StoreResult<ExceptionRecord> {
                let mut conn = self.pool.acquire().await?;
                Self::fetch_exception(&mut conn, org_id, id).await
            }

            async fn create_exception(
                &self,
                org_id: i64,
                draft: &ExceptionDraft,
                actor: &str,
            ) -> StoreResult<ExceptionRecord> {
                let mut tx = self.begin_write().await?;
                Self::policy_version(&mut tx, org_id, $update).await?;
                let repo_id = match &draft.repository {
                    None => None,
                    Some(name) => Some(
                        sqlx::query_scalar::<_, i64>(
                            "SELECT id FROM repos WHERE org_id = $1 AND name_key = $2",
                        )
                        .bind(org_id)
                        .bind(name.key())
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| StoreError::Invalid {
                            field: "repository".to_string(),
                            message: format!(
                                "names repository '{name}', which does not exist in this organization"
                            ),
                        })?,
                    ),
                };
                let values: Vec<&str> = draft.allowed_values.iter().map(|v| v.as_str()).collect();
                let values = serde_json::to_string(&values)
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO policy_exceptions (org_id, repo_id, user_login, user_key, \
                     allowed_values, expires_at, reason, created_at, created_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(org_id)
                .bind(repo_id)
                .bind(draft.user.as_ref().map(Name::as_str))
                .bind(draft.user.as_ref().map(Name::key))
                .bind(values)
                .bind(draft.expires_at)
                .bind(&draft.reason)
                .bind(draft.created_at)
                .bind(actor)
                .fetch_one(&mut *tx)
                .await?;
                let exception = Self::fetch_exception(&mut tx, org_id, id).await?;
                let after = Some(exception.snapshot());
                Self::audit(&mut tx, Some(org_id), actor, "policy_exception.create", None, after)
                    .await?;
                Self::bump_policy_version(&mut tx, org_id).await?;
                self.commit_change(tx).await?;
                Ok(exception)
            }

            async fn delete_exception(&self, org_id: i64, id: i64, actor: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::policy_version(&mut tx, org_id, $update).await?;
                let current = Self::fetch_exception(&mut tx, org_id, id).await?;
                let before = Some(current.snapshot());
                Self::audit(&mut tx, Some(org_id), actor, "policy_exception.delete", before, None)
                    .await?;
                sqlx::query("DELETE FROM policy_exceptions WHERE id = $1 AND org_id = $2")
                    .bind(id)
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
                Self::bump_policy_version(&mut tx, org_id).await?;
                self.commit_change(tx).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_part;
