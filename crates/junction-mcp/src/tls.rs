//! The HTTP client for MCP servers: system roots, an optional CA bundle, or no verification.

use crate::{McpError, TlsConfig};

/// The HTTP client the library uses for a server (named for errors and warnings): rustls with
/// the system roots, plus the configured CA bundle, or no verification when asked.
pub fn http_client(server: &str, tls: &TlsConfig) -> Result<reqwest::Client, McpError> {
    // Several crates in the graph use rustls; install the one provider explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config_error = |message: String| McpError::Config {
        server: server.to_owned(),
        message,
    };
    let mut builder = reqwest::Client::builder()
        .tcp_nodelay(true)
        .connect_timeout(std::time::Duration::from_secs(10));
    if let Some(path) = &tls.ca_bundle {
        let pem = std::fs::read(path)
            .map_err(|e| config_error(format!("cannot read CA bundle {}: {e}", path.display())))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| config_error(format!("CA bundle {} is not PEM: {e}", path.display())))?;
        // A file with no certificate block parses as an empty list; trusting nothing extra
        // while the operator believes otherwise would only surface later as a TLS failure.
        if certificates.is_empty() {
            return Err(config_error(format!(
                "CA bundle {} contains no PEM certificate",
                path.display()
            )));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    if tls.insecure_skip_verify {
        tracing::warn!(
            server,
            "TLS certificate verification is OFF for this MCP server"
        );
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| config_error(format!("cannot build the HTTP client: {e}")))
}
