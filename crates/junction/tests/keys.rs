//! Virtual keys end to end, on SQLite and on Postgres: generate, use, limits, info, update,
//! delete, and that only hashes are stored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MASTER_KEY, TestDb, TestGateway};
use serde_json::json;

fn config() -> String {
    "model_list:\n  - model_name: demo\n    litellm_params:\n      model: openai/demo\n      mock_response: hello there\n      input_cost_per_token: 0.5\n      output_cost_per_token: 1.0\n  - model_name: other\n    litellm_params:\n      model: openai/other\n      mock_response: hi\n".to_owned()
}

fn ask(model: &str) -> serde_json::Value {
    json!({"model": model, "messages": [{"role": "user", "content": "one two"}]})
}

async fn key_lifecycle(db: TestDb) {
    let gw = TestGateway::start_with_db(&config(), db).await;
    let (status, generated) = gw
        .post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"models": ["demo"], "key_alias": "alice", "metadata": {"team": "x"},
                    "max_budget": 100.0, "duration": "1h"}),
        )
        .await;
    assert_eq!(status, 200, "{generated}");
    let key = generated["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk-") && key.len() >= 20, "{key}");
    assert_eq!(generated["key_alias"], "alice");
    assert_eq!(generated["models"], json!(["demo"]));
    assert!(generated["expires"].as_str().unwrap().ends_with('Z'));
    let token = generated["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);

    // Use: allowed model, forbidden model.
    assert_eq!(gw.chat(&key, &ask("demo")).await.0, 200);
    assert_eq!(gw.chat(&key, &ask("other")).await.0, 403);

    // Info by raw key, by token, and about oneself without a parameter.
    let (status, info) = gw
        .get(&format!("/key/info?key={key}"), Some(MASTER_KEY))
        .await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["info"]["key_alias"], "alice");
    assert_eq!(info["info"]["metadata"], json!({"team": "x"}));
    assert!(
        info["info"].get("key").is_none(),
        "info must not return the raw key"
    );
    let (status, by_token) = gw
        .get(&format!("/key/info?key={token}"), Some(MASTER_KEY))
        .await;
    assert_eq!((status, &by_token["info"]["token"]), (200, &json!(token)));
    let (status, own) = gw.get("/key/info", Some(&key)).await;
    assert_eq!((status, &own["info"]["key_alias"]), (200, &json!("alice")));

    // Spend from the configured prices: 2 prompt words * 0.5 + 2 completion words * 1.0 = 3.
    let spend = poll_spend(&gw, &token, 3.0).await;
    assert!((spend - 3.0).abs() < 1e-9, "spend {spend}");

    // Update: open every model, then a budget already spent.
    let (status, updated) = gw
        .post(
            "/key/update",
            Some(MASTER_KEY),
            &json!({"key": key, "models": [], "key_alias": "alice2"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["key_alias"], "alice2");
    assert_eq!(gw.chat(&key, &ask("other")).await.0, 200);
    let (status, _) = gw
        .post(
            "/key/update",
            Some(MASTER_KEY),
            &json!({"key": key, "max_budget": 1.0}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = gw.chat(&key, &ask("demo")).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["type"], "budget_exceeded");
    let (status, _) = gw
        .post(
            "/key/update",
            Some(MASTER_KEY),
            &json!({"key": key, "max_budget": null, "rpm_limit": 2}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(gw.chat(&key, &ask("demo")).await.0, 200);
    assert_eq!(gw.chat(&key, &ask("demo")).await.0, 200);
    let (status, body) = gw.chat(&key, &ask("demo")).await;
    assert_eq!(status, 429, "{body}");

    // A non-admin key cannot manage keys or read others.
    let other = gw.generate_key(&json!({})).await;
    assert_eq!(
        gw.post("/key/generate", Some(&other), &json!({})).await.0,
        403
    );
    assert_eq!(
        gw.get(&format!("/key/info?key={key}"), Some(&other))
            .await
            .0,
        403
    );

    // Delete: the key stops working at once on this replica.
    let (status, deleted) = gw
        .post("/key/delete", Some(MASTER_KEY), &json!({"keys": [key]}))
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["deleted_keys"], json!([key]));
    assert_eq!(gw.chat(&key, &ask("demo")).await.0, 401);
    assert_eq!(
        gw.post("/key/delete", Some(MASTER_KEY), &json!({"keys": [key]}))
            .await
            .0,
        404
    );
    let (status, _) = gw
        .post(
            "/key/update",
            Some(MASTER_KEY),
            &json!({"key": key, "models": []}),
        )
        .await;
    assert_eq!(status, 404);

    // Aliases are unique; deletion by alias works.
    gw.generate_key(&json!({"key_alias": "bob"})).await;
    assert_eq!(
        gw.post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"key_alias": "bob"})
        )
        .await
        .0,
        409
    );
    let (status, deleted) = gw
        .post(
            "/key/delete",
            Some(MASTER_KEY),
            &json!({"key_aliases": ["bob"]}),
        )
        .await;
    assert_eq!((status, &deleted["deleted_keys"]), (200, &json!(["bob"])));

    // Expired keys are refused.
    let (status, short) = gw
        .post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"duration": "1s"}),
        )
        .await;
    assert_eq!(status, 200);
    let short = short["key"].as_str().unwrap().to_owned();
    assert_eq!(gw.chat(&short, &ask("demo")).await.0, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (status, body) = gw.chat(&short, &ask("demo")).await;
        if status == 401 {
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("Expired"),
                "{body}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "key never expired");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Bad input to the admin API.
    assert_eq!(
        gw.post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"duration": "soon"})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        gw.post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"models": "demo"})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        gw.post("/key/update", Some(MASTER_KEY), &json!({"models": []}))
            .await
            .0,
        400
    );
}

