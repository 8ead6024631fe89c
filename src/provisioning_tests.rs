//! Tests of the plan: what is built, and what the log says, for each judgement.

use super::*;
use crate::policy::{AllowedValue, PolicyException, PolicyRules, Target};

fn node_only() -> CompiledPolicySet {
    CompiledPolicySet::compile(vec![PolicyRules {
        constraints: Default::default(),
        id: 4,
        name: "node".into(),
        target: Target::AllRepositories,
        enforcement: Default::default(),
        base_images: Some(vec![AllowedValue::parse("node:*").unwrap()]),
    }])
}

fn request(image: &str, source: ImageSource) -> BuildRequest {
    BuildRequest {
        repository: "octo-org/app".into(),
        repo_key: "app".into(),
        user: Some("mona".into()),
        now: chrono::DateTime::UNIX_EPOCH,
        image: ImageRef::parse(image).unwrap(),
        source,
        billed_to_org: true,
        billable_owner: "octo-org".into(),
        default_image: "mcr.microsoft.com/devcontainers/universal:2".into(),
        recovery_image: "mcr.microsoft.com/devcontainers/base:ubuntu".into(),
        compose_service: None,
        log_so_far: vec!["earlier".into()],
        access: Access::anonymous(),
        choices: Default::default(),
        catalog: std::sync::Arc::new(crate::machines::MachineCatalog::github_linux()),
    }
}

#[test]
fn a_refused_compose_image_is_refused_like_a_devcontainer_image() {
    let request = BuildRequest {
        compose_service: Some("app".into()),
        ..request("python:3", ImageSource::Compose)
    };
    let refused = plan_build(&request, &node_only()).unwrap_err();
    assert_eq!(refused.image, "python:3");
    let allowed = BuildRequest {
        image: ImageRef::parse("node:18").unwrap(),
        ..request
    };
    let build = plan_build(&allowed, &node_only()).unwrap();
    assert!(!build.recovery_mode);
    assert!(build
        .creation_log
        .contains(&"Using image 'node:18' of Docker Compose service 'app'.".to_string()));
}

#[test]
fn a_refused_compose_build_runs_in_recovery_mode_and_names_the_service() {
    let request = BuildRequest {
        compose_service: Some("app".into()),
        ..request("python:3", ImageSource::Dockerfile)
    };
    let build = plan_build(&request, &node_only()).unwrap();
    assert!(build.recovery_mode);
    assert!(build.creation_log.contains(
        &"Using base image 'python:3' from the Dockerfile that Docker Compose service 'app' builds."
            .to_string()
    ));
}

#[test]
fn an_allowed_image_is_built_as_configured() {
    let build = plan_build(&request("node:18", ImageSource::Image), &node_only()).unwrap();
    assert_eq!(build.image, "node:18");
    assert!(!build.recovery_mode);
    assert_eq!(build.creation_log[0], "earlier");
}

#[test]
fn a_refused_image_is_an_error_naming_the_image_as_written() {
    let refused = plan_build(&request("python:3", ImageSource::Image), &node_only()).unwrap_err();
    assert_eq!(refused.image, "python:3");
    assert_eq!(refused.policy_ids, vec![4]);
    assert_eq!(
        refused.log.last().unwrap(),
        "Base image 'python:3' is not allowed based on an organization policy set by your organization administrator. (refused by policy 4)"
    );
}

#[test]
fn a_refused_dockerfile_base_image_builds_the_recovery_image() {
    let build = plan_build(&request("python:3", ImageSource::Dockerfile), &node_only()).unwrap();
    assert!(build.recovery_mode);
    assert_eq!(build.image, "mcr.microsoft.com/devcontainers/base:ubuntu");
    assert_eq!(build.image_source, ImageSource::Dockerfile);
    let last = build.creation_log.last().unwrap();
    assert!(
        last.contains("Base image 'python:3' is not allowed"),
        "{last}"
    );
    assert!(last.contains("recovery mode"), "{last}");
}

#[test]
fn an_excepted_dockerfile_base_image_is_built_as_configured_and_the_log_names_the_exception() {
    let exception = PolicyException {
        id: 3,
        repo_key: Some("app".into()),
        user_key: None,
        allowed_values: vec![AllowedValue::parse("python:3").unwrap()],
        expires_at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(30),
        reason: "Migration to node 20".into(),
    };
    let rules = PolicyRules {
        constraints: Default::default(),
        id: 4,
        name: "node".into(),
        target: Target::AllRepositories,
        enforcement: Default::default(),
        base_images: Some(vec![AllowedValue::parse("node:*").unwrap()]),
    };
    let set = CompiledPolicySet::compile_with(vec![rules], vec![exception]);
    let build = plan_build(&request("python:3", ImageSource::Dockerfile), &set).unwrap();
    assert!(!build.recovery_mode);
    assert_eq!(build.image, "python:3");
    assert!(build.creation_log.contains(&"Exception 3 (reason: 'Migration to node 20') allows base image 'python:3' until 1970-01-31T00:00:00Z; the organization policies alone would not allow it.".to_string()), "{:?}", build.creation_log);
    let note = build.decision.unwrap();
    assert_eq!(
        (note.exception, note.outcome),
        (Some(3), DecisionOutcome::Created)
    );
    assert!(note.refused_by.is_empty() && note.reported_by.is_empty());
    // The same request once the exception expired: recovery mode, as without it.
    let later = BuildRequest {
        now: chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(30),
        ..request("python:3", ImageSource::Dockerfile)
    };
    let build = plan_build(&later, &set).unwrap();
    assert!(build.recovery_mode);
    assert_eq!(build.decision.unwrap().exception, None);
}

#[test]
fn codespace_ids_are_unique_and_well_formed() {
    let a = new_codespace_id();
    let b = new_codespace_id();
    assert_ne!(a, b);
    assert_eq!(a.len(), 29);
    assert!(a.starts_with("cs_"));
    let crockford = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    assert!(a[3..].bytes().all(|c| crockford.contains(&c)), "{a}");
}
