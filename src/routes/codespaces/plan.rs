//! The steps creation and full rebuild share around the decision: finding the repository,
//! reading the configured image, working out who pays, planning the build inside the
//! store's transaction, and recording the outcome.

use crate::billing::{billed_to_org, BillingMode};
use crate::devcontainer::{read_config_and_host, ConfiguredImage, Sources};
use crate::error::ApiError;
use crate::machines::HostRequirements;
use crate::metrics::Outcome;
use crate::names::Name;
use crate::placement::Choices;
use crate::policy::constraints::{idle_timeout_choice, retention_period_choice};
use crate::policy::{CompiledPolicySet, ImageRef, ImageSource, Judgement, Refused};
use crate::provisioning::{judgement, plan_judged, BuildRequest};
use crate::registries::Images;
use crate::routes::repo_in;
use crate::state::AppState;
use crate::store::{BuildPlan, Codespace, Org, Repo, User};

use super::answer::Requested;
use super::reach::{access_for, Holder};

/// The 400 for an image the policy refuses, with the contract's exact message.
pub(super) fn refused(state: &AppState, refusal: Refused, org: &Org, repo: &Repo) -> ApiError {
    state.metrics.record_decision(Outcome::Refused);
    tracing::info!(
        org = %org.login, repository = %repo.name, image = %refusal.image,
        outcome = "refused", policy_ids = ?refusal.policy_ids, "policy decision"
    );
    ApiError::BadRequest(refusal.message)
}

/// The structured event and the metric of an allowed (or recovery-mode) codespace.
pub(super) fn log_decision(state: &AppState, org: &Org, codespace: &Codespace, judged: &Judged) {
    let (outcome, counted) = if codespace.recovery_mode {
        ("recovery", Outcome::Recovery)
    } else if !judged.reported_by.is_empty() {
        ("would_refuse", Outcome::WouldRefuse)
    } else {
        ("allowed", Outcome::Allowed)
    };
    state.metrics.record_decision(counted);
    tracing::info!(
        org = %org.login, repository = %codespace.repository, image = %judged.image,
        built_from = %codespace.image, image_source = codespace.image_source.as_str(), outcome,
        policy_ids = ?judged.refused_by, reported_by = ?judged.reported_by,
        exception = ?judged.exception, "policy decision"
    );
}

/// What the plan judged, for the decision event: the configured image and, in recovery
/// mode, the policies that refused it (from the very set the transaction used).
#[derive(Default)]
pub(super) struct Judged {
    image: String,
    refused_by: Vec<i64>,
    /// The report-only policies that would have refused it.
    reported_by: Vec<i64>,
    /// The exception that allowed it although a policy did not.
    exception: Option<i64>,
}

/// The plan for the store's transaction, noting what it judged in `judged`.
pub(super) fn plan_noting<'a>(input: BuildRequest, judged: &'a mut Judged) -> BuildPlan<'a> {
    Box::new(move |set: &CompiledPolicySet| {
        judged.image = input.image.as_str().to_string();
        let judgement = judgement(&input, set);
        judged.reported_by = judgement.reported().iter().map(|r| r.id).collect();
        judged.exception = judgement.exception().map(|e| e.id);
        if let Judgement::Refused { policy_ids, .. } = &judgement {
            judged.refused_by = policy_ids.clone();
        }
        plan_judged(&input, set, judgement)
    })
}

/// The image a configuration names, parsed, and where it comes from.
pub(super) struct Configured {
    pub image: ImageRef,
    pub source: ImageSource,
    /// The Docker Compose service it comes from, if it does.
    pub compose_service: Option<String>,
    /// The configuration's `hostRequirements`.
    pub host_requirements: HostRequirements,
}

/// Reads the configuration into the image to judge and where it came from.
pub(super) fn configured_image(
    state: &AppState,
    sources: Sources<'_>,
) -> Result<Configured, ApiError> {
    let (configured, host) = read_config_and_host(sources)
        .map_err(|e| ApiError::invalid("Codespace", e.field, e.message))?;
    let host_requirements = host
        .as_ref()
        .map(HostRequirements::parse)
        .transpose()
        .map_err(|e| {
            ApiError::invalid("Codespace", &format!("devcontainer.{}", e.field), e.message)
        })?
        .unwrap_or_default();
    let (raw, source, field, compose_service) = match configured {
        ConfiguredImage::Image(image) => (image, ImageSource::Image, "devcontainer.image", None),
        ConfiguredImage::Dockerfile { base_image } => {
            (base_image, ImageSource::Dockerfile, "dockerfile", None)
        }
        ConfiguredImage::Compose { service, image } => {
            (image, ImageSource::Compose, "compose_files", Some(service))
        }
        // A service built from a Dockerfile is judged as one: refused, it is recovery mode.
        ConfiguredImage::ComposeBuild {
            service,
            base_image,
        } => (
            base_image,
            ImageSource::Dockerfile,
            "dockerfile",
            Some(service),
        ),
        ConfiguredImage::Default => (
            state.config.default_image.clone(),
            ImageSource::Default,
            "devcontainer",
            None,
        ),
    };
    let image = ImageRef::parse(&raw).map_err(|e| {
        ApiError::invalid(
            "Codespace",
            field,
            format!("names '{raw}', which is not a valid image reference: {e}"),
        )
    })?;
    Ok(Configured {
        image,
        source,
        compose_service,
        host_requirements,
    })
}

