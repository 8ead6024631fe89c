//! What a codespace is built from once the policy has spoken: the image, recovery mode,
//! its registries and the creation log. Pure, so that creation, full rebuild and preflight
//! share it exactly.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::machines::MachineCatalog;
use crate::placement::{place, Choices, Placement};
use crate::policy::constraints::codespace_limit_message;
use crate::policy::{
    judge, refusal_message, AppliedException, CompiledPolicySet, DecisionNote, DecisionOutcome,
    ExemptImages, ImageRef, ImageSource, Judgement, Refused, Subject,
};
use crate::registries::{incomplete_lines, pull_line, Access, Pull};
use crate::store::CodespaceBuild;

/// Everything the decision needs besides the policy set, fixed before the transaction.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// `org/repo`, for the log.
    pub repository: String,
    /// The lowercased repository name policies are indexed by.
    pub repo_key: String,
    /// The codespace's user; `None` for a preflight that names none (then only exceptions
    /// for every user apply).
    pub user: Option<String>,
    /// The service's clock when the request arrived, by which exceptions are live or expired.
    pub now: DateTime<Utc>,
    pub image: ImageRef,
    pub source: ImageSource,
    pub billed_to_org: bool,
    pub billable_owner: String,
    pub default_image: String,
    pub recovery_image: String,
    /// The Docker Compose service the image comes from, when it comes from one.
    pub compose_service: Option<String>,
    /// Lines already in the log (a rebuild keeps the codespace's history).
    pub log_so_far: Vec<String>,
    /// How the configured and the recovery image would be pulled.
    pub access: Access,
    /// The machine, idle timeout and retention asked for.
    pub choices: Choices,
    pub catalog: Arc<MachineCatalog>,
}

/// What the policies say of the request's image: the judgement [`plan_build`] acts on.
pub fn judgement(request: &BuildRequest, set: &CompiledPolicySet) -> Judgement {
    let exempt = ExemptImages {
        default_image: &request.default_image,
        recovery_image: &request.recovery_image,
    };
    let subject = Subject {
        repo_key: &request.repo_key,
        user: request.user.as_deref(),
        image: &request.image,
        source: request.source,
        billed_to_org: request.billed_to_org,
    };
    judge(set, &subject, exempt, request.now)
}

/// Decides what to build. A refused `image` is an error (the caller answers 400); a refused
/// Dockerfile base image builds the recovery image instead, and says so on the last log line.
pub fn plan_build(
    request: &BuildRequest,
    set: &CompiledPolicySet,
) -> Result<CodespaceBuild, Refused> {
    plan_judged(request, set, judgement(request, set))
}

