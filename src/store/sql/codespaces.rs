//! Codespaces, judged and written so that no policy edit commits between the reading of
//! the org's policy version and the write (`sql/mod.rs`); the statements they share are in
//! `codespace_writes.rs`.

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
        impl CodespaceStore for $store {
            async fn create_codespace(
                &self,
                new: NewCodespace,
                mut plan: BuildPlan<'_>,
                answer: Option<IdempotentAnswer<'_>>,
            ) -> StoreResult<Result<Codespace, Refused>> {
                // Fast path: judge by the newest compiled set, and write only if the org's
                // policy version is still that set's, checked in the very statement that
                // inserts (with its decision, and the user's place under a per-user limit, on
                // PostgreSQL). One round trip, no transaction to hold, unless an idempotent
                // answer or (SQLite) a decision or a count must commit with the codespace. A
                // statement that wrote nothing (the version moved, or the user is at the limit)
                // goes the slow way, which tells the two apart.
                if let Some((version, set)) = self.cache.latest(new.org_id) {
                    match plan(&set) {
                        Ok(build) if answer.is_none() && Self::one_statement(&build) => {
                            let now = Utc::now();
                            let written =
                                Self::insert_codespace(&self.pool, &new, &build, now, version)
                                    .await?;
                            if written {
                                return Ok(Ok(codespace_from(new, build, now)));
                            }
                        }
                        Ok(build) => {
                            let now = Utc::now();
                            let mut tx = self.begin_write().await?;
                            if let Some(refused) = Self::over_user_limit(&mut tx, &new, &build).await? {
                                // The cached set's limit refuses only if the set is current
                                // (the transaction holds the write lock: it stays so).
                                if Self::policy_version(&mut tx, new.org_id, "").await? == version {
                                    return self.refuse(tx, &new, refused).await;
                                }
                            } else if Self::insert_codespace(&mut *tx, &new, &build, now, version).await? {
                                Self::decision_beside(&mut tx, &new, &build, now).await?;
                                let codespace = codespace_from(new, build, now);
                                if let Some(answer) = &answer {
                                    Self::store_answer(&mut tx, answer, &codespace).await?;
                                }
                                tx.commit().await?;
                                return Ok(Ok(codespace));
                            }
                            tx.rollback().await?;
                        }
                        Err(refused) => {
                            // Nothing is written but its decision: the refusal stands if the set
                            // is current.
                            let mut conn = self.pool.acquire().await?;
                            let current = Self::policy_version(&mut conn, new.org_id, "").await?;
                            drop(conn);
                            if current == version {
                                self.record_refusal(new.org_id, (&new.repository, &new.user), &refused)
                                    .await?;
                                return Ok(Err(refused));
                            }
                        }
                    }
                }
                // The set was missing or stale: hold off policy edits, (re)compile, judge, write.
                let mut tx = self.begin_write().await?;
                Self::join_codespace_writes(&mut tx).await?;
                let version = Self::policy_version(&mut tx, new.org_id, "").await?;
                let set = self.compiled_set(&mut tx, new.org_id, version).await?;
                let build = match plan(&set) {
                    Ok(build) => build,
                    Err(refused) => return self.refuse(tx, &new, refused).await,
                };
                if let Some(refused) = Self::over_user_limit(&mut tx, &new, &build).await? {
                    return self.refuse(tx, &new, refused).await;
                }
                let now = Utc::now();
                if !Self::insert_codespace(&mut *tx, &new, &build, now, version).await? {
                    let refused = Self::refused_at_insert(&mut tx, &new, &build).await?;
                    return self.refuse(tx, &new, refused).await;
                }
                Self::decision_beside(&mut tx, &new, &build, now).await?;
                let codespace = codespace_from(new, build, now);
                if let Some(answer) = &answer {
                    Self::store_answer(&mut tx, answer, &codespace).await?;
                }
                tx.commit().await?;
                Ok(Ok(codespace))
            }

            async fn rebuild_codespace(
                &self,
                id: &str,
                mut plan: BuildPlan<'_>,
            ) -> StoreResult<Result<Codespace, Refused>> {
                let mut tx = self.begin_write().await?;
                Self::join_codespace_writes(&mut tx).await?;
                let existing = Self::fetch_codespace(&mut tx, id).await?;
                let org_id = existing.org_id;
                let version = Self::policy_version(&mut tx, org_id, "").await?;
                let set = self.compiled_set(&mut tx, org_id, version).await?;
                let who = (existing.repository.as_str(), existing.user.as_str());
                let build = match plan(&set) {
                    Ok(build) => build,
                    Err(refused) => {
                        tx.rollback().await?;
                        self.record_refusal(org_id, who, &refused).await?;
                        return Ok(Err(refused));
                    }
                };
                let now = Utc::now();
                sqlx::query(
                    "UPDATE codespaces SET billable_owner = $1, image = $2, image_source = $3, \
                     recovery_mode = $4, creation_log = $5, updated_at = $6, registries = $8, \
                     billed_to_org = $9, machine = $10, idle_timeout_minutes = $11, \
                     idle_timeout_requested = $12, idle_timeout_notice = $13, \
                     retention_period_minutes = $14 WHERE id = $7",
                )
                .bind(&build.billable_owner)
                .bind(&build.image)
                .bind(build.image_source.as_str())
                .bind(build.recovery_mode)
                .bind(encode_log(&build.creation_log))
                .bind(now)
                .bind(id)
                .bind(encode_registries(&build.registries))
                .bind(build.billed_to_org)
                .bind(&build.machine)
                .bind(i64::from(build.limits.idle_timeout_minutes))
                .bind(build.limits.idle_timeout_requested.map(i64::from))
                .bind(&build.limits.idle_timeout_notice)
                .bind(i64::from(build.limits.retention_period_minutes))
                .execute(&mut *tx)
                .await?;
                if let Some(note) = &build.decision {
                    Self::insert_decision(&mut *tx, org_id, who, note, now, Some(id)).await?;
                }
                let codespace = Self::fetch_codespace(&mut tx, id).await?;
                tx.commit().await?;
                Ok(Ok(codespace))
            }

            async fn append_codespace_log(&self, id: &str, line: &str) -> StoreResult<Codespace> {
                let mut tx = self.begin_write().await?;
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
                    .bind(encode_log(&lines))
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

            async fn count_user_codespaces(&self, org_id: i64, user: &str) -> StoreResult<i64> {
                Self::held(&self.pool, org_id, &user.to_ascii_lowercase()).await
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

pub(crate) use impl_part;
