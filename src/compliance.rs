//! Compliance: the org's existing codespaces that the policies in force now would refuse
//! on a full rebuild, each judged by the image it was built from through the very function
//! creation uses ([`judge`]), with the org's exceptions live at the service clock's now, so
//! that a codespace listed here is exactly one a full rebuild would refuse (or send to
//! recovery mode) today.
//!
//! Memory stays bounded whatever the org's size: the codespaces are read a batch at a time
//! in `(created_at, id)` order, judged, counted, and dropped, except those of the requested
//! page.

use chrono::{DateTime, Utc};

use crate::policy::{judge, CompiledPolicySet, ExemptImages, ImageRef, Judgement, Subject};
use crate::store::{CodespaceCursor, CodespaceImage, ComplianceStore, PageRequest, StoreResult};

/// Codespaces read per round trip: enough that the round trips cost little next to the
/// rows, few enough that a batch is a small allocation.
pub const BATCH: i64 = 1_000;

/// Stored images that no longer parse named in the warning, at most.
const SKIPPED_NAMED: usize = 10;

/// A codespace the policies now in force would refuse on a full rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noncompliant {
    pub codespace: CodespaceImage,
    /// The enforcing policies that refuse its image.
    pub refused_by: Vec<i64>,
}

/// One page of the noncompliant codespaces, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    pub total_count: i64,
    pub codespaces: Vec<Noncompliant>,
}

/// Judges an org's codespaces in order, counting the refused ones and keeping the page's.
pub struct Scan<'a> {
    set: &'a CompiledPolicySet,
    org_login: &'a str,
    exempt: ExemptImages<'a>,
    /// The service's clock when the scan began: exceptions live then apply.
    now: DateTime<Utc>,
    /// The refused codespaces before the page, and the page's size.
    skip: i64,
    per_page: usize,
    total: i64,
    page: Vec<Noncompliant>,
    /// Codespaces whose stored image no longer parses: the count and the first few ids.
    unparsable: (u64, Vec<String>),
}

impl<'a> Scan<'a> {
    /// A scan of the org `org_login` under `set` at `now`, keeping page `page`.
    pub fn new(
        set: &'a CompiledPolicySet,
        org_login: &'a str,
        exempt: ExemptImages<'a>,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Self {
        Self {
            set,
            org_login,
            exempt,
            now,
            skip: page.offset(),
            per_page: usize::try_from(page.per_page).unwrap_or(0),
            total: 0,
            page: Vec::new(),
            unparsable: (0, Vec::new()),
        }
    }

    /// Judges the next codespace in order.
    pub fn judge(&mut self, codespace: CodespaceImage) {
        let Some(refused_by) = self.refused_by(&codespace) else {
            return;
        };
        if self.total >= self.skip && self.page.len() < self.per_page {
            self.page.push(Noncompliant {
                codespace,
                refused_by,
            });
        }
        self.total += 1;
    }

    /// The enforcing policies that would refuse the codespace's image on a full rebuild;
    /// `None` when they allow it or do not judge it.
    fn refused_by(&mut self, codespace: &CodespaceImage) -> Option<Vec<i64>> {
        if ImageRef::parse(&codespace.image).is_err() {
            self.unparsable.0 += 1;
            if self.unparsable.1.len() < SKIPPED_NAMED {
                self.unparsable.1.push(codespace.id.clone());
            }
            return None;
        }
        would_refuse(self.set, self.org_login, self.exempt, self.now, codespace)
    }

    /// The page and the count, once every codespace was judged.
    pub fn finish(self) -> Compliance {
        let (skipped, ids) = self.unparsable;
        if skipped > 0 {
            tracing::warn!(
                org = %self.org_login, skipped, codespaces = ?ids,
                "compliance skipped codespaces whose stored image is not a valid image reference"
            );
        }
        Compliance {
            total_count: self.total,
            codespaces: self.page,
        }
    }
}

