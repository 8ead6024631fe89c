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
        machine: Some("basicLinux32gb".into()),
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
    assert_eq!(compliance.codespaces[0].refusal.refused_by, [7]);
    assert_eq!(compliance.codespaces[0].refusal.constraint, "base_images");
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

#[test]
fn a_machine_the_policies_no_longer_allow_is_listed_after_the_image() {
    let set = CompiledPolicySet::compile(vec![
        PolicyRules {
            constraints: crate::policy::ConstraintSet {
                machine_types: Some(vec!["premiumLinux".into()]),
                ..Default::default()
            },
            id: 9,
            name: "big".into(),
            target: Target::AllRepositories,
            enforcement: Enforcement::Enforce,
            base_images: None,
        },
        PolicyRules {
            constraints: Default::default(),
            id: 7,
            name: "node".into(),
            target: Target::AllRepositories,
            enforcement: Enforcement::Enforce,
            base_images: Some(vec![AllowedValue::parse("node:*").unwrap()]),
        },
    ]);
    let mut scan = Scan::new(&set, "octo-org", EXEMPT, at(0), page(1, 30));
    scan.judge(codespace(1, "node:18"));
    scan.judge(codespace(2, "python:3"));
    let mut premium = codespace(3, "node:18");
    premium.machine = Some("PremiumLinux".into());
    scan.judge(premium);
    let mut user_pays = codespace(4, "node:18");
    user_pays.billable_owner = "mona".into();
    scan.judge(user_pays);
    let compliance = scan.finish();
    let found: Vec<(&str, &[i64])> = compliance
        .codespaces
        .iter()
        .map(|n| (n.refusal.constraint, n.refusal.refused_by.as_slice()))
        .collect();
    assert_eq!(
        found,
        [("machine_types", &[9][..]), ("base_images", &[7][..])]
    );
}
