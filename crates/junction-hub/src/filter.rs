//! A server's tool policy from `config.yaml`: `allowed_tools`, `disallowed_tools`,
//! `allowed_params`.
//!
//! Why this file exists: these keys decide what a client may list and call, and LiteLLM users
//! have scripts and tests that match its refusals word for word, so both the rules and the 403
//! texts follow LiteLLM (`filter_tools_by_allowed_tools`, `check_allowed_or_banned_tools`,
//! `validate_allowed_params` in `mcp_server_manager.py` / `server.py`):
//!
//! * `allowed_tools`, when non-empty, is the whole list of visible tools and wins over
//!   `disallowed_tools`; otherwise a non-empty `disallowed_tools` hides its tools. Empty lists
//!   restrict nothing (Python truthiness), unless `mcp_info.tool_allowlist_enforced` is set, which
//!   makes even an empty `allowed_tools` an allowlist (newer LiteLLM).
//! * Names match case-insensitively, as the unprefixed or the prefixed name. The prefixed form is
//!   built from the known prefix, never split out of a name, so prefixes and tools that contain
//!   the separator match correctly (LiteLLM's first-separator split does not).
//! * `allowed_params` maps a tool (unprefixed or prefixed) to the argument names it accepts.
//!
//! The same [`ToolFilter::allows`] serves listings and calls, so a tool hidden from a listing can
//! never be called by name.

use std::collections::BTreeMap;

use junction_config::McpServerConfig;
use serde_json::{Map, Value};

/// A server's tool policy from its `mcp_servers` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolFilter {
    /// Lower-cased; `Some` only when the allowlist is in force.
    allowed_tools: Option<Vec<String>>,
    /// Lower-cased; `Some` only when non-empty.
    disallowed_tools: Option<Vec<String>>,
    /// Tool name (unprefixed or prefixed, as written) → allowed argument names, in config order.
    allowed_params: BTreeMap<String, Vec<String>>,
}

/// A refused call, carrying LiteLLM's exact message (sent as a JSON-RPC error on `/mcp`, and as
/// HTTP 403 `{"error": message}` on REST).
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum FilterError {
    #[error("{0}")]
    ToolNotAllowed(String),
    #[error("{0}")]
    ParamsNotAllowed(String),
}

impl ToolFilter {
    pub fn from_config(server: &McpServerConfig) -> ToolFilter {
        let enforced = server
            .mcp_info
            .get("tool_allowlist_enforced")
            .is_some_and(python_truthy);
        let allowed = server.allowed_tools.clone().unwrap_or_default();
        let disallowed = server.disallowed_tools.clone().unwrap_or_default();
        ToolFilter {
            allowed_tools: (enforced || !allowed.is_empty()).then(|| lowercase_all(&allowed)),
            disallowed_tools: (!disallowed.is_empty()).then(|| lowercase_all(&disallowed)),
            allowed_params: server.allowed_params.clone().unwrap_or_default(),
        }
    }

    /// Whether the tool may be listed and called: `allowed_tools` (when in force) wins over
    /// `disallowed_tools`; a configured name matches the unprefixed `original` or
    /// `prefix + separator + original`, case-insensitively.
    pub fn allows(&self, original: &str, prefix: &str, separator: &str) -> bool {
        let bare = original.to_lowercase();
        let prefixed = format!("{prefix}{separator}{original}").to_lowercase();
        let listed = |names: &[String]| names.iter().any(|n| *n == bare || *n == prefixed);
        match (&self.allowed_tools, &self.disallowed_tools) {
            (Some(allowed), _) => listed(allowed),
            (None, Some(disallowed)) => !listed(disallowed),
            (None, None) => true,
        }
    }

