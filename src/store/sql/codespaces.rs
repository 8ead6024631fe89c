//! Codespaces, judged and written in one transaction that holds the org's row shared, and
//! the idempotency keys of their creation.

macro_rules! impl_part {
    (
        store = $store:ident,
        connection = $conn:ty,
        begin_write = $begin:literal,
        for_share = $share:literal,
        for_update = $update:literal,
        notify = $notify:literal $(,)?
    ) => {
        #[async_trait]
        impl CodespaceStore for $store {
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
        }
    };
}

pub(crate) use impl_part;
