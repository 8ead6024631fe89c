//! Policy requests as they arrive, and their validation into a `PolicyDraft`. Every bad
//! field is reported at once, named with its index (`constraints.base_images.allowed_values[2]`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::constraints_body::{object_only, object_or_null, Constraints};
use crate::error::FieldError;
use crate::names::{is_label, Name};
use crate::policy::constraints::check_target;
use crate::policy::{AllowedValue, ConstraintSet, Enforcement, MAX_ALLOWED_VALUES};
use crate::store::{Policy, PolicyDraft, PolicyTarget};

/// At most this many repositories in one policy.
pub const MAX_POLICY_REPOSITORIES: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The org-wide policy: every repository of the org.
    AllRepositories,
    /// Only the repositories named in `repositories`.
    SelectedRepositories,
}

impl From<Target> for PolicyTarget {
    fn from(target: Target) -> Self {
        match target {
            Target::AllRepositories => Self::AllRepositories,
            Target::SelectedRepositories => Self::SelectedRepositories,
        }
    }
}

impl From<PolicyTarget> for Target {
    fn from(target: PolicyTarget) -> Self {
        match target {
            PolicyTarget::AllRepositories => Self::AllRepositories,
            PolicyTarget::SelectedRepositories => Self::SelectedRepositories,
        }
    }
}

/// `POST /orgs/{org}/codespaces/policies`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicy {
    /// 1 to 100 characters, no control characters.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]{1,100}$",
        min_length = 1,
        max_length = 100
    )]
    pub name: String,
    pub target: Target,
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub repositories: Option<Vec<String>>,
    #[serde(deserialize_with = "object_only")]
    pub constraints: Constraints,
    /// `enforce` (the default) refuses what the policy does not allow; `report` only
    /// reports what it would refuse.
    #[serde(default)]
    pub enforcement: Option<Enforcement>,
}

/// `PATCH /orgs/{org}/codespaces/policies/{policy_id}`: the fields given replace the stored ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePolicy {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]{1,100}$",
        min_length = 1,
        max_length = 100
    )]
    pub name: Option<String>,
    pub target: Option<Target>,
    #[schema(max_items = 1000)]
    pub repositories: Option<Vec<String>>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub constraints: Option<Constraints>,
    #[serde(default)]
    pub enforcement: Option<Enforcement>,
}

/// The parts of a request that can be checked without the stored policy.
struct Checked {
    name: Option<String>,
    repositories: Option<Vec<Name>>,
    base_images: Option<Option<Vec<AllowedValue>>>,
    others: Option<ConstraintSet>,
}

/// The catalog's machine names, which `machine_types` may list.
pub type KnownMachines<'a> = &'a [&'a str];

fn check(
    name: Option<&str>,
    repositories: Option<&[String]>,
    constraints: Option<&Constraints>,
    known_machines: KnownMachines<'_>,
) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = name.map(str::to_string);
    if let Some(name) = &name {
        if !is_label(name) {
            errors.push(FieldError::invalid(
                "Policy",
                "name",
                "must be 1 to 100 characters with no control characters",
            ));
        }
    }
    let repositories = repositories.map(|names| {
        if names.len() > MAX_POLICY_REPOSITORIES {
            errors.push(FieldError::invalid(
                "Policy",
                "repositories",
                format!("may name at most {MAX_POLICY_REPOSITORIES} repositories"),
            ));
        }
        let mut parsed = Vec::with_capacity(names.len());
        for (index, raw) in names.iter().enumerate().take(MAX_POLICY_REPOSITORIES) {
            match Name::parse(raw) {
                Ok(name) => parsed.push(name),
                Err(e) => errors.push(FieldError::invalid(
                    "Policy",
                    format!("repositories[{index}]"),
                    e.to_string(),
                )),
            }
        }
        parsed
    });
    let base_images = constraints.map(|c| {
        c.base_images.as_ref().map(|base| {
            let field = "constraints.base_images.allowed_values";
            if base.allowed_values.len() > MAX_ALLOWED_VALUES {
                errors.push(FieldError::invalid(
                    "Policy",
                    field,
                    format!("may hold at most {MAX_ALLOWED_VALUES} values"),
                ));
            }
            let mut parsed = Vec::with_capacity(base.allowed_values.len());
            for (index, raw) in base
                .allowed_values
                .iter()
                .enumerate()
                .take(MAX_ALLOWED_VALUES)
            {
                match AllowedValue::parse(raw) {
                    Ok(value) => parsed.push(value),
                    Err(e) => errors.push(FieldError::invalid(
                        "Policy",
                        format!("{field}[{index}]"),
                        e.to_string(),
                    )),
                }
            }
            parsed
        })
    });
    let others = constraints.and_then(|c| match c.others().validate(known_machines) {
        Ok(set) => Some(set),
        Err(bad) => {
            errors.extend(
                bad.into_iter()
                    .map(|e| FieldError::invalid("Policy", e.field, e.message)),
            );
            None
        }
    });
    if errors.is_empty() {
        Ok(Checked {
            name,
            repositories,
            base_images,
            others,
        })
    } else {
        Err(errors)
    }
}