    /// Call-time checks, in LiteLLM's order: the tool is allowed, then every argument name is in
    /// the tool's `allowed_params` list (when it has one).
    ///
    /// `server` is the server's name as printed in the refusal. Both refusals print the tool's
    /// unprefixed upstream name (`original`), as LiteLLM does: its call path strips the prefix
    /// before these checks run, so a call of `deepwiki-read_wiki_contents` is refused "for tool
    /// read_wiki_contents". `allowed_params` is looked up by `original` (first, as LiteLLM
    /// does), then `prefix + separator + original`, then `called_name` (e.g. a sanitized or
    /// shortened exposed name), so the outcome does not depend on how the client named the tool.
    /// The first key present decides, even with an empty list (then no argument is allowed).
    ///
    /// Disallowed arguments are listed in the iteration order of `arguments`: the order they were
    /// sent when `serde_json` keeps insertion order (`preserve_order`), alphabetical otherwise.
    pub fn check_call(
        &self,
        server: &str,
        called_name: &str,
        original: &str,
        prefix: &str,
        separator: &str,
        arguments: Option<&Map<String, Value>>,
    ) -> Result<(), FilterError> {
        if !self.allows(original, prefix, separator) {
            return Err(FilterError::ToolNotAllowed(format!(
                "Tool {original} is not allowed for server {server}. \
                 Contact proxy admin to allow this tool."
            )));
        }
        let prefixed = format!("{prefix}{separator}{original}");
        let Some(allowed) = [original, prefixed.as_str(), called_name]
            .into_iter()
            .find_map(|key| self.allowed_params.get(key))
        else {
            return Ok(());
        };
        let refused: Vec<&str> = arguments
            .into_iter()
            .flat_map(Map::keys)
            .map(String::as_str)
            .filter(|key| !allowed.iter().any(|name| name == key))
            .collect();
        if refused.is_empty() {
            return Ok(());
        }
        let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
        Err(FilterError::ParamsNotAllowed(format!(
            "Parameters {} are not allowed for tool {original}. Allowed parameters: {}. \
             Contact proxy admin to allow these parameters.",
            python_list_repr(&refused),
            python_list_repr(&allowed),
        )))
    }
}

fn lowercase_all(names: &[String]) -> Vec<String> {
    names.iter().map(|name| name.to_lowercase()).collect()
}

/// Python's `bool(value)` for a JSON value, as LiteLLM tests `mcp_info` flags.
fn python_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(fields) => !fields.is_empty(),
    }
}

/// Python's `repr()` of a list of strings, as LiteLLM's f-strings print one: `['a', "it's"]`.
pub fn python_list_repr(items: &[&str]) -> String {
    let inner: Vec<String> = items.iter().map(|item| python_str_repr(item)).collect();
    format!("[{}]", inner.join(", "))
}

