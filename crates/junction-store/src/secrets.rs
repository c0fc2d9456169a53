//! Sealing secrets before they are stored: MCP server credentials (LiteLLM encrypts them
//! with `LITELLM_SALT_KEY`, falling back to the master key).
//!
//! A [`Sealer`] derives a 256-bit key from the operator's secret (SHA-256, as LiteLLM does)
//! and seals with ChaCha20-Poly1305 under a fresh random nonce, so equal values seal
//! differently and any change to a stored value is detected when it is opened. The sealed
//! form is text: `jx1:` and the URL-safe base64 of nonce ‖ ciphertext ‖ tag.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

const PREFIX: &str = "jx1:";

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the sealed value is not in Junction's format")]
    Format,
    /// Tampered with, or sealed under another key (the salt key or master key changed).
    #[error(
        "the sealed value does not open with this key (was LITELLM_SALT_KEY or the master key changed?)"
    )]
    WrongKey,
    #[error("the system random source failed")]
    Random,
}

/// Seals and opens values under one operator secret.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer keyed by `secret` (the salt key). `None` for an empty secret.
    pub fn new(secret: &str) -> Option<Sealer> {
        if secret.is_empty() {
            return None;
        }
        let digest = Sha256::digest(secret.as_bytes());
        let key = UnboundKey::new(&CHACHA20_POLY1305, &digest).ok()?;
        Some(Sealer {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        })
    }

    /// `plain`, sealed.
    pub fn seal(&self, plain: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::empty(),
                &mut sealed,
            )
            .map_err(|_| SealError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// What [`Sealer::seal`] sealed.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SealError> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(SealError::Format)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| SealError::Format)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Format);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Format)?;
        let mut rest = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, ring::aead::Aad::empty(), &mut rest)
            .map_err(|_| SealError::WrongKey)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealing_round_trips_and_hides_the_value() {
        let sealer = Sealer::new("salt").unwrap();
        let a = sealer.seal(b"sk-upstream-secret").unwrap();
        let b = sealer.seal(b"sk-upstream-secret").unwrap();
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("secret"));
        assert_eq!(sealer.open(&a).unwrap(), b"sk-upstream-secret");
    }

    #[test]
    fn another_key_or_a_changed_value_does_not_open() {
        let sealed = Sealer::new("salt").unwrap().seal(b"value").unwrap();
        assert!(matches!(
            Sealer::new("other").unwrap().open(&sealed),
            Err(SealError::WrongKey)
        ));
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(Sealer::new("salt").unwrap().open(&tampered).is_err());
        assert!(matches!(
            Sealer::new("salt").unwrap().open("plain"),
            Err(SealError::Format)
        ));
        assert!(Sealer::new("").is_none());
    }
}
