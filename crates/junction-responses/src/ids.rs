//! Ids of responses and of the items in them: OpenAI's prefixes (`resp_`, `msg_`, `mcpl_`,
//! `mcp_`, `mcpr_`, `fc_`, `call_`) followed by 48 random hex digits.
//!
//! A response id is also the key to a stored conversation, so it must not be guessable:
//! 192 bits from the operating system's generator. Whoever holds an id still needs the same
//! key (or team) to read it (`engine.rs`).

use std::fmt::Write as _;

pub(crate) fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 24];
    if getrandom::getrandom(&mut bytes).is_err() {
        // The OS generator does not fail on supported platforms; if it ever does, a time-
        // and counter-based id is still unique, just not secret, and ownership checks stand.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..16].copy_from_slice(&nanos.to_le_bytes());
        bytes[16..].copy_from_slice(&count.to_le_bytes());
    }
    let mut id = String::with_capacity(prefix.len() + 48);
    id.push_str(prefix);
    for byte in bytes {
        let _ = write!(id, "{byte:02x}");
    }
    id
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(test)]
mod tests {
    use super::new_id;

    #[test]
    fn ids_have_the_prefix_and_differ() {
        let a = new_id("resp_");
        let b = new_id("resp_");
        assert!(a.starts_with("resp_") && a.len() == 5 + 48);
        assert_ne!(a, b);
        assert!(a[5..].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
