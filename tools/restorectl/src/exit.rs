//! Exit codes, the same for every command, so scripts can tell "the answer is no" from "could not ask".
//!
//! * 0: success (valid; sent; found).
//! * [`NO`] (1): the answer is no: the request is invalid or refused, the record does not exist.
//! * [`CONFIG`] (2): usage or configuration error (bad flag or setting, unreadable file); nothing was done.
//! * [`SERVICE`] (3): a service failed or refused the call (Service Bus, the state store).

/// The request is invalid or refused, or the record does not exist.
pub const NO: u8 = 1;
/// Usage or configuration error; clap's own usage errors also exit with 2.
pub const CONFIG: u8 = 2;
/// A service (Service Bus, the state store) failed or refused the call.
pub const SERVICE: u8 = 3;
