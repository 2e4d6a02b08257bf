//! Wire models for the Azure Backup ARM APIs used by the restore service.
//!
//! * [`wire`] – tolerant reading helpers (status strings, job ids, timestamps, lenient numbers,
//!   discriminated unions) and the generic ARM envelopes.
//! * [`error`] – ARM error bodies and the Data Protection `UserFacingError`.
//! * [`dataprotection`] – Microsoft.DataProtection (Backup vault), api-version 2026-06-01.
//! * [`recoveryservices`] – Microsoft.RecoveryServices backup, api-version 2026-10-01.
//! * [`crr`] – Recovery Services Cross Region Restore ("passive stamp"), api-version 2026-07-15.

pub mod arm_id;
pub mod crr;
pub mod dataprotection;
pub mod error;
pub mod recoveryservices;
pub mod wire;
