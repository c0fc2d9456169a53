//! The admin web UI at `/ui`: the files `junction-ui` embeds, and `GET /ui/api/session`, which
//! tells the UI who a key belongs to.
//!
//! The files themselves need no key: they are the same for everyone and hold no data; every
//! piece of data the UI shows comes from the API, which checks the key the user signed in
//! with. LiteLLM's `DISABLE_ADMIN_UI=true` turns the UI off (404). For work on the UI,
//! `JUNCTION_UI_DIR=<dir>` serves the files of an esbuild output directory from disk
//! (`node ui/build.mjs <dir> --watch`) instead of the embedded ones.

use std::path::PathBuf;
use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use crate::access_log::RequestLog;
use crate::principal::Principal;
use crate::state::SharedState;

/// What a browser may do with the UI's pages: load only this origin's scripts, styles and API,
/// never be framed (clickjacking), never send a referrer.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn disabled() -> bool {
    static DISABLED: OnceLock<bool> = OnceLock::new();
    *DISABLED.get_or_init(|| {
        std::env::var("DISABLE_ADMIN_UI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    })
}

fn dev_dir() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| std::env::var_os("JUNCTION_UI_DIR").map(PathBuf::from))
        .as_ref()
}

/// `GET /ui`: the UI's files are relative to `/ui/`.
pub async fn root() -> Response {
    if disabled() {
        return not_found();
    }
    Redirect::permanent("/ui/").into_response()
}

/// `GET /ui/`: the page.
pub async fn index(headers: HeaderMap) -> Response {
    file("index.html", &headers).await
}

/// `GET /ui/{file}`: a script, stylesheet or other file of the UI.
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    file(&path, &headers).await
}

async fn file(path: &str, headers: &HeaderMap) -> Response {
    if disabled() {
        return not_found();
    }
    if let Some(dir) = dev_dir() {
        return from_disk(dir, path).await;
    }
    let Some(asset) = junction_ui::asset(path) else {
        return not_found();
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tag| tag.as_bytes() == asset.etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    // Revalidate every time: file names carry no hash, and a new binary must show its own UI.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    security_headers(h);
    response
}

/// The development path: files straight from `dir`, never cached. Only plain file names are
/// looked up, so `..` cannot leave the directory.
async fn from_disk(dir: &std::path::Path, path: &str) -> Response {
    if path.is_empty() || path.contains(['/', '\\']) || path.starts_with('.') {
        return not_found();
    }
    let Ok(body) = tokio::fs::read(dir.join(path)).await else {
        return not_found();
    };
    let content_type = match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    security_headers(h);
    response
}

fn security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// `GET /ui/api/session`: whether the presented key is the master key or a virtual key, and
/// what the UI shows of it. The UI signs in with this call.
pub async fn session(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = super::caller(&state, &headers, &mut log).await?;
        let body = match &principal {
            Principal::Admin => json!({"role": "admin"}),
            Principal::Key(holder) => json!({
                "role": "key",
                "token": holder.key.token_hash,
                "key_name": holder.key.key_name,
                "key_alias": holder.key.key_alias,
                "team_id": holder.key.team_id,
                "user_id": holder.key.user_id,
                "models": holder.key.models,
            }),
            Principal::Anonymous => json!({"role": "anonymous"}),
        };
        Ok(axum::Json(body).into_response())
    }
    .await;
    super::finish(result, log)
}
