//! Compliance: the org's existing codespaces that the policies in force now would refuse
//! on a full rebuild, each judged by the image it was built from through the very function
//! creation uses ([`judge`]), with the org's exceptions live at the service clock's now, so
//! that a codespace listed here is exactly one a full rebuild would refuse (or send to
//! recovery mode) today.
//!
//! Memory stays bounded whatever the org's size: the codespaces are read a batch at a time
//! in `(created_at, id)` order, judged, counted, and dropped, except those of the requested
//! page.

use chrono::{DateTime, Utc};

use crate::policy::{judge, CompiledPolicySet, ExemptImages, ImageRef, Judgement, Subject};
use crate::store::{CodespaceCursor, CodespaceImage, ComplianceStore, PageRequest, StoreResult};

/// Codespaces read per round trip: enough that the round trips cost little next to the
/// rows, few enough that a batch is a small allocation.
pub const BATCH: i64 = 1_000;

/// Stored images that no longer parse named in the warning, at most.
const SKIPPED_NAMED: usize = 10;

/// A codespace the policies now in force would refuse on a full rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noncompliant {
    pub codespace: CodespaceImage,
    pub refusal: Refusal,
}

/// What the policies refuse of a codespace, and which of them do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `base_images` (its image, on a full rebuild) or `machine_types` (its machine, at
    /// its next start or full rebuild); the image is judged first.
    pub constraint: &'static str,
    /// The enforcing policies that refuse it, ascending.
    pub refused_by: Vec<i64>,
}

/// One page of the noncompliant codespaces, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    pub total_count: i64,
    pub codespaces: Vec<Noncompliant>,
}

/// Judges an org's codespaces in order, counting the refused ones and keeping the page's.
pub struct Scan<'a> {
    set: &'a CompiledPolicySet,
    org_login: &'a str,
    exempt: ExemptImages<'a>,
    /// The service's clock when the scan began: exceptions live then apply.
    now: DateTime<Utc>,
    /// The refused codespaces before the page, and the page's size.
    skip: i64,
    per_page: usize,
    total: i64,
    page: Vec<Noncompliant>,
    /// Codespaces whose stored image no longer parses: the count and the first few ids.
    unparsable: (u64, Vec<String>),
}

impl<'a> Scan<'a> {
    /// A scan of the org `org_login` under `set` at `now`, keeping page `page`.
    pub fn new(
        set: &'a CompiledPolicySet,
        org_login: &'a str,
        exempt: ExemptImages<'a>,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Self {
        Self {
            set,
            org_login,
            exempt,
            now,
            skip: page.offset(),
            per_page: usize::try_from(page.per_page).unwrap_or(0),
            total: 0,
            page: Vec::new(),
            unparsable: (0, Vec::new()),
        }
    }

    /// Judges the next codespace in order.
    pub fn judge(&mut self, codespace: CodespaceImage) {
        let Some(refusal) = self.refused_by(&codespace) else {
            return;
        };
        if self.total >= self.skip && self.page.len() < self.per_page {
            self.page.push(Noncompliant { codespace, refusal });
        }
        self.total += 1;
    }

    /// The enforcing policies that would refuse the codespace's image on a full rebuild;
    /// `None` when they allow it or do not judge it.
    fn refused_by(&mut self, codespace: &CodespaceImage) -> Option<Refusal> {
        if ImageRef::parse(&codespace.image).is_err() {
            self.unparsable.0 += 1;
            if self.unparsable.1.len() < SKIPPED_NAMED {
                self.unparsable.1.push(codespace.id.clone());
            }
            return None;
        }
        would_refuse(self.set, self.org_login, self.exempt, self.now, codespace)
    }

    /// The page and the count, once every codespace was judged.
    pub fn finish(self) -> Compliance {
        let (skipped, ids) = self.unparsable;
        if skipped > 0 {
            tracing::warn!(
                org = %self.org_login, skipped, codespaces = ?ids,
                "compliance skipped codespaces whose stored image is not a valid image reference"
            );
        }
        Compliance {
            total_count: self.total,
            codespaces: self.page,
        }
    }
}

/// What the enforcing policies of `set` would refuse of `codespace` in the org `org_login`
/// at `now`: its image on a full rebuild (unless a live exception for its repository and
/// user allows it), else its machine type at its next start; `None` when they allow both or
/// do not judge it. A stored image that no longer parses is `None` too: it cannot be rebuilt
/// as it is, so no policy is what stands in its way. Compliance and preview both judge
/// codespaces through this.
pub fn would_refuse(
    set: &CompiledPolicySet,
    org_login: &str,
    exempt: ExemptImages<'_>,
    now: DateTime<Utc>,
    codespace: &CodespaceImage,
) -> Option<Refusal> {
    let image = ImageRef::parse(&codespace.image).ok()?;
    let repo_key = codespace.repo_name.to_ascii_lowercase();
    let billed_to_org = codespace.billable_owner.eq_ignore_ascii_case(org_login);
    let subject = Subject {
        repo_key: &repo_key,
        user: Some(&codespace.user),
        image: &image,
        source: codespace.image_source,
        billed_to_org,
    };
    if let Judgement::Refused { policy_ids, .. } = judge(set, &subject, exempt, now) {
        return Some(Refusal {
            constraint: "base_images",
            refused_by: policy_ids,
        });
    }
    let machine = codespace.machine.as_deref().filter(|_| billed_to_org)?;
    let refused_by: Vec<i64> = set
        .limits(&repo_key)
        .machine_refused_by(machine)
        .iter()
        .map(|p| p.id)
        .collect();
    (!refused_by.is_empty()).then_some(Refusal {
        constraint: "machine_types",
        refused_by,
    })
}

/// Reads every codespace of the org `org_id` a batch at a time into `scan`.
pub async fn run<S: ComplianceStore + ?Sized>(
    store: &S,
    org_id: i64,
    mut scan: Scan<'_>,
) -> StoreResult<Compliance> {
    let mut after: Option<CodespaceCursor> = None;
    loop {
        let batch = store
            .codespace_images(org_id, after.as_ref(), BATCH)
            .await?;
        let full = batch.len() as i64 == BATCH;
        after = batch.last().map(CodespaceImage::cursor);
        for codespace in batch {
            scan.judge(codespace);
        }
        if !full {
            return Ok(scan.finish());
        }
    }
}

#[cfg(test)]
#[path = "compliance_tests.rs"]
mod tests;
