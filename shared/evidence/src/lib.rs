//! Drill evidence people read.
//!
//! * [`pack`]: the evidence pack of one run (JSON Schema `schemas/evidence-pack.schema.json`): the drill result
//!   message plus what each check read, each deletion's confirmation, the restored size, and an attestation in
//!   the words an auditor uses. The page shows nothing the pack does not hold.
//! * [`run_page`] and [`overview`]: self-contained HTML (no script, no external asset, a Content-Security-Policy
//!   that forbids fetching anything), readable offline and when attached to a ticket, printable. Every figure is
//!   also a `<data value>` element keyed by its JSON pointer in the pack, so a test (or a person) can check the
//!   page against the pack.
//! * [`summary`]: one plan's overview entry from the stored runs and history (what the drill function writes).
//! * [`svg`]: the inline charts; [`html`]: escaping and the page frame; [`store`]: stable names and the folder
//!   writer.

pub mod html;
pub mod overview;
pub mod pack;
pub mod run_page;
pub mod store;
pub mod summary;
pub mod svg;

pub use overview::{Overview, PlanOverview};
pub use pack::{EvidencePack, ItemEvidence};