/// Checks that the target and the repositories agree, and that a policy holding
/// `max_codespaces_per_user` applies to every repository.
fn finish(
    name: String,
    (target, enforcement): (PolicyTarget, Enforcement),
    repositories: Vec<Name>,
    (base_images, constraints): (Option<Vec<AllowedValue>>, ConstraintSet),
) -> Result<PolicyDraft, Vec<FieldError>> {
    let all_repositories = target == PolicyTarget::AllRepositories;
    if let Err(e) = check_target(all_repositories, &constraints) {
        return Err(vec![FieldError::invalid("Policy", e.field, e.message)]);
    }
    let problem = match target {
        PolicyTarget::AllRepositories if !repositories.is_empty() => {
            Some("must be empty when target is all_repositories")
        }
        PolicyTarget::SelectedRepositories if repositories.is_empty() => {
            Some("must name at least one repository when target is selected_repositories")
        }
        _ => None,
    };
    match problem {
        Some(message) => Err(vec![FieldError::invalid("Policy", "repositories", message)]),
        None => Ok(PolicyDraft {
            name,
            target,
            repositories,
            base_images,
            constraints,
            enforcement,
        }),
    }
}

impl CreatePolicy {
    pub fn validate(
        &self,
        known_machines: KnownMachines<'_>,
    ) -> Result<PolicyDraft, Vec<FieldError>> {
        let checked = check(
            Some(&self.name),
            self.repositories.as_deref(),
            Some(&self.constraints),
            known_machines,
        )?;
        finish(
            checked.name.unwrap_or_default(),
            (self.target.into(), self.enforcement.unwrap_or_default()),
            checked.repositories.unwrap_or_default(),
            (
                checked.base_images.flatten(),
                checked.others.unwrap_or_default(),
            ),
        )
    }
}

/// A validated patch, applied to the stored policy under the store's lock.
pub struct CheckedPatch {
    target: Option<PolicyTarget>,
    enforcement: Option<Enforcement>,
    checked: Checked,
}

impl UpdatePolicy {
    pub fn validate(
        &self,
        known_machines: KnownMachines<'_>,
    ) -> Result<CheckedPatch, Vec<FieldError>> {
        let checked = check(
            self.name.as_deref(),
            self.repositories.as_deref(),
            self.constraints.as_ref(),
            known_machines,
        )?;
        Ok(CheckedPatch {
            target: self.target.map(Into::into),
            enforcement: self.enforcement,
            checked,
        })
    }
}

impl CheckedPatch {
    /// The whole policy after the patch. Switching to `all_repositories` without naming
    /// repositories drops the old list, as a user switching targets expects.
    pub fn apply(self, current: &Policy) -> Result<PolicyDraft, Vec<FieldError>> {
        let target = self.target.unwrap_or(current.target);
        let repositories = match self.checked.repositories {
            Some(repositories) => repositories,
            None if target == PolicyTarget::AllRepositories => Vec::new(),
            None => current
                .repositories
                .iter()
                .filter_map(|name| Name::parse(name).ok())
                .collect(),
        };
        let base_images = match self.checked.base_images {
            Some(base_images) => base_images,
            None => current.base_images.as_ref().map(|values| {
                values
                    .iter()
                    .filter_map(|v| AllowedValue::parse(v).ok())
                    .collect()
            }),
        };
        // `constraints` in a patch replaces them all, as it replaces `base_images`.
        let others = self
            .checked
            .others
            .unwrap_or_else(|| current.constraints.clone());
        let name = self.checked.name.unwrap_or_else(|| current.name.clone());
        let enforcement = self.enforcement.unwrap_or(current.enforcement);
        finish(
            name,
            (target, enforcement),
            repositories,
            (base_images, others),
        )
    }
}
