//! A tool call's arguments turned into the HTTP request for its operation, without sending
//! it: the URL with path and query parameters in place, header and cookie parameters, and
//! the encoded body.
//!
//! Kept free of I/O so every serialization rule can be tested on its own, and so that a
//! call the model got wrong is refused before anything reaches the API, with a message
//! that names the argument to fix (the model reads it and retries).
//!
//! Serialization follows OpenAPI's `style`/`explode` tables. Delimiters (`,`, `|`, `.`,
//! `;`, `[` `]`) are written literally and each value between them is percent-encoded, so
//! a comma inside a value never reads as a delimiter. Query values honour `allowReserved`
//! for the reserved characters that cannot change how the query splits (`&`, `#` and `+`
//! stay encoded even then, or the API would see different parameters).

use reqwest::{Method, Url};
use serde_json::{Map, Value};

use crate::operation::{BODY_ARGUMENT, BodyEncoding, Location, Operation, Parameter, Style};

/// The request to send for one tool call.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub method: Method,
    pub url: Url,
    /// Header parameters, and one `Cookie` header when there are cookie parameters.
    /// Neither credentials nor `Content-Type` (that is `body.content_type`).
    pub headers: Vec<(String, String)>,
    pub body: Option<PreparedBody>,
}

#[derive(Debug)]
pub(crate) struct PreparedBody {
    /// With `; boundary=…` for multipart bodies.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A call whose arguments do not fit the operation. Worded for the model that made the
/// call: each message names the argument and what would be accepted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArgumentError {
    #[error("missing required argument `{argument}` (the {location} parameter `{name}`)")]
    Missing {
        argument: String,
        name: String,
        location: &'static str,
    },
    #[error("argument `{argument}` is {problem}, which would address a different path")]
    BadPathValue {
        argument: String,
        problem: &'static str,
    },
    #[error(
        "argument `{argument}` contains a control character (such as a line break), which \
         cannot be sent in the `{header}` header"
    )]
    ControlCharacter { argument: String, header: String },
    #[error("unknown argument{} {}; this tool accepts {}", plural(.unknown), list(.unknown), list(.accepted))]
    Unknown {
        unknown: Vec<String>,
        accepted: Vec<String>,
    },
    #[error(
        "argument `{BODY_ARGUMENT}` was given, but this operation takes no request body; \
         this tool accepts {}", list(.accepted)
    )]
    UnexpectedBody { accepted: Vec<String> },
    #[error(
        "missing required argument `{BODY_ARGUMENT}` (the request body, sent as {content_type})"
    )]
    MissingBody { content_type: String },
    #[error(
        "argument `{BODY_ARGUMENT}` must be an object whose fields become the {content_type} \
         fields, not {found}"
    )]
    BodyNotObject {
        content_type: String,
        found: &'static str,
    },
    /// The specification's fault, not the caller's: said so, so the model stops retrying.
    #[error(
        "this operation cannot be called: its path `{template}` uses `{{{name}}}`, which the \
         specification does not declare as a path parameter"
    )]
    UndeclaredPathParameter { template: String, name: String },
}

fn plural(names: &[String]) -> &'static str {
    if names.len() == 1 { "" } else { "s" }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "no arguments".to_owned();
    }
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

