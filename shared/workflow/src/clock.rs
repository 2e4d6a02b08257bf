//! The clock the workflow reads and waits on.
//!
//! Production uses the system clock; the deterministic tests use [`TokioClock`] on a paused tokio runtime, so
//! every wait (the workflow's own, the engine's long-running-operation polls, the ARM budget) advances one
//! virtual time instantly and in order. Wall-clock time (`now`) and waits must come from the same source, or a
//! test could not fix what "the settle window has passed" means.

use std::fmt::Debug;
use std::time::Duration;

use time::OffsetDateTime;

/// A source of the current time and of waits.
#[async_trait::async_trait]
pub trait Clock: Send + Sync + Debug {
    /// The current UTC time.
    fn now(&self) -> OffsetDateTime;
    /// Waits `duration`.
    async fn sleep(&self, duration: Duration);
}

/// The system's UTC time and tokio's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait::async_trait]
impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// UTC time derived from tokio's clock: `start` plus the tokio time elapsed since the clock was made. On a
/// paused runtime (`#[tokio::test(start_paused = true)]`) this is a virtual clock that advances only when every
/// task waits; `skew` shifts it, to model another host whose clock is off.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: OffsetDateTime,
    origin: tokio::time::Instant,
    skew: time::Duration,
}

impl TokioClock {
    /// A clock reading `start` now.
    pub fn starting_at(start: OffsetDateTime) -> Self {
        TokioClock { start, origin: tokio::time::Instant::now(), skew: time::Duration::ZERO }
    }

    /// The same clock, read `skew` off (another host's view of the same moment).
    pub fn skewed(self, skew: time::Duration) -> Self {
        TokioClock { skew, ..self }
    }
}

#[async_trait::async_trait]
impl Clock for TokioClock {
    fn now(&self) -> OffsetDateTime {
        self.start + self.origin.elapsed() + self.skew
    }
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