/// [`plan_build`] for a request already judged, for callers that also show the judgement
/// (preflight): the same plan, without judging twice. `set` gives the other constraints
/// (machine types, limits), which apply only when the org pays.
pub fn plan_judged(
    request: &BuildRequest,
    set: &CompiledPolicySet,
    judgement: Judgement,
) -> Result<CodespaceBuild, Refused> {
    let image = request.image.as_str().to_string();
    let mut log = request.log_so_far.clone();
    log.push(format!(
        "Resolving the dev container configuration of {}.",
        request.repository
    ));
    let service = request.compose_service.as_deref().unwrap_or_default();
    log.push(match (request.source, &request.compose_service) {
        (ImageSource::Image, _) => format!("Using image '{image}' from devcontainer.json."),
        (ImageSource::Dockerfile, None) => {
            format!("Using base image '{image}' from the final stage of the Dockerfile.")
        }
        (ImageSource::Dockerfile, Some(_)) => format!(
            "Using base image '{image}' from the Dockerfile that Docker Compose service '{service}' builds."
        ),
        (ImageSource::Compose, _) => format!(
            "Using image '{image}' of Docker Compose service '{service}'."
        ),
        (ImageSource::Default, _) => {
            format!("No image is configured; using the default image '{image}'.")
        }
    });
    let access = &request.access;
    let limits = if request.billed_to_org {
        set.limits(&request.repo_key)
    } else {
        Default::default()
    };
    let placed = place(&limits, &request.catalog, &request.choices);
    // What the decision log keeps, for every codespace the policies judged.
    let judged = !matches!(judgement, Judgement::Exempt(_));
    let reported_by: Vec<i64> = judgement.reported().iter().map(|r| r.id).collect();
    let exception = judgement.exception().map(|e| e.id);
    let note = |outcome: DecisionOutcome, refused_by: &[i64]| DecisionNote {
        image: image.clone(),
        image_source: request.source,
        outcome,
        refused_by: refused_by.to_vec(),
        reported_by: reported_by.clone(),
        exception,
    };
    let build = |image: String,
                 recovery_mode: bool,
                 log: Vec<String>,
                 refused_by: &[i64],
                 placement: Placement| {
        let outcome = if recovery_mode {
            DecisionOutcome::Recovery
        } else {
            DecisionOutcome::Created
        };
        CodespaceBuild {
            billed_to_org: request.billed_to_org,
            machine: placement.machine,
            limits: placement.limits,
            per_user_limit: placement.per_user_limit,
            billable_owner: request.billable_owner.clone(),
            decision: judged.then(|| note(outcome, refused_by)),
            image,
            image_source: request.source,
            recovery_mode,
            creation_log: log,
            registries: access.registries.complete.clone(),
        }
    };
    let recovery = request.recovery_image.clone();
    // The recovery image's pull line and the line that starts it, in either recovery case.
    let into_recovery = |log: &mut Vec<String>| {
        log.extend(incomplete_lines(&access.registries));
        log.push(pull_line(&recovery, &access.recovery));
        log.push(format!(
            "Creating the codespace container from the recovery image '{recovery}'."
        ));
    };
    // Report-only policies never refuse; the log says what each would have done.
    for reported in judgement.reported() {
        log.push(format!(
            "Report-only policy {} ('{}') would refuse base image '{image}'; it is not enforced.",
            reported.id, reported.name
        ));
    }
    // The image first: a refused `image` is its 400 whatever the machine.
    let placement = match (&judgement, placed) {
        (Judgement::Refused { .. }, _) if request.source != ImageSource::Dockerfile => None,
        (_, Ok(placement)) => Some(placement),
        (_, Err(refusal)) => {
            log.push(refusal.message.clone());
            return Err(Refused {
                decision: Box::new(note(DecisionOutcome::Refused, &refusal.policy_ids)),
                message: refusal.message,
                image,
                policy_ids: refusal.policy_ids,
                log,
            });
        }
    };
    if let Some(placement) = &placement {
        log.extend(placement.log.iter().cloned());
    }
    match (judgement, placement) {
        (judgement, Some(placement))
            if matches!(
                judgement,
                Judgement::Allowed { .. } | Judgement::Exempt(_) | Judgement::Excepted(_)
            ) =>
        {
            log.push(match &judgement {
                Judgement::Exempt(reason) => format!("Organization policy not checked: {reason}."),
                Judgement::Excepted(exception) => exception_line(exception, &image),
                _ => format!("Base image '{image}' is allowed by the organization's policies."),
            });
            if let Pull::Unpullable { reason } = &access.configured {
                // Allowed, but not available to this codespace: recovery, and the last line says why.
                into_recovery(&mut log);
                log.push(reason.clone());
                return Ok(build(recovery.clone(), true, log, &[], placement));
            }
            log.extend(incomplete_lines(&access.registries));
            log.push(pull_line(&image, &access.configured));
            log.push(format!("Creating the codespace container from '{image}'."));
            Ok(build(image.clone(), false, log, &[], placement))
        }
        (Judgement::Refused { policy_ids, .. }, Some(placement)) => {
            into_recovery(&mut log);
            log.push(format!(
                "{} The codespace is running in recovery mode on '{recovery}' (refused by policy {}).",
                refusal_message(&image),
                join_ids(&policy_ids)
            ));
            Ok(build(recovery.clone(), true, log, &policy_ids, placement))
        }
        (judgement, _) => {
            let policy_ids = match judgement {
                Judgement::Refused { policy_ids, .. } => policy_ids,
                _ => Vec::new(),
            };
            log.push(format!(
                "{} (refused by policy {})",
                refusal_message(&image),
                join_ids(&policy_ids)
            ));
            Err(Refused {
                decision: Box::new(note(DecisionOutcome::Refused, &policy_ids)),
                message: refusal_message(&image),
                image,
                policy_ids,
                log,
            })
        }
    }
}

/// The refusal of a creation whose user already holds `held` codespaces billed to the org,
/// when that reaches the `max_codespaces_per_user` its build must check: the store's to ask
/// under its lock, preflight's without one.
pub fn over_codespace_limit(build: &CodespaceBuild, held: i64) -> Option<Refused> {
    let limit = build.per_user_limit.as_ref()?;
    (held >= i64::from(limit.value)).then(|| limit_refusal(build, limit))
}

fn limit_refusal(build: &CodespaceBuild, limit: &crate::policy::constraints::Limit) -> Refused {
    let message = codespace_limit_message(limit);
    let mut log = build.creation_log.clone();
    log.push(message.clone());
    let decision = build.decision.clone().map_or_else(
        || DecisionNote {
            image: build.image.clone(),
            image_source: build.image_source,
            outcome: DecisionOutcome::Refused,
            refused_by: vec![limit.policy.id],
            reported_by: Vec::new(),
            exception: None,
        },
        |note| DecisionNote {
            outcome: DecisionOutcome::Refused,
            refused_by: vec![limit.policy.id],
            ..note
        },
    );
    Refused {
        image: decision.image.clone(),
        message,
        policy_ids: vec![limit.policy.id],
        decision: Box::new(decision),
        log,
    }
}

/// The creation log's line naming the exception that allowed the image.
fn exception_line(exception: &AppliedException, image: &str) -> String {
    format!(
        "Exception {} (reason: '{}') allows base image '{image}' until {}; the organization \
         policies alone would not allow it.",
        exception.id,
        exception.reason,
        exception
            .expires_at
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A new codespace id: `cs_` and a ULID (time-ordered, 80 random bits), in the 26
/// characters of Crockford base32 that `check_id` and the OpenAPI pattern expect.
pub fn new_codespace_id() -> String {
    format!("cs_{}", ulid::Ulid::generate())
}

#[cfg(test)]
#[path = "provisioning_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "provisioning_access_tests.rs"]
mod access_tests;
