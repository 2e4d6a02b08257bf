//! The restore request, contract v1: the types ([`types`]), how a message body becomes one ([`parse`]), the
//! cross-field rules a parsed request must meet ([`validate`]), the
//! one-meaning-per-message check ([`duplicates`]), and the error that names the field ([`error`]).

pub mod duplicates;
pub mod error;
pub mod ids;
pub mod parse;
pub mod types;
pub mod validate;

pub use error::{RequestError, RequestErrorKind};
pub use ids::BackupPolicyId;
pub use parse::{
    DEFAULT_MAX_MESSAGE_BYTES, json_type, parse_request, parse_request_value, parse_request_with_limit, printable,
};
pub use types::*;