/// Spend is written in the background; poll the info endpoint until it shows.
async fn poll_spend(gw: &TestGateway, token: &str, at_least: f64) -> f64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, info) = gw
            .get(&format!("/key/info?key={token}"), Some(MASTER_KEY))
            .await;
        let spend = info["info"]["spend"].as_f64().unwrap_or(0.0);
        if spend >= at_least || std::time::Instant::now() > deadline {
            return spend;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn keys_on_sqlite() {
    key_lifecycle(TestDb::sqlite()).await;
}

#[tokio::test]
async fn keys_on_postgres() {
    key_lifecycle(TestDb::postgres().await).await;
}

#[tokio::test]
async fn keys_survive_a_restart_and_are_stored_hashed() {
    let gw = TestGateway::start(&config()).await;
    let key = gw.generate_key(&json!({"key_alias": "persist"})).await;
    let db = gw.stop_keep_db().await;
    let path = db.sqlite_path().unwrap().to_owned();

    let gw = TestGateway::start_with_db(&config(), db).await;
    assert_eq!(gw.chat(&key, &ask("demo")).await.0, 200);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
    let needle = key.as_bytes();
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "the raw key is in the database file"
    );
}

/// A budgeted key cannot stream for free: streamed answers are charged from the upstream's
/// usage, which the gateway requests itself and hides from a client that did not ask for it.
#[tokio::test]
async fn streamed_answers_are_charged_without_showing_usage_to_the_client() {
    let mock = junction_mock_upstream::MockUpstream::start().await.unwrap();
    let priced = |name: &str, model: &str, base: &str| {
        format!(
            "  - model_name: {name}\n    litellm_params:\n      model: {model}\n      api_base: {base}\n      input_cost_per_token: 1.0\n      output_cost_per_token: 1.0\n"
        )
    };
    let yaml = format!(
        "model_list:\n{}{}",
        priced("gpt", "openai/gpt", &mock.openai_base()),
        priced("claude", "anthropic/claude", &mock.url())
    );
    let gw = TestGateway::start(&yaml).await;
    let (status, generated) = gw.post("/key/generate", Some(MASTER_KEY), &json!({})).await;
    assert_eq!(status, 200);
    let key = generated["key"].as_str().unwrap().to_owned();
    let token = generated["token"].as_str().unwrap().to_owned();
    let mut charged = 0.0;
    for model in ["gpt", "claude"] {
        let text = gw.chat_text(&key, &json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "hi"}]})).await;
        let events = common::sse_data(&text);
        assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{text}");
        for event in events.iter().filter(|e| *e != "[DONE]") {
            let chunk: serde_json::Value = serde_json::from_str(event).unwrap();
            assert!(
                !chunk["choices"].as_array().unwrap().is_empty(),
                "{model}: a usage-only chunk reached a client that did not ask for it: {event}"
            );
        }
        let spend = poll_spend(&gw, &token, charged + 1.0).await;
        assert!(
            spend > charged,
            "{model}: the stream was not charged (spend {spend})"
        );
        charged = spend;
    }
    // The upstream was asked for usage although the client did not ask.
    assert_eq!(
        mock.requests()[0].body["stream_options"]["include_usage"],
        true
    );
}
