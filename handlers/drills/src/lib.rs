//! Where the drill function reads its plans and writes its evidence: a local folder (development, `run-local.sh`)
//! or Blob containers (Azure, the containers `infra/modules/drills.bicep` creates). A library beside the `drills`
//! binary so the end-to-end tests can read and write through the same code against Azurite.

mod container;
pub mod evidence;
pub mod plans;

pub use container::{Container, ContainerError};
