//! Policy exceptions: time-boxed permissions to use an image the policies do not allow, for
//! one repository or all of the org's, one user or every user. Pure: the caller says what
//! time it is, so that expiry is decided by the service's clock and tested without waiting.

use std::hash::RandomState;

use chrono::{DateTime, Utc};

use crate::policy::allowed_value::AllowedValue;
use crate::policy::image_ref::ImageRef;
use crate::policy::policy_index::{Probe, ValueIndex};

/// An exception may expire at most this many days after it is created.
pub const MAX_EXCEPTION_DAYS: i64 = 90;

/// One exception as stored, before compilation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyException {
    pub id: i64,
    /// The repository it covers, lowercased; `None` covers every repository of the org.
    pub repo_key: Option<String>,
    /// The user it covers, lowercased; `None` covers every user.
    pub user_key: Option<String>,
    /// The images it allows, each exact or a prefix, as in a policy.
    pub allowed_values: Vec<AllowedValue>,
    /// It applies strictly before this instant, never at or after it.
    pub expires_at: DateTime<Utc>,
    pub reason: String,
}

impl PolicyException {
    /// Whether it still applies at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }

    /// Whether it covers a codespace of `repo_key` (lowercased) for `user` (any case). With
    /// no user (a dry run that names none), only exceptions for every user cover it.
    pub fn covers(&self, repo_key: &str, user: Option<&str>) -> bool {
        let repository = self.repo_key.as_deref().is_none_or(|key| key == repo_key);
        let person = match &self.user_key {
            None => true,
            Some(key) => user.is_some_and(|user| user.eq_ignore_ascii_case(key)),
        };
        repository && person
    }
}

/// The part of an exception a decision names: which one, why, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedException {
    pub id: i64,
    pub reason: String,
    pub expires_at: DateTime<Utc>,
}

impl From<&PolicyException> for AppliedException {
    fn from(exception: &PolicyException) -> Self {
        Self {
            id: exception.id,
            reason: exception.reason.clone(),
            expires_at: exception.expires_at,
        }
    }
}

/// An exception with its values indexed as a policy's are, so that a long list is looked
/// up, not scanned.
#[derive(Debug)]
struct CompiledException {
    exception: PolicyException,
    values: ValueIndex,
}

/// An org's exceptions, expired ones included (expiry is decided when judging), by id.
#[derive(Debug, Default)]
pub struct Exceptions {
    items: Vec<CompiledException>,
    /// Hashes every exception's exact values, so that a lookup hashes the image once.
    hasher: RandomState,
}

impl Exceptions {
    pub fn new(mut exceptions: Vec<PolicyException>) -> Self {
        exceptions.sort_by_key(|e| e.id);
        let hasher = RandomState::new();
        let items = exceptions
            .into_iter()
            .map(|exception| CompiledException {
                values: ValueIndex::new(&exception.allowed_values, &hasher),
                exception,
            })
            .collect();
        Self { items, hasher }
    }

    /// The live exception with the lowest id that covers the codespace and allows `image`.
    pub fn find(
        &self,
        repo_key: &str,
        user: Option<&str>,
        image: &ImageRef,
        now: DateTime<Utc>,
    ) -> Option<&PolicyException> {
        let probe = Probe::new(&self.hasher, image.as_str());
        self.items
            .iter()
            .find(|c| {
                c.exception.is_live(now)
                    && c.exception.covers(repo_key, user)
                    && c.values.allows(&probe)
            })
            .map(|c| &c.exception)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
    }

    fn exception(
        id: i64,
        repo: Option<&str>,
        user: Option<&str>,
        values: &[&str],
    ) -> PolicyException {
        PolicyException {
            id,
            repo_key: repo.map(str::to_owned),
            user_key: user.map(str::to_owned),
            allowed_values: values
                .iter()
                .map(|v| AllowedValue::parse(v).unwrap())
                .collect(),
            expires_at: now() + Duration::days(30),
            reason: format!("reason {id}"),
        }
    }

    fn image(raw: &str) -> ImageRef {
        ImageRef::parse(raw).unwrap()
    }

    fn found(set: &Exceptions, repo: &str, user: Option<&str>, raw: &str) -> Option<i64> {
        set.find(repo, user, &image(raw), now()).map(|e| e.id)
    }

    #[test]
    fn an_exception_allows_only_its_values_by_exact_match_or_prefix() {
        let set = Exceptions::new(vec![exception(
            1,
            None,
            None,
            &["node:18", "ghcr.io/octo/*"],
        )]);
        assert_eq!(found(&set, "app", None, "node:18"), Some(1));
        assert_eq!(found(&set, "app", None, "ghcr.io/octo/dev:1"), Some(1));
        assert_eq!(found(&set, "app", None, "node:20"), None);
        assert_eq!(
            found(&set, "app", None, "docker.io/library/node:18"),
            None,
            "as written"
        );
        assert_eq!(found(&set, "app", None, "ghcr.io/octo"), None);
    }

    #[test]
    fn it_covers_only_its_repository_and_user() {
        let set = Exceptions::new(vec![exception(
            1,
            Some("repo-a"),
            Some("mona"),
            &["node:18"],
        )]);
        assert_eq!(found(&set, "repo-a", Some("mona"), "node:18"), Some(1));
        assert_eq!(
            found(&set, "repo-a", Some("MONA"), "node:18"),
            Some(1),
            "logins ignore case"
        );
        assert_eq!(found(&set, "repo-b", Some("mona"), "node:18"), None);
        assert_eq!(found(&set, "repo-a", Some("hubot"), "node:18"), None);
        assert_eq!(
            found(&set, "repo-a", None, "node:18"),
            None,
            "no user: user-scoped ones never apply"
        );
        let everyone = Exceptions::new(vec![exception(2, Some("repo-a"), None, &["node:18"])]);
        assert_eq!(found(&everyone, "repo-a", None, "node:18"), Some(2));
        assert_eq!(
            found(&everyone, "repo-a", Some("hubot"), "node:18"),
            Some(2)
        );
    }

    #[test]
    fn it_applies_strictly_before_it_expires() {
        let one = exception(1, None, None, &["node:18"]);
        let expires = one.expires_at;
        let set = Exceptions::new(vec![one]);
        let at = |t| set.find("app", None, &image("node:18"), t).map(|e| e.id);
        assert_eq!(at(expires - Duration::seconds(1)), Some(1));
        assert_eq!(at(expires), None);
        assert_eq!(at(expires + Duration::days(1)), None);
    }

    #[test]
    fn the_lowest_live_id_is_named_when_several_apply() {
        let mut expired = exception(1, None, None, &["node:*"]);
        expired.expires_at = now() - Duration::seconds(1);
        let set = Exceptions::new(vec![
            exception(7, None, None, &["node:18"]),
            exception(3, Some("app"), None, &["node:*"]),
            expired,
        ]);
        assert_eq!(found(&set, "app", None, "node:18"), Some(3));
        assert_eq!(found(&set, "other", None, "node:18"), Some(7));
        assert_eq!(set.len(), 3);
        assert!(Exceptions::default().is_empty());
    }
}
