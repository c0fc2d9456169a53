//! A loaded specification → its operations as MCP tools.
//!
//! The three dialects differ in where things live (Swagger 2.0's `in: body` and `formData`
//! parameters, `consumes`, `securityDefinitions`, `host` + `basePath`; 3.x's `requestBody`,
//! `servers`, `components`), and 3.0 and 2.0 schemas are not quite JSON Schema (`nullable`,
//! boolean `exclusiveMinimum`, `type: file`). This module reads each into one shape,
//! [`Operation`], with input schemas MCP clients can use as they are.
//!
//! Tool names follow LiteLLM (`openapi_to_mcp_generator.py`): the `operationId`, else
//! `<method>_<path>`; characters outside `[A-Za-z0-9_-]` become `_`; lowercased; at most
//! 128 characters; a repeat gets `_2`, `_3`, … So `getPetById` is `getpetbyid`, the name
//! LiteLLM's documentation calls.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use reqwest::{Method, Url};
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::SpecError;
use crate::document::{Documents, is_literal};
use crate::operation::{
    ApiKeyPlacement, BODY_ARGUMENT, BodyEncoding, Location, Operation, Parameter, RequestBody,
    Style,
};

/// The methods a path item can have, in the order tools are listed.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// LiteLLM's cap on a generated tool name.
const MAX_TOOL_NAME: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

/// What a specification offers.
#[derive(Debug)]
pub(crate) struct Spec {
    /// `info.title`, for the MCP server's name.
    pub title: String,
    /// `info.version`.
    pub version: String,
    pub dialect: Dialect,
    /// The API's address as the document gives it (`servers`, or `host` + `basePath`).
    pub base_url: Option<Url>,
    pub operations: Vec<Operation>,
}

