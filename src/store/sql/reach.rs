//! What may reach a codespace, read in one statement, and the audit entry of the
//! orchestrator's read of opened values.

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
        impl ReachStore for $store {
            async fn candidate_secrets(
                &self,
                user_id: Option<i64>,
                org_id: i64,
                repo_id: i64,
                values: ValuesWanted,
            ) -> StoreResult<Vec<CandidateSecret>> {
                // The unique (level, owner_id, name) index finds each level's rows; values
                // other than registry servers stay in the database unless all are wanted.
                let rows: Vec<(String, i64, String, Option<String>, bool, Option<Vec<u8>>)> =
                    sqlx::query_as(
                        "SELECT s.level, s.owner_id, s.name, s.visibility, \
                         EXISTS (SELECT 1 FROM secret_repos sr \
                             WHERE sr.secret_id = s.id AND sr.repo_id = $3) AS selected, \
                         CASE WHEN $4 OR s.name LIKE '%\\_CONTAINER\\_REGISTRY\\_SERVER' ESCAPE '\\' \
                             THEN s.value END AS value \
                         FROM secrets s \
                         WHERE (s.level = 'user' AND s.owner_id = $1) \
                            OR (s.level = 'repository' AND s.owner_id = $3) \
                            OR (s.level = 'organization' AND s.owner_id = $2)",
                    )
                    .bind(user_id)
                    .bind(org_id)
                    .bind(repo_id)
                    .bind(values == ValuesWanted::All)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|(level, owner_id, name, visibility, selected, value)| {
                        let level = Level::parse(&level).ok_or_else(|| {
                            StoreError::Internal(format!("stored secret level '{level}'"))
                        })?;
                        let visibility = visibility
                            .map(|raw| {
                                OrgSecretVisibility::parse(&raw).ok_or_else(|| {
                                    StoreError::Internal(format!("stored secret visibility '{raw}'"))
                                })
                            })
                            .transpose()?;
                        Ok(CandidateSecret {
                            entry: $crate::registries::SecretEntry {
                                level,
                                name,
                                visibility,
                                selected_repo_ids: if selected { vec![repo_id] } else { Vec::new() },
                            },
                            owner_id,
                            value,
                        })
                    })
                    .collect()
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
