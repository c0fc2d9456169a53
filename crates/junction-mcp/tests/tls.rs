//! TLS towards MCP servers: a certificate from an unknown CA is refused with the system roots,
//! accepted with that CA in `ca_bundle`, accepted with verification off; a bad bundle is a
//! configuration error. The certificates are made by `openssl` for each run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use junction_mcp::{ClientConfig, McpClient, McpError, TlsConfig, TransportConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A CA and a server certificate for 127.0.0.1 signed by it.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=Junction Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "1",
        "-extfile",
        "server.ext",
    ]);
}

/// Accepts TCP connections and completes the TLS handshake, for `axum::serve`.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, peer)) = self.tcp.accept().await else {
                continue;
            };
            // A client that refuses our certificate fails its handshake: wait for the next one.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The scripted MCP server over HTTPS; returns its `/mcp` URL.
async fn serve_https(dir: &Path) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}/mcp", tcp.local_addr().unwrap().port());
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    };
    let router = common::fake::router(Arc::new(common::fake::Fake::default()));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn config(url: &str, tls: TlsConfig) -> ClientConfig {
    ClientConfig::new(
        "tls",
        TransportConfig::StreamableHttp {
            url: url.to_owned(),
        },
    )
    .with_tls(tls)
    .with_call_timeout(std::time::Duration::from_secs(10))
}

#[tokio::test]
async fn certificates_are_checked_against_system_roots_a_ca_bundle_or_not_at_all() {
    let scratch = common::Scratch::new("tls");
    let dir: PathBuf = scratch.file("");
    make_certificates(&dir);
    let url = serve_https(&dir).await;

    match McpClient::connect(config(&url, TlsConfig::default())).await {
        Err(McpError::Connect { message, .. }) => {
            assert!(message.to_lowercase().contains("certificate"), "{message}");
        }
        Err(other) => panic!("expected a connect error about the certificate, got {other}"),
        Ok(_) => panic!("a certificate from an unknown CA was accepted"),
    }

    let with_ca = TlsConfig {
        ca_bundle: Some(dir.join("ca.pem")),
        ..TlsConfig::default()
    };
    let client = McpClient::connect(config(&url, with_ca)).await.unwrap();
    assert_eq!(client.list_tools().await.unwrap().len(), 2);
    client.close().await;

    let insecure = TlsConfig {
        insecure_skip_verify: true,
        ..TlsConfig::default()
    };
    let client = McpClient::connect(config(&url, insecure)).await.unwrap();
    assert_eq!(client.list_tools().await.unwrap().len(), 2);
    client.close().await;
}

#[tokio::test]
async fn a_missing_or_malformed_ca_bundle_is_a_configuration_error() {
    let scratch = common::Scratch::new("tls-bad-bundle");
    let not_pem = scratch.file("not.pem");
    std::fs::write(&not_pem, "this is not a certificate").unwrap();
    for bundle in [scratch.file("missing.pem"), not_pem] {
        let tls = TlsConfig {
            ca_bundle: Some(bundle.clone()),
            ..TlsConfig::default()
        };
        match McpClient::connect(config("https://127.0.0.1:9/mcp", tls)).await {
            Err(McpError::Config { message, .. }) => {
                assert!(message.contains("CA bundle"), "{message}")
            }
            Err(other) => panic!(
                "{}: expected a configuration error, got {other}",
                bundle.display()
            ),
            Ok(_) => panic!("connected with a bad CA bundle"),
        }
    }
}