/// Reads every operation of the loaded documents.
pub(crate) fn read(documents: &Documents) -> Result<Spec, SpecError> {
    let root = documents.root();
    let location = documents.root_location();
    let Some(object) = root.as_object() else {
        return Err(SpecError::Invalid(
            "the document is not a map (expected an OpenAPI or Swagger object)".into(),
        ));
    };
    let dialect = dialect(object)?;
    let empty = Map::new();
    let paths = match object.get("paths") {
        Some(Value::Object(paths)) => paths,
        Some(_) => return Err(SpecError::Invalid("`paths` is not a map".into())),
        // 3.1 allows a document of webhooks or components only.
        None if dialect == Dialect::OpenApi31 => &empty,
        None => return Err(SpecError::Invalid("the document has no `paths`".into())),
    };
    let info = object.get("info");
    let text = |key: &str| {
        info.and_then(|i| i.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let context = Context {
        documents,
        dialect,
        api_keys: api_key_schemes(documents, object, dialect)?,
        security: object.get("security"),
        consumes: object.get("consumes"),
    };
    let mut names = Names::default();
    let mut operations = Vec::new();
    for (path, item) in paths {
        if path.starts_with("x-") {
            continue;
        }
        let (item, item_location) = documents
            .deref(item, location)
            .map_err(|e| in_path(path, e))?;
        let Some(item) = item.as_object() else {
            return Err(SpecError::Invalid(format!("paths.{path} is not a map")));
        };
        for method in METHODS {
            let Some(definition) = item.get(method) else {
                continue;
            };
            let operation = context
                .operation(path, method, definition, item, &item_location, &mut names)
                .map_err(|e| in_path(&format!("{} {path}", method.to_uppercase()), e))?;
            operations.push(operation);
        }
    }
    Ok(Spec {
        title: text("title"),
        version: text("version"),
        dialect,
        base_url: base_url(object, dialect, location),
        operations,
    })
}

fn in_path(at: &str, error: SpecError) -> SpecError {
    match error {
        SpecError::Invalid(message) => SpecError::Invalid(format!("{at}: {message}")),
        other => other,
    }
}

fn dialect(root: &Map<String, Value>) -> Result<Dialect, SpecError> {
    let version = |key: &str| match root.get(key) {
        Some(Value::String(v)) => Some(v.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if let Some(version) = version("openapi") {
        return match version.as_str() {
            v if v.starts_with("3.0") => Ok(Dialect::OpenApi30),
            v if v.starts_with("3.") => Ok(Dialect::OpenApi31),
            v => Err(SpecError::Invalid(format!(
                "OpenAPI version {v} is not supported (3.0.x, 3.1.x or Swagger 2.0)"
            ))),
        };
    }
    match version("swagger").as_deref() {
        Some("2.0") => Ok(Dialect::Swagger2),
        Some(v) => Err(SpecError::Invalid(format!(
            "Swagger version {v} is not supported (3.0.x, 3.1.x or Swagger 2.0)"
        ))),
        None => Err(SpecError::Invalid(
            "neither an `openapi` nor a `swagger` version field: not an OpenAPI document".into(),
        )),
    }
}

/// Per document: what every operation's reading needs.
struct Context<'a> {
    documents: &'a Documents,
    dialect: Dialect,
    /// `apiKey` security schemes by name.
    api_keys: HashMap<String, ApiKeyPlacement>,
    /// The document's default `security`.
    security: Option<&'a Value>,
    /// Swagger 2.0's default `consumes`.
    consumes: Option<&'a Value>,
}

/// A parameter as read, before it gets its property name.
struct RawParameter {
    name: String,
    place: Place,
    required: bool,
    schema: Value,
    style: Option<Style>,
    explode: Option<bool>,
    allow_reserved: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    At(Location),
    /// Swagger 2.0 `in: body`.
    Body,
    /// Swagger 2.0 `in: formData`.
    Form,
}

impl Context<'_> {
    fn operation(
        &self,
        path: &str,
        method: &str,
        definition: &Value,
        item: &Map<String, Value>,
        location: &Url,
        names: &mut Names,
    ) -> Result<Operation, SpecError> {
        let Some(op) = definition.as_object() else {
            return Err(SpecError::Invalid("the operation is not a map".into()));
        };
        // Path-level parameters first; the operation's own replace those of the same name
        // and place.
        let mut parameters: Vec<RawParameter> = Vec::new();
        for list in [item.get("parameters"), op.get("parameters")]
            .into_iter()
            .flatten()
        {
            for parameter in self.parameters(list, location)? {
                parameters.retain(|p| !(p.name == parameter.name && p.place == parameter.place));
                parameters.push(parameter);
            }
        }
        let body = match self.dialect {
            Dialect::Swagger2 => self.swagger_body(op, &mut parameters),
            _ => self.request_body(op, location)?,
        };

        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
        if let Some((_, schema)) = &body {
            taken.insert(BODY_ARGUMENT.into());
            properties.insert(BODY_ARGUMENT.into(), schema.clone());
        }
        let mut params = Vec::new();
        for raw in parameters {
            let Place::At(place) = raw.place else {
                continue;
            };
            let property = unique_property(&raw.name, place, &mut taken);
            let required_here = raw.required || place == Location::Path;
            if required_here {
                required.push(Value::String(property.clone()));
            }
            properties.insert(property.clone(), raw.schema);
            let style = raw.style.unwrap_or(match place {
                Location::Query | Location::Cookie => Style::Form,
                Location::Path | Location::Header => Style::Simple,
            });
            params.push(Parameter {
                property,
                name: raw.name,
                location: place,
                style,
                explode: raw.explode.unwrap_or(style == Style::Form),
                required: required_here,
                allow_reserved: raw.allow_reserved,
            });
        }
        let body = body.map(|(body, _)| {
            if body.required {
                required.push(Value::String(BODY_ARGUMENT.into()));
            }
            body
        });
        let mut schema = Map::new();
        schema.insert("type".into(), "object".into());
        schema.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            schema.insert("required".into(), Value::Array(required));
        }

        let text = |key: &str| {
            op.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
        };
        let source_name = text("operationId")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{method}_{path}"));
        let name = names.allocate(&source_name);
        let mut description = match (text("summary"), text("description")) {
            (Some(summary), Some(details)) if summary != details => {
                format!("{summary}\n\n{details}")
            }
            (Some(summary), _) => summary.to_owned(),
            (None, Some(details)) => details.to_owned(),
            (None, None) => format!("{} {path}", method.to_uppercase()),
        };
        if op.get("deprecated") == Some(&Value::Bool(true)) {
            description = format!("(Deprecated) {description}");
        }
        let method_upper = method.to_uppercase();
        let read_only = matches!(method, "get" | "head" | "options");
        let mut annotations = ToolAnnotations::new()
            .read_only(read_only)
            .idempotent(read_only || matches!(method, "put" | "delete"))
            .open_world(true);
        if !read_only {
            annotations = annotations.destructive(method == "delete");
        }
        let mut tool = Tool::new(name, description, Arc::new(schema)).with_annotations(annotations);
        if let Some(summary) = text("summary") {
            tool = tool.with_title(summary);
        }
        Ok(Operation {
            tool,
            method: Method::from_bytes(method_upper.as_bytes()).unwrap_or(Method::GET),
            path: path.to_owned(),
            params,
            body,
            api_key: self.api_key_for(op),
        })
    }

    fn parameters(&self, list: &Value, location: &Url) -> Result<Vec<RawParameter>, SpecError> {
        let Some(list) = list.as_array() else {
            return Err(SpecError::Invalid("`parameters` is not a list".into()));
        };
        let mut out = Vec::new();
        for entry in list {
            let (parameter, at) = self.documents.deref(entry, location)?;
            let Some(parameter) = parameter.as_object() else {
                return Err(SpecError::Invalid("a parameter is not a map".into()));
            };
            let Some(name) = parameter.get("name").and_then(Value::as_str) else {
                return Err(SpecError::Invalid("a parameter has no `name`".into()));
            };
            let place = match parameter.get("in").and_then(Value::as_str) {
                // OpenAPI: header parameters of these names are ignored (the content type
                // and credentials are the gateway's to set).
                Some("header")
                    if ["accept", "content-type", "authorization"]
                        .contains(&name.to_ascii_lowercase().as_str()) =>
                {
                    continue;
                }
                Some("path") => Place::At(Location::Path),
                Some("query") => Place::At(Location::Query),
                Some("header") => Place::At(Location::Header),
                Some("cookie") => Place::At(Location::Cookie),
                Some("body") if self.dialect == Dialect::Swagger2 => Place::Body,
                Some("formData") if self.dialect == Dialect::Swagger2 => Place::Form,
                other => {
                    return Err(SpecError::Invalid(format!(
                        "parameter {name:?} has an unknown `in`: {}",
                        other.unwrap_or("(none)")
                    )));
                }
            };
            let mut schema = match (self.dialect, place) {
                (Dialect::Swagger2, Place::At(_) | Place::Form) => {
                    swagger_parameter_schema(parameter)
                }
                _ => match parameter.get("schema") {
                    Some(schema) => schema.clone(),
                    // 3.x: `content` with one media type instead of `schema`.
                    None => parameter
                        .get("content")
                        .and_then(Value::as_object)
                        .and_then(|c| c.values().next())
                        .and_then(|m| m.get("schema"))
                        .cloned()
                        .unwrap_or_else(|| json!({"type": "string"})),
                },
            };
            schema = self.schema(&schema, &at)?;
            describe(&mut schema, parameter.get("description"));
            let (style, explode) = match self.dialect {
                Dialect::Swagger2 => swagger_collection(parameter, place),
                _ => (
                    parameter
                        .get("style")
                        .and_then(Value::as_str)
                        .and_then(style_named),
                    parameter.get("explode").and_then(Value::as_bool),
                ),
            };
            out.push(RawParameter {
                name: name.to_owned(),
                place,
                required: parameter.get("required") == Some(&Value::Bool(true)),
                schema,
                style,
                explode,
                allow_reserved: parameter.get("allowReserved") == Some(&Value::Bool(true)),
            });
        }
        Ok(out)
    }

    /// A 3.x `requestBody`: the media type to send and its schema.
    fn request_body(
        &self,
        op: &Map<String, Value>,
        location: &Url,
    ) -> Result<Option<(RequestBody, Value)>, SpecError> {
        let Some(body) = op.get("requestBody") else {
            return Ok(None);
        };
        let (body, at) = self.documents.deref(body, location)?;
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            return Ok(None);
        };
        let Some(content_type) = preferred_media_type(content.keys().map(String::as_str)) else {
            return Ok(None);
        };
        let schema = content
            .get(content_type)
            .and_then(|media| media.get("schema"))
            .map(|schema| self.schema(schema, &at))
            .transpose()?
            .unwrap_or_else(|| json!({}));
        let mut schema = schema;
        describe(&mut schema, body.get("description"));
        Ok(Some((
            RequestBody {
                content_type: content_type.to_owned(),
                encoding: encoding_of(content_type),
                required: body.get("required") == Some(&Value::Bool(true)),
            },
            schema,
        )))
    }

    /// Swagger 2.0: the `in: body` parameter, or the `formData` ones gathered into one
    /// object. Both leave `parameters`.
    fn swagger_body(
        &self,
        op: &Map<String, Value>,
        parameters: &mut Vec<RawParameter>,
    ) -> Option<(RequestBody, Value)> {
        let consumes: Vec<&str> = op
            .get("consumes")
            .or(self.consumes)
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(at) = parameters.iter().position(|p| p.place == Place::Body) {
            let body = parameters.remove(at);
            let content_type = preferred_media_type(consumes.iter().copied())
                .unwrap_or("application/json")
                .to_owned();
            return Some((
                RequestBody {
                    encoding: encoding_of(&content_type),
                    content_type,
                    required: body.required,
                },
                body.schema,
            ));
        }
        let fields: Vec<RawParameter> = {
            let (form, rest) = std::mem::take(parameters)
                .into_iter()
                .partition(|p| p.place == Place::Form);
            *parameters = rest;
            form
        };
        if fields.is_empty() {
            return None;
        }
        let has_file = fields
            .iter()
            .any(|f| f.schema.get("format").and_then(Value::as_str) == Some("binary"));
        let multipart = consumes
            .iter()
            .any(|c| c.starts_with("multipart/form-data"))
            && (has_file || !consumes.iter().any(|c| c.contains("x-www-form-urlencoded")));
        let content_type = if multipart {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let required: Vec<Value> = fields
            .iter()
            .filter(|f| f.required)
            .map(|f| Value::String(f.name.clone()))
            .collect();
        let any_required = !required.is_empty();
        let properties: Map<String, Value> =
            fields.into_iter().map(|f| (f.name, f.schema)).collect();
        let mut schema = json!({"type": "object", "properties": properties});
        if any_required {
            schema["required"] = Value::Array(required);
        }
        Some((
            RequestBody {
                content_type: content_type.into(),
                encoding: encoding_of(content_type),
                required: any_required,
            },
            schema,
        ))
    }

    /// A schema with references inlined, in JSON Schema terms for every dialect.
    fn schema(&self, schema: &Value, location: &Url) -> Result<Value, SpecError> {
        let mut schema = self.documents.inline(schema, location)?;
        if self.dialect != Dialect::OpenApi31 {
            to_json_schema(&mut schema);
        }
        Ok(schema)
    }

    /// Where this operation's API key goes: the first `apiKey` scheme among the security
    /// requirements it uses (its own `security`, else the document's).
    fn api_key_for(&self, op: &Map<String, Value>) -> Option<ApiKeyPlacement> {
        let requirements = op.get("security").or(self.security)?.as_array()?;
        requirements
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|requirement| requirement.keys())
            .find_map(|scheme| self.api_keys.get(scheme).cloned())
    }
}

