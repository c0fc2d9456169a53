//! The one HTTP client every upstream call goes through.
//!
//! TLS is rustls with the `ring` provider. The provider is installed process-wide here because
//! several crates in the graph could otherwise disagree on which one is the default.

use std::time::Duration;

use crate::LlmError;

thread_local! {
    /// One client (and so one connection pool) per thread: an upstream connection is then
    /// driven by the thread that uses it, which matters with thread-per-core serving.
    static CLIENT: std::cell::RefCell<Option<reqwest::Client>> = const { std::cell::RefCell::new(None) };
}

/// This thread's client, built on first use.
pub(crate) fn current() -> Result<reqwest::Client, LlmError> {
    CLIENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some(client) = slot.as_ref() {
            return Ok(client.clone());
        }
        let client = build()?;
        *slot = Some(client.clone());
        Ok(client)
    })
}

fn build() -> Result<reqwest::Client, LlmError> {
    // Installing twice fails harmlessly: another component may have done it first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(1024)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| LlmError::Unavailable(format!("cannot build the HTTP client: {e}")))
}
