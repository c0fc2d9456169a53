//! What of a client's request headers the MCP upstreams may see: everything but the gateway's
//! own key.
//!
//! The hub applies LiteLLM's rules (`extra_headers`, `x-mcp-<alias>-*`, `x-mcp-auth`) to these
//! headers; this file only makes sure the key that admitted the request is not among them.
//! Dropped: `x-litellm-api-key` always, and any header whose value is the presented key
//! (with or without `Bearer `), which covers `Authorization` when it carried the key. So, as in
//! LiteLLM, a client's `Authorization` reaches an upstream that lists it in `extra_headers` only
//! when the gateway key came in `x-litellm-api-key`.

use std::sync::Arc;

use axum::http::HeaderMap;
use junction_hub::{Caller, RequestHeaders};

use crate::auth::{presented_key, strip_bearer};

/// The [`Caller`] of a request, as the hub sees it.
pub(crate) fn caller_of(headers: &HeaderMap) -> Arc<Caller> {
    Arc::new(caller_with(headers, &[]))
}

/// [`caller_of`] with more headers, such as those a `/v1/responses` MCP tool names: they go
/// through the same filter (a gateway key among them is dropped too) and win over the
/// request's own.
pub(crate) fn caller_with(headers: &HeaderMap, extra: &[(String, String)]) -> Caller {
    let key = presented_key(headers);
    let is_key = |name: &str, value: &str| {
        name.eq_ignore_ascii_case("x-litellm-api-key")
            || key.is_some_and(|k| strip_bearer(value) == k)
    };
    let forwardable = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .filter(|(name, _)| !extra.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
        .chain(extra.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .filter(|(name, value)| !is_key(name, value))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()));
    Caller::with_headers(RequestHeaders::new(forwardable))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(pairs: &[(&str, &str)]) -> RequestHeaders {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            headers.insert(name, value.parse().unwrap());
        }
        caller_of(&headers).headers.clone()
    }

    #[test]
    fn the_gateway_key_is_never_forwarded() {
        assert_eq!(
            forwarded(&[("authorization", "Bearer sk-gw"), ("x-tenant", "t")]),
            RequestHeaders::new([("x-tenant", "t")])
        );
        assert_eq!(
            forwarded(&[
                ("x-litellm-api-key", "Bearer sk-gw"),
                ("authorization", "Bearer upstream-token"),
                ("x-copy", "sk-gw"),
            ]),
            RequestHeaders::new([("authorization", "Bearer upstream-token")])
        );
    }
}