/// The `apiKey` schemes of `securitySchemes` (3.x) or `securityDefinitions` (2.0).
fn api_key_schemes(
    documents: &Documents,
    root: &Map<String, Value>,
    dialect: Dialect,
) -> Result<HashMap<String, ApiKeyPlacement>, SpecError> {
    let schemes = match dialect {
        Dialect::Swagger2 => root.get("securityDefinitions"),
        _ => root
            .get("components")
            .and_then(|c| c.get("securitySchemes")),
    };
    let mut out = HashMap::new();
    let Some(schemes) = schemes.and_then(Value::as_object) else {
        return Ok(out);
    };
    for (name, scheme) in schemes {
        let (scheme, _) = documents.deref(scheme, documents.root_location())?;
        if scheme.get("type").and_then(Value::as_str) != Some("apiKey") {
            continue;
        }
        let location = match scheme.get("in").and_then(Value::as_str) {
            Some("header") => Location::Header,
            Some("query") => Location::Query,
            Some("cookie") => Location::Cookie,
            _ => continue,
        };
        if let Some(key_name) = scheme.get("name").and_then(Value::as_str) {
            out.insert(
                name.clone(),
                ApiKeyPlacement {
                    name: key_name.to_owned(),
                    location,
                },
            );
        }
    }
    Ok(out)
}

