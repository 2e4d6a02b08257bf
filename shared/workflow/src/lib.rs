//! The restore workflow the function apps run.
//!
//! * [`plan`]: a validated request → the exact Azure call, recovery point chosen.
//! * [`azure`]: validating and triggering a planned call.
//! * [`clock`]: the time source (system, or tokio's for deterministic tests).
//! * [`reconcile`]: deciding what a write-ahead (`Triggering`) record started.
//! * [`intake`]: one message → at most one restore, and an answer.
//! * [`results`]: restore results built from records.
//! * [`tracker`]: one timer tick: every due record one step further, results published.
//! * [`slots`]: the vault's and the item's slots, taken at the write-ahead.
//! * [`staging`]: a Recovery Services restore-disks job's staging files and the disks they name.
//! * [`startup`]: the one start-up error of the function apps.
//! * [`settings`]: app settings with errors that name the setting.

pub mod azure;
pub mod clock;
pub mod intake;
pub mod pace;
pub mod plan;
pub mod reconcile;
pub mod results;
pub mod settings;
pub mod slots;
pub mod staging;
pub mod startup;
pub mod tracker;
