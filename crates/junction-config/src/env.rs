//! `os.environ/NAME` references, LiteLLM's way of keeping secrets out of `config.yaml`.
//!
//! The whole YAML tree is walked once before typed parsing, so every string field supports the
//! syntax without each struct having to know about it. A variable that is not set becomes `null`
//! and produces a warning (LiteLLM silently uses `None`); failing start-up instead would break
//! configs that mention providers a deployment never calls.

use serde_json::Value;

const PREFIX: &str = "os.environ/";

/// Replaces every `os.environ/NAME` string in `value`, reporting unset variables through `missing`
/// with the YAML path of the value and the variable name.
pub(crate) fn resolve(
    value: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut dyn FnMut(String, &str),
) {
    walk(value, &mut String::new(), lookup, missing);
}

fn walk(
    value: &mut Value,
    path: &mut String,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut dyn FnMut(String, &str),
) {
    match value {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix(PREFIX) {
                let name = name.trim().to_owned();
                match lookup(&name) {
                    Some(v) => *value = Value::String(v),
                    None => {
                        missing(path.clone(), &name);
                        *value = Value::Null;
                    }
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, lookup, missing);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(item, path, lookup, missing);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replaces_nested_references_and_reports_missing_ones_with_their_path() {
        let mut v =
            json!({"a": [{"k": "os.environ/SET"}, {"k": "os.environ/UNSET"}], "b": "plain"});
        let mut seen = Vec::new();
        resolve(
            &mut v,
            &|n| (n == "SET").then(|| "value".to_owned()),
            &mut |p, n| seen.push((p, n.to_owned())),
        );
        assert_eq!(v, json!({"a": [{"k": "value"}, {"k": null}], "b": "plain"}));
        assert_eq!(seen, vec![("a[1].k".to_owned(), "UNSET".to_owned())]);
    }
}
