//! The decision log: a decision written alone (a refusal) or beside its codespace in the
//! codespace's transaction, listed newest first with filters, pruned by age.

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
            /// Writes one decision of the org `org_id` with the caller's executor.
            async fn insert_decision<'e, E>(
                executor: E,
                org_id: i64,
                (repository, user): (&str, &str),
                note: &$crate::policy::DecisionNote,
                at: chrono::DateTime<Utc>,
                codespace_id: Option<&str>,
            ) -> StoreResult<()>
            where
                E: sqlx::Executor<'e, Database = <$conn as sqlx::Connection>::Database>,
            {
                sqlx::query(
                    "INSERT INTO decisions (org_id, at, repository, user_login, image, image_source, \
                     outcome, refused_by, reported_by, codespace_id, repo_key, exception_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(org_id)
                .bind(at)
                .bind(repository)
                .bind(user)
                .bind(&note.image)
                .bind(note.image_source.as_str())
                .bind(note.outcome.as_str())
                .bind(encode_ids(&note.refused_by))
                .bind(encode_ids(&note.reported_by))
                .bind(codespace_id)
                .bind(repo_key_of(repository))
                .bind(note.exception)
                .execute(executor)
                .await?;
                Ok(())
            }
        }

        #[async_trait]
        impl DecisionStore for $store {
            async fn list_decisions(
                &self,
                org_id: i64,
                filter: &DecisionFilter,
                page: PageRequest,
            ) -> StoreResult<Paged<DecisionEntry>> {
                // Each filter is a parameter that is either null (no filter) or the value.
                let repository = filter.repository.as_ref().map(|name| name.to_ascii_lowercase());
                let outcome = filter.outcome.map(|o| o.as_str());
                let where_clause = "WHERE org_id = $1 AND ($2 IS NULL OR repo_key = $2) \
                    AND ($3 IS NULL OR outcome = $3) AND ($4 IS NULL OR at >= $4)";
                let total_count: i64 = sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM decisions {where_clause}"
                ))
                .bind(org_id)
                .bind(repository.as_deref())
                .bind(outcome)
                .bind(filter.since)
                .fetch_one(&self.pool)
                .await?;
                let rows: Vec<DecisionRow> = sqlx::query_as(&format!(
                    "SELECT id, at, repository, user_login, image, image_source, outcome, \
                     refused_by, reported_by, codespace_id, exception_id FROM decisions {where_clause} \
                     ORDER BY at DESC, id DESC LIMIT $5 OFFSET $6"
                ))
                .bind(org_id)
                .bind(repository.as_deref())
                .bind(outcome)
                .bind(filter.since)
                .bind(page.per_page)
                .bind(page.offset())
                .fetch_all(&self.pool)
                .await?;
                let items = rows.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?;
                Ok(Paged { total_count, items })
            }

            async fn recent_decisions(
                &self,
                org_id: i64,
                after: (chrono::DateTime<Utc>, i64),
                limit: i64,
            ) -> StoreResult<Vec<DecisionEntry>> {
                let rows: Vec<DecisionRow> = sqlx::query_as(
                    "SELECT id, at, repository, user_login, image, image_source, outcome, \
                     refused_by, reported_by, codespace_id, exception_id FROM decisions \
                     WHERE org_id = $1 AND (at, id) > ($2, $3) ORDER BY at, id LIMIT $4",
                )
                .bind(org_id)
                .bind(after.0)
                .bind(after.1)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn prune_decisions(&self, before: chrono::DateTime<Utc>) -> StoreResult<u64> {
                // Org by org, so that the prune walks the (org_id, at, id) index every
                // listing uses rather than an index of its own that every creation would pay.
                Ok(sqlx::query(
                    "DELETE FROM decisions WHERE org_id IN (SELECT id FROM orgs) AND at < $1",
                )
                    .bind(before)
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
            }
        }
    };
}

pub(crate) use impl_part;
