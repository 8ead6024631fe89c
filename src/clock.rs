//! The service's clock, by which exceptions expire: the system's in production, and one a
//! test sets and advances, so that expiry is tested without waiting for it.

use std::sync::Mutex;

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// What time it is, as far as the service's rules are concerned.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is set or advanced.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(at),
        }
    }

    /// A clock standing at the system's time now, to the second (as answers show times).
    pub fn starting_now() -> Self {
        Self::new(Utc::now().trunc_subsecs(0))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::days(91));
        assert_eq!(clock.now(), start + Duration::days(91));
        clock.set(start);
        assert_eq!(clock.now(), start);
        assert_eq!(
            ManualClock::starting_now().now().timestamp_subsec_nanos(),
            0
        );
        let system = SystemClock.now();
        assert!(SystemClock.now() >= system);
    }
}
