//! The harness both store test files share: a throw-away SQLite file or Postgres database
//! per test, and `both_backends!`, which runs each test function once on each.
//!
//! Postgres: admin URL from `JUNCTION_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Each test creates its own
//! `junction_test_<hex>` database and drops it afterwards. An unreachable
//! server makes the Postgres tests FAIL, on purpose: skipping would hide that
//! half of the storage layer went untested.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use junction_store::{Backend, NewKey, Store, hash_key, key_display_name};
use serde_json::Map;
use sqlx::{AnyPool, Connection};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A throw-away database and how to remove it.
pub struct TestDb {
    url: String,
    cleanup: Cleanup,
}

pub enum Cleanup {
    File(PathBuf),
    Database { admin_url: String, name: String },
}

/// What a test function receives.
#[derive(Clone)]
pub struct Ctx {
    pub url: String,
    pub kind: Kind,
}

impl Ctx {
    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.url).await.unwrap();
        let expected = match self.kind {
            Kind::Sqlite => Backend::Sqlite,
            Kind::Postgres => Backend::Postgres,
        };
        assert_eq!(store.backend(), expected);
        store
    }

    /// A plain pool on the same database, for checks behind the store's back.
    pub async fn raw(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect(&self.url).await.unwrap()
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).unwrap();
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn postgres_admin_url() -> String {
    std::env::var("JUNCTION_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

pub async fn admin_connection(admin_url: &str) -> sqlx::PgConnection {
    let attempt = tokio::time::timeout(
        Duration::from_secs(10),
        sqlx::PgConnection::connect(admin_url),
    )
    .await;
    match attempt {
        Ok(Ok(conn)) => conn,
        Ok(Err(err)) => panic!(
            "Postgres tests need a reachable server: cannot connect to {} ({err}). \
             Start Postgres or set JUNCTION_TEST_POSTGRES_URL.",
            redact(admin_url)
        ),
        Err(_) => panic!(
            "Postgres tests need a reachable server: connecting to {} timed out after 10s. \
             Start Postgres or set JUNCTION_TEST_POSTGRES_URL.",
            redact(admin_url)
        ),
    }
}

pub async fn create_db(kind: Kind) -> TestDb {
    match kind {
        Kind::Sqlite => {
            let path = std::env::temp_dir().join(format!("junction_test_{}.db", random_hex(8)));
            TestDb {
                url: format!("sqlite://{}?mode=rwc", path.display()),
                cleanup: Cleanup::File(path),
            }
        }
        Kind::Postgres => {
            let admin_url = postgres_admin_url();
            let name = format!("junction_test_{}", random_hex(8));
            let mut admin = admin_connection(&admin_url).await;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
            admin.close().await.unwrap();
            TestDb {
                url: with_database(&admin_url, &name),
                cleanup: Cleanup::Database { admin_url, name },
            }
        }
    }
}

pub async fn destroy_db(db: TestDb) {
    match db.cleanup {
        Cleanup::File(path) => {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
        }
        Cleanup::Database { admin_url, name } => {
            let mut admin = admin_connection(&admin_url).await;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("DROP DATABASE {name} failed: {e}"));
            admin.close().await.unwrap();
        }
    }
}

/// Runs `test` against a fresh database of `kind`, always cleaning up, then
/// re-raises the test's panic if it failed.
pub async fn with_db<F, Fut>(kind: Kind, test: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = create_db(kind).await;
    let ctx = Ctx {
        url: db.url.clone(),
        kind,
    };
    let outcome = tokio::spawn(test(ctx)).await;
    destroy_db(db).await;
    if let Err(err) = outcome {
        match err.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(err) => panic!("test task failed: {err}"),
        }
    }
}

/// Generates `sqlite::<name>` and `postgres::<name>` for each test function.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::with_db(super::Kind::Sqlite, super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::with_db(super::Kind::Postgres, super::$name).await;
                }
            )*
        }
    };
}

/// A key with only what is required: the hash and display name of `raw`.
pub fn minimal_key(raw: &str) -> NewKey {
    NewKey {
        token_hash: hash_key(raw),
        key_name: key_display_name(raw),
        key_alias: None,
        models: Vec::new(),
        metadata: Map::new(),
        max_budget: None,
        team_id: None,
        user_id: None,
        rpm_limit: None,
        tpm_limit: None,
        expires_at: None,
        object_permission: None,
        organization_id: None,
    }
}
