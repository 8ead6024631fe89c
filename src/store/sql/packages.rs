//! GitHub Container Registry packages and the repositories granted Codespaces access to
//! them. Every write locks the package's row first (PostgreSQL; SQLite's writing
//! transactions are serialized anyway), so that its audit entry's `before` is what it
//! replaced. Packages are not in the read cache: creation reads them from the database.

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
        use $crate::names::PackageName;
        use $crate::registries::Package;
        use $crate::store::package_rows::{package_snapshot, PackageRow, PullPackageRow};

        impl $store {
            /// The org's package with its repositories' names, in one statement.
            async fn fetch_package(
                conn: &mut $conn,
                org_id: i64,
                name_key: &str,
            ) -> StoreResult<Option<PackageRecord>> {
                let row: Option<PackageRow> = sqlx::query_as(&format!(
                    "SELECT p.id, p.name, p.visibility, p.repo_id, r.name AS repository, \
                     p.inherit_access, \
                     COALESCE((SELECT CAST({JSON_ARRAY_AGG}(g.name ORDER BY g.name_key) AS TEXT) \
                         FROM package_access pa JOIN repos g ON g.id = pa.repo_id \
                         WHERE pa.package_id = p.id), '[]') AS codespaces_access, \
                     p.created_at, p.updated_at \
                     FROM packages p LEFT JOIN repos r ON r.id = p.repo_id \
                     WHERE p.org_id = $1 AND p.name_key = $2"
                ))
                .bind(org_id)
                .bind(name_key)
                .fetch_optional(&mut *conn)
                .await?;
                row.map(PackageRecord::try_from).transpose()
            }

            /// Locks the org's package row and answers its id, if there is one.
            async fn lock_package(
                conn: &mut $conn,
                org_id: i64,
                name_key: &str,
            ) -> StoreResult<Option<i64>> {
                let sql = format!(
                    "SELECT id FROM packages WHERE org_id = $1 AND name_key = $2{}",
                    $update
                );
                Ok(sqlx::query_scalar(&sql)
                    .bind(org_id)
                    .bind(name_key)
                    .fetch_optional(&mut *conn)
                    .await?)
            }

            /// Inserts the package if the org has none of its name; otherwise locks the one
            /// there and answers it as it is. `None` from the insert means a row is there,
            /// but it may be deleted before the lock is taken: then the insert is tried again.
            async fn insert_or_lock_package(
                conn: &mut $conn,
                org_id: i64,
                write: &PackageWrite,
            ) -> StoreResult<Option<PackageRecord>> {
                let key = write.name.as_str();
                for _ in 0..3 {
                    let inserted: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO packages (org_id, name, name_key, visibility, repo_id, \
                         inherit_access, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                         ON CONFLICT (org_id, name_key) DO NOTHING RETURNING id",
                    )
                    .bind(org_id)
                    .bind(write.name.as_str())
                    .bind(key)
                    .bind(write.visibility.as_str())
                    .bind(write.repo_id)
                    .bind(write.inherit_access)
                    .bind(Utc::now())
                    .fetch_optional(&mut *conn)
                    .await?;
                    if inserted.is_some() {
                        return Ok(None);
                    }
                    if Self::lock_package(conn, org_id, key).await?.is_some() {
                        let existing = Self::fetch_package(conn, org_id, key).await?;
                        return existing.map(Some).ok_or(StoreError::NotFound);
                    }
                }
                Err(StoreError::Conflict(
                    "The package was being created and deleted concurrently; retry".into(),
                ))
            }

            /// The package after a write in the caller's transaction.
            async fn written_package(
                conn: &mut $conn,
                org_id: i64,
                name_key: &str,
            ) -> StoreResult<PackageRecord> {
                Self::fetch_package(conn, org_id, name_key)
                    .await?
                    .ok_or_else(|| StoreError::Internal("package vanished after its write".into()))
            }
        }

        #[async_trait]
        impl PackageStore for $store {
            async fn find_package(&self, org_id: i64, name: &str) -> StoreResult<Option<Package>> {
                // No stored name is longer: skip the round trip for one that cannot match.
                if name.len() > $crate::names::MAX_PACKAGE_NAME_LEN {
                    return Ok(None);
                }
                let key = (org_id, name.to_ascii_lowercase());
                let read = async {
                    let row: Option<PullPackageRow> = sqlx::query_as(&format!(
                        "SELECT p.name, p.visibility, p.repo_id, p.inherit_access, \
                         COALESCE((SELECT \
                                 CAST({JSON_ARRAY_AGG}(pa.repo_id ORDER BY pa.repo_id) AS TEXT) \
                             FROM package_access pa WHERE pa.package_id = p.id), '[]') \
                             AS granted_repo_ids \
                         FROM packages p WHERE p.org_id = $1 AND p.name_key = $2"
                    ))
                    .bind(org_id)
                    .bind(&key.1)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(Package::try_from).transpose()
                };
                self.reads
                    .read_through(
                        |maps| maps.packages.get(&key).cloned(),
                        read,
                        |maps, package| maps.put_package(key.clone(), package),
                    )
                    .await
            }

            async fn get_package(
                &self,
                org_id: i64,
                name: &PackageName,
            ) -> StoreResult<Option<PackageRecord>> {
                let mut conn = self.pool.acquire().await?;
                Self::fetch_package(&mut conn, org_id, name.as_str()).await
            }

            async fn put_package(
                &self,
                org_id: i64,
                write: &PackageWrite,
                actor: &str,
            ) -> StoreResult<(PackageRecord, bool)> {
                let key = write.name.as_str();
                let mut tx = self.begin_write().await?;
                let before = Self::insert_or_lock_package(&mut tx, org_id, write).await?;
                if let Some(before) = &before {
                    let unchanged = before.visibility == write.visibility
                        && before.repo_id == write.repo_id
                        && before.inherit_access == write.inherit_access;
                    if unchanged {
                        self.commit_change(tx).await?;
                        return Ok((before.clone(), false));
                    }
                    sqlx::query(
                        "UPDATE packages SET visibility = $1, repo_id = $2, inherit_access = $3, \
                         updated_at = $4 WHERE id = $5",
                    )
                    .bind(write.visibility.as_str())
                    .bind(write.repo_id)
                    .bind(write.inherit_access)
                    .bind(Utc::now())
                    .bind(before.id)
                    .execute(&mut *tx)
                    .await?;
                }
                let after = Self::written_package(&mut tx, org_id, key).await?;
                let action = if before.is_some() { "package.update" } else { "package.create" };
                let (before_snapshot, after_snapshot) =
                    (before.as_ref().map(package_snapshot), Some(package_snapshot(&after)));
                Self::audit(&mut tx, Some(org_id), actor, action, before_snapshot, after_snapshot)
                    .await?;
                self.commit_change(tx).await?;
                Ok((after, before.is_none()))
            }

            async fn delete_package(
                &self,
                org_id: i64,
                name: &PackageName,
                actor: &str,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let id = Self::lock_package(&mut tx, org_id, name.as_str())
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let before = Self::written_package(&mut tx, org_id, name.as_str()).await?;
                sqlx::query("DELETE FROM packages WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let snapshot = Some(package_snapshot(&before));
                Self::audit(&mut tx, Some(org_id), actor, "package.delete", snapshot, None).await?;
                self.commit_change(tx).await?;
                Ok(())
            }

            async fn set_package_access(
                &self,
                org_id: i64,
                name: &PackageName,
                repo_id: i64,
                granted: bool,
                actor: &str,
            ) -> StoreResult<()> {
                let key = name.as_str();
                let mut tx = self.begin_write().await?;
                let id = Self::lock_package(&mut tx, org_id, key)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let before = Self::written_package(&mut tx, org_id, key).await?;
                let (sql, action) = if granted {
                    (
                        "INSERT INTO package_access (package_id, repo_id) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING",
                        "package.access.grant",
                    )
                } else {
                    (
                        "DELETE FROM package_access WHERE package_id = $1 AND repo_id = $2",
                        "package.access.revoke",
                    )
                };
                let changed = sqlx::query(sql)
                    .bind(id)
                    .bind(repo_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    > 0;
                if changed {
                    sqlx::query("UPDATE packages SET updated_at = $1 WHERE id = $2")
                        .bind(Utc::now())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    let after = Self::written_package(&mut tx, org_id, key).await?;
                    Self::audit(
                        &mut tx,
                        Some(org_id),
                        actor,
                        action,
                        Some(package_snapshot(&before)),
                        Some(package_snapshot(&after)),
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