/// Checks the user's choices: a machine of the catalog, an idle timeout and a retention in
/// their ranges; each a 422 naming its field.
pub(super) fn choices(
    state: &AppState,
    requested: Requested<'_>,
    host_requirements: HostRequirements,
) -> Result<Choices, ApiError> {
    let catalog = &state.config.machine_catalog;
    let machine = requested
        .machine
        .map(|name| catalog.resolve(name).map(|m| m.name.clone()))
        .transpose()
        .map_err(|message| ApiError::invalid("Codespace", "machine", message))?;
    let invalid = |e: crate::policy::constraints::ConstraintError| {
        ApiError::invalid("Codespace", &e.field, e.message)
    };
    Ok(Choices {
        machine,
        idle_timeout_minutes: requested
            .idle_timeout_minutes
            .map(idle_timeout_choice)
            .transpose()
            .map_err(invalid)?,
        retention_period_minutes: requested
            .retention_period_minutes
            .map(retention_period_choice)
            .transpose()
            .map_err(invalid)?,
        host_requirements,
    })
}

/// Who a codespace is for and who pays for it.
pub(super) struct Billed {
    /// The user, as the request or the codespace names them; `None` for a preflight that
    /// names none.
    pub user: Option<String>,
    pub billed_to_org: bool,
    /// The org's login when it pays, the user's otherwise.
    pub billable_owner: String,
    /// The user and their role in the org, which decide the secrets that reach it.
    pub holder: Holder,
}

/// Who pays: the org when its billing setting covers the user, the user otherwise. `known`
/// is the user's record, if the user is known.
pub(super) async fn billing_for(
    state: &AppState,
    org: &Org,
    user: &Name,
    known: Option<&User>,
) -> Result<Billed, ApiError> {
    let role = match known {
        Some(known) => state.store.role_of(org.id, known.id).await?,
        None => None,
    };
    let selected = org.billing_mode == BillingMode::SelectedMembers
        && state.store.is_selected_for_billing(org.id, user).await?;
    let billed = billed_to_org(org.billing_mode, role, selected);
    let owner = if billed {
        org.login.clone()
    } else {
        user.to_string()
    };
    Ok(Billed {
        user: Some(user.to_string()),
        billed_to_org: billed,
        billable_owner: owner,
        holder: Holder {
            user_id: known.map(|u| u.id),
            role,
        },
    })
}

/// Finds `org/repo`; an unknown one is a 404.
pub(super) async fn find_repository(
    state: &AppState,
    full_name: &str,
) -> Result<(Org, Repo), ApiError> {
    let (org, repo_name) = full_name.split_once('/').ok_or_else(|| {
        ApiError::invalid("Codespace", "repository", "must be written as owner/name")
    })?;
    // Both halves must be names: a malformed one is the caller's 422, not an unknown 404.
    let (Ok(org), Ok(_)) = (Name::parse(org), Name::parse(repo_name)) else {
        return Err(ApiError::invalid(
            "Codespace",
            "repository",
            "must be written as owner/name",
        ));
    };
    let org = state
        .store
        .find_org(&org)
        .await?
        .ok_or(ApiError::NotFound)?;
    let repo = repo_in(state, &org, repo_name).await?;
    Ok((org, repo))
}

/// Everything the plan needs, with what reaches the codespace read from the store now.
pub(super) async fn build_request(
    state: &AppState,
    org: &Org,
    repo: &Repo,
    configured: Configured,
    billed: Billed,
    (requested, log_so_far): (Requested<'_>, Vec<String>),
) -> Result<BuildRequest, ApiError> {
    let choices = choices(state, requested, configured.host_requirements)?;
    let images = Images {
        configured: configured.image.as_str(),
        recovery: &state.config.recovery_image,
    };
    let access = access_for(state, org, repo, billed.holder, images).await?;
    Ok(BuildRequest {
        repository: format!("{}/{}", org.login, repo.name),
        repo_key: repo.name.to_ascii_lowercase(),
        user: billed.user,
        now: state.clock.now(),
        image: configured.image,
        source: configured.source,
        billed_to_org: billed.billed_to_org,
        billable_owner: billed.billable_owner,
        default_image: state.config.default_image.clone(),
        recovery_image: state.config.recovery_image.clone(),
        compose_service: configured.compose_service,
        log_so_far,
        access,
        choices,
        catalog: state.config.machine_catalog.clone(),
    })
}