/// Builds the request for calling `op` with `args` against the server at `base`.
pub(crate) fn prepare(
    op: &Operation,
    base: &Url,
    args: &Map<String, Value>,
) -> Result<Prepared, ArgumentError> {
    let is_param = |key: &str| op.params.iter().any(|param| param.property == key);
    // A parameter that happens to be called `body` keeps its argument.
    let body_is_param = is_param(BODY_ARGUMENT);
    let given_body = args
        .get(BODY_ARGUMENT)
        .filter(|value| !body_is_param && !value.is_null());
    let unknown: Vec<String> = args
        .keys()
        .filter(|key| !is_param(key) && key.as_str() != BODY_ARGUMENT)
        .cloned()
        .collect();
    let accepted = || {
        let mut accepted: Vec<String> = op.params.iter().map(|p| p.property.clone()).collect();
        if op.body.is_some() && !body_is_param {
            accepted.push(BODY_ARGUMENT.to_owned());
        }
        accepted
    };
    if op.body.is_none() && given_body.is_some() {
        return Err(ArgumentError::UnexpectedBody {
            accepted: accepted(),
        });
    }
    // Models often flatten the body's fields into the arguments: with no `body` given,
    // the arguments no parameter claims are taken to be those fields.
    let flattened;
    let body_value = if op.body.is_some() && given_body.is_none() && !unknown.is_empty() {
        let fields = unknown
            .iter()
            .filter_map(|key| Some((key.clone(), args.get(key)?.clone())));
        flattened = Value::Object(fields.collect());
        Some(&flattened)
    } else if !unknown.is_empty() {
        return Err(ArgumentError::Unknown {
            unknown,
            accepted: accepted(),
        });
    } else {
        given_body
    };

    let argument = |param: &Parameter| -> Result<Option<&Value>, ArgumentError> {
        match args.get(&param.property).filter(|value| !value.is_null()) {
            Some(value) => Ok(Some(value)),
            None if param.required || param.location == Location::Path => {
                Err(ArgumentError::Missing {
                    argument: param.property.clone(),
                    name: param.name.clone(),
                    location: location_name(param.location),
                })
            }
            None => Ok(None),
        }
    };

    let mut url = base.clone();
    url.set_fragment(None);
    let path = format!(
        "{}{}",
        base.path().trim_end_matches('/'),
        templated_path(op, &argument)?
    );
    url.set_path(&path);

    let mut query = Vec::new();
    let mut headers = Vec::new();
    let mut cookies = Vec::new();
    for param in op.params.iter().filter(|p| p.location != Location::Path) {
        let Some(value) = argument(param)? else {
            continue;
        };
        match param.location {
            Location::Path => {} // in the URL already
            Location::Query => query_pairs(param, value, &mut query),
            Location::Header => {
                let text = header_value(param, value);
                if text.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                    return Err(ArgumentError::ControlCharacter {
                        argument: param.property.clone(),
                        header: param.name.clone(),
                    });
                }
                headers.push((param.name.clone(), text));
            }
            Location::Cookie => cookie_pairs(param, value, &mut cookies),
        }
    }
    if !query.is_empty() {
        let ours = query.join("&");
        let all = match base.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{ours}"),
            _ => ours,
        };
        url.set_query(Some(&all));
    }
    if !cookies.is_empty() {
        headers.push(("Cookie".to_owned(), cookies.join("; ")));
    }

    let body = match (&op.body, body_value) {
        (Some(spec), Some(value)) => Some(encode_body(spec, value)?),
        (Some(spec), None) if spec.required => {
            return Err(ArgumentError::MissingBody {
                content_type: spec.content_type.clone(),
            });
        }
        _ => None,
    };
    Ok(Prepared {
        method: op.method.clone(),
        url,
        headers,
        body,
    })
}

fn location_name(location: Location) -> &'static str {
    match location {
        Location::Path => "path",
        Location::Query => "query",
        Location::Header => "header",
        Location::Cookie => "cookie",
    }
}

/// `op.path` with every `{name}` replaced by its serialized, percent-encoded argument.
fn templated_path<'a>(
    op: &Operation,
    argument: &impl Fn(&Parameter) -> Result<Option<&'a Value>, ArgumentError>,
) -> Result<String, ArgumentError> {
    let mut out = String::new();
    for (index, segment) in op.path.split('/').enumerate() {
        if index > 0 || !segment.is_empty() {
            out.push('/');
        }
        let mut rendered = String::new();
        let mut first_param = None;
        let mut rest = segment;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|close| open + close) else {
                break;
            };
            rendered.push_str(&rest[..open]);
            let name = &rest[open + 1..close];
            let param = op
                .params
                .iter()
                .find(|p| p.location == Location::Path && p.name == name)
                .ok_or_else(|| ArgumentError::UndeclaredPathParameter {
                    template: op.path.clone(),
                    name: name.to_owned(),
                })?;
            let value = argument(param)?.unwrap_or(&Value::Null);
            if matches!(value.as_str(), Some(".." | ".")) {
                return Err(bad_path(param, "`.` or `..`"));
            }
            rendered.push_str(&path_value(param, value));
            first_param.get_or_insert(param);
            rest = &rest[close + 1..];
        }
        rendered.push_str(rest);
        // A segment made by the caller must still be one segment naming one thing.
        if let Some(param) = first_param {
            match rendered.as_str() {
                "" => return Err(bad_path(param, "empty")),
                "." | ".." => return Err(bad_path(param, "`.` or `..`")),
                _ => {}
            }
        }
        out.push_str(&rendered);
    }
    Ok(out)
}

