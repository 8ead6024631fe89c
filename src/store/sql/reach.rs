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
            /// One owner's secrets, with the selected repositories of each, from the database:
            /// every secret with its value (`all`), or only the registry triplets' secrets
            /// with only the servers' values, which is all a creation needs.
            async fn level_secrets(
                &self,
                level: Level,
                owner_id: i64,
                all: bool,
            ) -> StoreResult<Vec<CandidateSecret>> {
                let rows: Vec<CandidateRow> = sqlx::query_as(&format!(
                    "SELECT s.level, s.owner_id, s.name, s.visibility, \
                     COALESCE((SELECT CAST({JSON_ARRAY_AGG}(sr.repo_id ORDER BY sr.repo_id) AS TEXT) \
                         FROM secret_repos sr WHERE sr.secret_id = s.id), '[]') AS selected, \
                     CASE WHEN $3 OR s.name LIKE '%\\_CONTAINER\\_REGISTRY\\_SERVER' ESCAPE '\\' \
                         THEN s.value END AS value \
                     FROM secrets s WHERE s.level = $1 AND s.owner_id = $2 \
                     AND ($3 OR s.name LIKE '%\\_CONTAINER\\_REGISTRY\\_SERVER' ESCAPE '\\' \
                         OR s.name LIKE '%\\_CONTAINER\\_REGISTRY\\_USER' ESCAPE '\\' \
                         OR s.name LIKE '%\\_CONTAINER\\_REGISTRY\\_PASSWORD' ESCAPE '\\')"
                ))
                .bind(level.as_str())
                .bind(owner_id)
                .bind(all)
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
                let owners = user_id
                    .map(|id| (Level::User, id))
                    .into_iter()
                    .chain([(Level::Repository, repo_id), (Level::Organization, org_id)]);
                let mut levels = Vec::with_capacity(3);
                for key in owners {
                    let secrets = match values {
                        // Opened values are never kept in memory: read them now.
                        ValuesWanted::All => Arc::new(self.level_secrets(key.0, key.1, true).await?),
                        ValuesWanted::RegistryServers => {
                            self.reads
                                .read_through(
                                    |maps| maps.levels.get(&key).cloned(),
                                    async { Ok(Arc::new(self.level_secrets(key.0, key.1, false).await?)) },
                                    |maps, secrets| maps.put_level(key, secrets),
                                )
                                .await?
                        }
                    };
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
