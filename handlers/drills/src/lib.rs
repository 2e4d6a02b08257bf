//! The drill function's production side, as a library beside the `drills` binary (so the end-to-end tests and
//! `restorectl drills` use the same code): where it reads its plans and writes its evidence (a local folder, or
//! the Blob containers `infra/modules/drills.bicep` creates), and the production side of the drill library's seams
//! (Azure through the ARM client, the restore path through the state store).

mod container;
pub mod evidence;
pub mod plans;
pub mod seams;

pub use container::{Container, ContainerError};
