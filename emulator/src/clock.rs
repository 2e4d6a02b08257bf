//! The emulator's clock. Job progress, recovery-point ages and token buckets all read it, so tests advance it
//! instead of sleeping. Identity tokens deliberately use real time (clients cache tokens by the wall clock).

use std::sync::Mutex;
use std::time::Instant;

use time::{Duration, OffsetDateTime};

/// How the clock moves.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "mode")]
pub enum ClockMode {
    /// Time stands still until advanced or set through the admin API.
    Virtual,
    /// Time follows the wall clock, multiplied by `speed` (1.0 = real time).
    Realtime {
        /// Virtual seconds per real second.
        speed: f64,
    },
}

#[derive(Debug)]
struct Inner {
    /// Virtual time at `anchor`.
    base: OffsetDateTime,
    anchor: Instant,
    mode: ClockMode,
}

/// A clock that is virtual (manual) or real-time with a speed factor.
#[derive(Debug)]
pub struct Clock {
    start: OffsetDateTime,
    inner: Mutex<Inner>,
}

impl Clock {
    /// A clock starting at `start` in the given mode.
    pub fn new(start: OffsetDateTime, mode: ClockMode) -> Self {
        Self { start, inner: Mutex::new(Inner { base: start, anchor: Instant::now(), mode }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this tiny lock cannot leave it inconsistent, so recover from poisoning.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The time the clock started at (scenario-relative times are computed from it).
    pub fn start(&self) -> OffsetDateTime {
        self.start
    }

    /// The current virtual time.
    pub fn now(&self) -> OffsetDateTime {
        let inner = self.lock();
        Self::now_locked(&inner)
    }

    fn now_locked(inner: &Inner) -> OffsetDateTime {
        match inner.mode {
            ClockMode::Virtual => inner.base,
            ClockMode::Realtime { speed } => {
                let real = inner.anchor.elapsed().as_secs_f64() * speed;
                inner.base + Duration::seconds_f64(real)
            }
        }
    }

    /// Moves the clock forward by `seconds` (negative values are refused by the admin API, not here).
    pub fn advance(&self, seconds: f64) -> OffsetDateTime {
        let mut inner = self.lock();
        let now = Self::now_locked(&inner) + Duration::seconds_f64(seconds);
        inner.base = now;
        inner.anchor = Instant::now();
        now
    }

    /// Sets the clock to `time`.
    pub fn set(&self, time: OffsetDateTime) {
        let mut inner = self.lock();
        inner.base = time;
        inner.anchor = Instant::now();
    }

    /// Switches mode, keeping the current time.
    pub fn set_mode(&self, mode: ClockMode) {
        let mut inner = self.lock();
        inner.base = Self::now_locked(&inner);
        inner.anchor = Instant::now();
        inner.mode = mode;
    }

    /// The current mode.
    pub fn mode(&self) -> ClockMode {
        self.lock().mode
    }
}
