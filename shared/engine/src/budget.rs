//! A client-side mirror of ARM's throttle, so the tracker can stay inside it instead of discovering it by 429s.
//!
//! ARM throttles per region with token buckets per subscription, principal and operation kind
//! (azure-backup-rest.md §7: reads 250 burst / 25 per s, writes and deletes 200 / 10 per s). This module keeps
//! the same buckets per subscription for our own principal and corrects them from what ARM reports:
//! `x-ms-ratelimit-remaining-subscription-*` lowers our estimate when other clients of the same principal spent
//! tokens, and a 429 empties the bucket until its `Retry-After` has passed.
//!
//! Time is the monotonic clock of the process (`tokio::time::Instant`, so paused-time tests work too).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Kind of ARM request, as ARM counts them (by HTTP method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// GET and HEAD.
    Read,
    /// PUT, PATCH and POST.
    Write,
    /// DELETE.
    Delete,
}

impl RequestKind {
    /// How ARM classifies a request with this method.
    pub fn for_method(method: &str) -> Self {
        match method.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => RequestKind::Read,
            "DELETE" => RequestKind::Delete,
            _ => RequestKind::Write,
        }
    }

    /// The remaining-quota response header ARM sends for this kind.
    pub fn remaining_header(self) -> &'static str {
        match self {
            RequestKind::Read => "x-ms-ratelimit-remaining-subscription-reads",
            RequestKind::Write => "x-ms-ratelimit-remaining-subscription-writes",
            RequestKind::Delete => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
}

/// Size and refill rate of one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketLimits {
    /// Maximum tokens (the burst).
    pub burst: f64,
    /// Tokens added per second.
    pub per_second: f64,
}

/// Limits for all three kinds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetLimits {
    /// Reads.
    pub reads: BucketLimits,
    /// Writes.
    pub writes: BucketLimits,
    /// Deletes.
    pub deletes: BucketLimits,
}

impl Default for BudgetLimits {
    /// ARM's published per-principal subscription limits.
    fn default() -> Self {
        BudgetLimits {
            reads: BucketLimits { burst: 250.0, per_second: 25.0 },
            writes: BucketLimits { burst: 200.0, per_second: 10.0 },
            deletes: BucketLimits { burst: 200.0, per_second: 10.0 },
        }
    }
}

impl BudgetLimits {
    fn for_kind(&self, kind: RequestKind) -> BucketLimits {
        match kind {
            RequestKind::Read => self.reads,
            RequestKind::Write => self.writes,
            RequestKind::Delete => self.deletes,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    /// No token is handed out before this instant (set by a 429's Retry-After).
    blocked_until: Option<Instant>,
}

impl Bucket {
    fn refill(&mut self, limits: BucketLimits, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limits.per_second).min(limits.burst);
        self.updated = now;
    }
}

/// The budget: one bucket per (subscription, kind).
#[derive(Debug)]
pub struct ArmBudget {
    limits: BudgetLimits,
    buckets: Mutex<HashMap<(String, RequestKind), Bucket>>,
}

impl ArmBudget {
    /// A budget with these limits; every bucket starts full.
    pub fn new(limits: BudgetLimits) -> Self {
        ArmBudget { limits, buckets: Mutex::new(HashMap::new()) }
    }

    /// The configured limits.
    pub fn limits(&self) -> BudgetLimits {
        self.limits
    }

