//! A specification and every file it references, loaded once, and `$ref` resolution over them.
//!
//! Loading is the only I/O: the root document (a file path or an `http(s)` URL, JSON or
//! YAML) and, transitively, every other document a `$ref` names, each read once. After
//! that, resolving is pure lookup in memory, so a `$ref` cycle can only make resolution
//! revisit a document it already has, never fetch forever.
//!
//! Schemas are handed to MCP clients with every `$ref` inlined, since few clients (and
//! fewer LLM providers) follow references. A reference back into a schema that is being
//! inlined (a tree of nodes, an author with books with an author) is cut at that point and
//! left as a schema of the target's type that says what it stands for.

use std::collections::{HashMap, HashSet, VecDeque};

use reqwest::Url;
use serde_json::{Map, Value};

use crate::SpecError;

/// The largest document accepted, file or download.
const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// More referenced files than this is a specification we should not be serving.
const MAX_DOCUMENTS: usize = 256;
/// A chain of references to references longer than this is a cycle.
const MAX_REF_CHAIN: usize = 64;
/// Schema nesting deeper than this is cut (deeply nested, not cyclic, schemas).
const MAX_DEPTH: usize = 48;
/// Bound on the nodes one inlined schema may have: inlining a graph that shares many
/// references can otherwise grow exponentially.
const MAX_INLINED_NODES: usize = 100_000;

/// The loaded documents, keyed by their location without fragment.
#[derive(Debug)]
pub(crate) struct Documents {
    root: Url,
    loaded: HashMap<Url, Value>,
}

impl Documents {
    /// Reads `source` (a path, relative to the working directory, or an `http(s)` URL) and
    /// every document it references.
    pub(crate) async fn load(source: &str, http: &reqwest::Client) -> Result<Documents, SpecError> {
        let root = location_of(source)?;
        let mut loaded = HashMap::new();
        let mut queue = VecDeque::from([root.clone()]);
        while let Some(location) = queue.pop_front() {
            if loaded.contains_key(&location) {
                continue;
            }
            if loaded.len() >= MAX_DOCUMENTS {
                return Err(SpecError::Invalid(format!(
                    "references more than {MAX_DOCUMENTS} documents"
                )));
            }
            let document = fetch(&location, http).await?;
            let mut references = Vec::new();
            external_references(&document, &location, &mut references);
            queue.extend(references);
            loaded.insert(location, document);
        }
        Ok(Documents { root, loaded })
    }

    /// Documents already in memory, for tests.
    #[cfg(test)]
    pub(crate) fn from_values(root: &str, documents: Vec<(&str, Value)>) -> Documents {
        let parse = |u: &str| Url::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
        Documents {
            root: parse(root),
            loaded: documents.into_iter().map(|(u, v)| (parse(u), v)).collect(),
        }
    }

    pub(crate) fn root_location(&self) -> &Url {
        &self.root
    }

    pub(crate) fn root(&self) -> &Value {
        self.loaded.get(&self.root).unwrap_or(&Value::Null)
    }