/// The enforcing policies of `set` that would refuse `codespace`'s image on a full rebuild
/// in the org `org_login` at `now`; `None` when they allow it, do not judge it, or a live
/// exception for its repository and user allows it. A stored image that no longer parses is
/// `None` too: it cannot be rebuilt as it is, so no policy is what stands in its way.
/// Compliance and preview both judge codespaces through this.
pub fn would_refuse(
    set: &CompiledPolicySet,
    org_login: &str,
    exempt: ExemptImages<'_>,
    now: DateTime<Utc>,
    codespace: &CodespaceImage,
) -> Option<Vec<i64>> {
    let image = ImageRef::parse(&codespace.image).ok()?;
    let repo_key = codespace.repo_name.to_ascii_lowercase();
    let subject = Subject {
        repo_key: &repo_key,
        user: Some(&codespace.user),
        image: &image,
        source: codespace.image_source,
        billed_to_org: codespace.billable_owner.eq_ignore_ascii_case(org_login),
    };
    match judge(set, &subject, exempt, now) {
        Judgement::Refused { policy_ids, .. } => Some(policy_ids),
        Judgement::Allowed { .. } | Judgement::Exempt(_) | Judgement::Excepted(_) => None,
    }
}

/// Reads every codespace of the org `org_id` a batch at a time into `scan`.
pub async fn run<S: ComplianceStore + ?Sized>(
    store: &S,
    org_id: i64,
    mut scan: Scan<'_>,
) -> StoreResult<Compliance> {
    let mut after: Option<CodespaceCursor> = None;
    loop {
        let batch = store
            .codespace_images(org_id, after.as_ref(), BATCH)
            .await?;
        let full = batch.len() as i64 == BATCH;
        after = batch.last().map(CodespaceImage::cursor);
        for codespace in batch {
            scan.judge(codespace);
        }
        if !full {
            return Ok(scan.finish());
        }
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::policy::{AllowedValue, Enforcement, ImageSource, PolicyRules, Target};

    const EXEMPT: ExemptImages<'static> = ExemptImages {
        default_image: "mcr.microsoft.com/devcontainers/universal:2",
        recovery_image: "mcr.microsoft.com/devcontainers/base:ubuntu",
    };

    /// Policy 7 allows `node:*` org-wide, enforced or report-only.
    fn node_only(enforcement: Enforcement) -> CompiledPolicySet {
        CompiledPolicySet::compile(vec![PolicyRules {
            constraints: Default::default(),
            id: 7,
            name: "node".into(),
            target: Target::AllRepositories,
            enforcement,
            base_images: Some(vec![AllowedValue::parse("node:*").unwrap()]),
        }])
    }

    fn at(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + second, 0).unwrap()
    }

    /// Codespace `n` of repository `Repo-A`, billed to `octo-org`.
    fn codespace(n: i64, image: &str) -> CodespaceImage {
        CodespaceImage {
            id: format!("cs_{n:026}"),
            repo_name: "Repo-A".into(),
            user: "mona".into(),
            billable_owner: "octo-org".into(),
            image: image.into(),
            image_source: ImageSource::Image,
            // Pairs share a timestamp, so that the id breaks the tie.
            created_at: at(n / 2),
        }
    }

    fn page(page: i64, per_page: i64) -> PageRequest {
        PageRequest { page, per_page }
    }

    fn ids(compliance: &Compliance) -> Vec<String> {
        compliance
            .codespaces
            .iter()
            .map(|n| n.codespace.id.clone())
            .collect()
    }

    #[test]
    fn refused_images_are_listed_with_their_policies_and_allowed_ones_are_not() {
        let set = node_only(Enforcement::Enforce);
        let mut scan = Scan::new(&set, "Octo-Org", EXEMPT, at(0), page(1, 30));
        scan.judge(codespace(1, "python:3"));
        scan.judge(codespace(2, "node:18"));
        let compliance = scan.finish();
        assert_eq!(compliance.total_count, 1);
        assert_eq!(compliance.codespaces[0].codespace, codespace(1, "python:3"));
        assert_eq!(compliance.codespaces[0].refused_by, [7]);
    }

    #[test]
    fn exempt_codespaces_and_report_only_policies_list_nothing() {
        let enforced = node_only(Enforcement::Enforce);
        let mut user_pays = codespace(3, "python:3");
        user_pays.billable_owner = "mona".into();
        let mut default = codespace(4, "node:18");
        default.image_source = ImageSource::Default;
        default.image = EXEMPT.default_image.into();
        let mut scan = Scan::new(&enforced, "octo-org", EXEMPT, at(0), page(1, 30));
        scan.judge(codespace(1, EXEMPT.recovery_image));
        scan.judge(codespace(2, EXEMPT.default_image));
        scan.judge(user_pays);
        scan.judge(default);
        assert_eq!(scan.finish().total_count, 0);
        let reported = node_only(Enforcement::Report);
        let mut scan = Scan::new(&reported, "octo-org", EXEMPT, at(0), page(1, 30));
        scan.judge(codespace(1, "python:3"));
        assert_eq!(scan.finish().total_count, 0);
    }

    #[test]
    fn an_image_that_no_longer_parses_is_skipped() {
        let set = node_only(Enforcement::Enforce);
        let mut scan = Scan::new(&set, "octo-org", EXEMPT, at(0), page(1, 30));
        scan.judge(codespace(1, "Not An Image"));
        scan.judge(codespace(2, "python:3"));
        let compliance = scan.finish();
        assert_eq!(compliance.total_count, 1);
        assert_eq!(ids(&compliance), [codespace(2, "").id]);
    }

    #[test]
    fn only_the_requested_page_is_kept_and_every_refusal_is_counted() {
        let set = node_only(Enforcement::Enforce);
        let mut scan = Scan::new(&set, "octo-org", EXEMPT, at(0), page(2, 3));
        for n in 0..10 {
            scan.judge(codespace(
                n,
                if n % 2 == 0 { "python:3" } else { "node:18" },
            ));
        }
        let compliance = scan.finish();
        assert_eq!(compliance.total_count, 5);
        assert_eq!(ids(&compliance), [codespace(6, "").id, codespace(8, "").id]);
    }

    /// Codespaces in memory, answered as the SQL does.
    struct Rows(Vec<CodespaceImage>);

    #[async_trait]
    impl ComplianceStore for Rows {
        async fn codespace_images(
            &self,
            _org_id: i64,
            after: Option<&CodespaceCursor>,
            limit: i64,
        ) -> StoreResult<Vec<CodespaceImage>> {
            let key = |c: &CodespaceImage| (c.created_at, c.id.clone());
            Ok(self
                .0
                .iter()
                .filter(|c| after.is_none_or(|a| key(c) > (a.created_at, a.id.clone())))
                .take(usize::try_from(limit).unwrap())
                .cloned()
                .collect())
        }
    }

    #[tokio::test]
    async fn a_run_reads_every_batch_once_in_order() {
        let set = node_only(Enforcement::Enforce);
        // Two full batches and a part, every third codespace refused.
        let rows: Vec<_> = (0..2 * BATCH + 7)
            .map(|n| codespace(n, if n % 3 == 0 { "python:3" } else { "node:18" }))
            .collect();
        let store = Rows(rows);
        // Page 4 holds the refused codespaces 900 to 1197: it spans the first two batches.
        let scan = Scan::new(&set, "octo-org", EXEMPT, at(0), page(4, 100));
        let compliance = run(&store, 1, scan).await.unwrap();
        assert_eq!(compliance.total_count, (2 * BATCH + 7 + 2) / 3);
        let expected: Vec<_> = (300..400).map(|k| codespace(3 * k, "").id).collect();
        assert_eq!(ids(&compliance), expected);
    }
}
