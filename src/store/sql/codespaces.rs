//! Codespaces, judged and written so that no policy edit commits between the reading of
//! the org's policy version and the write (`sql/mod.rs`), and the idempotency keys of their
//! creation.

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
            /// Inserts the codespace if the org's policy version is still `version`, in one
            /// statement, which holds codespace writes' lock from before its snapshot to its
            /// commit (SQLite: the write lock). `false`: the version moved, nothing was written.
            /// Where the backend can (PostgreSQL), the same statement writes its decision too;
            /// elsewhere the caller writes it in the same transaction (`decision_in_statement`).
            async fn insert_codespace<'e, E>(
                executor: E,
                new: &NewCodespace,
                build: &CodespaceBuild,
                now: chrono::DateTime<Utc>,
                version: i64,
            ) -> StoreResult<bool>
            where
                E: sqlx::Executor<'e, Database = <$conn as sqlx::Connection>::Database>,
            {
                let log = encode_log(&build.creation_log);
                let registries = encode_registries(&build.registries);
                // Room for the twelve values up front: bound one by one, the arguments' buffer
                // grew about nine times a creation.
                let mut arguments =
                    <<$conn as sqlx::Connection>::Database as sqlx::Database>::Arguments::default();
                let text = new.id.len() + new.user.len() + build.billable_owner.len()
                    + build.image.len() + log.len() + registries.len();
                sqlx::Arguments::reserve(&mut arguments, 19, text + 256);
                let decision = build.decision.as_ref().filter(|_| Self::DECISION_IN_STATEMENT);
                let sql = if decision.is_some() {
                    "WITH org AS (SELECT id FROM orgs WHERE id = $2 AND policy_version = $11), \
                     cs AS (INSERT INTO codespaces (id, org_id, repo_id, user_login, billable_owner, \
                     image, image_source, recovery_mode, creation_log, created_at, updated_at, \
                     registries) \
                     SELECT $1, org.id, $3, $4, $5, $6, $7, $8, $9, $10, $10, $12 FROM org \
                     RETURNING id, org_id) \
                     INSERT INTO decisions (org_id, at, repository, user_login, image, image_source, \
                     outcome, refused_by, reported_by, codespace_id, repo_key) \
                     SELECT cs.org_id, $10, $13, $4, $14, $15, $16, $17, $18, cs.id, $19 FROM cs"
                } else {
                    "WITH org AS (SELECT id FROM orgs WHERE id = $2 AND policy_version = $11) \
                     INSERT INTO codespaces (id, org_id, repo_id, user_login, billable_owner, \
                     image, image_source, recovery_mode, creation_log, created_at, updated_at, \
                     registries) \
                     SELECT $1, org.id, $3, $4, $5, $6, $7, $8, $9, $10, $10, $12 FROM org"
                };
                let mut query = sqlx::query_with(sql, arguments)
                    .bind(&new.id)
                .bind(new.org_id)
                .bind(new.repo_id)
                .bind(&new.user)
                .bind(&build.billable_owner)
                .bind(&build.image)
                .bind(build.image_source.as_str())
                .bind(build.recovery_mode)
                .bind(log)
                .bind(now)
                .bind(version)
                .bind(registries);
                if let Some(note) = decision {
                    query = query
                        .bind(&new.repository)
                        .bind(&note.image)
                        .bind(note.image_source.as_str())
                        .bind(note.outcome.as_str())
                        .bind(encode_ids(&note.refused_by))
                        .bind(encode_ids(&note.reported_by))
                        .bind(repo_key_of(&new.repository));
                }
                let inserted = query.execute(executor).await?.rows_affected();
                Ok(inserted == 1)
            }
        }

        impl $store {
            /// Whether `insert_codespace` alone writes everything `build` needs.
            fn one_statement(build: &CodespaceBuild) -> bool {
                build.decision.is_none() || Self::DECISION_IN_STATEMENT
            }

            /// Writes the creation's decision in its transaction, unless its insert did.
            async fn decision_beside(
                conn: &mut $conn,
                new: &NewCodespace,
                build: &CodespaceBuild,
                now: chrono::DateTime<Utc>,
            ) -> StoreResult<()> {
                match &build.decision {
                    Some(note) if !Self::DECISION_IN_STATEMENT => {
                        let who = (new.repository.as_str(), new.user.as_str());
                        Self::insert_decision(&mut *conn, new.org_id, who, note, now, Some(&new.id))
                            .await
                    }
                    _ => Ok(()),
                }
            }

            /// A refusal's decision, on its own: the refusal is answered only once it is kept.
            async fn record_refusal(
                &self,
                org_id: i64,
                who: (&str, &str),
                refused: &Refused,
            ) -> StoreResult<()> {
                Self::insert_decision(&self.pool, org_id, who, &refused.decision, Utc::now(), None)
                    .await
            }

            /// Stores a creation's 201 as its idempotency key's answer, in its transaction.
            async fn store_answer(
                conn: &mut $conn,
                answer: &IdempotentAnswer<'_>,
                codespace: &Codespace,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE idempotency_keys SET state = 'done', status = 201, response = $1 \
                     WHERE scope = $2 AND key = $3",
                )
                .bind((answer.render)(codespace))
                .bind(answer.scope)
                .bind(answer.key)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }
        }

        /// The codespace as written, without reading it back.
        fn codespace_from(
            new: NewCodespace,
            build: CodespaceBuild,
            now: chrono::DateTime<Utc>,
        ) -> Codespace {
            Codespace {
                id: new.id,
                org_id: new.org_id,
                repo_id: new.repo_id,
                repository: new.repository,
                user: new.user,
                billable_owner: build.billable_owner,
                image: build.image,
                image_source: build.image_source,
                recovery_mode: build.recovery_mode,
                creation_log: build.creation_log,
                registries: build.registries,
                created_at: now,
                updated_at: now,
            }
        }

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
                // inserts (with its decision, on PostgreSQL). One round trip, no transaction
                // to hold, unless an idempotent answer or (SQLite) a decision must commit with
                // the codespace.
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
                            let mut tx = self.pool.begin_with($begin).await?;
                            if Self::insert_codespace(&mut *tx, &new, &build, now, version).await? {
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
                            let current: i64 =
                                sqlx::query_scalar("SELECT policy_version FROM orgs WHERE id = $1")
                                    .bind(new.org_id)
                                    .fetch_one(&self.pool)
                                    .await?;
                            if current == version {
                                self.record_refusal(new.org_id, (&new.repository, &new.user), &refused)
                                    .await?;
                                return Ok(Err(refused));
                            }
                        }
                    }
                }
                // The set was missing or stale: hold off policy edits, (re)compile, judge, write.
                let mut tx = self.pool.begin_with($begin).await?;
                Self::join_codespace_writes(&mut tx).await?;
                let version = Self::policy_version(&mut tx, new.org_id, "").await?;
                let set = self.compiled_set(&mut tx, new.org_id, version).await?;
                let build = match plan(&set) {
                    Ok(build) => build,
                    Err(refused) => {
                        tx.rollback().await?;
                        self.record_refusal(new.org_id, (&new.repository, &new.user), &refused)
                            .await?;
                        return Ok(Err(refused));
                    }
                };
                let now = Utc::now();
                if !Self::insert_codespace(&mut *tx, &new, &build, now, version).await? {
                    return Err(StoreError::Internal("the locked policy version moved".into()));
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
                let mut tx = self.pool.begin_with($begin).await?;
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
                     recovery_mode = $4, creation_log = $5, updated_at = $6, registries = $8 \
                     WHERE id = $7",
                )
                .bind(&build.billable_owner)
                .bind(&build.image)
                .bind(build.image_source.as_str())
                .bind(build.recovery_mode)
                .bind(encode_log(&build.creation_log))
                .bind(now)
                .bind(id)
                .bind(encode_registries(&build.registries))
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
