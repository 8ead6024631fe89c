//! What a PUT of a secret may say, judged before anything is opened or stored: the
//! visibility and repository rules of each level. Pure, so every rule is tested here.

use crate::registries::{Level, OrgSecretVisibility};

/// A field a PUT got wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub message: &'static str,
}

/// The visibility to store and the repositories to name (`None`: keep or none), from what
/// the PUT body said: org secrets must give a visibility, and only `selected` ones may name
/// repositories; user secrets are always `selected`; repository secrets name none.
pub fn put_shape(
    level: Level,
    visibility: Option<OrgSecretVisibility>,
    selected_repository_ids: Option<Vec<i64>>,
) -> Result<(Option<OrgSecretVisibility>, Option<Vec<i64>>), Refusal> {
    match level {
        Level::Organization => {
            let visibility = visibility.ok_or(Refusal {
                field: "visibility",
                message: "is required: all, private or selected",
            })?;
            if visibility != OrgSecretVisibility::Selected && selected_repository_ids.is_some() {
                return Err(Refusal {
                    field: "selected_repository_ids",
                    message: "may be given only with visibility selected",
                });
            }
            Ok((Some(visibility), selected_repository_ids))
        }
        Level::User => Ok((None, selected_repository_ids)),
        Level::Repository => Ok((None, None)),
    }
}

/// Whether a stored secret names repositories (its `/repositories` resource applies).
pub fn names_repositories(level: Level, visibility: Option<OrgSecretVisibility>) -> bool {
    match level {
        Level::User => true,
        Level::Organization => visibility == Some(OrgSecretVisibility::Selected),
        Level::Repository => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrgSecretVisibility::{All, Private, Selected};

    #[test]
    fn org_secrets_need_a_visibility_and_name_repositories_only_when_selected() {
        let org = Level::Organization;
        assert_eq!(put_shape(org, None, None).unwrap_err().field, "visibility");
        assert_eq!(
            put_shape(org, Some(All), Some(vec![1])).unwrap_err().field,
            "selected_repository_ids"
        );
        assert_eq!(
            put_shape(org, Some(Private), Some(vec![]))
                .unwrap_err()
                .field,
            "selected_repository_ids"
        );
        assert_eq!(
            put_shape(org, Some(Selected), Some(vec![1])),
            Ok((Some(Selected), Some(vec![1])))
        );
        assert_eq!(put_shape(org, Some(All), None), Ok((Some(All), None)));
    }

    #[test]
    fn user_secrets_are_selected_and_repository_secrets_name_nothing() {
        assert_eq!(
            put_shape(Level::User, None, Some(vec![2])),
            Ok((None, Some(vec![2])))
        );
        assert_eq!(put_shape(Level::Repository, None, None), Ok((None, None)));
        assert!(names_repositories(Level::User, None));
        assert!(names_repositories(Level::Organization, Some(Selected)));
        assert!(!names_repositories(Level::Organization, Some(All)));
        assert!(!names_repositories(Level::Repository, None));
    }
}
