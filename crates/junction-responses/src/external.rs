//! MCP servers named by URL in a request (`server_url: "https://…"`), connected by the
//! gateway for that one request.
//!
//! A gateway that connects wherever a request says is a server-side request forgery tool:
//! any key holder could reach the gateway's own network (metadata services, databases,
//! admin ports). So external URLs are refused unless the operator allows them
//! (`general_settings.responses_allow_external_mcp_urls`), and even then every address the
//! host resolves to must be public unless private ones are allowed too
//! (`responses_allow_private_mcp_urls`). The check resolves the name itself; a DNS answer
//! that changes between the check and the connection is not covered (the connection is
//! made by the MCP client's HTTP stack), which is why the default is off.

use std::net::IpAddr;
use std::time::Duration;

use junction_mcp::{Auth, ClientConfig, McpClient, TransportConfig};

use crate::request::McpToolSpec;

/// What the operator allows.
#[derive(Debug, Clone)]
pub struct ExternalPolicy {
    pub allow: bool,
    pub allow_private: bool,
    pub connect_timeout: Duration,
    pub call_timeout: Duration,
}

impl Default for ExternalPolicy {
    fn default() -> Self {
        ExternalPolicy {
            allow: false,
            allow_private: false,
            connect_timeout: Duration::from_secs(15),
            call_timeout: Duration::from_secs(60),
        }
    }
}

pub(crate) enum ExternalError {
    /// The request may not use this URL: the client's mistake, a 400.
    Refused(String),
    /// The server could not be reached: reported in the `mcp_list_tools` item.
    Failed(String),
}

pub(crate) async fn connect(
    policy: &ExternalPolicy,
    spec: &McpToolSpec,
) -> Result<McpClient, ExternalError> {
    let label = &spec.server_label;
    if !policy.allow {
        return Err(ExternalError::Refused(format!(
            "mcp tool {label:?}: server_url {:?} is not one of this gateway's MCP servers, and connecting to other MCP servers is disabled; use \"litellm_proxy\" (optionally \"litellm_proxy/mcp/<server>\"), or ask the operator to set general_settings.responses_allow_external_mcp_urls",
            spec.server_url
        )));
    }
    let url = reqwest_free_parse(&spec.server_url).ok_or_else(|| {
        ExternalError::Refused(format!(
            "mcp tool {label:?}: server_url must be an http(s) URL or \"litellm_proxy\""
        ))
    })?;
    if !policy.allow_private {
        let addresses = tokio::net::lookup_host((url.host.as_str(), url.port))
            .await
            .map_err(|e| ExternalError::Failed(format!("cannot resolve {}: {e}", url.host)))?
            .map(|a| a.ip())
            .collect::<Vec<_>>();
        if let Some(private) = addresses.iter().find(|ip| !is_public(ip)) {
            return Err(ExternalError::Refused(format!(
                "mcp tool {label:?}: {} resolves to the non-public address {private}; connecting to private, loopback and link-local addresses is disabled (general_settings.responses_allow_private_mcp_urls)",
                url.host
            )));
        }
    }
    let mut config = ClientConfig::new(
        format!("responses:{label}"),
        TransportConfig::StreamableHttp {
            url: spec.server_url.clone(),
        },
    )
    .with_call_timeout(policy.call_timeout);
    config.connect_timeout = policy.connect_timeout;
    if let Some(token) = &spec.authorization {
        config = config.with_auth(Auth::BearerToken(token.clone()));
    }
    for (name, value) in &spec.headers {
        config = config.with_header(name.clone(), value.clone());
    }
    McpClient::connect(config).await.map_err(|e| {
        ExternalError::Failed(format!("connecting to MCP server {label:?} failed: {e}"))
    })
}

struct HostPort {
    host: String,
    port: u16,
}

/// Scheme, host and port of an http(s) URL, without a URL crate: the MCP client parses it
/// again for real; this only needs the host to check.
fn reqwest_free_parse(url: &str) -> Option<HostPort> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = after.strip_prefix(':').map(str::parse).transpose().ok()?;
        (host.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port.parse().ok()?)),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some(HostPort {
        host,
        port: port.unwrap_or(default_port),
    })
}

/// Whether an address is on the public internet: not loopback, private, link-local,
/// carrier-grade NAT, unique-local, multicast, documentation or unspecified.
fn is_public(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(&IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(&ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(&ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_give_host_and_port() {
        let hp = reqwest_free_parse("https://user:pw@mcp.example.com/mcp?x=1").unwrap();
        assert_eq!((hp.host.as_str(), hp.port), ("mcp.example.com", 443));
        let hp = reqwest_free_parse("http://[::1]:8080/mcp").unwrap();
        assert_eq!((hp.host.as_str(), hp.port), ("::1", 8080));
        assert!(reqwest_free_parse("ftp://x").is_none());
        assert!(reqwest_free_parse("litellm").is_none());
    }
}