/// Python's `repr()` of a string (`unicode_repr` in CPython): single quotes unless the text
/// contains `'` and no `"`; backslash, the chosen quote, `\t`, `\n`, `\r` escaped; other
/// non-printable characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
fn python_str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if python_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable()` for one character: false for control, format, surrogate,
/// private-use, unassigned and separator characters other than the ASCII space.
///
/// Exact for ASCII and Latin-1; beyond that it covers the separators, format characters,
/// private-use areas and noncharacters, but not every unassigned code point (that needs the
/// Unicode tables CPython ships). Parameter names outside these cases are rare.
fn python_printable(c: char) -> bool {
    let code = u32::from(c);
    let not_printable = matches!(
        code,
        0x00..=0x1f
            | 0x7f..=0xa0
            | 0xad
            | 0x0600..=0x0605
            | 0x061c
            | 0x06dd
            | 0x070f
            | 0x1680
            | 0x180e
            | 0x2000..=0x200f
            | 0x2028..=0x202f
            | 0x205f..=0x2064
            | 0x2066..=0x206f
            | 0x3000
            | 0xd800..=0xf8ff
            | 0xfdd0..=0xfdef
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0x110bd
            | 0x110cd
            | 0xe0001
            | 0xe0020..=0xe007f
            | 0xf0000..
    ) || code & 0xfffe == 0xfffe;
    !not_printable
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(config: serde_json::Value) -> ToolFilter {
        let server: McpServerConfig = serde_json::from_value(config).unwrap();
        ToolFilter::from_config(&server)
    }

    fn args(value: serde_json::Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn no_lists_allow_everything() {
        let f = filter(json!({}));
        assert!(f.allows("anything", "s", "-"));
        assert_eq!(f, ToolFilter::default());
    }

    #[test]
    fn allowed_tools_is_the_whole_list_and_wins_over_disallowed() {
        let f = filter(json!({
            "allowed_tools": ["get_time", "deepwiki-read_wiki_contents"],
            "disallowed_tools": ["get_time", "other"],
        }));
        assert!(f.allows("get_time", "time", "-"));
        assert!(f.allows("read_wiki_contents", "deepwiki", "-"));
        assert!(!f.allows("read_wiki_contents", "wiki", "-"));
        assert!(!f.allows("other", "time", "-"));
        assert!(!f.allows("unlisted", "time", "-"));
    }

    #[test]
    fn disallowed_tools_hide_only_their_tools() {
        let f = filter(json!({ "disallowed_tools": ["delete_repo", "gh__drop"] }));
        assert!(!f.allows("delete_repo", "gh", "__"));
        assert!(!f.allows("drop", "gh", "__"));
        assert!(f.allows("drop", "gh", "-"));
        assert!(f.allows("create_issue", "gh", "__"));
    }

    #[test]
    fn matching_is_case_insensitive_for_both_forms() {
        let f = filter(json!({ "allowed_tools": ["GetPetById", "API-FindPets"] }));
        assert!(f.allows("getpetbyid", "api", "-"));
        assert!(f.allows("GETPETBYID", "api", "-"));
        assert!(f.allows("findPets", "api", "-"));
    }

    #[test]
    fn prefixes_and_tools_containing_the_separator_match() {
        let f = filter(json!({ "allowed_tools": ["my-server-get-time"] }));
        assert!(f.allows("get-time", "my-server", "-"));
        assert!(!f.allows("time", "my-server-get", "_"));
        let bare = filter(json!({ "disallowed_tools": ["get-time"] }));
        assert!(!bare.allows("get-time", "my-server", "-"));
    }

    #[test]
    fn empty_lists_restrict_nothing_unless_the_allowlist_is_enforced() {
        let f = filter(json!({ "allowed_tools": [], "disallowed_tools": [] }));
        assert!(f.allows("x", "s", "-"));
        let enforced = filter(json!({
            "allowed_tools": [],
            "mcp_info": { "tool_allowlist_enforced": true },
        }));
        assert!(!enforced.allows("x", "s", "-"));
        let off = filter(json!({ "mcp_info": { "tool_allowlist_enforced": "" } }));
        assert!(off.allows("x", "s", "-"));
    }

    #[test]
    fn refused_tool_gets_litellms_exact_message() {
        let f = filter(json!({ "allowed_tools": ["read_wiki_structure"] }));
        let err = f
            .check_call(
                "deepwiki",
                "deepwiki-read_wiki_contents",
                "read_wiki_contents",
                "deepwiki",
                "-",
                None,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Tool read_wiki_contents is not allowed for server deepwiki. \
             Contact proxy admin to allow this tool."
        );
        assert!(matches!(err, FilterError::ToolNotAllowed(_)));
    }

    #[test]
    fn refused_params_get_litellms_exact_message() {
        let f = filter(json!({ "allowed_params": { "read_wiki_contents": ["status"] } }));
        let sent = args(json!({ "status": "active", "limit": 10 }));
        for called in ["read_wiki_contents", "deepwiki-read_wiki_contents"] {
            let err = f
                .check_call(
                    "deepwiki",
                    called,
                    "read_wiki_contents",
                    "deepwiki",
                    "-",
                    Some(&sent),
                )
                .unwrap_err();
            assert_eq!(
                err,
                FilterError::ParamsNotAllowed(
                    "Parameters ['limit'] are not allowed for tool read_wiki_contents. \
                     Allowed parameters: ['status']. Contact proxy admin to allow these parameters."
                        .to_owned()
                )
            );
        }
        let fine = args(json!({ "status": "active" }));
        assert_eq!(
            f.check_call(
                "deepwiki",
                "x",
                "read_wiki_contents",
                "deepwiki",
                "-",
                Some(&fine)
            ),
            Ok(())
        );
        assert_eq!(
            f.check_call("deepwiki", "x", "read_wiki_contents", "deepwiki", "-", None),
            Ok(())
        );
        // Tools without an entry take any argument.
        assert_eq!(
            f.check_call(
                "deepwiki",
                "ask",
                "ask_question",
                "deepwiki",
                "-",
                Some(&sent)
            ),
            Ok(())
        );
    }

    #[test]
    fn params_lists_keep_argument_and_config_order() {
        let f = filter(json!({ "allowed_params": { "search": ["zeta", "alpha", "it's"] } }));
        let sent = args(json!({ "b": 1, "a": 2, "zeta": 3, "c\"q": 4 }));
        let err = f
            .check_call("s", "search", "search", "s", "-", Some(&sent))
            .unwrap_err();
        // Argument order is the map's: alphabetical without serde_json's preserve_order.
        let refused: Vec<&str> = sent
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "zeta")
            .collect();
        assert_eq!(
            err.to_string(),
            format!(
                "Parameters {} are not allowed for tool search. \
                 Allowed parameters: ['zeta', 'alpha', \"it's\"]. \
                 Contact proxy admin to allow these parameters.",
                python_list_repr(&refused)
            )
        );
    }

    #[test]
    fn allowed_params_are_found_by_called_prefixed_or_bare_name() {
        let f = filter(json!({ "allowed_params": {
            "api-findpets": ["status", "limit"],
            "getpet": ["id"],
            "Exposed_Name": ["q"],
        } }));
        let limit = args(json!({ "limit": 1 }));
        assert_eq!(
            f.check_call("api", "findpets", "findpets", "api", "-", Some(&limit)),
            Ok(())
        );
        let err = f
            .check_call("api", "getpet", "getpet", "api", "-", Some(&limit))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Parameters ['limit'] are not allowed for tool getpet.")
        );
        let q = args(json!({ "q": 1 }));
        assert_eq!(
            f.check_call("api", "Exposed_Name", "exposed name", "api", "-", Some(&q)),
            Ok(())
        );
    }

    #[test]
    fn the_bare_params_key_wins_whatever_the_call_form_and_empty_allows_nothing() {
        let f = filter(json!({ "allowed_params": {
            "s-t": ["a"],
            "t": ["b"],
            "u": [],
        } }));
        let a = args(json!({ "a": 1 }));
        let b = args(json!({ "b": 1 }));
        for called in ["t", "s-t"] {
            assert_eq!(f.check_call("s", called, "t", "s", "-", Some(&b)), Ok(()));
            assert!(f.check_call("s", called, "t", "s", "-", Some(&a)).is_err());
        }
        let err = f.check_call("s", "u", "u", "s", "-", Some(&b)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Parameters ['b'] are not allowed for tool u. Allowed parameters: []. \
             Contact proxy admin to allow these parameters."
        );
    }

    #[test]
    fn tool_check_comes_before_params_check() {
        let f = filter(json!({
            "disallowed_tools": ["t"],
            "allowed_params": { "t": ["a"] },
        }));
        let b = args(json!({ "b": 1 }));
        assert!(matches!(
            f.check_call("srv", "t", "t", "s", "-", Some(&b)),
            Err(FilterError::ToolNotAllowed(_))
        ));
    }

    #[test]
    fn python_repr_matches_cpython() {
        // Expected values printed by python3: print(repr([...])).
        assert_eq!(python_list_repr(&["limit"]), "['limit']");
        assert_eq!(python_list_repr(&["a", "b"]), "['a', 'b']");
        assert_eq!(python_list_repr(&[]), "[]");
        assert_eq!(python_list_repr(&["it's"]), "[\"it's\"]");
        assert_eq!(python_list_repr(&["a\"b"]), "['a\"b']");
        assert_eq!(python_list_repr(&["both'\"q"]), "['both\\'\"q']");
        assert_eq!(python_list_repr(&["back\\slash"]), "['back\\\\slash']");
        assert_eq!(python_list_repr(&["tab\tnl\ncr\r"]), "['tab\\tnl\\ncr\\r']");
        assert_eq!(
            python_list_repr(&["\u{0}\u{1f}\u{7f}"]),
            "['\\x00\\x1f\\x7f']"
        );
        assert_eq!(python_list_repr(&["é日本🙂"]), "['é日本🙂']");
        assert_eq!(
            python_list_repr(&["\u{85}\u{a0}\u{ad}"]),
            "['\\x85\\xa0\\xad']"
        );
        assert_eq!(
            python_list_repr(&["\u{200b}\u{2028}\u{feff}"]),
            "['\\u200b\\u2028\\ufeff']"
        );
        assert_eq!(python_list_repr(&["\u{10fffd}"]), "['\\U0010fffd']");
    }

    #[test]
    fn truthiness_follows_python() {
        assert!(!python_truthy(&json!(null)));
        assert!(!python_truthy(&json!(0)));
        assert!(!python_truthy(&json!("")));
        assert!(!python_truthy(&json!([])));
        assert!(python_truthy(&json!(1)));
        assert!(python_truthy(&json!("yes")));
        assert!(python_truthy(&json!(true)));
    }
}
