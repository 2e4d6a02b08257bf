//! Typed trigger events. Each implements [`FromInvocation`], which the runtime calls with the
//! trigger binding name registered for the function.

pub mod http;
pub mod service_bus;
pub mod timer;

use crate::envelope::InvocationRequest;
use crate::error::DecodeError;

/// A trigger event built from an invocation request.
pub trait FromInvocation: Sized + Send + 'static {
    /// Build the event from the trigger binding `binding` of `request`.
    fn from_invocation(binding: &str, request: &InvocationRequest) -> Result<Self, DecodeError>;
}
