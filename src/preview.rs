//! Preview: what a policy change would do before it is made. The org's existing codespaces
//! (each by the image it was built from) and its decisions of the last 30 days are judged
//! by the policies as they are and as they would be with the change, through the very
//! function creation uses (`policy::judge`), both with the org's live exceptions; nothing is
//! written.
//!
//! Memory stays bounded: both are read in keyset batches, judged twice and dropped; the
//! lists answered hold at most [`MAX_LISTED`] entries each, while the counts cover all.

use chrono::{DateTime, Utc};

use crate::compliance::{would_refuse, Refusal, BATCH};
use crate::policy::{judge, CompiledPolicySet, ExemptImages, ImageRef, Judgement, Subject};
use crate::store::{
    repo_key_of, CodespaceCursor, CodespaceImage, DecisionEntry, Store, StoreResult,
};

/// How far back decisions are judged again.
pub const DECISION_WINDOW_DAYS: i64 = 30;
/// Most entries one list of the answer holds; its count covers the rest.
pub const MAX_LISTED: usize = 1_000;

/// The two policy sets a preview compares (each holding the org's exceptions), and what
/// judging needs besides.
#[derive(Clone, Copy)]
pub struct Sets<'a> {
    pub before: &'a CompiledPolicySet,
    pub after: &'a CompiledPolicySet,
    pub org_login: &'a str,
    pub exempt: ExemptImages<'a>,
    /// The service's clock: exceptions live then apply.
    pub now: DateTime<Utc>,
}

/// A list capped at [`MAX_LISTED`], with the count of everything offered to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capped<T> {
    pub count: i64,
    pub items: Vec<T>,
}

impl<T> Default for Capped<T> {
    fn default() -> Self {
        Self {
            count: 0,
            items: Vec::new(),
        }
    }
}

impl<T> Capped<T> {
    fn push(&mut self, item: T) {
        self.count += 1;
        if self.items.len() < MAX_LISTED {
            self.items.push(item);
        }
    }
}

/// What the change would do.
#[derive(Debug, Default)]
pub struct Preview {
    pub codespaces_checked: i64,
    /// Codespaces a full rebuild would refuse after the change and not before, with the
    /// policies that would.
    pub codespaces_newly_refused: Capped<(CodespaceImage, Refusal)>,
    pub decisions_checked: i64,
    pub decisions_newly_refused: Capped<(DecisionEntry, Vec<i64>)>,
    pub decisions_newly_allowed: Capped<DecisionEntry>,
}

/// The enforcing policies of `set` that refuse a logged decision's image; `None` when
/// they allow it, or a live exception for its repository and user does. A logged decision
/// was judged, so it was billed to the org.
fn decision_refused(
    set: &CompiledPolicySet,
    exempt: ExemptImages<'_>,
    now: DateTime<Utc>,
    decision: &DecisionEntry,
) -> Option<Vec<i64>> {
    let image = ImageRef::parse(&decision.note.image).ok()?;
    let repo_key = repo_key_of(&decision.repository);
    let subject = Subject {
        repo_key: &repo_key,
        user: Some(&decision.user),
        image: &image,
        source: decision.note.image_source,
        billed_to_org: true,
    };
    match judge(set, &subject, exempt, now) {
        Judgement::Refused { policy_ids, .. } => Some(policy_ids),
        Judgement::Allowed { .. } | Judgement::Exempt(_) | Judgement::Excepted(_) => None,
    }
}

/// Judges one codespace under both sets.
pub fn judge_codespace(sets: Sets<'_>, preview: &mut Preview, codespace: CodespaceImage) {
    preview.codespaces_checked += 1;
    let (login, exempt, now) = (sets.org_login, sets.exempt, sets.now);
    let before = would_refuse(sets.before, login, exempt, now, &codespace);
    let after = would_refuse(sets.after, login, exempt, now, &codespace);
    if let (None, Some(refusal)) = (before, after) {
        preview.codespaces_newly_refused.push((codespace, refusal));
    }
}

/// Judges one decision under both sets.
pub fn judge_decision(sets: Sets<'_>, preview: &mut Preview, decision: DecisionEntry) {
    preview.decisions_checked += 1;
    let before = decision_refused(sets.before, sets.exempt, sets.now, &decision);
    let after = decision_refused(sets.after, sets.exempt, sets.now, &decision);
    match (before, after) {
        (None, Some(refused_by)) => preview.decisions_newly_refused.push((decision, refused_by)),
        (Some(_), None) => preview.decisions_newly_allowed.push(decision),
        _ => {}
    }
}

/// Reads the org's codespaces and recent decisions a batch at a time and judges each; `now`
/// (the system's time, as the log's times are) bounds the decisions' window.
pub async fn run(
    store: &dyn Store,
    org_id: i64,
    sets: Sets<'_>,
    now: DateTime<Utc>,
) -> StoreResult<Preview> {
    let mut preview = Preview::default();
    let mut after: Option<CodespaceCursor> = None;
    loop {
        let batch = store
            .codespace_images(org_id, after.as_ref(), BATCH)
            .await?;
        let full = batch.len() as i64 == BATCH;
        after = batch.last().map(CodespaceImage::cursor);
        for codespace in batch {
            judge_codespace(sets, &mut preview, codespace);
        }
        if !full {
            break;
        }
    }
    // Decisions at or after the window's start: ids are positive, so (start, 0) is before
    // every one of them.
    let mut after = (now - chrono::Duration::days(DECISION_WINDOW_DAYS), 0);
    loop {
        let batch = store.recent_decisions(org_id, after, BATCH).await?;
        let full = batch.len() as i64 == BATCH;
        after = batch.last().map_or(after, |d| (d.at, d.id));
        for decision in batch {
            judge_decision(sets, &mut preview, decision);
        }
        if !full {
            break;
        }
    }
    Ok(preview)
}
