//! The writes a codespace's creation and rebuild share: the insert that checks the org's
//! policy version (with its decision, where one statement can hold both), the decision beside
//! it or alone, and the idempotent answer stored in the same transaction.

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
            /// commit (SQLite: the write lock). Where the backend can (PostgreSQL), the same
            /// statement writes its decision and takes the user's place in `codespaces_held`
            /// (under their limit, if one applies); elsewhere the caller writes the decision
            /// in the same transaction and counts first (`over_user_limit`). `false`: nothing
            /// was written, because the version moved or (PostgreSQL) the user is at the limit.
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
                // Room for the values up front: bound one by one, the arguments' buffer
                // grew about nine times a creation.
                let mut arguments =
                    <<$conn as sqlx::Connection>::Database as sqlx::Database>::Arguments::default();
                let text = new.id.len() + new.user.len() + build.billable_owner.len()
                    + build.image.len() + log.len() + registries.len();
                sqlx::Arguments::reserve(&mut arguments, 29, text + 320);
                let decision = build.decision.as_ref().filter(|_| Self::DECISION_IN_STATEMENT);
                let held = match &build.per_user_limit {
                    _ if !(Self::COUNT_IN_STATEMENT && build.billed_to_org) => HeldRow::Untouched,
                    Some(_) => HeldRow::BumpedUnderLimit,
                    None => HeldRow::Bumped,
                };
                let sql = insert_statement(decision.is_some(), held);
                let user_key = new.user.to_ascii_lowercase();
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
                .bind(registries)
                .bind(&user_key)
                .bind(build.billed_to_org)
                .bind(&build.machine)
                .bind(i64::from(build.limits.idle_timeout_minutes))
                .bind(build.limits.idle_timeout_requested.map(i64::from))
                .bind(&build.limits.idle_timeout_notice)
                .bind(i64::from(build.limits.retention_period_minutes));
                if let (HeldRow::BumpedUnderLimit, Some(limit)) = (held, &build.per_user_limit) {
                    query = query.bind(i64::from(limit.value));
                }
                if let Some(note) = decision {
                    query = query
                        .bind(&new.repository)
                        .bind(&note.image)
                        .bind(note.image_source.as_str())
                        .bind(note.outcome.as_str())
                        .bind(encode_ids(&note.refused_by))
                        .bind(encode_ids(&note.reported_by))
                        .bind(repo_key_of(&new.repository))
                        .bind(note.exception);
                }
                let inserted = query.execute(executor).await?.rows_affected();
                Ok(inserted == 1)
            }
        }

        impl $store {
            /// Whether `insert_codespace` alone writes everything `build` needs: no decision
            /// beside it and no codespaces to count first, or the backend's statement does both.
            fn one_statement(build: &CodespaceBuild) -> bool {
                (build.decision.is_none() || Self::DECISION_IN_STATEMENT)
                    && (build.per_user_limit.is_none() || Self::COUNT_IN_STATEMENT)
            }

            /// Where the insert does not check the limit itself (SQLite), counts the user's
            /// org-billed codespaces against `build.per_user_limit` in the caller's writing
            /// transaction, whose lock holds the count until the insert commits.
            /// `Some(refusal)` when the user already has the maximum.
            async fn over_user_limit(
                conn: &mut $conn,
                new: &NewCodespace,
                build: &CodespaceBuild,
            ) -> StoreResult<Option<Refused>> {
                if build.per_user_limit.is_none() || Self::COUNT_IN_STATEMENT {
                    return Ok(None);
                }
                let held = Self::held(&mut *conn, new.org_id, &new.user.to_ascii_lowercase()).await?;
                Ok(crate::provisioning::over_codespace_limit(build, held))
            }

            /// Why an insert under the locked policy version wrote nothing: the user is at the
            /// limit (checked in the statement, which left their row locked to this
            /// transaction's end). Anything else means the lock did not hold.
            async fn refused_at_insert(
                conn: &mut $conn,
                new: &NewCodespace,
                build: &CodespaceBuild,
            ) -> StoreResult<Refused> {
                let held = Self::held(&mut *conn, new.org_id, &new.user.to_ascii_lowercase()).await?;
                crate::provisioning::over_codespace_limit(build, held)
                    .ok_or_else(|| StoreError::Internal("the locked policy version moved".into()))
            }

            /// How many codespaces billed to the org the user `user_key` holds there.
            async fn held<'e, E>(executor: E, org_id: i64, user_key: &str) -> StoreResult<i64>
            where
                E: sqlx::Executor<'e, Database = <$conn as sqlx::Connection>::Database>,
            {
                Ok(sqlx::query_scalar(Self::HELD)
                .bind(org_id)
                .bind(user_key)
                .fetch_one(executor)
                .await?)
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

            /// Ends a creation's transaction with nothing written, and keeps the refusal's
            /// decision: a refusal is answered only once it is kept.
            async fn refuse(
                &self,
                tx: sqlx::Transaction<'static, <$conn as sqlx::Connection>::Database>,
                new: &NewCodespace,
                refused: Refused,
            ) -> StoreResult<Result<Codespace, Refused>> {
                tx.rollback().await?;
                self.record_refusal(new.org_id, (&new.repository, &new.user), &refused)
                    .await?;
                Ok(Err(refused))
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

        /// What a creation's INSERT does to the user's row in `codespaces_held` (PostgreSQL,
        /// codespaces billed to an org whose policies set a per-user limit).
        #[derive(Clone, Copy)]
        enum HeldRow {
            Untouched,
            /// Bumped, so that the count holds should a limit apply to a later creation.
            Bumped,
            /// Bumped only while under the limit (`$20`): the upsert locks the row and judges
            /// its newest version, so of two creations racing for the last place one writes.
            BumpedUnderLimit,
        }

        /// The creation's INSERT: with its decision in the same statement (PostgreSQL), and
        /// with the user's place taken in `codespaces_held`; the decision's parameters follow.
        /// Each of the six is written once, the first time it is needed: creation is the hot
        /// path.
        fn insert_statement(with_decision: bool, held: HeldRow) -> &'static str {
            static WRITTEN: std::sync::OnceLock<[String; 6]> = std::sync::OnceLock::new();
            let written = WRITTEN.get_or_init(|| {
                let held = [HeldRow::Untouched, HeldRow::Bumped, HeldRow::BumpedUnderLimit];
                std::array::from_fn(|i| write_insert_statement(i % 2 == 1, held[i / 2]))
            });
            &written[held as usize * 2 + usize::from(with_decision)]
        }

        fn write_insert_statement(with_decision: bool, held: HeldRow) -> String {
            let version = "FROM orgs WHERE id = $2 AND policy_version = $11";
            // Only an org whose policies set the limit keeps rows (`orgs.counts_held`).
            let bump = "INSERT INTO codespaces_held (org_id, user_key, held) \
                 SELECT id, $13, 1 FROM org WHERE org.counts_held";
            let upsert = "ON CONFLICT (org_id, user_key) DO UPDATE SET held = codespaces_held.held + 1";
            let (org, source, first) = match held {
                HeldRow::Untouched => (format!("WITH org AS (SELECT id {version})"), "org", 20),
                HeldRow::Bumped => (
                    format!("WITH org AS (SELECT id, counts_held {version}), held AS ({bump} {upsert})"),
                    "org",
                    20,
                ),
                HeldRow::BumpedUnderLimit => (
                    format!(
                        "WITH org AS (SELECT id, counts_held {version}), \
                         held AS ({bump} AND $20 > 0 {upsert} \
                         WHERE codespaces_held.held < $20 RETURNING org_id AS id)"
                    ),
                    "held",
                    21,
                ),
            };
            let insert = format!(
                "INSERT INTO codespaces (id, org_id, repo_id, user_login, billable_owner, \
                 image, image_source, recovery_mode, creation_log, created_at, updated_at, \
                 registries, user_key, billed_to_org, machine, idle_timeout_minutes, \
                 idle_timeout_requested, idle_timeout_notice, retention_period_minutes) \
                 SELECT $1, {source}.id, $3, $4, $5, $6, $7, $8, $9, $10, $10, $12, \
                 $13, $14, $15, $16, $17, $18, $19 FROM {source}"
            );
            if !with_decision {
                return format!("{org} {insert}");
            }
            let p = |k: usize| format!("${}", first + k);
            format!(
                "{org}, cs AS ({insert} RETURNING id, org_id) \
                 INSERT INTO decisions (org_id, at, repository, user_login, image, image_source, \
                 outcome, refused_by, reported_by, codespace_id, repo_key, exception_id) \
                 SELECT cs.org_id, $10, {}, $4, {}, {}, {}, {}, {}, cs.id, {}, {} FROM cs",
                p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7)
            )
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
                billed_to_org: build.billed_to_org,
                machine: Some(build.machine),
                state: CodespaceState::Available,
                limits: build.limits,
                retention_expires_at: None,
                ports: Vec::new(),
                created_at: now,
                updated_at: now,
            }
        }

    };
}

pub(crate) use impl_part;