/// The API's address from the document: the first of `servers` (its variables at their
/// defaults), or Swagger's `schemes[0]://host` + `basePath`. Relative addresses resolve
/// against the document's own URL, which only works for a downloaded spec.
fn base_url(root: &Map<String, Value>, dialect: Dialect, location: &Url) -> Option<Url> {
    let text = match dialect {
        Dialect::Swagger2 => {
            let base_path = root.get("basePath").and_then(Value::as_str).unwrap_or("");
            match root.get("host").and_then(Value::as_str) {
                Some(host) => {
                    let scheme = root
                        .get("schemes")
                        .and_then(Value::as_array)
                        .and_then(|s| s.first())
                        .and_then(Value::as_str)
                        .unwrap_or(match location.scheme() {
                            "http" => "http",
                            _ => "https",
                        });
                    format!("{scheme}://{host}{base_path}")
                }
                None => base_path.to_owned(),
            }
        }
        _ => {
            let server = root.get("servers")?.as_array()?.first()?;
            let mut url = server.get("url")?.as_str()?.to_owned();
            if let Some(variables) = server.get("variables").and_then(Value::as_object) {
                for (name, variable) in variables {
                    if let Some(default) = variable.get("default").and_then(Value::as_str) {
                        url = url.replace(&format!("{{{name}}}"), default);
                    }
                }
            }
            url
        }
    };
    if let Ok(url) = Url::parse(&text) {
        return Some(url);
    }
    if matches!(location.scheme(), "http" | "https") {
        return location.join(&text).ok();
    }
    None
}

