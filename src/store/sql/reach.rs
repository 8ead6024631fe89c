//! What may reach a codespace: each level's secrets (cached per owner, with only their
//! registry servers' values, encrypted), or every value read fresh for the orchestrator;
//! and the audit entry of the orchestrator's read of opened values.

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
            /// One owner's registry triplet secrets, with the selected repositories of each and
            /// the servers' values, which is all a creation needs, to be kept by the read cache.
            async fn level_registry_secrets(
                &self,
                level: Level,
                owner_id: i64,
            ) -> StoreResult<Vec<CandidateSecret>> {
                let rows: Vec<CandidateRow> = sqlx::query_as(&format!(
                    "SELECT s.level, s.owner_id, s.name, s.visibility, \
                     COALESCE((SELECT CAST({JSON_ARRAY_AGG}(sr.repo_id ORDER BY sr.repo_id) AS TEXT) \
                         FROM secret_repos sr WHERE sr.secret_id = s.id), '[]') AS selected, \
                     CASE WHEN s.name LIKE '%\\_CONTAINER\\_REGISTRY\\_SERVER' ESCAPE '\\' \
                         THEN s.value END AS value \
                     FROM secrets s WHERE s.level = $1 AND s.owner_id = $2 \
                     AND (s.name LIKE '%\\_CONTAINER\\_REGISTRY\\_SERVER' ESCAPE '\\' \
                         OR s.name LIKE '%\\_CONTAINER\\_REGISTRY\\_USER' ESCAPE '\\' \
                         OR s.name LIKE '%\\_CONTAINER\\_REGISTRY\\_PASSWORD' ESCAPE '\\')"
                ))
                .bind(level.as_str())
                .bind(owner_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(CandidateSecret::try_from).collect()
            }

            /// Every secret of the three owners with its value, in one statement; a secret's
            /// selected repositories are only this repository, when it selects it.
            async fn every_candidate(
                &self,
                user_id: Option<i64>,
                org_id: i64,
                repo_id: i64,
            ) -> StoreResult<Vec<CandidateSecret>> {
                let rows: Vec<CandidateRow> = sqlx::query_as(
                    "SELECT s.level, s.owner_id, s.name, s.visibility, \
                     CASE WHEN EXISTS (SELECT 1 FROM secret_repos sr \
                         WHERE sr.secret_id = s.id AND sr.repo_id = $3) \
                         THEN '[' || CAST($3 AS TEXT) || ']' ELSE '[]' END AS selected, \
                     s.value \
                     FROM secrets s \
                     WHERE (s.level = 'user' AND s.owner_id = $1) \
                        OR (s.level = 'repository' AND s.owner_id = $3) \
                        OR (s.level = 'organization' AND s.owner_id = $2)",
                )
                .bind(user_id)
                .bind(org_id)
                .bind(repo_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(CandidateSecret::try_from).collect()
            }
        }

        #[async_trait]
        impl ReachStore for $store {
            async fn candidate_secrets(
                &self,
                user_id: Option<i64>,
                org_id: i64,
                repo_id: i64,
                values: ValuesWanted,
            ) -> StoreResult<Vec<Arc<Vec<CandidateSecret>>>> {
                if values == ValuesWanted::All {
                    // Opened values are never kept in memory: read them now, in one round trip.
                    let every = self.every_candidate(user_id, org_id, repo_id).await?;
                    return Ok(vec![Arc::new(every)]);
                }
                let owners = user_id
                    .map(|id| (Level::User, id))
                    .into_iter()
                    .chain([(Level::Repository, repo_id), (Level::Organization, org_id)]);
                let mut levels = Vec::with_capacity(3);
                for key in owners {
                    let secrets = self
                        .reads
                        .read_through(
                            |maps| maps.levels.get(&key).cloned(),
                            async { Ok(Arc::new(self.level_registry_secrets(key.0, key.1).await?)) },
                            |maps, secrets| maps.put_level(key, secrets),
                        )
                        .await?;
                    levels.push(secrets);
                }
                Ok(levels)
            }

            async fn record_secrets_read(
                &self,
                org_id: i64,
                actor: &str,
                codespace_id: &str,
                names: &[String],
            ) -> StoreResult<()> {
                let mut conn = self.pool.acquire().await?;
                let after = serde_json::json!({ "codespace": codespace_id, "names": names });
                Self::audit(&mut conn, Some(org_id), actor, "codespace.secrets.read", None, Some(after))
                    .await
            }
        }
    };
}

pub(crate) use impl_part;
