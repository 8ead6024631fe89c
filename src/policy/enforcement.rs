//! Whether the policy applies to a codespace at all, and what it says when it does.
//!
//! The policy never judges the default or recovery image, nor a codespace the org does not
//! pay for; everything else must pass every applicable policy.

use super::decision::DecisionNote;
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
}

impl Judgement {
    /// The report-only policies that would have refused the image.
    pub fn reported(&self) -> &[ReportedBy] {
        match self {
            Self::Allowed { reported } | Self::Refused { reported, .. } => reported,
            Self::Exempt(_) => &[],
        }
    }
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

/// Judges `image` for a codespace of repository `repo_key`.
pub fn judge(
    set: &CompiledPolicySet,
    repo_key: &str,
    image: &ImageRef,
    source: ImageSource,
    billed_to_org: bool,
    exempt: ExemptImages<'_>,
) -> Judgement {
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
mod tests {
    use super::*;
    use crate::policy::{AllowedValue, PolicyRules, Target};

    const EXEMPT: ExemptImages<'static> = ExemptImages {
        default_image: "mcr.microsoft.com/devcontainers/universal:2",
        recovery_image: "mcr.microsoft.com/devcontainers/base:ubuntu",
    };

    /// One org-wide policy that allows nothing at all.
    fn lockdown() -> CompiledPolicySet {
        CompiledPolicySet::compile(vec![PolicyRules {
            id: 9,
            name: "nothing".into(),
            target: Target::AllRepositories,
            enforcement: Default::default(),
            base_images: Some(Vec::new()),
        }])
    }

    fn image(raw: &str) -> ImageRef {
        ImageRef::parse(raw).unwrap()
    }

    #[test]
    fn a_refused_image_names_the_refusing_policies() {
        let judgement = judge(
            &lockdown(),
            "repo",
            &image("node:18"),
            ImageSource::Image,
            true,
            EXEMPT,
        );
        assert_eq!(
            judgement,
            Judgement::Refused {
                policy_ids: vec![9],
                reported: Vec::new(),
            }
        );
    }

    #[test]
    fn the_default_image_is_never_judged() {
        let default = image(EXEMPT.default_image);
        for source in [
            ImageSource::Default,
            ImageSource::Image,
            ImageSource::Dockerfile,
        ] {
            let judgement = judge(&lockdown(), "repo", &default, source, true, EXEMPT);
            assert!(matches!(judgement, Judgement::Exempt(_)), "{source:?}");
        }
    }

    #[test]
    fn the_recovery_image_is_never_judged() {
        let recovery = image(EXEMPT.recovery_image);
        let judgement = judge(
            &lockdown(),
            "repo",
            &recovery,
            ImageSource::Image,
            true,
            EXEMPT,
        );
        assert!(matches!(judgement, Judgement::Exempt(_)));
    }

    #[test]
    fn codespaces_not_billed_to_the_org_are_not_judged() {
        let judgement = judge(
            &lockdown(),
            "repo",
            &image("node:18"),
            ImageSource::Image,
            false,
            EXEMPT,
        );
        assert!(matches!(judgement, Judgement::Exempt(_)));
    }

    #[test]
    fn an_allowed_image_is_allowed() {
        let set = CompiledPolicySet::compile(vec![PolicyRules {
            id: 1,
            name: "node".into(),
            target: Target::AllRepositories,
            enforcement: Default::default(),
            base_images: Some(vec![AllowedValue::parse("node:*").unwrap()]),
        }]);
        let judgement = judge(
            &set,
            "repo",
            &image("node:18"),
            ImageSource::Dockerfile,
            true,
            EXEMPT,
        );
        assert_eq!(
            judgement,
            Judgement::Allowed {
                reported: Vec::new()
            }
        );
    }

    #[test]
    fn image_sources_round_trip_through_their_names() {
        for source in [
            ImageSource::Image,
            ImageSource::Dockerfile,
            ImageSource::Default,
        ] {
            assert_eq!(ImageSource::parse(source.as_str()), Some(source));
        }
    }
}