    fn with_bucket<T>(&self, subscription: &str, kind: RequestKind, f: impl FnOnce(&mut Bucket, Instant) -> T) -> T {
        let limits = self.limits.for_kind(kind);
        let now = Instant::now();
        // A poisoned lock only means another thread panicked mid-update of plain numbers; keep going.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry((subscription.to_ascii_lowercase(), kind)).or_insert(Bucket {
            tokens: limits.burst,
            updated: now,
            blocked_until: None,
        });
        bucket.refill(limits, now);
        f(bucket, now)
    }

    /// Takes one token if one is available now; otherwise says how long until one will be.
    pub fn try_take(&self, subscription: &str, kind: RequestKind) -> Result<(), Duration> {
        let per_second = self.limits.for_kind(kind).per_second;
        self.with_bucket(subscription, kind, |b, now| {
            if let Some(until) = b.blocked_until {
                if until > now {
                    return Err(until - now);
                }
                b.blocked_until = None;
            }
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                Ok(())
            } else {
                Err(Duration::from_secs_f64((1.0 - b.tokens) / per_second.max(f64::MIN_POSITIVE)))
            }
        })
    }

    /// Waits until a token is available and takes it.
    pub async fn take(&self, subscription: &str, kind: RequestKind) {
        while let Err(wait) = self.try_take(subscription, kind) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Whole tokens available now (for callers deciding how much work to start).
    pub fn available(&self, subscription: &str, kind: RequestKind) -> u32 {
        self.with_bucket(subscription, kind, |b, now| {
            if b.blocked_until.is_some_and(|u| u > now) { 0 } else { b.tokens.floor().max(0.0) as u32 }
        })
    }

    /// Lowers our estimate to what ARM says remains (never raises it: ARM's count covers every client of the
    /// principal, ours only this one, so a higher figure there says nothing about our own spending).
    pub fn observe_remaining(&self, subscription: &str, kind: RequestKind, remaining: u32) {
        self.with_bucket(subscription, kind, |b, _| b.tokens = b.tokens.min(f64::from(remaining)));
    }

    /// Records a 429: no tokens until `retry_after` has passed.
    pub fn observe_throttled(&self, subscription: &str, kind: RequestKind, retry_after: Duration) {
        self.with_bucket(subscription, kind, |b, now| {
            b.tokens = 0.0;
            let until = now + retry_after;
            b.blocked_until = Some(b.blocked_until.map_or(until, |u| u.max(until)));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> ArmBudget {
        let b = BucketLimits { burst: 3.0, per_second: 2.0 };
        ArmBudget::new(BudgetLimits { reads: b, writes: b, deletes: b })
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_refill() {
        let budget = small();
        for _ in 0..3 {
            budget.try_take("s", RequestKind::Read).unwrap();
        }
        let wait = budget.try_take("s", RequestKind::Read).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Other kinds and subscriptions have their own buckets.
        budget.try_take("s", RequestKind::Write).unwrap();
        budget.try_take("other", RequestKind::Read).unwrap();
        tokio::time::advance(Duration::from_millis(500)).await;
        budget.try_take("s", RequestKind::Read).unwrap();
        assert!(budget.try_take("s", RequestKind::Read).is_err());
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(budget.available("s", RequestKind::Read), 3, "refill stops at the burst size");
    }

    #[tokio::test(start_paused = true)]
    async fn server_feedback_lowers_and_blocks() {
        let budget = small();
        budget.observe_remaining("S", RequestKind::Read, 1);
        assert_eq!(budget.available("s", RequestKind::Read), 1, "subscription ids compare case-insensitively");
        budget.observe_remaining("s", RequestKind::Read, 100);
        assert_eq!(budget.available("s", RequestKind::Read), 1, "a higher remaining count never raises ours");
        budget.observe_throttled("s", RequestKind::Read, Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(budget.available("s", RequestKind::Read), 0);
        assert_eq!(budget.try_take("s", RequestKind::Read).unwrap_err(), Duration::from_secs(5));
        tokio::time::advance(Duration::from_secs(5)).await;
        budget.try_take("s", RequestKind::Read).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn take_waits_for_a_token() {
        let budget = small();
        let start = Instant::now();
        for _ in 0..5 {
            budget.take("s", RequestKind::Delete).await;
        }
        // 3 from the burst, then 2 more at 2 per second.
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }

    #[test]
    fn kinds_follow_arm_method_classes() {
        assert_eq!(RequestKind::for_method("get"), RequestKind::Read);
        assert_eq!(RequestKind::for_method("POST"), RequestKind::Write);
        assert_eq!(RequestKind::for_method("PUT"), RequestKind::Write);
        assert_eq!(RequestKind::for_method("DELETE"), RequestKind::Delete);
        assert_eq!(RequestKind::Read.remaining_header(), "x-ms-ratelimit-remaining-subscription-reads");
    }
}
