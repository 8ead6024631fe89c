//! How the plan uses what reaches the codespace: the pull line, the incomplete triplets,
//! its registries, and recovery mode for an allowed image that cannot be pulled.

use super::*;
use crate::policy::{CompiledPolicySet, ImageRef, ImageSource};
use crate::registries::{Incomplete, Registries, Registry};

fn request(access: Access) -> BuildRequest {
    BuildRequest {
        repository: "octo-org/app".into(),
        repo_key: "app".into(),
        user: Some("mona".into()),
        now: chrono::DateTime::UNIX_EPOCH,
        image: ImageRef::parse("ghcr.io/octo-org/tools:1").unwrap(),
        source: ImageSource::Image,
        billed_to_org: true,
        billable_owner: "octo-org".into(),
        default_image: "mcr.microsoft.com/devcontainers/universal:2".into(),
        recovery_image: "mcr.microsoft.com/devcontainers/base:ubuntu".into(),
        compose_service: None,
        log_so_far: Vec::new(),
        access,
        choices: Default::default(),
        catalog: std::sync::Arc::new(crate::machines::MachineCatalog::github_linux()),
    }
}

fn registries() -> Registries {
    Registries {
        complete: vec![Registry {
            server: "ghcr.io".into(),
            secret_prefix: "GH".into(),
        }],
        incomplete: vec![Incomplete {
            prefix: "ACR".into(),
            missing: vec!["ACR_CONTAINER_REGISTRY_PASSWORD".into()],
        }],
    }
}

#[test]
fn a_pullable_image_is_pulled_then_created_and_keeps_its_registries() {
    let access = Access {
        registries: registries(),
        configured: Pull::Credentials {
            secret_prefix: "GH".into(),
        },
        recovery: Pull::Anonymous,
    };
    let build = plan_build(&request(access), &CompiledPolicySet::default()).unwrap();
    assert!(!build.recovery_mode);
    assert_eq!(build.registries, registries().complete);
    let log = &build.creation_log;
    let n = log.len();
    assert!(log[n - 3]
        .contains("are incomplete and were not used: missing ACR_CONTAINER_REGISTRY_PASSWORD"));
    assert_eq!(
        log[n - 2],
        "Pulling the image ghcr.io/octo-org/tools:1 from ghcr.io with the credentials in GH_CONTAINER_REGISTRY_*."
    );
    assert_eq!(
        log[n - 1],
        "Creating the codespace container from 'ghcr.io/octo-org/tools:1'."
    );
}

#[test]
fn an_allowed_image_that_cannot_be_pulled_runs_in_recovery_mode_and_says_why_last() {
    let reason = "The image ghcr.io/octo-org/tools:1 cannot be pulled: no access.".to_string();
    let access = Access {
        registries: Registries::default(),
        configured: Pull::Unpullable {
            reason: reason.clone(),
        },
        recovery: Pull::Anonymous,
    };
    let build = plan_build(&request(access), &CompiledPolicySet::default()).unwrap();
    assert!(build.recovery_mode);
    assert_eq!(build.image, "mcr.microsoft.com/devcontainers/base:ubuntu");
    assert_eq!(build.image_source, ImageSource::Image);
    assert_eq!(build.creation_log.last(), Some(&reason));
    assert!(build.creation_log.contains(
        &"Pulling the image mcr.microsoft.com/devcontainers/base:ubuntu from mcr.microsoft.com anonymously."
            .to_string()
    ));
}

#[test]
fn a_refused_image_is_refused_before_anything_is_pulled() {
    let access = Access {
        registries: registries(),
        configured: Pull::Anonymous,
        recovery: Pull::Anonymous,
    };
    let set = CompiledPolicySet::compile(vec![crate::policy::PolicyRules {
        constraints: Default::default(),
        id: 1,
        name: "node".into(),
        target: crate::policy::Target::AllRepositories,
        enforcement: Default::default(),
        base_images: Some(vec![crate::policy::AllowedValue::parse("node:*").unwrap()]),
    }]);
    let refused = plan_build(&request(access), &set).unwrap_err();
    assert!(!refused.log.iter().any(|l| l.starts_with("Pulling")));
}

#[test]
fn a_report_only_policy_never_refuses_and_the_log_names_it() {
    let set = CompiledPolicySet::compile(vec![
        crate::policy::PolicyRules {
            constraints: Default::default(),
            id: 3,
            name: "Trial".into(),
            target: crate::policy::Target::AllRepositories,
            enforcement: crate::policy::Enforcement::Report,
            base_images: Some(vec![crate::policy::AllowedValue::parse("node:*").unwrap()]),
        },
        crate::policy::PolicyRules {
            constraints: Default::default(),
            id: 4,
            name: "Open".into(),
            target: crate::policy::Target::AllRepositories,
            enforcement: crate::policy::Enforcement::Enforce,
            base_images: Some(vec![
                crate::policy::AllowedValue::parse("ghcr.io/*").unwrap()
            ]),
        },
    ]);
    let build = plan_build(&request(Access::anonymous()), &set).unwrap();
    assert!(!build.recovery_mode, "report-only: created as configured");
    assert!(build.creation_log.contains(
        &"Report-only policy 3 ('Trial') would refuse base image 'ghcr.io/octo-org/tools:1'; it is not enforced."
            .to_string()
    ), "{:?}", build.creation_log);
    let judged = judgement(&request(Access::anonymous()), &set);
    assert_eq!(
        judged.reported().iter().map(|r| r.id).collect::<Vec<_>>(),
        [3]
    );
}
