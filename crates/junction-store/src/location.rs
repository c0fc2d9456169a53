//! Turns the configured database URL into the backend to use and a URL the
//! `Any` driver accepts. Exists because SQLite URLs need care: relative paths,
//! paths with `..`, spaces or `#`, a parent directory that does not exist yet
//! and the `mode=rwc` flag that makes SQLite create the file on first start.
//!
//! SQLite paths are made absolute (parent directory canonicalised) and
//! percent-encoded, because the `Any` driver parses the URL with WHATWG rules
//! that would otherwise drop `..` segments or reject some characters.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::{Backend, StoreError};

/// A database URL ready for `sqlx::AnyPool`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub backend: Backend,
    pub url: String,
    /// SQLite only: the database lives in memory (no file, no WAL).
    pub in_memory: bool,
}

/// Resolves `input` (a `postgres://`/`postgresql://` URL, a `sqlite:` URL or
/// a plain file path). For a file-backed SQLite database opened with
/// `mode=rwc` (the default) the parent directory is created.
pub(crate) fn resolve(input: &str) -> Result<Resolved, StoreError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(StoreError::InvalidUrl("the database URL is empty".into()));
    }
    let lower = trimmed.to_ascii_lowercase();

    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        sqlx::postgres::PgConnectOptions::from_str(trimmed)
            .map_err(|e| StoreError::InvalidUrl(format!("cannot parse the Postgres URL: {e}")))?;
        return Ok(Resolved {
            backend: Backend::Postgres,
            url: trimmed.to_owned(),
            in_memory: false,
        });
    }

    let (path, params) = if lower.starts_with("sqlite:") {
        // Same prefix handling as sqlx: `sqlite://x` and `sqlite:x` are equal.
        let rest = if lower.starts_with("sqlite://") {
            &trimmed["sqlite://".len()..]
        } else {
            &trimmed["sqlite:".len()..]
        };
        let (db, params) = match rest.split_once('?') {
            Some((db, params)) => (db, Some(params)),
            None => (rest, None),
        };
        let memory = db.is_empty()
            || db == ":memory:"
            || params.is_some_and(|p| param_value(p, "mode") == Some("memory"));
        if memory {
            let url = format!("sqlite:{rest}");
            validate_sqlite(&url)?;
            return Ok(Resolved {
                backend: Backend::Sqlite,
                url,
                in_memory: true,
            });
        }
        (percent_decode(db)?, params)
    } else if let Some((scheme, _)) = trimmed.split_once("://") {
        return Err(StoreError::InvalidUrl(format!(
            "unsupported scheme `{scheme}`; use sqlite://, postgres:// or postgresql://"
        )));
    } else {
        (trimmed.to_owned(), None)
    };

    let mut query = params.unwrap_or_default().to_owned();
    let create = match params.and_then(|p| param_value(p, "mode")) {
        Some(mode) => mode == "rwc",
        None => {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str("mode=rwc");
            true
        }
    };

    let absolute = absolute_file_path(Path::new(&path), create)?;
    let absolute = absolute.to_str().ok_or_else(|| {
        StoreError::InvalidUrl("the SQLite database path is not valid UTF-8".into())
    })?;
    let url = format!("sqlite://{}?{query}", percent_encode_path(absolute));
    validate_sqlite(&url)?;
    Ok(Resolved {
        backend: Backend::Sqlite,
        url,
        in_memory: false,
    })
}

fn validate_sqlite(url: &str) -> Result<(), StoreError> {
    sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .map(|_| ())
        .map_err(|e| StoreError::InvalidUrl(format!("cannot parse the SQLite URL: {e}")))
}

/// The value of `key` in a URL query string (`a=1&b=2`).
fn param_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// `path` with its parent directory created (when `create`) and
/// canonicalised, so the result has no `.`/`..` segments.
fn absolute_file_path(path: &Path, create: bool) -> Result<PathBuf, StoreError> {
    let file_name = path.file_name().ok_or_else(|| {
        StoreError::InvalidUrl(format!(
            "the SQLite path `{}` does not name a file",
            path.display()
        ))
    })?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let io_err = |source| StoreError::Io {
        path: parent.display().to_string(),
        source,
    };
    // One-time work at startup; blocking briefly here is acceptable.
    if create {
        std::fs::create_dir_all(parent).map_err(io_err)?;
    }
    let parent = std::fs::canonicalize(parent).map_err(io_err)?;
    Ok(parent.join(file_name))
}

/// Percent-encodes everything but unreserved characters and `/`.
fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` sequences; malformed ones are kept literally.
fn percent_decode(s: &str) -> Result<String, StoreError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(b'%'), Some(&hi), Some(&lo)) => hex_value(hi).zip(hex_value(lo)),
            _ => None,
        };
        match decoded {
            Some((hi, lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            None => {
                out.extend_from_slice(&bytes[i..=i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map_err(|_| StoreError::InvalidUrl("the SQLite database path is not valid UTF-8".into()))
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let mut bytes = [0u8; 8];
        getrandom::getrandom(&mut bytes).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        std::env::temp_dir().join(format!("junction-store-loc-{tag}-{hex}"))
    }

    #[test]
    fn postgres_urls_pass_through() {
        for url in [
            "postgres://u:p@localhost:5432/db",
            "postgresql://localhost/db?sslmode=disable",
        ] {
            let r = resolve(url).unwrap();
            assert_eq!(r.backend, Backend::Postgres);
            assert_eq!(r.url, url);
        }
    }

    #[test]
    fn unknown_scheme_is_rejected_without_echoing_credentials() {
        let err = resolve("mysql://root:secret@localhost/db").unwrap_err();
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{err:?}");
        assert!(!err.to_string().contains("secret"));
        assert!(matches!(
            resolve("  ").unwrap_err(),
            StoreError::InvalidUrl(_)
        ));
    }

    #[test]
    fn memory_urls_are_kept() {
        let r = resolve("sqlite::memory:").unwrap();
        assert!(r.in_memory);
        assert_eq!(r.url, "sqlite::memory:");
    }

    #[test]
    fn sqlite_paths_become_absolute_with_rwc_and_parent_created() {
        let dir = temp_dir("abs");
        let nested = dir.join("a b#c");
        let url = format!("sqlite://{}/x/../junction.db", nested.display());
        // `x` must exist for `..` to resolve; create it first.
        std::fs::create_dir_all(nested.join("x")).unwrap();
        let r = resolve(&url).unwrap();
        assert_eq!(r.backend, Backend::Sqlite);
        assert!(
            r.url.ends_with("/a%20b%23c/junction.db?mode=rwc"),
            "{}",
            r.url
        );

        let bare = dir.join("new-dir").join("j.db");
        let r = resolve(bare.to_str().unwrap()).unwrap();
        assert!(dir.join("new-dir").is_dir());
        assert!(r.url.ends_with("/new-dir/j.db?mode=rwc"), "{}", r.url);

        let r = resolve(&format!("sqlite:{}?mode=ro", bare.display())).unwrap();
        assert!(r.url.ends_with("/new-dir/j.db?mode=ro"), "{}", r.url);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn percent_round_trip() {
        assert_eq!(percent_decode("a%20b%2x%").unwrap(), "a b%2x%");
        assert_eq!(percent_encode_path("/a b/ü"), "/a%20b/%C3%BC");
    }
}
