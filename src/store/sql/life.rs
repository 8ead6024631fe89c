//! A codespace's life: stop, start and port changes under the codespace's row lock, its
//! deletion, and the retention sweep's short batches. Every transaction here joins the
//! codespace writers first (`sql/mod.rs`), so that a start judged by the policy set it read
//! commits before any policy edit after it, and none takes a table lock of its own.

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
        /// Most codespaces one sweep batch deletes, whatever the caller asks: its audit
        /// insert binds six values a codespace.
        const MAX_SWEEP_BATCH: i64 = 1_000;

        impl $store {
            /// Locks the codespace's row to the end of the caller's transaction and reads it,
            /// with its org's policy version, in one statement.
            async fn lock_codespace(conn: &mut $conn, id: &str) -> StoreResult<(Codespace, i64)> {
                let sql = format!("{CODESPACE_SELECT} WHERE c.id = $1{}", Self::ROW_LOCK);
                let row: LockedCodespaceRow = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Ok((row.codespace.try_into()?, row.policy_version))
            }
        }

        #[async_trait]
        impl LifeStore for $store {
            async fn change_life(
                &self,
                id: &str,
                change: LifeChange<'_>,
            ) -> StoreResult<Result<Codespace, $crate::lifecycle::LifeRefusal>> {
                let mut tx = self.begin_write().await?;
                Self::join_codespace_writes(&mut tx).await?;
                // The version read here holds: the transaction already writes codespaces, so no
                // policy edit can commit before it does.
                let (existing, version) = Self::lock_codespace(&mut tx, id).await?;
                let decided = match change.decide {
                    Decide::Plain(decide) => Ok(decide(&existing)),
                    Decide::Judged(decide) => {
                        let set = self.compiled_set(&mut tx, existing.org_id, version).await?;
                        decide(&existing, &set)
                    }
                };
                let life = match decided {
                    Ok(Some(life)) => life,
                    Ok(None) => {
                        tx.rollback().await?;
                        return Ok(Ok(existing));
                    }
                    Err(refusal) => {
                        tx.rollback().await?;
                        return Ok(Err(refusal));
                    }
                };
                let now = Utc::now();
                sqlx::query(
                    "UPDATE codespaces SET machine = $1, state = $2, idle_timeout_minutes = $3, \
                     idle_timeout_notice = $4, retention_expires_at = $5, ports = $6, \
                     updated_at = $7 WHERE id = $8",
                )
                .bind(&life.machine)
                .bind(life.state.as_str())
                .bind(i64::from(life.limits.idle_timeout_minutes))
                .bind(&life.limits.idle_timeout_notice)
                .bind(life.retention_expires_at)
                .bind(life.ports_column())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let before = codespace_snapshot(&existing);
                let codespace = life.applied_to(existing, now);
                let after = codespace_snapshot(&codespace);
                Self::audit(
                    &mut tx,
                    Some(codespace.org_id),
                    change.actor,
                    change.action,
                    Some(before),
                    Some(after),
                )
                .await?;
                tx.commit().await?;
                Ok(Ok(codespace))
            }

            async fn delete_codespace(&self, id: &str, actor: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::join_codespace_writes(&mut tx).await?;
                let (existing, _) = Self::lock_codespace(&mut tx, id).await?;
                sqlx::query("DELETE FROM codespaces WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let before = Some(codespace_snapshot(&existing));
                Self::audit(
                    &mut tx,
                    Some(existing.org_id),
                    actor,
                    "codespace.delete",
                    before,
                    None,
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn sweep_expired(
                &self,
                now: chrono::DateTime<Utc>,
                limit: i64,
            ) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                // The batch, oldest deadline first, locked (PostgreSQL skips what another sweep
                // holds). Its audit entries go in before its deletion: the deletion's trigger
                // locks the users' counts, which creations wait for, from there to the commit.
                let sql = format!(
                    "{CODESPACE_SELECT} WHERE c.state = 'Shutdown' \
                     AND c.retention_expires_at IS NOT NULL AND c.retention_expires_at <= $1 \
                     ORDER BY c.retention_expires_at LIMIT $2{}",
                    Self::SWEEP_LOCK
                );
                let rows: Vec<CodespaceRow> = sqlx::query_as(&sql)
                    .bind(now)
                    .bind(limit.clamp(1, MAX_SWEEP_BATCH))
                    .fetch_all(&mut *tx)
                    .await?;
                if rows.is_empty() {
                    tx.rollback().await?;
                    return Ok(0);
                }
                let gone = rows
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect::<StoreResult<Vec<Codespace>>>()?;
                let at = Utc::now();
                let mut insert = sqlx::QueryBuilder::<<$conn as sqlx::Connection>::Database>::new(
                    "INSERT INTO audit_log (org_id, actor, action, before, after, created_at) ",
                );
                insert.push_values(&gone, |mut row, codespace| {
                    row.push_bind(codespace.org_id)
                        .push_bind(RETENTION_ACTOR)
                        .push_bind("codespace.delete")
                        .push_bind(codespace_snapshot(codespace).to_string())
                        .push_bind(None::<String>)
                        .push_bind(at);
                });
                insert.build().execute(&mut *tx).await?;
                let mut delete = sqlx::QueryBuilder::<<$conn as sqlx::Connection>::Database>::new(
                    "DELETE FROM codespaces WHERE id IN (",
                );
                let mut ids = delete.separated(", ");
                for codespace in &gone {
                    ids.push_bind(codespace.id.clone());
                }
                delete.push(")");
                delete.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(gone.len() as u64)
            }
        }
    };
}

pub(crate) use impl_part;
