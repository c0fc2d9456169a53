//! Test harness: a real gateway on an ephemeral port, against real databases and mock upstreams.
//!
//! Tests talk to it over HTTP only. The gateway is built from YAML text through the same
//! parser and wiring as the binary (`junction_config::parse` + `junction_server::Gateway`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod mcp;
pub mod petstore;

use std::time::Duration;

use serde_json::Value;

pub const MASTER_KEY: &str = "sk-test-master-0001";

/// A database for one test: an SQLite file, or a fresh Postgres database dropped afterwards.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    getrandom::getrandom(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("junction-it-{}.db", random_suffix()));
        TestDb {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            cleanup: Cleanup::File(path),
        }
    }

    /// Postgres must be reachable (`.ci/run` starts it); the test fails otherwise.
    pub async fn postgres() -> TestDb {
        use sqlx::Connection;
        let admin_url = std::env::var("JUNCTION_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("junction_it_{}", random_suffix());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("Postgres at {admin_url} is required for this test: {e}"));
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        TestDb {
            url: format!("{base}/{name}"),
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match &self.cleanup {
            Cleanup::File(path) => Some(path),
            Cleanup::Postgres { .. } => None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; a separate thread gets its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        use sqlx::Connection;
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::Executor::execute(
                                &mut conn,
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                            )
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A running gateway. Dropping it stops the server.
pub struct TestGateway {
    pub url: String,
    pub db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestGateway {
    /// `yaml` is a config; `general_settings.master_key` is added when absent.
    pub async fn start(yaml: &str) -> TestGateway {
        Self::start_with_db(yaml, TestDb::sqlite()).await
    }

    pub async fn start_with_db(yaml: &str, db: TestDb) -> TestGateway {
        let yaml = if yaml.contains("general_settings") {
            yaml.to_owned()
        } else {
            format!("{yaml}\ngeneral_settings:\n  master_key: {MASTER_KEY}\n")
        };
        let loaded = junction_config::parse(&yaml, &|_| None).unwrap_or_else(|e| panic!("{e}"));
        let gateway = junction_server::Gateway::start(&loaded.config, &db.url)
            .await
            .unwrap_or_else(|e| panic!("gateway failed to start: {e}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gateway.serve(
            listener,
            1,
            async move {
                let _ = rx.await;
            },
            Duration::from_secs(5),
        ));
        TestGateway {
            url,
            db,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn chat_url(&self) -> String {
        format!("{}/v1/chat/completions", self.url)
    }

    /// POSTs JSON with a key; returns status and parsed body (Null when not JSON).
    pub async fn post(&self, path: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
        send(client().post(format!("{}{path}", self.url)).json(body), key).await
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        send(client().get(format!("{}{path}", self.url)), key).await
    }

    /// POSTs a chat request and returns the whole body as text (what a stream sent).
    pub async fn chat_text(&self, key: &str, body: &Value) -> String {
        let resp = client()
            .post(self.chat_url())
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        resp.text().await.unwrap()
    }

    pub async fn chat(&self, key: &str, body: &Value) -> (u16, Value) {
        self.post("/v1/chat/completions", Some(key), body).await
    }

    /// Creates a virtual key with the master key; returns the raw key.
    pub async fn generate_key(&self, body: &Value) -> String {
        let (status, json) = self.post("/key/generate", Some(MASTER_KEY), body).await;
        assert_eq!(status, 200, "{json}");
        json["key"].as_str().unwrap().to_owned()
    }

    /// Stops the server and hands back its database, to start another gateway on it.
    pub async fn stop_keep_db(mut self) -> TestDb {
        self.stop_inner().await;
        let placeholder = TestDb {
            url: String::new(),
            cleanup: Cleanup::File(std::path::PathBuf::new()),
        };
        std::mem::replace(&mut self.db, placeholder)
    }

    /// Stops the server, waiting for in-flight requests.
    pub async fn stop(mut self) {
        self.stop_inner().await;
    }

    async fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn send(mut req: reqwest::RequestBuilder, key: Option<&str>) -> (u16, Value) {
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The `data:` payloads of an SSE body, `[DONE]` included.
pub fn sse_data(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
        .map(str::to_owned)
        .collect()
}

/// Joins `delta.content` of chat chunks.
pub fn streamed_text(events: &[String]) -> String {
    events
        .iter()
        .filter(|e| *e != "[DONE]")
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// A config entry for one deployment.
pub fn deployment(model_name: &str, model: &str, api_base: &str) -> String {
    format!(
        "  - model_name: {model_name}\n    litellm_params:\n      model: {model}\n      api_base: {api_base}\n      api_key: sk-upstream-secret\n"
    )
}

/// An address nobody listens on (bound, then released), for connect-error tests.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}
