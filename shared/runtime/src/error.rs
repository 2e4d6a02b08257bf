//! Error types: startup errors (port variable, binding), server errors, handler errors, and
//! the errors raised while turning a host request into a typed event.

use std::fmt;

/// The environment variable the Functions host sets to the port the handler must listen on.
pub const PORT_VAR: &str = "FUNCTIONS_CUSTOMHANDLER_PORT";
/// The legacy name of [`PORT_VAR`], still set by the host; used when [`PORT_VAR`] is absent.
pub const LEGACY_PORT_VAR: &str = "FUNCTIONS_HTTPWORKER_PORT";

/// Why the handler could not start listening. Binaries print it to stderr and exit non-zero.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Neither port variable is set.
    #[error(
        "neither {PORT_VAR} nor {LEGACY_PORT_VAR} is set: this program is an Azure Functions custom \
         handler and must be started by the Functions host (`func start`), or run it by hand with \
         {PORT_VAR}=<port>, for example `{PORT_VAR}=7072 ./handler`"
    )]
    MissingPort,
    /// A port variable is set but does not hold a TCP port number.
    #[error(
        "{var}={value:?} is not a TCP port number (expected an integer 1-65535); \
         set {var} to the port the handler should listen on, for example {var}=7072"
    )]
    InvalidPort {
        /// The variable that held the bad value.
        var: &'static str,
        /// The value found.
        value: String,
    },
    /// Binding the loopback address failed (port in use, permission denied, ...).
    #[error("cannot listen on {addr} (from {var}): {source}; is another process using that port?")]
    Bind {
        /// The address we tried to bind.
        addr: String,
        /// The variable the port came from.
        var: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// An error of the running server (the accept loop failed).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// An I/O error from the listener or the signal handlers.
    #[error("custom handler server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A request from the host that could not be turned into the handler's event. Answered with
/// `400` and a JSON object naming the problem (and written to stderr).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The request body is not JSON.
    #[error("request body is not valid JSON: {0}")]
    NotJson(String),
    /// The request body is JSON but not an object with a `Data` object.
    #[error("invalid invocation envelope: {0}")]
    Envelope(String),
    /// `Data` has no value for the trigger binding.
    #[error(
        "Data has no value for the trigger binding {binding:?} (keys present: {present:?}); check the `name` of the trigger in function.json"
    )]
    MissingBinding {
        /// The binding name registered for the function.
        binding: String,
        /// The keys `Data` has.
        present: Vec<String>,
    },
    /// The trigger value has an unexpected shape.
    #[error("trigger binding {binding:?}: {reason}")]
    Trigger {
        /// The binding name.
        binding: String,
        /// What was wrong.
        reason: String,
    },
}

/// An invocation whose body is over the runtime's [`crate::BodyLimit`]: refused before the envelope is parsed.
/// An app registers [`crate::Runtime::on_oversize`] to answer it (the intake answers a `Rejected` result, so the
/// message is settled instead of redelivered and dead-lettered); without a hook the host gets a `413`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the invocation body is {received} bytes{more}, over the limit of {limit} bytes (the policy's maxMessageBytes \
     {max_message_bytes} plus the host envelope's overhead); send a message of at most {max_message_bytes} bytes, \
     or raise maxMessageBytes in the policy",
    more = if *.truncated { " or more" } else { "" }
)]
pub struct Oversize {
    /// The function the host invoked.
    pub function: String,
    /// The body limit in bytes.
    pub limit: usize,
    /// The policy's message size the limit was derived from.
    pub max_message_bytes: usize,
    /// Bytes received (a lower bound when `truncated`).
    pub received: u64,
    /// The runtime stopped reading before the end of a very large body.
    pub truncated: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error a handler returns. The runtime writes it to stderr and answers the host with a
/// `500` and `{"error": "<text>"}`, which fails the invocation (a Service Bus message is then
/// redelivered and eventually dead-lettered; a timer is not retried).
///
/// Any `std::error::Error + Send + Sync + 'static` converts into it with `?`; build one from
/// text with [`HandlerError::msg`].
pub struct HandlerError {
    inner: BoxError,
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

impl HandlerError {
    /// An error holding just a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self { inner: Box::new(Message(message.to_string())) }
    }

    /// The underlying error.
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.inner
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandlerError {
    fn from(error: E) -> Self {
        Self { inner: Box::new(error) }
    }
}

impl fmt::Display for HandlerError {
    /// The error and its chain of sources, joined with `: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)?;
        let mut source = self.inner.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn handler_error_displays_the_source_chain() {
        let e: HandlerError = Outer(std::io::Error::other("inner")).into();
        assert_eq!(e.to_string(), "outer: inner");
        assert_eq!(HandlerError::msg("plain").to_string(), "plain");
    }

    #[test]
    fn startup_errors_name_the_variable_and_the_fix() {
        let e = StartupError::InvalidPort { var: PORT_VAR, value: "abc".into() };
        let text = e.to_string();
        assert!(text.contains(PORT_VAR) && text.contains("\"abc\"") && text.contains("set "));
        let text = StartupError::MissingPort.to_string();
        assert!(text.contains(PORT_VAR) && text.contains(LEGACY_PORT_VAR));
    }
}