    /// Follows `value` while it is a `$ref`, returning the value it ends at and the
    /// location of the document that holds it (against which its own references resolve).
    pub(crate) fn deref<'a>(
        &'a self,
        mut value: &'a Value,
        base: &Url,
    ) -> Result<(&'a Value, Url), SpecError> {
        let mut base = base.clone();
        for _ in 0..MAX_REF_CHAIN {
            let Some(reference) = reference_of(value) else {
                return Ok((value, base));
            };
            let (target, location) = self.lookup(reference, &base)?;
            value = target;
            base = location;
        }
        Err(SpecError::Invalid(format!(
            "the $ref chain at {base} does not end (a reference cycle)"
        )))
    }

    /// `schema` with every `$ref` replaced by what it points at, recursively; see the module
    /// documentation for cycles.
    pub(crate) fn inline(&self, schema: &Value, base: &Url) -> Result<Value, SpecError> {
        let mut inliner = Inliner {
            documents: self,
            stack: HashSet::new(),
            nodes: 0,
        };
        inliner.inline(schema, base, 0)
    }

    fn lookup<'a>(&'a self, reference: &str, base: &Url) -> Result<(&'a Value, Url), SpecError> {
        let target = base
            .join(reference)
            .map_err(|e| SpecError::Invalid(format!("bad $ref {reference:?} in {base}: {e}")))?;
        let mut document = target.clone();
        document.set_fragment(None);
        let root = self.loaded.get(&document).ok_or_else(|| {
            SpecError::Invalid(format!("$ref {reference:?}: {document} was not loaded"))
        })?;
        let pointer = percent_decode(target.fragment().unwrap_or(""));
        let found = if pointer.is_empty() {
            Some(root)
        } else if pointer.starts_with('/') {
            root.pointer(&pointer)
        } else {
            None
        };
        let found = found.ok_or_else(|| {
            SpecError::Invalid(format!(
                "$ref {reference:?} points at nothing (no {pointer:?} in {document})"
            ))
        })?;
        Ok((found, document))
    }
}

/// The string of a `{"$ref": "…"}` object.
pub(crate) fn reference_of(value: &Value) -> Option<&str> {
    value.as_object()?.get("$ref")?.as_str()
}

struct Inliner<'a> {
    documents: &'a Documents,
    /// The references being inlined, innermost last: meeting one again is a cycle.
    stack: HashSet<String>,
    nodes: usize,
}

impl Inliner<'_> {
    fn inline(&mut self, value: &Value, base: &Url, depth: usize) -> Result<Value, SpecError> {
        self.nodes += 1;
        if depth > MAX_DEPTH || self.nodes > MAX_INLINED_NODES {
            return Ok(Value::Object(Map::new()));
        }
        match value {
            Value::Object(object) => {
                if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                    return self.inline_reference(reference, object, base, depth);
                }
                let mut out = Map::with_capacity(object.len());
                for (key, child) in object {
                    let child = if is_literal(key) {
                        child.clone()
                    } else {
                        self.inline(child, base, depth + 1)?
                    };
                    out.insert(key.clone(), child);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => items
                .iter()
                .map(|item| self.inline(item, base, depth + 1))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }

    fn inline_reference(
        &mut self,
        reference: &str,
        object: &Map<String, Value>,
        base: &Url,
        depth: usize,
    ) -> Result<Value, SpecError> {
        let (target, location) = self.documents.lookup(reference, base)?;
        let key = format!("{location}#{}", pointer_of(reference));
        let mut inlined = if self.stack.contains(&key) {
            recursion_stub(target, reference)
        } else {
            self.stack.insert(key.clone());
            let inlined = self.inline(target, &location, depth + 1);
            self.stack.remove(&key);
            inlined?
        };
        // Keywords beside a `$ref` (3.1 allows them: a description, a default) refine it.
        if let Value::Object(fields) = &mut inlined {
            for (name, value) in object.iter().filter(|(name, _)| *name != "$ref") {
                let value = if is_literal(name) {
                    value.clone()
                } else {
                    self.inline(value, base, depth + 1)?
                };
                fields.insert(name.clone(), value);
            }
        }
        Ok(inlined)
    }
}

/// Keywords whose values are data, not schemas: a `$ref` inside an example is text.
pub(crate) fn is_literal(keyword: &str) -> bool {
    matches!(
        keyword,
        "example" | "examples" | "default" | "const" | "enum" | "x-example"
    )
}

/// What a reference back into a schema being inlined becomes: its type, and its name.
fn recursion_stub(target: &Value, reference: &str) -> Value {
    let name = reference
        .rsplit(['/', '#'])
        .find(|part| !part.is_empty())
        .unwrap_or(reference);
    let mut stub = Map::new();
    if let Some(kind) = target.get("type") {
        stub.insert("type".into(), kind.clone());
    }
    stub.insert(
        "description".into(),
        Value::String(format!(
            "A {name} (a recursive reference, not expanded again)"
        )),
    );
    Value::Object(stub)
}

fn pointer_of(reference: &str) -> &str {
    reference.split_once('#').map(|(_, p)| p).unwrap_or("")
}

/// Where a spec given in the configuration lives.
fn location_of(source: &str) -> Result<Url, SpecError> {
    let source = source.trim();
    if source.starts_with("http://")
        || source.starts_with("https://")
        || source.starts_with("file:")
    {
        return Url::parse(source)
            .map_err(|e| SpecError::Invalid(format!("{source:?} is not a valid URL: {e}")));
    }
    let path =
        std::path::absolute(source).map_err(|e| SpecError::Unreadable(format!("{source}: {e}")))?;
    Url::from_file_path(&path)
        .map_err(|()| SpecError::Unreadable(format!("{} is not a usable path", path.display())))
}

async fn fetch(location: &Url, http: &reqwest::Client) -> Result<Value, SpecError> {
    let bytes = match location.scheme() {
        "file" => {
            let path = location
                .to_file_path()
                .map_err(|()| SpecError::Unreadable(format!("{location} is not a file path")))?;
            let bytes = tokio::fs::read(&path).await.map_err(|e| {
                SpecError::Unreadable(format!("cannot read {}: {e}", path.display()))
            })?;
            if bytes.len() > MAX_DOCUMENT_BYTES {
                return Err(too_large(location));
            }
            bytes
        }
        "http" | "https" => download(location, http).await?,
        other => {
            return Err(SpecError::Unreadable(format!(
                "{location}: cannot load a {other}: document (use a file path or an http(s) URL)"
            )));
        }
    };
    parse(location, &bytes)
}

async fn download(location: &Url, http: &reqwest::Client) -> Result<Vec<u8>, SpecError> {
    let failed =
        |message: String| SpecError::Unreadable(format!("cannot fetch {location}: {message}"));
    let mut response = http
        .get(location.clone())
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(too_large(location));
        }
    }
    Ok(bytes)
}