fn bad_path(param: &Parameter, problem: &'static str) -> ArgumentError {
    ArgumentError::BadPathValue {
        argument: param.property.clone(),
        problem,
    }
}

/// A value as the pieces that styles arrange: nulls inside arrays and objects dropped,
/// nested arrays and objects as JSON text.
enum Shape {
    Scalar(String),
    List(Vec<String>),
    Pairs(Vec<(String, String)>),
}

fn shape(value: &Value) -> Shape {
    match value {
        Value::Array(items) => Shape::List(
            items
                .iter()
                .filter(|item| !item.is_null())
                .map(text)
                .collect(),
        ),
        Value::Object(fields) => Shape::Pairs(
            fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), text(v)))
                .collect(),
        ),
        other => Shape::Scalar(text(other)),
    }
}

/// Strings as themselves; everything else as JSON writes it (`1.5`, `true`, `[1,2]`).
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The encoded pieces of a shape: `k=v` per field when exploded, else `k`, `v`, … .
fn pieces(shape: Shape, explode: bool, encode: impl Fn(&str) -> String) -> Vec<String> {
    match shape {
        Shape::Scalar(text) => vec![encode(&text)],
        Shape::List(items) => items.iter().map(|item| encode(item)).collect(),
        Shape::Pairs(pairs) if explode => pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect(),
        Shape::Pairs(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| [encode(k), encode(v)])
            .collect(),
    }
}

/// A path parameter in its `simple`, `label` or `matrix` style.
fn path_value(param: &Parameter, value: &Value) -> String {
    let encode = |text: &str| percent_encode(text, unreserved, false);
    let shape = shape(value);
    let (scalar, list) = (
        matches!(shape, Shape::Scalar(_)),
        matches!(shape, Shape::List(_)),
    );
    let pieces = pieces(shape, param.explode, encode);
    match param.style {
        Style::Label if param.explode => format!(".{}", pieces.join(".")),
        Style::Label => format!(".{}", pieces.join(",")),
        Style::Matrix => {
            let name = encode(&param.name);
            if param.explode && !scalar {
                // Exploded arrays repeat the name; exploded objects' pieces are `k=v`.
                let prefix = if list {
                    format!("{name}=")
                } else {
                    String::new()
                };
                pieces
                    .iter()
                    .map(|piece| format!(";{prefix}{piece}"))
                    .collect()
            } else {
                format!(";{name}={}", pieces.join(","))
            }
        }
        _ => pieces.join(","),
    }
}

/// A query parameter as encoded `name=value` pairs. Path-only styles are read as `form`.
fn query_pairs(param: &Parameter, value: &Value, out: &mut Vec<String>) {
    let keep = if param.allow_reserved {
        reserved_in_query
    } else {
        unreserved
    };
    let encode = |text: &str| percent_encode(text, keep, false);
    let name = percent_encode(&param.name, unreserved, false);
    if param.style == Style::DeepObject && value.is_object() {
        return deep_object(&name, value, keep, out);
    }
    let delimiter = match param.style {
        Style::SpaceDelimited => "%20",
        Style::PipeDelimited => "|",
        Style::TabDelimited => "%09",
        _ => ",",
    };
    match shape(value) {
        Shape::Scalar(text) => out.push(format!("{name}={}", encode(&text))),
        Shape::List(items) if param.explode => {
            out.extend(items.iter().map(|item| format!("{name}={}", encode(item))));
        }
        shape @ Shape::Pairs(_) if param.explode => out.extend(pieces(shape, true, encode)),
        shape => out.push(format!(
            "{name}={}",
            pieces(shape, false, encode).join(delimiter)
        )),
    }
}

