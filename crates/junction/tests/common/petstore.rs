//! A mock of the Swagger Petstore REST API (`/v2`, as in `fixtures/openapi/petstore.json`),
//! for the tests of OpenAPI specs served as MCP servers. It records every request it receives
//! (method, path with query, headers, body), so tests can assert what the gateway sent, and it
//! serves the spec fixtures at `/specs/<file>` so a spec can be loaded from a URL.
//!
//! Routes:
//! - `GET /v2/pet/{petId}`: pets 1 "doggie" (available), 2 "catty" (pending), 3 "fishy" (sold);
//!   an unknown id is 404 `{"code":1,"type":"error","message":"Pet not found"}`, a non-integer
//!   id 400.
//! - `GET /v2/pet/findByStatus?status=a&status=b` (repeated keys, or comma separated values):
//!   a JSON array of the matching pets, by id; a missing or unknown status is 400.
//! - `POST /v2/pet`: a JSON pet object (an id is assigned when absent); answers the stored pet.
//!   A body that is not a JSON object is 405 (the spec's "Invalid input").
//! - `POST /v2/pet/{petId}`: a form (`application/x-www-form-urlencoded`, else 415) with
//!   `name` and/or `status`; answers `{"code":200,"type":"unknown","message":"<id>"}`.
//! - `DELETE /v2/pet/{petId}`: removes the pet; answers
//!   `{"code":200,"type":"unknown","message":"<id>","api_key":<header api_key or null>}`.
//! - `GET /v2/store/inventory`: the count of pets by status, at first
//!   `{"available":1,"pending":1,"sold":1}`.
//! - `GET /v2/user/login?username=..&password=..`: `text/plain` `logged in user session:12345`
//!   (with `X-Rate-Limit` and `X-Expires-After` headers); 400 without both parameters.
//! - `GET /v2/slow`: answers `{"slow":true}` after 30 s (timeout tests).
//! - `GET /v2/status/{code}`: answers status `code` (200..=599) with `{"status":code}`.
//! - `GET /specs/{*file}`: a file of `tests/fixtures/openapi/` (subdirectories allowed, `..`
//!   refused), typed by its extension.
//! - Anything else: 404 `{"code":404,"type":"unknown","message":"not found"}`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// How long `GET /v2/slow` waits before answering.
pub const SLOW_DELAY: Duration = Duration::from_secs(30);

/// The largest request body recorded (larger ones are refused with 413).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// e.g. `/v2/pet/findByStatus?status=available&status=sold`, as received (not decoded).
    pub path_and_query: String,
    /// Lowercased names; repeated headers are joined with `", "`.
    pub headers: BTreeMap<String, String>,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

impl Recorded {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path)
    }

    /// The decoded query parameters, in order (repeated keys are repeated).
    pub fn query(&self) -> Vec<(String, String)> {
        self.path_and_query
            .split_once('?')
            .map(|(_, query)| parse_urlencoded(query))
            .unwrap_or_default()
    }

    /// A header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    pets: Mutex<BTreeMap<i64, Value>>,
}

type AppState = Arc<Shared>;

/// The running mock; dropping it stops accepting connections.
pub struct Petstore {
    /// The API base, e.g. `http://127.0.0.1:PORT/v2` (the `url` of an `mcp_servers` entry).
    pub url: String,
    /// Scheme, host and port, e.g. `http://127.0.0.1:PORT`.
    pub origin: String,
    shared: AppState,
    task: tokio::task::JoinHandle<()>,
}