fn too_large(location: &Url) -> SpecError {
    SpecError::Invalid(format!(
        "{location} is larger than {} MiB",
        MAX_DOCUMENT_BYTES / (1024 * 1024)
    ))
}

/// A `.json` document is JSON; anything else is JSON when it reads as JSON, else YAML (of
/// which JSON is nearly a subset). The error reported is the one of the format the
/// document seems to be in.
fn parse(location: &Url, bytes: &[u8]) -> Result<Value, SpecError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| SpecError::Invalid(format!("{location} is not UTF-8 text: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let json = serde_json::from_str::<Value>(text);
    let json = match json {
        Ok(value) => return Ok(value),
        Err(json) if location.path().ends_with(".json") => {
            return Err(SpecError::Invalid(format!(
                "{location}: invalid JSON: {json}"
            )));
        }
        Err(json) => json,
    };
    let looks_json = text.trim_start().starts_with('{') || text.trim_start().starts_with('[');
    serde_saphyr::from_str::<Value>(text).map_err(|yaml| {
        let message = if looks_json {
            format!("invalid JSON: {json}")
        } else {
            format!("invalid YAML: {yaml}")
        };
        SpecError::Invalid(format!("{location}: {message}"))
    })
}

/// Every document `value` (at `location`) references that is not itself.
fn external_references(value: &Value, location: &Url, out: &mut Vec<Url>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                if key == "$ref"
                    && let Some(reference) = child.as_str()
                    && !reference.starts_with('#')
                    && let Ok(mut target) = location.join(reference)
                {
                    target.set_fragment(None);
                    if &target != location {
                        out.push(target);
                    }
                } else if !is_literal(key) {
                    external_references(child, location, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                external_references(item, location, out);
            }
        }
        _ => {}
    }
}

