//! Compliance's read: a page of an org's codespaces after a keyset cursor, walking the
//! `codespaces_org (org_id, created_at, id)` index, so that each page costs the same
//! however deep into the org it starts (an `OFFSET` would rescan every row before it).

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
        use $crate::store::compliance_store::CodespaceImageRow;

        /// The columns judging needs, in the index's order.
        const IMAGE_SELECT: &str = "SELECT c.id, r.name AS repo_name, c.user_login, \
            c.billable_owner, c.image, c.image_source, c.machine, c.created_at \
            FROM codespaces c JOIN repos r ON r.id = c.repo_id";

        #[async_trait]
        impl ComplianceStore for $store {
            async fn codespace_images(
                &self,
                org_id: i64,
                after: Option<&CodespaceCursor>,
                limit: i64,
            ) -> StoreResult<Vec<CodespaceImage>> {
                let rows: Vec<CodespaceImageRow> = match after {
                    None => {
                        sqlx::query_as(&format!(
                            "{IMAGE_SELECT} WHERE c.org_id = $1 \
                             ORDER BY c.created_at, c.id LIMIT $2"
                        ))
                        .bind(org_id)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?
                    }
                    Some(cursor) => {
                        sqlx::query_as(&format!(
                            "{IMAGE_SELECT} WHERE c.org_id = $1 \
                             AND (c.created_at, c.id) > ($2, $3) \
                             ORDER BY c.created_at, c.id LIMIT $4"
                        ))
                        .bind(org_id)
                        .bind(cursor.created_at)
                        .bind(&cursor.id)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?
                    }
                };
                rows.into_iter().map(CodespaceImage::try_from).collect()
            }
        }
    };
}

pub(crate) use impl_part;
