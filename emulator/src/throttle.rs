//! ARM's per-principal token buckets (azure-backup-rest.md §7): one bucket per (principal, subscription,
//! operation kind), refilled continuously by the emulator's clock so tests refill them by advancing it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Which bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OpKind {
    /// GET/HEAD (and POST actions that only read, like list-style POSTs).
    Read,
    /// PUT/PATCH/POST.
    Write,
    /// DELETE.
    Delete,
}

impl OpKind {
    /// The suffix of the `x-ms-ratelimit-remaining-subscription-*` header.
    pub fn header_suffix(self) -> &'static str {
        match self {
            OpKind::Read => "reads",
            OpKind::Write => "writes",
            OpKind::Delete => "deletes",
        }
    }
}

/// Bucket size and refill rate for one kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BucketLimit {
    /// Tokens when full.
    pub capacity: f64,
    /// Tokens added per (virtual) second.
    pub refill_per_second: f64,
}

/// Limits for the three kinds; ARM's published defaults unless the scenario or admin API changes them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ThrottleLimits {
    /// Whether throttling is applied at all.
    pub enabled: bool,
    /// Reads: 250 burst, 25/s.
    pub reads: BucketLimit,
    /// Writes: 200 burst, 10/s.
    pub writes: BucketLimit,
    /// Deletes: 200 burst, 10/s.
    pub deletes: BucketLimit,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            reads: BucketLimit { capacity: 250.0, refill_per_second: 25.0 },
            writes: BucketLimit { capacity: 200.0, refill_per_second: 10.0 },
            deletes: BucketLimit { capacity: 200.0, refill_per_second: 10.0 },
        }
    }
}

impl ThrottleLimits {
    fn limit(&self, kind: OpKind) -> BucketLimit {
        match kind {
            OpKind::Read => self.reads,
            OpKind::Write => self.writes,
            OpKind::Delete => self.deletes,
        }
    }
}

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    at: OffsetDateTime,
}

/// The outcome of drawing a token.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Allowed; `remaining` whole tokens are left (for the ratelimit header).
    Allowed {
        /// Tokens left after this request.
        remaining: u64,
    },
    /// Throttled; retry after this many whole seconds (at least 1).
    Throttled {
        /// Seconds until one token is available.
        retry_after: u64,
    },
}

/// All buckets.
#[derive(Debug, Default)]
pub struct Throttler {
    /// Current limits.
    pub limits: ThrottleLimits,
    buckets: HashMap<(String, String, OpKind), Bucket>,
}

impl Throttler {
    /// A throttler with the given limits.
    pub fn new(limits: ThrottleLimits) -> Self {
        Self { limits, buckets: HashMap::new() }
    }

    /// Empties the bucket table (all buckets full again).
    pub fn reset(&mut self) {
        self.buckets.clear();
    }

    /// Draws one token for (principal, subscription, kind) at `now`.
    pub fn take(&mut self, principal: &str, subscription: &str, kind: OpKind, now: OffsetDateTime) -> Decision {
        let limit = self.limits.limit(kind);
        if !self.limits.enabled {
            return Decision::Allowed { remaining: limit.capacity as u64 };
        }
        let bucket = self
            .buckets
            .entry((principal.to_string(), subscription.to_ascii_lowercase(), kind))
            .or_insert(Bucket { tokens: limit.capacity, at: now });
        // Refill by elapsed virtual time; a clock set backwards refills nothing.
        let elapsed = (now - bucket.at).as_seconds_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * limit.refill_per_second).min(limit.capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Allowed { remaining: bucket.tokens.floor() as u64 }
        } else {
            let missing = 1.0 - bucket.tokens;
            let secs = if limit.refill_per_second > 0.0 { (missing / limit.refill_per_second).ceil() } else { 3600.0 };
            Decision::Throttled { retry_after: (secs as u64).max(1) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_drains_and_refills() {
        let mut t = Throttler::new(ThrottleLimits {
            enabled: true,
            reads: BucketLimit { capacity: 3.0, refill_per_second: 0.5 },
            ..ThrottleLimits::default()
        });
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(t.take("p", "s", OpKind::Read, now), Decision::Allowed { remaining: 2 });
        assert_eq!(t.take("p", "s", OpKind::Read, now), Decision::Allowed { remaining: 1 });
        assert_eq!(t.take("p", "s", OpKind::Read, now), Decision::Allowed { remaining: 0 });
        assert_eq!(t.take("p", "s", OpKind::Read, now), Decision::Throttled { retry_after: 2 });
        // Another principal has its own bucket.
        assert_eq!(t.take("q", "s", OpKind::Read, now), Decision::Allowed { remaining: 2 });
        let later = now + time::Duration::seconds(2);
        assert_eq!(t.take("p", "s", OpKind::Read, later), Decision::Allowed { remaining: 0 });
    }
}
