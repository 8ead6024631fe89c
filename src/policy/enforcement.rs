//! Whether the policy applies to a codespace at all, and what it says when it does.
//!
//! The policy never judges the default or recovery image, nor a codespace the org does not
//! pay for; everything else must pass every applicable policy, unless a live exception
//! allows what one of them does not.

use chrono::{DateTime, Utc};

use super::decision::DecisionNote;
use super::exceptions::AppliedException;
use super::{CompiledPolicySet, ImageRef};

/// Where a codespace's image came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource {
    /// `image` in devcontainer.json.
    Image,
    /// The final stage's `FROM` of the Dockerfile the configuration builds.
    Dockerfile,
    /// The `image` of the Docker Compose service the codespace runs in.
    Compose,
    /// The configuration names no image: the default image.
    Default,
}

impl ImageSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Dockerfile => "dockerfile",
            Self::Compose => "compose",
            Self::Default => "default",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Image, Self::Dockerfile, Self::Compose, Self::Default]
            .into_iter()
            .find(|source| source.as_str() == raw)
    }
}

/// The policy refused an image named directly in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The reference as written in the configuration.
    pub image: String,
    /// The 400's message: the contract's base-image text, or what else a policy refused
    /// (the machine type, the number of codespaces).
    pub message: String,
    pub policy_ids: Vec<i64>,
    /// What the decision log keeps of it (boxed: refusals are the rarer path).
    pub decision: Box<DecisionNote>,
    /// The creation log up to the refusal, which a preflight shows.
    pub log: Vec<String>,
}

/// What the policy says of one codespace's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Every applicable enforcing policy allows it (or none applies to the repository);
    /// `reported` names the report-only policies that would have refused it.
    Allowed { reported: Vec<ReportedBy> },
    /// The policy does not judge this codespace; the reason goes into the creation log.
    Exempt(&'static str),
    /// At least one applicable enforcing policy refuses it.
    Refused {
        policy_ids: Vec<i64>,
        reported: Vec<ReportedBy>,
    },
    /// An applicable policy (enforcing or report-only) does not allow it, but this live
    /// exception does: it is allowed, with nothing refused and nothing reported.
    Excepted(AppliedException),
}

impl Judgement {
    /// The report-only policies that would have refused the image.
    pub fn reported(&self) -> &[ReportedBy] {
        match self {
            Self::Allowed { reported } | Self::Refused { reported, .. } => reported,
            Self::Exempt(_) | Self::Excepted(_) => &[],
        }
    }

    /// The exception that allowed the image, if one did.
    pub fn exception(&self) -> Option<&AppliedException> {
        match self {
            Self::Excepted(exception) => Some(exception),
            _ => None,
        }
    }
}

/// The codespace being judged.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The repository's name, lowercased.
    pub repo_key: &'a str,
    /// Its user, in any case; `None` when a dry run names none, and then only the
    /// exceptions for every user apply.
    pub user: Option<&'a str>,
    pub image: &'a ImageRef,
    pub source: ImageSource,
    pub billed_to_org: bool,
}

/// A report-only policy that would have refused the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedBy {
    pub id: i64,
    pub name: String,
}

/// The images the policy never judges, whatever the configuration says.
#[derive(Debug, Clone, Copy)]
pub struct ExemptImages<'a> {
    pub default_image: &'a str,
    pub recovery_image: &'a str,
}

/// Judges the subject's image at `now` (the service's clock, which decides whether an
/// exception has expired).
pub fn judge(
    set: &CompiledPolicySet,
    subject: &Subject<'_>,
    exempt: ExemptImages<'_>,
    now: DateTime<Utc>,
) -> Judgement {
    let Subject {
        repo_key,
        user,
        image,
        source,
        billed_to_org,
    } = *subject;
    if source == ImageSource::Default || image.as_str() == exempt.default_image {
        return Judgement::Exempt("the default image is not subject to organization policies");
    }
    if image.as_str() == exempt.recovery_image {
        return Judgement::Exempt("the recovery image is not subject to organization policies");
    }
    if !billed_to_org {
        return Judgement::Exempt(
            "the codespace is not billed to the organization, so its policies do not apply",
        );
    }
    let refusals = set.refusals(repo_key, image);
    // What every policy allows needs no exception: the allowed path never looks at them.
    if refusals.enforced.is_empty() && refusals.reported.is_empty() {
        return Judgement::Allowed {
            reported: Vec::new(),
        };
    }
    if let Some(exception) = set.exception_for(repo_key, user, image, now) {
        return Judgement::Excepted(exception.into());
    }
    let reported = refusals
        .reported
        .iter()
        .map(|&id| ReportedBy {
            id,
            name: set.policy_name(id).unwrap_or_default().to_owned(),
        })
        .collect();
    if refusals.enforced.is_empty() {
        Judgement::Allowed { reported }
    } else {
        Judgement::Refused {
            policy_ids: refusals.enforced,
            reported,
        }
    }
}

#[cfg(test)]
#[path = "enforcement_tests.rs"]
mod tests;