impl Petstore {
    pub async fn start() -> Petstore {
        let shared = AppState::default();
        {
            let mut pets = lock(&shared.pets);
            for (id, name, status, category) in [
                (1, "doggie", "available", "Dogs"),
                (2, "catty", "pending", "Cats"),
                (3, "fishy", "sold", "Fish"),
            ] {
                pets.insert(
                    id,
                    json!({
                        "id": id,
                        "category": {"id": id, "name": category},
                        "name": name,
                        "photoUrls": [format!("https://example.invalid/{name}.png")],
                        "tags": [{"id": id, "name": name}],
                        "status": status,
                    }),
                );
            }
        }
        let router = Router::new()
            .route("/v2/pet", axum::routing::post(add_pet))
            .route("/v2/pet/findByStatus", get(find_by_status))
            .route(
                "/v2/pet/{petId}",
                get(get_pet).post(update_pet_with_form).delete(delete_pet),
            )
            .route("/v2/store/inventory", get(inventory))
            .route("/v2/user/login", get(login))
            .route("/v2/slow", get(slow))
            .route("/v2/status/{code}", get(status))
            .route("/specs/{*file}", get(spec_file))
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(shared.clone(), record))
            .with_state(shared.clone());
        #[allow(clippy::expect_used)]
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the petstore mock");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("the petstore mock's address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let origin = format!("http://{addr}");
        Petstore {
            url: format!("{origin}/v2"),
            origin,
            shared,
            task,
        }
    }

    /// Every request received so far, in order of arrival (recorded before it is answered,
    /// so a request that is still being served, e.g. `/v2/slow`, is included).
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// The requests whose path (without the query) starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path().starts_with(prefix))
            .collect()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// The URL of a spec fixture, e.g. `spec_url("multi/openapi.yaml")`.
    pub fn spec_url(&self, file: &str) -> String {
        format!("{}/specs/{file}", self.origin)
    }
}

impl Drop for Petstore {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `tests/fixtures/openapi` of this crate.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openapi")
}

/// The path of a spec fixture, e.g. `fixture_path("petstore.json")`, as a string for a config.
pub fn fixture_path(file: &str) -> String {
    fixtures_dir().join(file).display().to_string()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records the request (reading its body), then passes it on.
async fn record(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.ok();
    let mut headers = BTreeMap::<String, String>::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    lock(&shared.requests).push(Recorded {
        method: parts.method.as_str().to_owned(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        headers,
        body: bytes
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default(),
    });
    let Some(bytes) = bytes else {
        return api_error(StatusCode::PAYLOAD_TOO_LARGE, "unknown", "body unreadable");
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A Petstore `ApiResponse` body; its `code` is the HTTP status.
fn api_error(status: StatusCode, kind: &str, message: &str) -> Response {
    api_error_coded(status, status.as_u16(), kind, message)
}

fn api_error_coded(status: StatusCode, code: u16, kind: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "type": kind, "message": message})),
    )
        .into_response()
}

fn api_ok(message: String) -> Value {
    json!({"code": 200, "type": "unknown", "message": message})
}

fn invalid_id() -> Response {
    api_error(StatusCode::BAD_REQUEST, "error", "Invalid ID supplied")
}

fn pet_not_found() -> Response {
    api_error_coded(StatusCode::NOT_FOUND, 1, "error", "Pet not found")
}

async fn get_pet(State(shared): State<AppState>, UrlPath(pet_id): UrlPath<String>) -> Response {
    let Ok(id) = pet_id.parse::<i64>() else {
        return invalid_id();
    };
    match lock(&shared.pets).get(&id) {
        Some(pet) => axum::Json(pet.clone()).into_response(),
        None => pet_not_found(),
    }
}

const STATUSES: [&str; 3] = ["available", "pending", "sold"];

