//! A cache of the hot reads (tokens, orgs, roles, repositories, compiled policy sets), so
//! that a warm evaluate or authorization needs no database round trip.
//!
//! Correctness rests on three rules. Every write that could make an entry stale clears the
//! whole cache after its commit (and, on PostgreSQL, notifies the other instances, whose
//! listener clears theirs). A value read from the database is kept only if no clearing
//! happened since the read began (the generation ticket). And the cache answers only while
//! it is known to be current: on PostgreSQL, while the listener's connection is alive and
//! answered a heartbeat in the last `FRESHNESS`; so when the database goes away, reads go
//! to the database again, and fail closed there.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::billing::Role;
use crate::policy::CompiledPolicySet;
use crate::registries::{Level, Package};
use crate::store::{CandidateSecret, Org, Repo, StoreResult, TokenRecord, User};

/// How long one heartbeat of the change listener keeps the cache trusted.
pub const FRESHNESS: Duration = Duration::from_millis(1500);

#[derive(Default)]
pub struct Maps {
    generation: u64,
    pub tokens: HashMap<Vec<u8>, TokenRecord>,
    /// Lowercased login -> user; logins never change once written.
    pub users: HashMap<String, User>,
    pub orgs: HashMap<String, Org>,
    /// (org id, user id) -> role; `None` (no role) is cached too.
    pub roles: HashMap<(i64, i64), Option<Role>>,
    /// (org id, lowercased name) -> repository.
    pub repos: HashMap<(i64, String), Repo>,
    /// org id -> the compiled set of its current policies.
    pub sets: HashMap<i64, Arc<CompiledPolicySet>>,
    /// (level, owner id) -> that owner's secrets with their selected repositories, and of
    /// values only the registry servers', encrypted; at most `MAX_LEVELS` owners.
    pub levels: HashMap<(Level, i64), Arc<Vec<CandidateSecret>>>,
    /// (org id, lowercased package name) -> the org's package, `None` cached too.
    pub packages: HashMap<(i64, String), Option<Package>>,
}

/// Most secret owners, and most packages, the cache holds: past it, it starts over, so a
/// store of many thousands of repositories with secrets cannot grow the resident set.
pub const MAX_LEVELS: usize = 512;

impl Maps {
    /// Keeps one owner's secrets, within the bound.
    pub fn put_level(&mut self, key: (Level, i64), secrets: Arc<Vec<CandidateSecret>>) {
        if self.levels.len() >= MAX_LEVELS {
            self.levels.clear();
        }
        self.levels.insert(key, secrets);
    }

    /// Keeps what a package lookup found, within the bound.
    pub fn put_package(&mut self, key: (i64, String), package: Option<Package>) {
        if self.packages.len() >= MAX_LEVELS {
            self.packages.clear();
        }
        self.packages.insert(key, package);
    }
}

/// Proof of when a database read began; see `ReadCache::keep`.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(Option<u64>);

pub struct ReadCache {
    maps: RwLock<Maps>,
    started: Instant,
    /// Milliseconds since `started` until which the cache may answer.
    trusted_until: AtomicU64,
}

impl ReadCache {
    /// A cache that is always current: for a store only this process writes (SQLite).
    pub fn always_current() -> Self {
        let cache = Self::untrusted();
        cache.trusted_until.store(u64::MAX, Ordering::SeqCst);
        cache
    }