/// Picks the body's media type: JSON first (what tool arguments are), then forms, then text.
fn preferred_media_type<'a>(types: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let types: Vec<&str> = types.collect();
    let rank = |t: &str| {
        let t = t.to_ascii_lowercase();
        if t.starts_with("application/json") {
            0
        } else if t.contains("+json") || t.contains("/json") {
            1
        } else if t.starts_with("application/x-www-form-urlencoded") {
            2
        } else if t.starts_with("multipart/form-data") {
            3
        } else if t.starts_with("text/") {
            4
        } else if t.contains('*') {
            6
        } else {
            5
        }
    };
    types.into_iter().min_by_key(|t| rank(t))
}

fn encoding_of(content_type: &str) -> BodyEncoding {
    let t = content_type.to_ascii_lowercase();
    if t.contains("json") || t.contains('*') {
        BodyEncoding::Json
    } else if t.starts_with("application/x-www-form-urlencoded") {
        BodyEncoding::Form
    } else if t.starts_with("multipart/") {
        BodyEncoding::Multipart
    } else {
        BodyEncoding::Text
    }
}

fn style_named(name: &str) -> Option<Style> {
    Some(match name {
        "simple" => Style::Simple,
        "label" => Style::Label,
        "matrix" => Style::Matrix,
        "form" => Style::Form,
        "spaceDelimited" => Style::SpaceDelimited,
        "pipeDelimited" => Style::PipeDelimited,
        "deepObject" => Style::DeepObject,
        _ => return None,
    })
}

