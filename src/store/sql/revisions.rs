//! Policy revisions: written by every policy write in its own transaction (`record_revision`),
//! listed newest first, and restored. A policy's state that no revision holds (written before
//! revisions were kept, or by an instance that did not keep them) is recorded first, by
//! `unknown`, so that the change about to be made can still be undone.

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
            /// The newest revision of a policy and the version it recorded.
            async fn latest_revision(conn: &mut $conn, policy_id: i64) -> StoreResult<Option<(i64, i64)>> {
                Ok(sqlx::query_as::<_, (i64, i64)>(
                    "SELECT revision, version FROM policy_revisions WHERE policy_id = $1 \
                     ORDER BY revision DESC LIMIT 1",
                )
                .bind(policy_id)
                .fetch_optional(&mut *conn)
                .await?)
            }

            async fn insert_revision(
                conn: &mut $conn,
                org_id: i64,
                revision: i64,
                (at, actor, action): (chrono::DateTime<Utc>, &str, RevisionAction),
                policy: &Policy,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO policy_revisions (org_id, policy_id, revision, at, actor, action, \
                     version, policy) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(org_id)
                .bind(policy.id)
                .bind(revision)
                .bind(at)
                .bind(actor)
                .bind(action.as_str())
                .bind(policy.version)
                .bind($crate::store::revision_rows::encode_snapshot(policy))
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            /// Records a change to a policy, in the caller's transaction, which holds the org's
            /// row (so revision numbers cannot race). `before` is the policy before the change
            /// (`None` when it did not exist); `after` what the revision keeps.
            async fn record_revision(
                conn: &mut $conn,
                org_id: i64,
                before: Option<&Policy>,
                after: &Policy,
                action: RevisionAction,
                actor: &str,
            ) -> StoreResult<()> {
                let latest = Self::latest_revision(conn, after.id).await?;
                let mut next = latest.map_or(1, |(revision, _)| revision + 1);
                if let Some(before) = before.filter(|b| latest.map(|(_, v)| v) != Some(b.version)) {
                    // A never-edited policy's first state is its creation; any other, an edit.
                    let untouched = latest.is_none() && before.created_at == before.updated_at;
                    let was = if untouched { RevisionAction::Create } else { RevisionAction::Update };
                    let stamp = (before.updated_at, UNKNOWN_ACTOR, was);
                    Self::insert_revision(conn, org_id, next, stamp, before).await?;
                    next += 1;
                }
                let at = match action {
                    RevisionAction::Delete => Utc::now(),
                    _ => after.updated_at,
                };
                Self::insert_revision(conn, org_id, next, (at, actor, action), after).await
            }

            async fn fetch_revision(
                conn: &mut $conn,
                org_id: i64,
                policy_id: i64,
                revision: i64,
            ) -> StoreResult<PolicyRevision> {
                let row: $crate::store::revision_rows::RevisionRow = sqlx::query_as(
                    "SELECT revision, at, actor, action, version, policy FROM policy_revisions \
                     WHERE org_id = $1 AND policy_id = $2 AND revision = $3",
                )
                .bind(org_id)
                .bind(policy_id)
                .bind(revision)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound)?;
                row.try_into()
            }

            /// Writes a deleted policy again under its id, at a version above every one it
            /// had, so that no ETag from before its deletion matches it.
            async fn recreate_policy(
                conn: &mut $conn,
                org_id: i64,
                policy_id: i64,
                was: &Policy,
                draft: &PolicyDraft,
            ) -> StoreResult<()> {
                let (_, last_version) =
                    Self::latest_revision(conn, policy_id).await?.ok_or(StoreError::NotFound)?;
                sqlx::query(
                    "INSERT INTO policies (id, org_id, name, target, has_base_images, version, \
                     created_at, updated_at, enforcement) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(policy_id)
                .bind(org_id)
                .bind(&draft.name)
                .bind(draft.target.as_str())
                .bind(draft.base_images.is_some())
                .bind(last_version + 1)
                .bind(was.created_at)
                .bind(Utc::now())
                .bind(draft.enforcement.as_str())
                .execute(&mut *conn)
                .await?;
                Self::write_policy_items(conn, org_id, policy_id, draft).await
            }
        }

        #[async_trait]
        impl RevisionStore for $store {
            async fn list_revisions(
                &self,
                org_id: i64,
                policy_id: i64,
                page: PageRequest,
            ) -> StoreResult<Paged<PolicyRevision>> {
                let mut conn = self.pool.acquire().await?;
                let total_count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM policy_revisions WHERE org_id = $1 AND policy_id = $2",
                )
                .bind(org_id)
                .bind(policy_id)
                .fetch_one(&mut *conn)
                .await?;
                if total_count == 0 {
                    return Err(StoreError::NotFound);
                }
                let rows: Vec<$crate::store::revision_rows::RevisionRow> = sqlx::query_as(
                    "SELECT revision, at, actor, action, version, policy FROM policy_revisions \
                     WHERE org_id = $1 AND policy_id = $2 ORDER BY revision DESC LIMIT $3 OFFSET $4",
                )
                .bind(org_id)
                .bind(policy_id)
                .bind(page.per_page)
                .bind(page.offset())
                .fetch_all(&mut *conn)
                .await?;
                let items = rows.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?;
                Ok(Paged { total_count, items })
            }

            async fn restore_policy(
                &self,
                org_id: i64,
                policy_id: i64,
                revision: i64,
                if_version: Option<i64>,
                draft: RevisionDraft<'_>,
                actor: &str,
            ) -> StoreResult<Policy> {
                let mut tx = self.begin_write().await?;
                Self::policy_version(&mut tx, org_id, $update).await?;
                let target = Self::fetch_revision(&mut tx, org_id, policy_id, revision).await?;
                let current = match Self::fetch_policy(&mut tx, org_id, policy_id).await {
                    Ok(policy) => Some(policy),
                    Err(StoreError::NotFound) => None,
                    Err(other) => return Err(other),
                };
                // A deleted policy has no version: any ETag in If-Match is stale.
                let current_version = current.as_ref().map(|p| p.version);
                if if_version.is_some_and(|v| Some(v) != current_version) {
                    return Err(StoreError::PreconditionFailed);
                }
                let draft = draft(&target)?;
                match &current {
                    Some(_) => Self::rewrite_policy(&mut tx, org_id, policy_id, &draft).await?,
                    None => {
                        Self::recreate_policy(&mut tx, org_id, policy_id, &target.policy, &draft)
                            .await?
                    }
                }
                let policy = Self::fetch_policy(&mut tx, org_id, policy_id).await?;
                let action = RevisionAction::Restore;
                Self::record_revision(&mut tx, org_id, current.as_ref(), &policy, action, actor)
                    .await?;
                let before = current.as_ref().map(policy_snapshot);
                let after = Some(policy_snapshot(&policy));
                Self::audit(&mut tx, Some(org_id), actor, "policy.restore", before, after).await?;
                Self::bump_policy_version(&mut tx, org_id).await?;
                self.commit_change(tx).await?;
                Ok(policy)
            }
        }
    };
}

pub(crate) use impl_part;
