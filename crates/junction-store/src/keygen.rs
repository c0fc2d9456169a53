//! Key material helpers compatible with LiteLLM: generating a new virtual key,
//! hashing it for storage (LiteLLM's `hash_token`) and the abbreviated display
//! name (LiteLLM's `key_name`). Kept here so the server never stores or logs a
//! raw key by accident.

use sha2::{Digest, Sha256};

use crate::StoreError;

/// Characters of the random part of a generated key.
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Bytes at or above this value are rejected: 248 = 4 * 62, so `byte % 62`
/// is uniform over the accepted range (no modulo bias).
const REJECT_FROM: u8 = 248;
/// Number of random characters after the `sk-` prefix.
const RANDOM_LEN: usize = 32;

/// Lowercase hex SHA-256 of the raw key, as LiteLLM's `hash_token` computes
/// it. This is the only form of a key that is ever stored.
pub fn hash_key(raw: &str) -> String {
    let digest = Sha256::digest(raw.as_bytes());
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(hex_digit(byte >> 4));
        out.push(hex_digit(byte & 0x0f));
    }
    out
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}

/// A new random key: `sk-` followed by 32 characters from `[A-Za-z0-9]`,
/// drawn from the operating system's RNG with rejection sampling.
///
/// Returns [`StoreError::Random`] if the operating system RNG fails.
pub fn try_generate_key() -> Result<String, StoreError> {
    let mut key = String::with_capacity(3 + RANDOM_LEN);
    key.push_str("sk-");
    let mut produced = 0;
    let mut buf = [0u8; 64];
    while produced < RANDOM_LEN {
        getrandom::getrandom(&mut buf).map_err(|e| StoreError::Random(e.to_string()))?;
        for &byte in buf.iter().filter(|&&b| b < REJECT_FROM) {
            key.push(char::from(ALPHABET[usize::from(byte % 62)]));
            produced += 1;
            if produced == RANDOM_LEN {
                break;
            }
        }
    }
    Ok(key)
}

/// A new random key: `sk-` followed by 32 characters from `[A-Za-z0-9]`,
/// drawn from the operating system's RNG with rejection sampling.
///
/// # Panics
///
/// Panics if the operating system's random number generator is unavailable:
/// there is no safe fallback for secret material. Use [`try_generate_key`] to
/// handle that case as an error instead.
pub fn generate_key() -> String {
    match try_generate_key() {
        Ok(key) => key,
        Err(err) => panic!("cannot generate an API key: {err}"),
    }
}

/// LiteLLM's abbreviated key name: `sk-...` followed by the last 4 characters
/// of the raw key (the whole key if it is shorter, like Python's `key[-4:]`).
pub fn key_display_name(raw: &str) -> String {
    let start = raw
        .char_indices()
        .rev()
        .nth(3)
        .map_or(0, |(index, _)| index);
    format!("sk-...{}", &raw[start..])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn display_name_uses_last_four_chars() {
        assert_eq!(key_display_name("sk-1234567890"), "sk-...7890");
        assert_eq!(key_display_name("abc"), "sk-...abc");
        assert_eq!(key_display_name(""), "sk-...");
        assert_eq!(key_display_name("sk-ééééé"), "sk-...éééé");
    }

    #[test]
    fn hash_is_lowercase_hex() {
        let h = hash_key("");
        assert_eq!(
            h,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn generated_characters_cover_alphabet() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let key = generate_key();
            seen.extend(key[3..].chars());
        }
        assert_eq!(seen.len(), 62);
    }
}
