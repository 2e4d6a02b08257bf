//! Managed Run Command (`Microsoft.Compute/virtualMachines/runCommands`): filled in by the next step.

use crate::world::World;

/// Removes the Run Commands of a deleted VM.
pub fn remove_for_vm(_world: &mut World, _vm_id: &str) {}