/// `name[key]=value`, nesting for nested objects; arrays repeat the key (OpenAPI leaves
/// both undefined; this is what common server frameworks parse).
fn deep_object(prefix: &str, value: &Value, keep: fn(u8) -> bool, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let key = percent_encode(key, unreserved, false);
                deep_object(&format!("{prefix}[{key}]"), field, keep, out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| deep_object(prefix, item, keep, out)),
        Value::Null => {}
        scalar => out.push(format!(
            "{prefix}={}",
            percent_encode(&text(scalar), keep, false)
        )),
    }
}

/// A header parameter in `simple` style, unencoded: headers carry text as is.
fn header_value(param: &Parameter, value: &Value) -> String {
    pieces(shape(value), param.explode, str::to_owned).join(",")
}

/// Cookie parameters as `name=value` pairs (`form` style; exploded objects give one cookie
/// per field). Only bytes a cookie value may not hold are encoded, so tokens pass
/// unchanged.
fn cookie_pairs(param: &Parameter, value: &Value, out: &mut Vec<String>) {
    let encode = |text: &str| percent_encode(text, cookie_octet, false);
    match shape(value) {
        shape @ Shape::Pairs(_) if param.explode => out.extend(pieces(shape, true, encode)),
        shape => out.push(format!(
            "{}={}",
            param.name,
            pieces(shape, false, encode).join(",")
        )),
    }
}

fn encode_body(
    spec: &crate::operation::RequestBody,
    value: &Value,
) -> Result<PreparedBody, ArgumentError> {
    let fields = || match value {
        Value::Object(fields) => Ok(form_fields(fields)),
        other => Err(ArgumentError::BodyNotObject {
            content_type: spec.content_type.clone(),
            found: kind(other),
        }),
    };
    let (content_type, bytes) = match spec.encoding {
        BodyEncoding::Json => (spec.content_type.clone(), value.to_string().into_bytes()),
        BodyEncoding::Text => (spec.content_type.clone(), text(value).into_bytes()),
        BodyEncoding::Form => {
            let encode = |text: &str| percent_encode(text, form_safe, true);
            let pairs: Vec<String> = fields()?
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            (spec.content_type.clone(), pairs.join("&").into_bytes())
        }
        BodyEncoding::Multipart => {
            let fields = fields()?;
            let boundary = boundary_for(&fields);
            let content_type = format!("{}; boundary={boundary}", spec.content_type);
            (content_type, multipart(&fields, &boundary))
        }
    };
    Ok(PreparedBody {
        content_type,
        bytes,
    })
}

/// An object's fields as form fields: arrays repeat the field, nested values as JSON.
fn form_fields(fields: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in fields {
        match value {
            Value::Null => {}
            Value::Array(items) => out.extend(
                items
                    .iter()
                    .filter(|item| !item.is_null())
                    .map(|item| (key.clone(), text(item))),
            ),
            other => out.push((key.clone(), text(other))),
        }
    }
    out
}

/// The first of a fixed sequence of boundaries that occurs nowhere in the fields.
fn boundary_for(fields: &[(String, String)]) -> String {
    let mut attempt = 0u64;
    loop {
        let boundary = format!("junction-form-boundary-{attempt:08x}");
        if fields
            .iter()
            .all(|(k, v)| !k.contains(&boundary) && !v.contains(&boundary))
        {
            return boundary;
        }
        attempt += 1;
    }
}