/// `%XX` escapes of a URL fragment decoded (a JSON pointer may contain `%7B` for `{`).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn references_across_documents_are_inlined() {
        let docs = Documents::from_values(
            "file:///s/openapi.yaml",
            vec![
                (
                    "file:///s/openapi.yaml",
                    json!({"components": {"schemas": {"Pet": {"$ref": "schemas/pet.yaml#/Pet"}}}}),
                ),
                (
                    "file:///s/schemas/pet.yaml",
                    json!({"Pet": {"type": "object", "properties": {"tag": {"$ref": "#/Tag"}}},
                           "Tag": {"type": "string", "example": {"$ref": "not followed"}}}),
                ),
            ],
        );
        let schema = json!({"$ref": "#/components/schemas/Pet", "description": "the pet"});
        let inlined = docs.inline(&schema, &url("file:///s/openapi.yaml"));
        assert_eq!(
            inlined.ok(),
            Some(json!({"type": "object", "description": "the pet",
                        "properties": {"tag": {"type": "string", "example": {"$ref": "not followed"}}}}))
        );
    }

    #[test]
    fn a_cycle_is_cut_where_it_closes() {
        let docs = Documents::from_values(
            "file:///s/a.yaml",
            vec![(
                "file:///s/a.yaml",
                json!({"Node": {"type": "object", "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/Node"}}}}}),
            )],
        );
        let inlined = docs
            .inline(&json!({"$ref": "#/Node"}), &url("file:///s/a.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let items = &inlined["properties"]["children"]["items"];
        assert_eq!(items["type"], "object");
        assert!(items.get("properties").is_none(), "{inlined}");
        assert!(items["description"].as_str().unwrap_or("").contains("Node"));
    }

    #[test]
    fn a_reference_to_nothing_names_it() {
        let docs =
            Documents::from_values("file:///s/a.json", vec![("file:///s/a.json", json!({}))]);
        let error = docs.inline(
            &json!({"$ref": "#/components/schemas/Missing"}),
            &url("file:///s/a.json"),
        );
        assert!(
            matches!(error, Err(SpecError::Invalid(m)) if m.contains("/components/schemas/Missing"))
        );
        let error = docs.inline(&json!({"$ref": "other.json#/X"}), &url("file:///s/a.json"));
        assert!(matches!(error, Err(SpecError::Invalid(m)) if m.contains("other.json")));
    }

    #[test]
    fn a_pure_reference_loop_is_an_error_not_a_hang() {
        let docs = Documents::from_values(
            "file:///s/a.json",
            vec![(
                "file:///s/a.json",
                json!({"A": {"$ref": "#/B"}, "B": {"$ref": "#/A"}}),
            )],
        );
        let start = json!({"$ref": "#/A"});
        let result = docs.deref(&start, &url("file:///s/a.json"));
        assert!(matches!(result, Err(SpecError::Invalid(m)) if m.contains("cycle")));
        // Inlining meets the same loop as recursion and stops too.
        assert!(
            docs.inline(&json!({"$ref": "#/A"}), &url("file:///s/a.json"))
                .is_ok()
        );
    }

    #[test]
    fn json_pointer_escapes_are_decoded() {
        let docs = Documents::from_values(
            "file:///s/a.json",
            vec![(
                "file:///s/a.json",
                json!({"paths": {"/pets/{id}": {"x": 1}}}),
            )],
        );
        let (found, _) = docs
            .lookup("#/paths/~1pets~1%7Bid%7D/x", &url("file:///s/a.json"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found, &json!(1));
    }

    #[test]
    fn yaml_and_json_parse_and_bad_yaml_says_so() {
        let at = url("file:///s/a.yaml");
        assert_eq!(
            parse(&at, b"a: 1\nb: [x]\n").ok(),
            Some(json!({"a": 1, "b": ["x"]}))
        );
        assert_eq!(
            parse(&url("file:///s/a.json"), br#"{"a":1}"#).ok(),
            Some(json!({"a": 1}))
        );
        let error = parse(&at, b"a: [1\nb: }")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("invalid YAML") && error.contains("a.yaml"),
            "{error}"
        );
        let error = parse(&url("file:///s/a.json"), b"{\"a\": }")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("invalid JSON"), "{error}");
    }
}