/// Swagger 2.0's `collectionFormat` as a style (`csv` by default).
fn swagger_collection(
    parameter: &Map<String, Value>,
    place: Place,
) -> (Option<Style>, Option<bool>) {
    let format = parameter
        .get("collectionFormat")
        .and_then(Value::as_str)
        .unwrap_or("csv");
    let plain = match place {
        Place::At(Location::Path | Location::Header) => Style::Simple,
        _ => Style::Form,
    };
    match format {
        "multi" => (Some(Style::Form), Some(true)),
        "ssv" => (Some(Style::SpaceDelimited), Some(false)),
        "tsv" => (Some(Style::TabDelimited), Some(false)),
        "pipes" => (Some(Style::PipeDelimited), Some(false)),
        _ => (Some(plain), Some(false)),
    }
}

/// A Swagger 2.0 non-body parameter carries its schema keywords on itself.
fn swagger_parameter_schema(parameter: &Map<String, Value>) -> Value {
    const KEYWORDS: [&str; 17] = [
        "type",
        "format",
        "items",
        "enum",
        "default",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "multipleOf",
        "x-nullable",
    ];
    let schema: Map<String, Value> = KEYWORDS
        .iter()
        .filter_map(|k| parameter.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    if schema.is_empty() {
        json!({"type": "string"})
    } else {
        Value::Object(schema)
    }
}

/// Adds a parameter's or body's description to its schema unless the schema has one.
fn describe(schema: &mut Value, description: Option<&Value>) {
    if let (Value::Object(schema), Some(Value::String(text))) = (schema, description)
        && !schema.contains_key("description")
        && !text.trim().is_empty()
    {
        schema.insert("description".into(), Value::String(text.clone()));
    }
}

/// 3.0 and 2.0 schema keywords → JSON Schema 2020-12 (MCP's dialect): `nullable`
/// (and 2.0's `x-nullable`) becomes a `null` type, boolean `exclusiveMinimum`/`Maximum`
/// become numbers, and `type: file` a binary string.
fn to_json_schema(value: &mut Value) {
    match value {
        Value::Object(schema) => {
            let nullable = [schema.remove("nullable"), schema.remove("x-nullable")]
                .into_iter()
                .flatten()
                .any(|v| v == Value::Bool(true));
            if nullable && let Some(Value::String(kind)) = schema.get("type").cloned() {
                schema.insert("type".into(), json!([kind, "null"]));
            }
            if schema.get("type") == Some(&json!("file")) {
                schema.insert("type".into(), "string".into());
                schema.insert("format".into(), "binary".into());
            }
            for (flag, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(Value::Bool(exclusive)) = schema.get(flag).cloned() {
                    schema.remove(flag);
                    if exclusive && let Some(limit) = schema.remove(bound) {
                        schema.insert(flag.into(), limit);
                    }
                }
            }
            for (key, child) in schema.iter_mut() {
                if !is_literal(key) {
                    to_json_schema(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_json_schema),
        _ => {}
    }
}

/// A parameter's property name: its own, or `<location>_<name>` when another parameter
/// (or the body) already has it.
fn unique_property(name: &str, location: Location, taken: &mut HashSet<String>) -> String {
    let place = match location {
        Location::Path => "path",
        Location::Query => "query",
        Location::Header => "header",
        Location::Cookie => "cookie",
    };
    let mut candidate = name.to_owned();
    if taken.contains(&candidate) {
        candidate = format!("{place}_{name}");
    }
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{place}_{name}_{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// Tool names handed out so far, so repeats get `_2`, `_3`, …
#[derive(Default)]
struct Names {
    used: HashSet<String>,
}

impl Names {
    fn allocate(&mut self, source: &str) -> String {
        let base = tool_name(source);
        let mut name = base.clone();
        let mut n = 1;
        while self.used.contains(&name) {
            n += 1;
            let suffix = format!("_{n}");
            let keep = MAX_TOOL_NAME.saturating_sub(suffix.len());
            name = format!("{}{suffix}", truncate(&base, keep));
        }
        self.used.insert(name.clone());
        name
    }
}

/// LiteLLM's sanitization of an `operationId` (or `<method>_<path>`).
pub(crate) fn tool_name(source: &str) -> String {
    let name: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let name = truncate(&name, MAX_TOOL_NAME).to_owned();
    if name.is_empty() {
        "operation".into()
    } else {
        name
    }
}

fn truncate(text: &str, max: usize) -> &str {
    // ASCII only by construction, so any byte index is a char boundary.
    text.get(..max.min(text.len())).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(document: Value) -> Result<Spec, SpecError> {
        let documents = Documents::from_values(
            "https://api.example.com/spec/openapi.json",
            vec![("https://api.example.com/spec/openapi.json", document)],
        );
        read(&documents)
    }

    fn ok(document: Value) -> Spec {
        spec(document).unwrap_or_else(|e| panic!("{e}"))
    }

    fn schema_of(op: &Operation) -> Value {
        Value::Object((*op.tool.input_schema).clone())
    }

    #[test]
    fn names_follow_litellm() {
        assert_eq!(tool_name("getPetById"), "getpetbyid");
        assert_eq!(tool_name("get_/pets/{id}"), "get__pets__id_");
        assert_eq!(tool_name(&"x".repeat(200)).len(), 128);
        let mut names = Names::default();
        assert_eq!(names.allocate("List Pets"), "list_pets");
        assert_eq!(names.allocate("list_pets"), "list_pets_2");
        assert_eq!(names.allocate("LIST_PETS"), "list_pets_3");
    }

    #[test]
    fn openapi_30_parameters_body_and_security_become_one_schema() {
        let spec = ok(json!({
            "openapi": "3.0.3",
            "info": {"title": "Pets", "version": "1"},
            "servers": [{"url": "https://{region}.example.com/v1", "variables": {"region": {"default": "eu"}}}],
            "components": {
                "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
                "parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}},
                "schemas": {"Pet": {"type": "object", "nullable": true, "required": ["name"],
                    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}}}}
            },
            "security": [{"key": []}],
            "paths": {
                "/pets/{petId}": {
                    "parameters": [{"name": "petId", "in": "path", "schema": {"type": "string"}, "description": "the id"}],
                    "put": {
                        "operationId": "updatePet", "summary": "Update a pet", "description": "Replaces it.",
                        "parameters": [{"$ref": "#/components/parameters/Limit"},
                                       {"name": "petId", "in": "query", "schema": {"type": "string"}}],
                        "requestBody": {"required": true, "content": {
                            "application/xml": {"schema": {"type": "string"}},
                            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}
                    },
                    "get": {"security": [], "responses": {}}
                }
            }
        }));
        assert_eq!(spec.dialect, Dialect::OpenApi30);
        assert_eq!(
            spec.base_url.as_ref().map(Url::as_str),
            Some("https://eu.example.com/v1")
        );
        let [get, put] = &spec.operations[..] else {
            panic!("{:?}", spec.operations)
        };
        assert_eq!(get.tool.name, "get__pets__petid_");
        assert_eq!(get.api_key, None);
        assert_eq!(put.tool.name, "updatepet");
        assert_eq!(
            put.tool.description.as_deref(),
            Some("Update a pet\n\nReplaces it.")
        );
        assert_eq!(put.method, Method::PUT);
        assert_eq!(
            put.api_key,
            Some(ApiKeyPlacement {
                name: "X-Key".into(),
                location: Location::Header
            })
        );
        let schema = schema_of(put);
        assert_eq!(schema["required"], json!(["petId", "body"]));
        assert_eq!(
            schema["properties"]["petId"],
            json!({"type": "string", "description": "the id"})
        );
        assert_eq!(
            schema["properties"]["query_petId"],
            json!({"type": "string"})
        );
        assert_eq!(schema["properties"]["limit"], json!({"type": "integer"}));
        assert_eq!(
            schema["properties"]["body"]["type"],
            json!(["object", "null"])
        );
        assert_eq!(
            schema["properties"]["body"]["properties"]["age"],
            json!({"type": "integer", "exclusiveMinimum": 0})
        );
        let body = put.body.as_ref().unwrap_or_else(|| panic!("no body"));
        assert_eq!(body.content_type, "application/json");
        assert!(body.required);
        let query = put
            .params
            .iter()
            .find(|p| p.property == "query_petId")
            .unwrap_or_else(|| panic!());
        assert_eq!(
            (
                query.name.as_str(),
                query.location,
                query.style,
                query.explode
            ),
            ("petId", Location::Query, Style::Form, true)
        );
    }

    #[test]
    fn swagger_2_body_form_data_and_collection_formats() {
        let spec = ok(json!({
            "swagger": "2.0",
            "info": {"title": "Petstore", "version": "1.0.7"},
            "host": "petstore.swagger.io", "basePath": "/v2", "schemes": ["https", "http"],
            "consumes": ["application/json"],
            "securityDefinitions": {"api_key": {"type": "apiKey", "name": "api_key", "in": "header"}},
            "definitions": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "paths": {
                "/pet": {"post": {"operationId": "addPet",
                    "parameters": [{"in": "body", "name": "body", "required": true, "schema": {"$ref": "#/definitions/Pet"}}]}},
                "/pet/findByStatus": {"get": {"operationId": "findPetsByStatus",
                    "parameters": [{"name": "status", "in": "query", "required": true, "type": "array",
                        "items": {"type": "string", "enum": ["available", "sold"]}, "collectionFormat": "multi"}]}},
                "/pet/{petId}": {"post": {"operationId": "updatePetWithForm",
                    "consumes": ["application/x-www-form-urlencoded"],
                    "security": [{"api_key": []}],
                    "parameters": [
                        {"name": "petId", "in": "path", "required": true, "type": "integer", "format": "int64"},
                        {"name": "name", "in": "formData", "type": "string"},
                        {"name": "status", "in": "formData", "type": "string", "required": true}]}}
            }
        }));
        assert_eq!(
            spec.base_url.as_ref().map(Url::as_str),
            Some("https://petstore.swagger.io/v2")
        );
        let names: Vec<&str> = spec.operations.iter().map(|o| &*o.tool.name).collect();
        assert_eq!(names, ["addpet", "findpetsbystatus", "updatepetwithform"]);
        let add = &spec.operations[0];
        assert_eq!(
            schema_of(add)["properties"]["body"],
            json!({"type": "object", "properties": {"name": {"type": "string"}}})
        );
        assert_eq!(
            add.body.as_ref().map(|b| b.encoding),
            Some(BodyEncoding::Json)
        );
        let find = &spec.operations[1];
        assert_eq!(
            (find.params[0].style, find.params[0].explode),
            (Style::Form, true)
        );
        assert_eq!(schema_of(find)["required"], json!(["status"]));
        let form = &spec.operations[2];
        assert_eq!(
            form.body.as_ref().map(|b| b.encoding),
            Some(BodyEncoding::Form)
        );
        assert_eq!(
            schema_of(form)["properties"]["body"]["required"],
            json!(["status"])
        );
        assert_eq!(
            schema_of(form)["properties"]["petId"],
            json!({"type": "integer", "format": "int64"})
        );
        assert_eq!(
            form.api_key.as_ref().map(|k| k.name.as_str()),
            Some("api_key")
        );
    }

    #[test]
    fn what_is_not_a_spec_says_why() {
        let error = |v: Value| spec(v).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error(json!({"info": {}})).contains("not an OpenAPI document"));
        assert!(error(json!({"openapi": "2.5"})).contains("not supported"));
        assert!(error(json!({"swagger": "2.0"})).contains("no `paths`"));
        assert!(error(json!({"openapi": "3.0.0", "paths": []})).contains("`paths` is not a map"));
        let broken_ref = error(json!({"openapi": "3.0.0", "paths": {"/a": {"get": {
            "parameters": [{"$ref": "#/components/parameters/Nope"}]}}}}));
        assert!(
            broken_ref.contains("GET /a") && broken_ref.contains("Nope"),
            "{broken_ref}"
        );
        assert!(spec(json!({"openapi": "3.1.0", "webhooks": {}})).is_ok());
    }

    #[test]
    fn relative_servers_resolve_against_a_downloaded_spec() {
        let spec = ok(json!({"openapi": "3.1.0", "servers": [{"url": "/api"}], "paths": {}}));
        assert_eq!(
            spec.base_url.as_ref().map(Url::as_str),
            Some("https://api.example.com/api")
        );
    }
}
