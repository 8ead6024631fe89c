//! The `constraints` object of a policy request and answer: `base_images` and the five
//! other constraints, read only from a JSON object.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::policy::constraints::{AllowedInput, ValueInput};
use crate::policy::{ConstraintSet, ConstraintsInput};

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// Absent: the policy does not constrain base images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_images: Option<BaseImages>,
    /// Catalog machine names (`GET /machines`); several policies allow their intersection.
    /// Applied at creation and at every start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_types: Option<AllowedInput>,
    /// 1 to 100 codespaces billed to the org, active and stopped; several policies: the
    /// smallest. Only in an `all_repositories` policy. Applied at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_codespaces_per_user: Option<ValueInput>,
    /// 5 to 240; several policies, and the user's own choice: the smallest. Applied at
    /// creation and at every start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_idle_timeout_minutes: Option<ValueInput>,
    /// 0 to 30; several policies, and the user's own choice: the smallest. Applied at
    /// creation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retention_period_days: Option<ValueInput>,
    /// Any of `private`, `org`, `public` (`private` is always allowed); several policies
    /// allow their intersection. Applied at every start and every port change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_visibility: Option<AllowedInput>,
}

impl Constraints {
    /// The answer's shape of a stored policy's constraints.
    pub fn of(base_images: Option<Vec<String>>, others: &ConstraintSet) -> Self {
        let others = others.to_input();
        Self {
            base_images: base_images.map(|allowed_values| BaseImages { allowed_values }),
            machine_types: others.machine_types,
            max_codespaces_per_user: others.max_codespaces_per_user,
            max_idle_timeout_minutes: others.max_idle_timeout_minutes,
            max_retention_period_days: others.max_retention_period_days,
            port_visibility: others.port_visibility,
        }
    }

    /// The constraints beside base images, for their validation.
    pub(super) fn others(&self) -> ConstraintsInput {
        ConstraintsInput {
            machine_types: self.machine_types.clone(),
            max_codespaces_per_user: self.max_codespaces_per_user.clone(),
            max_idle_timeout_minutes: self.max_idle_timeout_minutes.clone(),
            max_retention_period_days: self.max_retention_period_days.clone(),
            port_visibility: self.port_visibility.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BaseImages {
    /// Image references, each exact or a prefix ending in `*` (at most 1000 values of at
    /// most 512 characters).
    #[schema(max_items = 1000)]
    pub allowed_values: Vec<String>,
}

/// `constraints` only as a JSON object: serde would also take a struct from a list of its
/// fields in order, which no client means. The object goes to the derived reader as it is,
/// so that a key given twice is still refused.
pub(super) fn object_only<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Constraints, D::Error> {
    deserializer.deserialize_map(ObjectOnly)
}

pub(super) fn object_or_null<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Constraints>, D::Error> {
    deserializer.deserialize_option(ObjectOrNull)
}

struct ObjectOnly;

impl<'de> serde::de::Visitor<'de> for ObjectOnly {
    type Value = Constraints;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of constraints")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Constraints, A::Error> {
        Constraints::deserialize(serde::de::value::MapAccessDeserializer::new(map))
    }
}

/// `null` or an object, for a PATCH.
struct ObjectOrNull;

impl<'de> serde::de::Visitor<'de> for ObjectOrNull {
    type Value = Option<Constraints>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of constraints, or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        object_only(d).map(Some)
    }
}
