//! Test support shared by the suites of several crates. Kept out of the production crates so that nothing here is
//! public API of the product and no deployed binary links it: only `[dev-dependencies]` and test tools depend on
//! this crate (`cargo tree -p restore-intake -e normal` shows it absent).
//!
//! * [`catalogue`] – bad inputs with the error each must produce, for replay through the real intake.
//! * [`schemas`] – the check that a committed JSON Schema is current.

pub mod catalogue;
pub mod schemas;
