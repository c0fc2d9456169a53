//! The stable id LiteLLM gives a server from `config.yaml`.
//!
//! Virtual keys and teams store MCP permissions as server ids, so an id must come out
//! byte-for-byte as LiteLLM computes it, or permission data written by LiteLLM (or for it) stops
//! matching after a switch to Junction. LiteLLM's `_generate_stable_server_id` hashes
//! `f"{server_name}|{url}|{transport}|{auth_type or ''}|{alias or ''}"` with SHA-256 and keeps
//! the first 32 hex digits; this file reproduces that, including how Python formats the values
//! LiteLLM passes when a key is missing from the config.

use sha2::{Digest, Sha256};

/// What LiteLLM's f-string prints for `transport` when the config has no `transport` key.
///
/// LiteLLM passes `server_config.get("transport", MCPTransport.http)`, and `MCPTransport` is a
/// `(str, enum.Enum)`. Since Python 3.11 an f-string formats such a member with `Enum.__str__`,
/// i.e. as `MCPTransport.http`, not as its value (`python3.11 -c "import enum
/// class T(str, enum.Enum): http='http'
/// print(f'{T.http}')"` prints `T.http`). LiteLLM's images run Python 3.11 or newer, so this is
/// the string their ids were computed from. A transport written in the YAML is a plain string and
/// is printed as written.
const MISSING_TRANSPORT: &str = "MCPTransport.http";

/// LiteLLM's stable id of a config server:
/// `sha256(f"{server_name}|{url}|{transport}|{auth_type or ''}|{alias or ''}").hexdigest()[:32]`.
///
/// * `url`: `None` (a stdio server) is printed as the empty string, as LiteLLM passes
///   `server_config.get("url") or ""`.
/// * `transport`: the value from the config; `None` (key absent) is printed as
///   `MCPTransport.http` (see `MISSING_TRANSPORT`).
/// * `auth_type`, `alias`: `None` and empty both print as the empty string (`or ''`). `alias` is
///   the effective alias: the server's `alias` key, else its first `litellm_settings.mcp_aliases`
///   entry, which the caller resolves.
pub fn config_server_id(
    server_name: &str,
    url: Option<&str>,
    transport: Option<&str>,
    auth_type: Option<&str>,
    alias: Option<&str>,
) -> String {
    let params = format!(
        "{server_name}|{}|{}|{}|{}",
        url.unwrap_or(""),
        transport.unwrap_or(MISSING_TRANSPORT),
        auth_type.unwrap_or(""),
        alias.unwrap_or(""),
    );
    let digest = Sha256::digest(params.as_bytes());
    // 32 hex digits are the first 16 bytes.
    digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed with Python's hashlib, e.g.
    // python3 -c "import hashlib; print(hashlib.sha256(b'wiki|https://mcp.deepwiki.com/mcp|http||').hexdigest()[:32])"

    #[test]
    fn known_vector_http_server() {
        // python3 -c "import hashlib; print(hashlib.sha256(b'wiki|https://mcp.deepwiki.com/mcp|http||').hexdigest()[:32])"
        assert_eq!(
            config_server_id(
                "wiki",
                Some("https://mcp.deepwiki.com/mcp"),
                Some("http"),
                None,
                None
            ),
            "fb925a761c82cab09dbb7bbf5201c106"
        );
    }

    #[test]
    fn missing_transport_hashes_like_python_formats_the_enum_default() {
        // python3 -c "import hashlib; print(hashlib.sha256(b'wiki|https://mcp.deepwiki.com/mcp|MCPTransport.http||').hexdigest()[:32])"
        assert_eq!(
            config_server_id(
                "wiki",
                Some("https://mcp.deepwiki.com/mcp"),
                None,
                None,
                None
            ),
            "b73fd022928cd7b9b2f21419daeef4a4"
        );
    }

    #[test]
    fn stdio_server_without_url() {
        // python3 -c "import hashlib; print(hashlib.sha256(b'time||stdio||').hexdigest()[:32])"
        assert_eq!(
            config_server_id("time", None, Some("stdio"), None, None),
            "372cd54cf71bfd7dd23dc747217ea26e"
        );
    }

    #[test]
    fn auth_type_and_alias_are_part_of_the_id() {
        // python3 -c "import hashlib; print(hashlib.sha256(b'github_mcp|https://api.githubcopilot.com/mcp|http|oauth2|gh').hexdigest()[:32])"
        assert_eq!(
            config_server_id(
                "github_mcp",
                Some("https://api.githubcopilot.com/mcp"),
                Some("http"),
                Some("oauth2"),
                Some("gh"),
            ),
            "bdf1bc22d19dedea4f14de042f2ff0ee"
        );
        // python3 -c "import hashlib; print(hashlib.sha256(b'zapier|https://x.example/sse|sse|api_key|').hexdigest()[:32])"
        assert_eq!(
            config_server_id(
                "zapier",
                Some("https://x.example/sse"),
                Some("sse"),
                Some("api_key"),
                None
            ),
            "ad6a5c111240285701b60916b78f6974"
        );
    }

    #[test]
    fn empty_alias_and_auth_type_equal_absent_ones() {
        assert_eq!(
            config_server_id("s", Some("u"), Some("http"), Some(""), Some("")),
            config_server_id("s", Some("u"), Some("http"), None, None)
        );
    }
}