async fn find_by_status(State(shared): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let wanted: Vec<String> = parse_urlencoded(query.as_deref().unwrap_or(""))
        .into_iter()
        .filter(|(key, _)| key == "status")
        .flat_map(|(_, value)| {
            value
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.is_empty() || wanted.iter().any(|s| !STATUSES.contains(&s.as_str())) {
        return api_error(StatusCode::BAD_REQUEST, "error", "Invalid status value");
    }
    let found: Vec<Value> = lock(&shared.pets)
        .values()
        .filter(|pet| {
            pet["status"]
                .as_str()
                .is_some_and(|status| wanted.iter().any(|w| w == status))
        })
        .cloned()
        .collect();
    axum::Json(Value::Array(found)).into_response()
}

async fn add_pet(State(shared): State<AppState>, body: Bytes) -> Response {
    let Ok(Value::Object(mut pet)) = serde_json::from_slice::<Value>(&body) else {
        return api_error(StatusCode::METHOD_NOT_ALLOWED, "unknown", "Invalid input");
    };
    let mut pets = lock(&shared.pets);
    let id = match pet.get("id").and_then(Value::as_i64) {
        Some(id) if id > 0 => id,
        _ => pets.keys().next_back().copied().unwrap_or(0) + 1,
    };
    pet.insert("id".into(), json!(id));
    let pet = Value::Object(pet);
    pets.insert(id, pet.clone());
    axum::Json(pet).into_response()
}

async fn update_pet_with_form(
    State(shared): State<AppState>,
    UrlPath(pet_id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(id) = pet_id.parse::<i64>() else {
        return invalid_id();
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return api_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unknown",
            "expected application/x-www-form-urlencoded",
        );
    }
    let fields = parse_urlencoded(&String::from_utf8_lossy(&body));
    let mut pets = lock(&shared.pets);
    let Some(pet) = pets.get_mut(&id) else {
        return pet_not_found();
    };
    for (key, value) in fields {
        if key == "name" || key == "status" {
            pet[key.as_str()] = Value::String(value);
        }
    }
    axum::Json(api_ok(id.to_string())).into_response()
}

async fn delete_pet(
    State(shared): State<AppState>,
    UrlPath(pet_id): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = pet_id.parse::<i64>() else {
        return invalid_id();
    };
    let api_key = headers
        .get("api_key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if lock(&shared.pets).remove(&id).is_none() {
        return pet_not_found();
    }
    let mut answer = api_ok(id.to_string());
    answer["api_key"] = api_key.map_or(Value::Null, Value::String);
    axum::Json(answer).into_response()
}

async fn inventory(State(shared): State<AppState>) -> Response {
    let mut counts: BTreeMap<String, u64> = STATUSES.iter().map(|s| ((*s).to_owned(), 0)).collect();
    for pet in lock(&shared.pets).values() {
        if let Some(status) = pet["status"].as_str() {
            *counts.entry(status.to_owned()).or_default() += 1;
        }
    }
    axum::Json(json!(counts)).into_response()
}

async fn login(RawQuery(query): RawQuery) -> Response {
    let params = parse_urlencoded(query.as_deref().unwrap_or(""));
    let has = |name: &str| params.iter().any(|(key, _)| key == name);
    if !has("username") || !has("password") {
        return api_error(
            StatusCode::BAD_REQUEST,
            "error",
            "Invalid username/password supplied",
        );
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (
                header::HeaderName::from_static("x-rate-limit"),
                HeaderValue::from_static("5000"),
            ),
            (
                header::HeaderName::from_static("x-expires-after"),
                HeaderValue::from_static("2030-01-01T00:00:00Z"),
            ),
        ],
        "logged in user session:12345",
    )
        .into_response()
}

async fn slow() -> Response {
    tokio::time::sleep(SLOW_DELAY).await;
    axum::Json(json!({"slow": true})).into_response()
}

async fn status(UrlPath(code): UrlPath<String>) -> Response {
    let Some(status) = code
        .parse::<u16>()
        .ok()
        .filter(|c| (200..=599).contains(c))
        .and_then(|c| StatusCode::from_u16(c).ok())
    else {
        return api_error(StatusCode::BAD_REQUEST, "error", "status must be 200..=599");
    };
    if matches!(status.as_u16(), 204 | 205 | 304) {
        return status.into_response();
    }
    (status, axum::Json(json!({"status": status.as_u16()}))).into_response()
}

async fn spec_file(UrlPath(file): UrlPath<String>) -> Response {
    let relative = Path::new(&file);
    let safe = !file.contains('\\')
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return api_error(StatusCode::BAD_REQUEST, "error", "invalid spec path");
    }
    let content_type = match relative.extension().and_then(|e| e.to_str()) {
        Some("json") => "application/json",
        Some("yaml" | "yml") => "application/yaml",
        _ => "text/plain; charset=utf-8",
    };
    match tokio::fs::read(fixtures_dir().join(relative)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => api_error(StatusCode::NOT_FOUND, "unknown", "no such spec"),
    }
}

async fn not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "unknown", "not found")
}

/// `application/x-www-form-urlencoded` pairs (also query strings), percent-decoded.
fn parse_urlencoded(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
