//! The 400 messages of the constraints, each naming what was refused and the policies
//! that refused it, so that a user knows whom to ask.

use std::fmt::Display;

use super::{Limit, PolicyRef, PortVisibility};

/// `the organization policy 'A'`, or `the organization policies 'A' and 'B'`.
fn naming(policies: &[&PolicyRef]) -> String {
    let names: Vec<String> = policies.iter().map(|p| format!("'{}'", p.name)).collect();
    match names.as_slice() {
        [] => "an organization policy".to_owned(),
        [one] => format!("the organization policy {one}"),
        [rest @ .., last] => format!("the organization policies {} and {last}", rest.join(", ")),
    }
}

/// A machine the policies do not allow.
pub fn machine_refusal_message(machine: &str, refused_by: &[&PolicyRef]) -> String {
    format!(
        "Machine type '{machine}' is not allowed based on {} set by your organization administrator.",
        naming(refused_by)
    )
}

/// No allowed machine meets `requirements` (a `HostRequirements`); `restricted_by` are the
/// policies with `machine_types`, empty when only the catalog falls short.
pub fn no_machine_message(requirements: &dyn Display, restricted_by: &[&PolicyRef]) -> String {
    if restricted_by.is_empty() {
        return format!(
            "No machine type meets this configuration's hostRequirements ({requirements})."
        );
    }
    format!(
        "No machine type allowed based on {} set by your organization administrator meets this configuration's hostRequirements ({requirements}).",
        naming(restricted_by)
    )
}

/// A user already holding `limit` org-billed codespaces.
pub fn codespace_limit_message(limit: &Limit) -> String {
    format!(
        "You already have the maximum of {} codespaces billed to this organization allowed by {} set by your organization administrator.",
        limit.value,
        naming(&[&limit.policy])
    )
}

/// A port visibility the policies do not allow.
pub fn port_visibility_refusal_message(
    visibility: PortVisibility,
    refused_by: &[&PolicyRef],
) -> String {
    format!(
        "Port visibility '{visibility}' is not allowed based on {} set by your organization administrator.",
        naming(refused_by)
    )
}