fn multipart(fields: &[(String, String)], boundary: &str) -> Vec<u8> {
    let mut out = String::new();
    for (name, value) in fields {
        // As browsers do: a quote or line break in the name would end the header.
        let name = name
            .replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        out.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out.into_bytes()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn reserved_in_query(b: u8) -> bool {
    unreserved(b)
        || matches!(
            b,
            b':' | b'/'
                | b'?'
                | b'@'
                | b'!'
                | b'$'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b','
                | b';'
                | b'='
                | b'['
                | b']'
        )
}

/// RFC 6265 `cookie-octet`.
fn cookie_octet(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && !matches!(b, b'"' | b',' | b';' | b'\\')
}

/// `application/x-www-form-urlencoded`'s set (space becomes `+` separately).
fn form_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

/// `%XX` for every byte of `text`'s UTF-8 that `keep` rejects.
fn percent_encode(text: &str, keep: fn(u8) -> bool, space_as_plus: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else if b == b' ' && space_as_plus {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rmcp::model::Tool;
    use serde_json::json;

    use super::*;
    use crate::operation::RequestBody;

    fn operation(path: &str, params: Vec<Parameter>, body: Option<RequestBody>) -> Operation {
        Operation {
            tool: Tool::new("tool", "a tool", Arc::new(Map::new())),
            method: Method::POST,
            path: path.to_owned(),
            params,
            body,
            api_key: None,
        }
    }

    fn param(name: &str, location: Location, style: Style, explode: bool) -> Parameter {
        Parameter {
            property: name.to_owned(),
            name: name.to_owned(),
            location,
            style,
            explode,
            required: location == Location::Path,
            allow_reserved: false,
        }
    }

    fn path(name: &str) -> Parameter {
        param(name, Location::Path, Style::Simple, false)
    }

    fn query(name: &str, style: Style, explode: bool) -> Parameter {
        param(name, Location::Query, style, explode)
    }

    fn body(encoding: BodyEncoding, content_type: &str, required: bool) -> Option<RequestBody> {
        Some(RequestBody {
            content_type: content_type.to_owned(),
            encoding,
            required,
        })
    }

    fn prepare_at(op: &Operation, base: &str, args: Value) -> Result<Prepared, ArgumentError> {
        prepare(op, &Url::parse(base).unwrap(), args.as_object().unwrap())
    }

    fn url(op: &Operation, args: Value) -> String {
        prepare_at(op, "http://h/v2", args).unwrap().url.to_string()
    }

    fn error(op: &Operation, args: Value) -> String {
        prepare_at(op, "http://h/v2", args).unwrap_err().to_string()
    }

    fn body_text(op: &Operation, args: Value) -> (String, String) {
        let body = prepare_at(op, "http://h/v2", args).unwrap().body.unwrap();
        (body.content_type, String::from_utf8(body.bytes).unwrap())
    }

    #[test]
    fn base_path_is_kept_whatever_its_trailing_slash() {
        let op = operation("/pet/{petId}", vec![path("petId")], None);
        for base in ["http://h/v2", "http://h/v2/"] {
            let prepared = prepare_at(&op, base, json!({"petId": 1})).unwrap();
            assert_eq!(prepared.url.as_str(), "http://h/v2/pet/1");
            assert_eq!(prepared.method, Method::POST);
        }
        let prepared = prepare_at(&op, "http://h", json!({"petId": "x"})).unwrap();
        assert_eq!(prepared.url.as_str(), "http://h/pet/x");
    }

    #[test]
    fn base_query_is_kept_and_fragment_dropped() {
        let op = operation("/pets", vec![query("limit", Style::Form, true)], None);
        let prepared = prepare_at(&op, "http://h/v2?tenant=a#top", json!({"limit": 5})).unwrap();
        assert_eq!(prepared.url.as_str(), "http://h/v2/pets?tenant=a&limit=5");
    }

    #[test]
    fn path_values_are_encoded_as_one_segment() {
        let op = operation("/files/{name}/raw", vec![path("name")], None);
        assert_eq!(
            url(&op, json!({"name": "a/b c"})),
            "http://h/v2/files/a%2Fb%20c/raw"
        );
        assert_eq!(
            url(&op, json!({"name": "é?#%"})),
            "http://h/v2/files/%C3%A9%3F%23%25/raw"
        );
        assert_eq!(
            url(&op, json!({"name": true})),
            "http://h/v2/files/true/raw"
        );
        assert_eq!(url(&op, json!({"name": 1.5})), "http://h/v2/files/1.5/raw");
        assert_eq!(
            url(&op, json!({"name": "a.."})),
            "http://h/v2/files/a../raw"
        );
    }

    #[test]
    fn path_traversal_and_empty_segments_are_refused() {
        let op = operation("/files/{name}", vec![path("name")], None);
        for value in [".", ".."] {
            let message = error(&op, json!({"name": value}));
            assert!(
                message.contains("`name`") && message.contains("`..`"),
                "{message}"
            );
        }
        assert!(error(&op, json!({"name": ""})).contains("`name` is empty"));
        assert!(error(&op, json!({"name": []})).contains("`name` is empty"));
        // Two parameters that together make `..` are caught too.
        let op = operation("/x/{a}{b}", vec![path("a"), path("b")], None);
        assert!(error(&op, json!({"a": ".", "b": "."})).contains("`.` or `..`"));
    }

    #[test]
    fn path_styles() {
        let cases = [
            (Style::Simple, false, json!([3, 4]), "/p/3,4"),
            (Style::Simple, false, json!({"r": 1, "g": 2}), "/p/g,2,r,1"),
            (Style::Simple, true, json!({"r": 1, "g": 2}), "/p/g=2,r=1"),
            (Style::Label, false, json!(5), "/p/.5"),
            (Style::Label, false, json!([3, 4]), "/p/.3,4"),
            (Style::Label, true, json!([3, 4]), "/p/.3.4"),
            (Style::Label, true, json!({"r": 1, "g": 2}), "/p/.g=2.r=1"),
            (Style::Matrix, false, json!(5), "/p/;id=5"),
            (Style::Matrix, false, json!([3, 4]), "/p/;id=3,4"),
            (Style::Matrix, true, json!([3, 4]), "/p/;id=3;id=4"),
            (
                Style::Matrix,
                false,
                json!({"r": 1, "g": 2}),
                "/p/;id=g,2,r,1",
            ),
            (Style::Matrix, true, json!({"r": 1, "g": 2}), "/p/;g=2;r=1"),
            (Style::Simple, false, json!(["a,b", "c"]), "/p/a%2Cb,c"),
        ];
        for (style, explode, value, expected) in cases {
            let op = operation(
                "/p/{id}",
                vec![param("id", Location::Path, style, explode)],
                None,
            );
            let got = url(&op, json!({"id": value}));
            assert_eq!(
                got,
                format!("http://h/v2{expected}"),
                "{style:?} explode={explode}"
            );
        }
    }

    #[test]
    fn path_parameter_is_looked_up_by_property() {
        let mut renamed = path("id");
        renamed.property = "path_id".to_owned();
        let op = operation(
            "/p/{id}",
            vec![renamed, query("id", Style::Form, true)],
            None,
        );
        assert_eq!(
            url(&op, json!({"path_id": 1, "id": 2})),
            "http://h/v2/p/1?id=2"
        );
        assert_eq!(
            error(&op, json!({"id": 2})),
            "missing required argument `path_id` (the path parameter `id`)"
        );
    }

    #[test]
    fn undeclared_path_parameter_is_the_specs_fault() {
        let op = operation("/p/{id}", vec![], None);
        assert!(error(&op, json!({})).contains("does not declare"));
    }

    #[test]
    fn query_styles() {
        let cases = [
            (Style::Form, true, json!("a b&c=d"), "q=a%20b%26c%3Dd"),
            (Style::Form, true, json!([1, 2]), "q=1&q=2"),
            (Style::Form, false, json!([1, 2]), "q=1,2"),
            (Style::Form, false, json!(["a,b", "c"]), "q=a%2Cb,c"),
            (Style::SpaceDelimited, false, json!([1, 2]), "q=1%202"),
            (Style::PipeDelimited, false, json!([1, 2]), "q=1|2"),
            (Style::TabDelimited, false, json!([1, 2]), "q=1%092"),
            (Style::Form, true, json!({"r": 1, "g": 2}), "g=2&r=1"),
            (Style::Form, false, json!({"r": 1, "g": 2}), "q=g,2,r,1"),
            (
                Style::DeepObject,
                true,
                json!({"r": 1, "g": {"x": true}}),
                "q[g][x]=true&q[r]=1",
            ),
            (Style::Form, true, json!([1, null, 2]), "q=1&q=2"),
        ];
        for (style, explode, value, expected) in cases {
            let op = operation("/s", vec![query("q", style, explode)], None);
            let got = url(&op, json!({"q": value}));
            assert_eq!(
                got,
                format!("http://h/v2/s?{expected}"),
                "{style:?} explode={explode}"
            );
        }
    }

    #[test]
    fn allow_reserved_keeps_reserved_characters_but_not_separators() {
        let mut q = query("q", Style::Form, true);
        q.allow_reserved = true;
        let op = operation("/s", vec![q], None);
        assert_eq!(
            url(&op, json!({"q": "a/b:c,d&e#f+g"})),
            "http://h/v2/s?q=a/b:c,d%26e%23f%2Bg"
        );
    }

    #[test]
    fn missing_and_null_parameters() {
        let mut required = query("required", Style::Form, true);
        required.required = true;
        let op = operation(
            "/s",
            vec![required, query("optional", Style::Form, true)],
            None,
        );
        assert_eq!(
            url(&op, json!({"required": 1, "optional": null})),
            "http://h/v2/s?required=1"
        );
        assert_eq!(
            error(&op, json!({"optional": 1})),
            "missing required argument `required` (the query parameter `required`)"
        );
        assert!(error(&op, json!({"required": null})).contains("`required`"));
    }

    #[test]
    fn headers_and_cookies() {
        let params = vec![
            param("X-Trace", Location::Header, Style::Simple, false),
            param("X-List", Location::Header, Style::Simple, false),
            param("X-Obj", Location::Header, Style::Simple, true),
            param("session", Location::Cookie, Style::Form, true),
            param("ids", Location::Cookie, Style::Form, false),
            param("odd", Location::Cookie, Style::Form, true),
        ];
        let op = operation("/s", params, None);
        let args = json!({
            "X-Trace": "a b", "X-List": [1, "x"], "X-Obj": {"k": "v"},
            "session": "abc/+=", "ids": [1, 2], "odd": "a;b c",
        });
        let prepared = prepare_at(&op, "http://h/v2", args).unwrap();
        assert_eq!(prepared.url.as_str(), "http://h/v2/s");
        let headers: Vec<(&str, &str)> = prepared
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            headers,
            [
                ("X-Trace", "a b"),
                ("X-List", "1,x"),
                ("X-Obj", "k=v"),
                ("Cookie", "session=abc/+=; ids=1,2; odd=a%3Bb%20c"),
            ]
        );
    }

    #[test]
    fn control_characters_in_headers_are_refused() {
        let op = operation(
            "/s",
            vec![param("X-A", Location::Header, Style::Simple, false)],
            None,
        );
        assert_eq!(
            error(&op, json!({"X-A": "a\r\nInjected: 1"})),
            "argument `X-A` contains a control character (such as a line break), which cannot be \
             sent in the `X-A` header"
        );
    }

    #[test]
    fn json_body() {
        let op = operation(
            "/s",
            vec![],
            body(BodyEncoding::Json, "application/json", true),
        );
        let (content_type, text) = body_text(&op, json!({"body": {"name": "rex", "tags": [1]}}));
        assert_eq!(content_type, "application/json");
        assert_eq!(text, r#"{"name":"rex","tags":[1]}"#);
        assert_eq!(body_text(&op, json!({"body": [1, 2]})).1, "[1,2]");
    }

    #[test]
    fn flattened_body_fields_become_the_body() {
        let op = operation(
            "/pet/{id}",
            vec![path("id")],
            body(BodyEncoding::Json, "application/json", true),
        );
        let prepared = prepare_at(
            &op,
            "http://h/v2",
            json!({"id": 7, "name": "rex", "age": 3}),
        )
        .unwrap();
        assert_eq!(prepared.url.as_str(), "http://h/v2/pet/7");
        let body: Value = serde_json::from_slice(&prepared.body.unwrap().bytes).unwrap();
        assert_eq!(body, json!({"name": "rex", "age": 3}));
    }

    #[test]
    fn unknown_arguments_are_named_with_the_accepted_ones() {
        let op = operation("/pet/{id}", vec![path("id")], None);
        assert_eq!(
            error(&op, json!({"id": 1, "nmae": "x"})),
            "unknown argument `nmae`; this tool accepts `id`"
        );
        // With a body given explicitly, extra arguments are not taken as body fields.
        let op = operation(
            "/s",
            vec![],
            body(BodyEncoding::Json, "application/json", false),
        );
        let message = error(&op, json!({"body": {}, "x": 1, "y": 2}));
        assert_eq!(
            message,
            "unknown arguments `x`, `y`; this tool accepts `body`"
        );
    }

    #[test]
    fn body_rules() {
        let none = operation("/s", vec![query("q", Style::Form, true)], None);
        assert_eq!(
            error(&none, json!({"body": {"a": 1}})),
            "argument `body` was given, but this operation takes no request body; this tool \
             accepts `q`"
        );
        let required = operation(
            "/s",
            vec![],
            body(BodyEncoding::Json, "application/json", true),
        );
        assert_eq!(
            error(&required, json!({})),
            "missing required argument `body` (the request body, sent as application/json)"
        );
        assert!(error(&required, json!({"body": null})).contains("missing required argument"));
        let optional = operation(
            "/s",
            vec![],
            body(BodyEncoding::Json, "application/json", false),
        );
        assert!(
            prepare_at(&optional, "http://h", json!({}))
                .unwrap()
                .body
                .is_none()
        );
    }

    #[test]
    fn form_body() {
        let form = "application/x-www-form-urlencoded";
        let op = operation("/s", vec![], body(BodyEncoding::Form, form, true));
        let args =
            json!({"body": {"a": "x y&z", "tags": ["1", 2], "nested": {"k": 1}, "gone": null}});
        let (content_type, text) = body_text(&op, args);
        assert_eq!(content_type, form);
        assert_eq!(text, "a=x+y%26z&nested=%7B%22k%22%3A1%7D&tags=1&tags=2");
        assert_eq!(
            error(&op, json!({"body": "a=1"})),
            "argument `body` must be an object whose fields become the \
             application/x-www-form-urlencoded fields, not a string"
        );
    }

    #[test]
    fn multipart_body() {
        let op = operation(
            "/s",
            vec![],
            body(BodyEncoding::Multipart, "multipart/form-data", true),
        );
        let (content_type, text) = body_text(&op, json!({"body": {"name": "rex", "n": [1, 2]}}));
        let boundary = "junction-form-boundary-00000000";
        assert_eq!(
            content_type,
            format!("multipart/form-data; boundary={boundary}")
        );
        let part = |name: &str, value: &str| {
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
        };
        let expected = format!(
            "{}{}{}--{boundary}--\r\n",
            part("n", "1"),
            part("n", "2"),
            part("name", "rex")
        );
        assert_eq!(text, expected);
        // A value containing the boundary moves it on.
        let (content_type, text) = body_text(&op, json!({"body": {"f": boundary}}));
        assert!(content_type.ends_with("boundary=junction-form-boundary-00000001"));
        assert!(text.starts_with("--junction-form-boundary-00000001\r\n"));
        assert!(error(&op, json!({"body": [1]})).contains("not an array"));
    }

    #[test]
    fn text_body() {
        let op = operation("/s", vec![], body(BodyEncoding::Text, "text/plain", true));
        assert_eq!(
            body_text(&op, json!({"body": "as \"is\""})),
            ("text/plain".into(), "as \"is\"".into())
        );
        assert_eq!(body_text(&op, json!({"body": {"a": 1}})).1, r#"{"a":1}"#);
    }
}
