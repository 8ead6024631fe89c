//! Codespaces secrets: the master key's fingerprint, level key pairs, secrets and the
//! repositories they name. Every write to one owner's secrets first locks that owner's
//! current key row, so writes to one level are serialized (two PUTs of one secret leave
//! one whole value; the count limit holds) while other levels proceed.

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
        use $crate::store::secret_rows::{secret_snapshot, CandidateRow, SecretRepoRow, SecretRow};

        const SECRET_COLUMNS: &str = "id, name, visibility, created_at, updated_at";

        #[async_trait]
        impl SecretStore for $store {
            async fn claim_master_key_fingerprint(&self, fingerprint: &str) -> StoreResult<String> {
                sqlx::query(
                    "INSERT INTO service_settings (name, value) VALUES ('master_key_fingerprint', $1) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(fingerprint)
                .execute(&self.pool)
                .await?;
                Ok(sqlx::query_scalar(
                    "SELECT value FROM service_settings WHERE name = 'master_key_fingerprint'",
                )
                .fetch_one(&self.pool)
                .await?)
            }

            async fn current_level_key(&self, owner: &SecretOwner) -> StoreResult<Option<StoredLevelKey>> {
                let row: Option<(String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
                    "SELECT key_id, public_key, private_key FROM secret_keys \
                     WHERE level = $1 AND owner_id = $2 AND is_current = $3",
                )
                .bind(owner.level.as_str())
                .bind(owner.id)
                .bind(true)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(key_id, public_key, private_key)| StoredLevelKey {
                    key_id,
                    public_key,
                    private_key,
                }))
            }

            async fn insert_level_key(&self, owner: &SecretOwner, key: &StoredLevelKey) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO secret_keys \
                     (level, owner_id, key_id, public_key, private_key, is_current, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                )
                .bind(owner.level.as_str())
                .bind(owner.id)
                .bind(&key.key_id)
                .bind(&key.public_key)
                .bind(&key.private_key)
                .bind(true)
                .bind(Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_secrets(
                &self,
                owner: &SecretOwner,
                page: PageRequest,
            ) -> StoreResult<Paged<SecretRecord>> {
                let total_count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM secrets WHERE level = $1 AND owner_id = $2",
                )
                .bind(owner.level.as_str())
                .bind(owner.id)
                .fetch_one(&self.pool)
                .await?;
                let rows: Vec<SecretRow> = sqlx::query_as(&format!(
                    "SELECT {SECRET_COLUMNS} FROM secrets WHERE level = $1 AND owner_id = $2 \
                     ORDER BY name LIMIT $3 OFFSET $4"
                ))
                .bind(owner.level.as_str())
                .bind(owner.id)
                .bind(page.per_page)
                .bind(page.offset())
                .fetch_all(&self.pool)
                .await?;
                let items = rows.into_iter().map(SecretRecord::try_from).collect::<StoreResult<_>>()?;
                Ok(Paged { total_count, items })
            }

            async fn find_secret(
                &self,
                owner: &SecretOwner,
                name: &str,
            ) -> StoreResult<Option<SecretRecord>> {
                let row: Option<SecretRow> = sqlx::query_as(&format!(
                    "SELECT {SECRET_COLUMNS} FROM secrets \
                     WHERE level = $1 AND owner_id = $2 AND name = $3"
                ))
                .bind(owner.level.as_str())
                .bind(owner.id)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                row.map(SecretRecord::try_from).transpose()
            }

            async fn put_secret(
                &self,
                owner: &SecretOwner,
                key_id: &str,
                write: SecretWrite,
                actor: &str,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                if Self::lock_level(&mut tx, owner).await?.as_deref() != Some(key_id) {
                    return Err(StoreError::Invalid {
                        field: "key_id".into(),
                        message: "is not the current public key for this level".into(),
                    });
                }
                let existing = Self::stored_secret(&mut tx, owner, &write.name).await?;
                let before = match &existing {
                    Some((id, visibility)) => {
                        let ids = Self::secret_repo_ids(&mut tx, *id).await?;
                        Some(secret_snapshot(owner, &write.name, *visibility, &ids))
                    }
                    None => {
                        let count: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM secrets WHERE level = $1 AND owner_id = $2",
                        )
                        .bind(owner.level.as_str())
                        .bind(owner.id)
                        .fetch_one(&mut *tx)
                        .await?;
                        if count >= MAX_SECRETS_PER_LEVEL {
                            return Err(StoreError::Invalid {
                                field: "secret_name".into(),
                                message: format!(
                                    "would be secret {}; a level holds at most {MAX_SECRETS_PER_LEVEL}",
                                    count + 1
                                ),
                            });
                        }
                        None
                    }
                };
                if let Some(ids) = &write.repositories {
                    Self::check_repo_ids(&mut tx, owner, ids, "selected_repository_ids").await?;
                }
                let now = Utc::now();
                let secret_id: i64 = sqlx::query_scalar(
                    "INSERT INTO secrets \
                     (level, owner_id, org_id, name, value, visibility, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                     ON CONFLICT (level, owner_id, name) DO UPDATE SET value = excluded.value, \
                     visibility = excluded.visibility, updated_at = excluded.updated_at \
                     RETURNING id",
                )
                .bind(owner.level.as_str())
                .bind(owner.id)
                .bind(owner.org_id)
                .bind(&write.name)
                .bind(&write.value)
                .bind(write.visibility.map(OrgSecretVisibility::as_str))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let names_repos = owner.level == Level::User
                    || write.visibility == Some(OrgSecretVisibility::Selected);
                match (&write.repositories, names_repos) {
                    (Some(ids), true) => Self::write_secret_repos(&mut tx, secret_id, ids).await?,
                    (_, false) => Self::write_secret_repos(&mut tx, secret_id, &[]).await?,
                    (None, true) => {}
                }
                let ids = Self::secret_repo_ids(&mut tx, secret_id).await?;
                let after = secret_snapshot(owner, &write.name, write.visibility, &ids);
                let action = if before.is_some() { "secret.update" } else { "secret.create" };
                let created = before.is_none();
                Self::audit(&mut tx, owner.org_id, actor, action, before, Some(after)).await?;
                self.commit_change(tx).await?;
                Ok(created)
            }

            async fn delete_secret(&self, owner: &SecretOwner, name: &str, actor: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::lock_level(&mut tx, owner).await?;
                let existing = Self::stored_secret(&mut tx, owner, name).await?;
                let (id, visibility) = existing.ok_or(StoreError::NotFound)?;
                let ids = Self::secret_repo_ids(&mut tx, id).await?;
                sqlx::query("DELETE FROM secrets WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let before = secret_snapshot(owner, name, visibility, &ids);
                Self::audit(&mut tx, owner.org_id, actor, "secret.delete", Some(before), None).await?;
                self.commit_change(tx).await?;
                Ok(())
            }

            async fn secret_repos(
                &self,
                secret_id: i64,
                page: PageRequest,
            ) -> StoreResult<Paged<SecretRepo>> {
                let total_count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM secret_repos WHERE secret_id = $1")
                        .bind(secret_id)
                        .fetch_one(&self.pool)
                        .await?;
                let rows: Vec<SecretRepoRow> = sqlx::query_as(
                    "SELECT o.login AS org_login, r.id, r.name, r.visibility, r.created_at \
                     FROM secret_repos sr JOIN repos r ON r.id = sr.repo_id \
                     JOIN orgs o ON o.id = r.org_id WHERE sr.secret_id = $1 \
                     ORDER BY o.login_key, r.name_key LIMIT $2 OFFSET $3",
                )
                .bind(secret_id)
                .bind(page.per_page)
                .bind(page.offset())
                .fetch_all(&self.pool)
                .await?;
                let items = rows.into_iter().map(SecretRepo::try_from).collect::<StoreResult<_>>()?;
                Ok(Paged { total_count, items })
            }

            async fn change_secret_repos(
                &self,
                owner: &SecretOwner,
                name: &str,
                change: RepoChange,
                actor: &str,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::lock_level(&mut tx, owner).await?;
                let existing = Self::stored_secret(&mut tx, owner, name).await?;
                let (id, visibility) = existing.ok_or(StoreError::NotFound)?;
                if owner.level == Level::Organization && visibility != Some(OrgSecretVisibility::Selected) {
                    return Err(StoreError::Conflict(
                        "The secret's visibility is not 'selected': it names no repositories".into(),
                    ));
                }
                let before = Self::secret_repo_ids(&mut tx, id).await?;
                let after = match change {
                    RepoChange::Replace(ids) => {
                        Self::check_repo_ids(&mut tx, owner, &ids, "selected_repository_ids").await?;
                        ids
                    }
                    RepoChange::Add(repo) => {
                        Self::check_repo_ids(&mut tx, owner, &[repo], "repository_id").await?;
                        before.iter().copied().chain([repo]).collect()
                    }
                    RepoChange::Remove(repo) => {
                        Self::check_repo_ids(&mut tx, owner, &[repo], "repository_id").await?;
                        before.iter().copied().filter(|id| *id != repo).collect()
                    }
                };
                Self::write_secret_repos(&mut tx, id, &after).await?;
                let after = Self::secret_repo_ids(&mut tx, id).await?;
                if after != before {
                    Self::audit(
                        &mut tx,
                        owner.org_id,
                        actor,
                        "secret.repositories",
                        Some(secret_snapshot(owner, name, visibility, &before)),
                        Some(secret_snapshot(owner, name, visibility, &after)),
                    )
                    .await?;
                }
                self.commit_change(tx).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_part;
