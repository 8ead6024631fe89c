//! Policies. Every change locks the org's row against other edits (not against creations'
//! foreign-key checks), records its revision and its audit entry, and last, with codespace
//! writes held off, bumps the org's policy version in the same transaction, so that
//! creations ordered after it see it (`sql/mod.rs`).

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
            /// Replaces a stored policy's fields and items with `draft`, raising its version.
            async fn rewrite_policy(
                conn: &mut $conn,
                org_id: i64,
                policy_id: i64,
                draft: &PolicyDraft,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE policies SET name = $1, target = $2, has_base_images = $3, \
                     version = version + 1, updated_at = $4, enforcement = $6 WHERE id = $5",
                )
                .bind(&draft.name)
                .bind(draft.target.as_str())
                .bind(draft.base_images.is_some())
                .bind(Utc::now())
                .bind(policy_id)
                .bind(draft.enforcement.as_str())
                .execute(&mut *conn)
                .await?;
                Self::write_policy_items(conn, org_id, policy_id, draft).await
            }
        }

        #[async_trait]
        impl PolicyStore for $store {
            async fn list_policies(&self, org_id: i64, page: PageRequest) -> StoreResult<Paged<Policy>> {
                let mut conn = self.pool.acquire().await?;
                let total_count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM policies WHERE org_id = $1")
                        .bind(org_id)
                        .fetch_one(&mut *conn)
                        .await?;
                let items = Self::fetch_policies(&mut conn, org_id, None, Some(page)).await?;
                Ok(Paged { total_count, items })
            }

            async fn all_policies(&self, org_id: i64) -> StoreResult<Vec<Policy>> {
                let mut conn = self.pool.acquire().await?;
                Self::fetch_policies(&mut conn, org_id, None, None).await
            }

            async fn get_policy(&self, org_id: i64, policy_id: i64) -> StoreResult<Policy> {
                let mut conn = self.pool.acquire().await?;
                Self::fetch_policy(&mut conn, org_id, policy_id).await
            }

            async fn create_policy(
                &self,
                org_id: i64,
                draft: &PolicyDraft,
                actor: &str,
            ) -> StoreResult<Policy> {
                let mut tx = self.begin_write().await?;
                Self::policy_version(&mut tx, org_id, $update).await?;
                let now = Utc::now();
                let policy_id: i64 = sqlx::query_scalar(
                    "INSERT INTO policies (org_id, name, target, has_base_images, created_at, updated_at, \
                     enforcement) VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
                )
                .bind(org_id)
                .bind(&draft.name)
                .bind(draft.target.as_str())
                .bind(draft.base_images.is_some())
                .bind(now)
                .bind(draft.enforcement.as_str())
                .fetch_one(&mut *tx)
                .await?;
                Self::write_policy_items(&mut tx, org_id, policy_id, draft).await?;
                let policy = Self::fetch_policy(&mut tx, org_id, policy_id).await?;
                let action = RevisionAction::Create;
                Self::record_revision(&mut tx, org_id, None, &policy, action, actor).await?;
                let after = Some(policy_snapshot(&policy));
                Self::audit(&mut tx, Some(org_id), actor, "policy.create", None, after).await?;
                Self::bump_policy_version(&mut tx, org_id).await?;
                self.commit_change(tx).await?;
                Ok(policy)
            }

            async fn update_policy(
                &self,
                org_id: i64,
                policy_id: i64,
                if_version: Option<i64>,
                draft: PolicyMerge<'_>,
                actor: &str,
            ) -> StoreResult<Policy> {
                let mut tx = self.begin_write().await?;
                Self::policy_version(&mut tx, org_id, $update).await?;
                let current = Self::fetch_policy(&mut tx, org_id, policy_id).await?;
                if if_version.is_some_and(|v| v != current.version) {
                    return Err(StoreError::PreconditionFailed);
                }
                let draft = draft(&current)?;
                Self::rewrite_policy(&mut tx, org_id, policy_id, &draft).await?;
                let policy = Self::fetch_policy(&mut tx, org_id, policy_id).await?;
                let action = RevisionAction::Update;
                Self::record_revision(&mut tx, org_id, Some(&current), &policy, action, actor)
                    .await?;
                Self::audit(
                    &mut tx,
                    Some(org_id),
                    actor,
                    "policy.update",
                    Some(policy_snapshot(&current)),
                    Some(policy_snapshot(&policy)),
                )
                .await?;
                Self::bump_policy_version(&mut tx, org_id).await?;
                self.commit_change(tx).await?;
                Ok(policy)
            }

            async fn delete_policy(
                &self,
                org_id: i64,
                policy_id: i64,
                if_version: Option<i64>,
                actor: &str,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::policy_version(&mut tx, org_id, $update).await?;
                let current = Self::fetch_policy(&mut tx, org_id, policy_id).await?;
                if if_version.is_some_and(|v| v != current.version) {
                    return Err(StoreError::PreconditionFailed);
                }
                let action = RevisionAction::Delete;
                Self::record_revision(&mut tx, org_id, Some(&current), &current, action, actor)
                    .await?;
                let before = Some(policy_snapshot(&current));
                Self::audit(&mut tx, Some(org_id), actor, "policy.delete", before, None).await?;
                sqlx::query("DELETE FROM policies WHERE id = $1")
                    .bind(policy_id)
                    .execute(&mut *tx)
                    .await?;
                Self::bump_policy_version(&mut tx, org_id).await?;
                self.commit_change(tx).await?;
                Ok(())
            }

            async fn policy_set(&self, org_id: i64) -> StoreResult<Arc<CompiledPolicySet>> {
                self.reads
                    .read_through(
                        |m| m.sets.get(&org_id).cloned(),
                        async {
                            let mut conn = self.pool.acquire().await?;
                            let version = Self::policy_version(&mut conn, org_id, "").await?;
                            self.compiled_set(&mut conn, org_id, version).await
                        },
                        |m, set| {
                            m.sets.insert(org_id, set);
                        },
                    )
                    .await
            }
        }
    };
}

pub(crate) use impl_part;
