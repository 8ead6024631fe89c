//! Tests of judging: exempt codespaces, refusals, and exceptions with their expiry.

use chrono::{Duration, TimeZone};

use super::*;
use crate::policy::{AllowedValue, Enforcement, PolicyException, PolicyRules, Target};

const EXEMPT: ExemptImages<'static> = ExemptImages {
    default_image: "mcr.microsoft.com/devcontainers/universal:2",
    recovery_image: "mcr.microsoft.com/devcontainers/base:ubuntu",
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
}

fn rules(id: i64, enforcement: Enforcement, values: &[&str]) -> PolicyRules {
    PolicyRules {
        constraints: Default::default(),
        id,
        name: format!("policy {id}"),
        target: Target::AllRepositories,
        enforcement,
        base_images: Some(
            values
                .iter()
                .map(|v| AllowedValue::parse(v).unwrap())
                .collect(),
        ),
    }
}

/// One org-wide policy that allows nothing at all.
fn lockdown() -> CompiledPolicySet {
    CompiledPolicySet::compile(vec![rules(9, Enforcement::Enforce, &[])])
}

/// Exception 4 allows `node:18` in `repo` for `mona` for a day.
fn excepted(policies: Vec<PolicyRules>) -> CompiledPolicySet {
    CompiledPolicySet::compile_with(
        policies,
        vec![PolicyException {
            id: 4,
            repo_key: Some("repo".into()),
            user_key: Some("mona".into()),
            allowed_values: vec![AllowedValue::parse("node:18").unwrap()],
            expires_at: now() + Duration::days(1),
            reason: "migration".into(),
        }],
    )
}

fn judged(set: &CompiledPolicySet, raw: &str, source: ImageSource, billed: bool) -> Judgement {
    judged_at(set, raw, source, billed, now())
}

fn judged_at(
    set: &CompiledPolicySet,
    raw: &str,
    source: ImageSource,
    billed_to_org: bool,
    at: DateTime<Utc>,
) -> Judgement {
    let image = ImageRef::parse(raw).unwrap();
    let subject = Subject {
        repo_key: "repo",
        user: Some("Mona"),
        image: &image,
        source,
        billed_to_org,
    };
    judge(set, &subject, EXEMPT, at)
}

#[test]
fn a_refused_image_names_the_refusing_policies() {
    assert_eq!(
        judged(&lockdown(), "node:18", ImageSource::Image, true),
        Judgement::Refused {
            policy_ids: vec![9],
            reported: Vec::new(),
        }
    );
}

#[test]
fn the_default_and_recovery_images_and_codespaces_the_org_does_not_pay_for_are_not_judged() {
    for source in [
        ImageSource::Default,
        ImageSource::Image,
        ImageSource::Dockerfile,
    ] {
        let judgement = judged(&lockdown(), EXEMPT.default_image, source, true);
        assert!(matches!(judgement, Judgement::Exempt(_)), "{source:?}");
    }
    let recovery = judged(&lockdown(), EXEMPT.recovery_image, ImageSource::Image, true);
    assert!(matches!(recovery, Judgement::Exempt(_)));
    let unbilled = judged(&lockdown(), "node:18", ImageSource::Image, false);
    assert!(matches!(unbilled, Judgement::Exempt(_)));
}

#[test]
fn an_allowed_image_is_allowed() {
    let set = CompiledPolicySet::compile(vec![rules(1, Enforcement::Enforce, &["node:*"])]);
    assert_eq!(
        judged(&set, "node:18", ImageSource::Dockerfile, true),
        Judgement::Allowed {
            reported: Vec::new()
        }
    );
}

#[test]
fn a_live_exception_allows_what_the_policies_refuse_or_report_and_names_itself() {
    let applied = Judgement::Excepted(AppliedException {
        id: 4,
        reason: "migration".into(),
        expires_at: now() + Duration::days(1),
    });
    let enforced = excepted(vec![rules(9, Enforcement::Enforce, &[])]);
    assert_eq!(
        judged(&enforced, "node:18", ImageSource::Image, true),
        applied
    );
    assert_eq!(applied.exception().map(|e| e.id), Some(4));
    let reported = excepted(vec![rules(2, Enforcement::Report, &["python:*"])]);
    let judgement = judged(&reported, "node:18", ImageSource::Image, true);
    assert!(judgement.reported().is_empty(), "nothing reported");
    assert_eq!(judgement, applied);
    // What the policies allow needs no exception, and what it does not allow stays refused.
    let allowing = excepted(vec![rules(1, Enforcement::Enforce, &["node:*"])]);
    assert_eq!(
        judged(&allowing, "node:18", ImageSource::Image, true),
        Judgement::Allowed {
            reported: Vec::new()
        }
    );
    let other = judged(&enforced, "node:20", ImageSource::Image, true);
    assert!(matches!(other, Judgement::Refused { .. }), "{other:?}");
}

#[test]
fn an_expired_exception_never_applies_and_exempt_codespaces_stay_exempt() {
    let set = excepted(vec![rules(9, Enforcement::Enforce, &[])]);
    let expired = judged_at(
        &set,
        "node:18",
        ImageSource::Image,
        true,
        now() + Duration::days(1),
    );
    assert!(matches!(expired, Judgement::Refused { .. }), "{expired:?}");
    let unbilled = judged(&set, "node:18", ImageSource::Image, false);
    assert!(matches!(unbilled, Judgement::Exempt(_)));
}

#[test]
fn image_sources_round_trip_through_their_names() {
    for source in [
        ImageSource::Image,
        ImageSource::Dockerfile,
        ImageSource::Compose,
        ImageSource::Default,
    ] {
        assert_eq!(ImageSource::parse(source.as_str()), Some(source));
    }
}