    /// A cache that answers only after `confirm_current` (PostgreSQL's listener).
    pub fn untrusted() -> Self {
        Self {
            maps: RwLock::new(Maps::default()),
            started: Instant::now(),
            trusted_until: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn trusted(&self) -> bool {
        self.now() < self.trusted_until.load(Ordering::SeqCst)
    }

    /// The listener is connected and its heartbeat answered: trust the cache a while.
    pub fn confirm_current(&self) {
        let until = self.now().saturating_add(FRESHNESS.as_millis() as u64);
        self.trusted_until.store(until, Ordering::SeqCst);
    }

    /// The listener lost its connection: changes may be missed, so forget and stop answering.
    pub fn distrust(&self) {
        self.trusted_until.store(0, Ordering::SeqCst);
        self.clear();
    }

    /// Something changed: forget everything.
    pub fn clear(&self) {
        let mut maps = self.maps.write().unwrap_or_else(|e| e.into_inner());
        let generation = maps.generation.wrapping_add(1);
        *maps = Maps {
            generation,
            ..Maps::default()
        };
    }

    /// Looks a value up, if the cache may answer.
    pub fn get<R>(&self, look: impl FnOnce(&Maps) -> Option<R>) -> Option<R> {
        if !self.trusted() {
            return None;
        }
        look(&self.maps.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Taken before a database read whose result may be kept.
    pub fn ticket(&self) -> Ticket {
        if !self.trusted() {
            return Ticket(None);
        }
        Ticket(Some(
            self.maps
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .generation,
        ))
    }

    /// A read through the cache: the cached answer if the cache may give one; otherwise
    /// `read`, started only after a ticket is taken, and what it found handed to `put` unless
    /// a change raced it. Every cached read goes through here, so that the ticket always
    /// comes first.
    pub async fn read_through<V: Clone>(
        &self,
        look: impl FnOnce(&Maps) -> Option<V>,
        read: impl Future<Output = StoreResult<V>>,
        put: impl FnOnce(&mut Maps, V),
    ) -> StoreResult<V> {
        if let Some(found) = self.get(look) {
            return Ok(found);
        }
        let ticket = self.ticket();
        let value = read.await?;
        self.keep(ticket, |maps| put(maps, value.clone()));
        Ok(value)
    }

    /// Keeps what a read found, unless the cache was cleared since its ticket was taken.
    pub fn keep(&self, ticket: Ticket, put: impl FnOnce(&mut Maps)) {
        let Ticket(Some(generation)) = ticket else {
            return;
        };
        let mut maps = self.maps.write().unwrap_or_else(|e| e.into_inner());
        if maps.generation == generation && self.trusted() {
            put(&mut maps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: i64) -> Org {
        Org {
            id,
            login: format!("org{id}"),
            billing_mode: Default::default(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn keeps_and_answers_when_nothing_changed() {
        let cache = ReadCache::always_current();
        let ticket = cache.ticket();
        cache.keep(ticket, |m| {
            m.orgs.insert("a".into(), org(1));
        });
        assert_eq!(cache.get(|m| m.orgs.get("a").map(|o| o.id)), Some(1));
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let cache = ReadCache::always_current();
        let ticket = cache.ticket();
        cache.clear(); // a write committed while the read was in flight
        cache.keep(ticket, |m| {
            m.orgs.insert("a".into(), org(1));
        });
        assert!(cache.get(|m| m.orgs.get("a").cloned()).is_none());
    }

    #[tokio::test]
    async fn a_read_through_takes_its_ticket_before_reading() {
        let cache = ReadCache::always_current();
        let look = |m: &Maps| m.orgs.get("a").cloned();
        let put = |m: &mut Maps, org: Org| {
            m.orgs.insert("a".into(), org);
        };
        // A write commits while the read is in flight: what the read found is not kept.
        let raced = cache
            .read_through(
                look,
                async {
                    cache.clear();
                    Ok(org(1))
                },
                put,
            )
            .await;
        assert_eq!(raced.unwrap().id, 1);
        assert!(cache.get(look).is_none());
        // Nothing raced: kept, and answered from the cache without reading.
        cache
            .read_through(look, async { Ok(org(2)) }, put)
            .await
            .unwrap();
        let cached = cache
            .read_through(look, async { panic!("read again") }, put)
            .await;
        assert_eq!(cached.unwrap().id, 2);
    }

    #[test]
    fn a_change_forgets_everything() {
        let cache = ReadCache::always_current();
        cache.keep(cache.ticket(), |m| {
            m.roles.insert((1, 2), None);
        });
        cache.clear();
        assert!(cache.get(|m| m.roles.get(&(1, 2)).copied()).is_none());
    }

    #[test]
    fn an_untrusted_cache_neither_answers_nor_keeps() {
        let cache = ReadCache::untrusted();
        cache.keep(cache.ticket(), |m| {
            m.orgs.insert("a".into(), org(1));
        });
        cache.confirm_current();
        assert!(
            cache.get(|m| m.orgs.get("a").cloned()).is_none(),
            "nothing was kept"
        );
        cache.keep(cache.ticket(), |m| {
            m.orgs.insert("a".into(), org(1));
        });
        assert!(cache.get(|m| m.orgs.get("a").cloned()).is_some());
        cache.distrust();
        assert!(cache.get(|m| m.orgs.get("a").cloned()).is_none());
    }
}
