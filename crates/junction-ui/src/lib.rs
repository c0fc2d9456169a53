//! The admin UI's files, embedded in the binary.
//!
//! `build.rs` bundles the TypeScript app in `ui/` with esbuild at compile time; this crate
//! only looks the results up. The server decides how to serve them (`junction-server`'s
//! `routes/ui.rs`).

/// One embedded file of the UI.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The file name inside the UI, e.g. `main.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    /// A quoted strong ETag, a hash of `body`.
    pub etag: &'static str,
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The file at `path` (relative to `/ui/`), if the UI has one.
pub fn asset(path: &str) -> Option<Asset> {
    ASSETS.iter().find(|a| a.path == path).copied()
}

/// The page every UI route loads.
pub fn index() -> Option<Asset> {
    asset("index.html")
}

/// False when the binary was built without Node.js: `index()` is then a page saying so.
pub fn is_built() -> bool {
    BUILT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_page_is_embedded() {
        let index = index();
        assert!(index.is_some_and(|i| i.content_type.starts_with("text/html")));
        assert!(asset("../Cargo.toml").is_none());
    }
}
