//! One API operation as the rest of the crate sees it: the tool it becomes, and where each of
//! the tool's arguments goes in the HTTP request.
//!
//! `spec.rs` builds these from a specification (any of the three dialects); `request.rs`
//! turns one plus a call's arguments into an HTTP request. Nothing here knows which dialect
//! the operation came from.

use reqwest::Method;
use rmcp::model::Tool;

/// One `path × method` of the specification.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    /// The MCP tool: name, description, input schema, annotations.
    pub tool: Tool,
    pub method: Method,
    /// The path template as written in the spec, e.g. `/pet/{petId}`.
    pub path: String,
    pub params: Vec<Parameter>,
    pub body: Option<RequestBody>,
    /// Where an `api_key` credential goes for this operation, when the spec declares an
    /// `apiKey` security scheme the operation uses.
    pub api_key: Option<ApiKeyPlacement>,
}

/// A path, query, header or cookie parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parameter {
    /// Its property name in the tool's input schema (its wire name, unless two parameters
    /// in different places share a name: then `<location>_<name>` for the later one).
    pub property: String,
    /// Its name in the HTTP request.
    pub name: String,
    pub location: Location,
    pub style: Style,
    pub explode: bool,
    pub required: bool,
    /// Query values may keep reserved characters (`allowReserved`).
    pub allow_reserved: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

/// OpenAPI's serialization styles (Swagger 2.0's `collectionFormat` maps onto them:
/// `csv` → form/simple without explode, `multi` → form with explode, `ssv` → space
/// delimited, `pipes` → pipe delimited, `tsv` → tab delimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Simple,
    Label,
    Matrix,
    Form,
    SpaceDelimited,
    PipeDelimited,
    TabDelimited,
    DeepObject,
}

/// The request body: always the tool argument `body` (LiteLLM's shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestBody {
    /// The `Content-Type` to send, e.g. `application/json`.
    pub content_type: String,
    pub encoding: BodyEncoding,
    pub required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyEncoding {
    /// `application/json` and `*+json`: the argument serialized as JSON.
    Json,
    /// `application/x-www-form-urlencoded`: the argument's fields as a form.
    Form,
    /// `multipart/form-data`: the argument's fields as text parts.
    Multipart,
    /// Anything else: a string argument sent as is (other values as JSON text).
    Text,
}

/// Where the spec says an API key goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiKeyPlacement {
    pub name: String,
    pub location: Location,
}

/// The tool argument that carries the request body.
pub(crate) const BODY_ARGUMENT: &str = "body";
