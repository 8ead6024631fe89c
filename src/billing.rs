//! Who pays for a codespace, and so whether the org's policies apply to it: they apply only
//! to codespaces billed to the org.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user's role in an org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Member,
    OutsideCollaborator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Member => "member",
            Self::OutsideCollaborator => "outside_collaborator",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Owner, Self::Member, Self::OutsideCollaborator]
            .into_iter()
            .find(|role| role.as_str() == raw)
    }

    /// Owners and members belong to the org; outside collaborators only to some repositories.
    pub fn is_org_member(self) -> bool {
        matches!(self, Self::Owner | Self::Member)
    }
}

/// The org's codespaces billing setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillingMode {
    Disabled,
    #[default]
    Members,
    MembersAndOutsideCollaborators,
    SelectedMembers,
}

impl BillingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Members => "members",
            Self::MembersAndOutsideCollaborators => "members_and_outside_collaborators",
            Self::SelectedMembers => "selected_members",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Disabled,
            Self::Members,
            Self::MembersAndOutsideCollaborators,
            Self::SelectedMembers,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == raw)
    }
}

/// Whether a codespace of a user with `role` (None: no role in the org) is billed to the org.
/// `selected` says whether the user is on the org's selected list (used only by
/// `selected_members`, where any user with a role in the org may be selected).
pub fn billed_to_org(mode: BillingMode, role: Option<Role>, selected: bool) -> bool {
    match (mode, role) {
        (_, None) | (BillingMode::Disabled, _) => false,
        (BillingMode::Members, Some(role)) => role.is_org_member(),
        (BillingMode::MembersAndOutsideCollaborators, Some(_)) => true,
        (BillingMode::SelectedMembers, Some(_)) => selected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BillingMode::*;
    use Role::*;

    #[test]
    fn a_new_org_bills_owners_and_members_only() {
        assert_eq!(BillingMode::default(), Members);
        assert!(billed_to_org(Members, Some(Owner), false));
        assert!(billed_to_org(Members, Some(Member), false));
        assert!(!billed_to_org(Members, Some(OutsideCollaborator), false));
        assert!(!billed_to_org(Members, None, false));
    }

    #[test]
    fn disabled_bills_nobody_to_the_org() {
        for role in [Some(Owner), Some(Member), Some(OutsideCollaborator), None] {
            assert!(!billed_to_org(Disabled, role, true));
        }
    }

    #[test]
    fn outside_collaborators_are_billed_only_when_the_mode_includes_them() {
        assert!(billed_to_org(
            MembersAndOutsideCollaborators,
            Some(OutsideCollaborator),
            false
        ));
        assert!(!billed_to_org(MembersAndOutsideCollaborators, None, true));
    }

    #[test]
    fn selected_members_bills_only_the_selected() {
        assert!(billed_to_org(SelectedMembers, Some(Member), true));
        assert!(!billed_to_org(SelectedMembers, Some(Owner), false));
        assert!(!billed_to_org(SelectedMembers, None, true));
    }

    #[test]
    fn enums_round_trip_through_their_names() {
        for mode in [
            Disabled,
            Members,
            MembersAndOutsideCollaborators,
            SelectedMembers,
        ] {
            assert_eq!(BillingMode::parse(mode.as_str()), Some(mode));
        }
        for role in [Owner, Member, OutsideCollaborator] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
