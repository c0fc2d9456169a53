//! What can stop a specification from being served, worded for the operator.

/// A specification that cannot be loaded or used. The gateway prefixes the server's name
/// and config key.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file or URL could not be read.
    #[error("{0}")]
    Unreadable(String),
    /// It was read, but is not a usable OpenAPI 3.x or Swagger 2.0 document.
    #[error("invalid OpenAPI spec: {0}")]
    Invalid(String),
}
