//! Every client error comes back as OpenAI-style JSON with the right status.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MASTER_KEY, TestGateway, client};
use serde_json::{Value, json};

const CONFIG: &str = "model_list:\n  - model_name: demo\n    litellm_params:\n      model: openai/demo\n      mock_response: hi\n  - model_name: other\n    litellm_params:\n      model: openai/other\n      mock_response: hi\ngeneral_settings:\n  master_key: sk-test-master-0001\n  max_request_size_mb: 0.01\n";

fn assert_openai_error(status: u16, body: &Value, expected: u16) {
    assert_eq!(status, expected, "{body}");
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["type"].is_string(), "{body}");
    assert!(error.get("param").is_some(), "{body}");
    assert_eq!(error["code"], expected.to_string(), "{body}");
}

async fn raw_post(
    gw: &TestGateway,
    key: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut req = client()
        .post(gw.chat_url())
        .header("content-type", "application/json")
        .body(body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_requests_get_400() {
    let gw = TestGateway::start(CONFIG).await;
    for body in [
        "{not json".to_owned(),
        "".to_owned(),
        json!({"messages": [{"role": "user", "content": "x"}]}).to_string(),
        json!({"model": "demo"}).to_string(),
        json!({"model": "demo", "messages": "hi"}).to_string(),
        json!({"model": "demo", "messages": [{"role": "user", "content": "x"}], "stream": "yes"})
            .to_string(),
    ] {
        let (status, json) = raw_post(&gw, Some(MASTER_KEY), body.clone()).await;
        assert_openai_error(status, &json, 400);
        assert_eq!(json["error"]["type"], "invalid_request_error", "{body}");
    }
}

#[tokio::test]
async fn missing_or_wrong_keys_get_401_whatever_the_header() {
    let gw = TestGateway::start(CONFIG).await;
    let body = json!({"model": "demo", "messages": [{"role": "user", "content": "x"}]});
    let (status, json) = gw.chat("sk-wrong", &body).await;
    assert_openai_error(status, &json, 401);
    let (status, json) = gw.post("/v1/chat/completions", None, &body).await;
    assert_openai_error(status, &json, 401);
    for (header, value) in [
        ("x-litellm-api-key", MASTER_KEY.to_owned()),
        ("x-litellm-api-key", format!("Bearer {MASTER_KEY}")),
        ("authorization", format!("Bearer {MASTER_KEY}")),
        ("api-key", MASTER_KEY.to_owned()),
    ] {
        let resp = client()
            .post(gw.chat_url())
            .header(header, value)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{header}");
    }
    for path in ["/v1/models", "/metrics", "/key/list", "/key/info?key=x"] {
        let (status, json) = gw.get(path, None).await;
        assert_openai_error(status, &json, 401);
    }
}

#[tokio::test]
async fn a_key_limited_to_some_models_gets_403_for_the_others() {
    let gw = TestGateway::start(CONFIG).await;
    let key = gw.generate_key(&json!({"models": ["demo"]})).await;
    let (status, _) = gw
        .chat(
            &key,
            &json!({"model": "demo", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, json) = gw
        .chat(
            &key,
            &json!({"model": "other", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_openai_error(status, &json, 403);
    let (status, json) = gw.get("/v1/models", Some(&key)).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["demo"]);
    let (status, json) = gw.get("/key/list", Some(&key)).await;
    assert_openai_error(status, &json, 403);
}

#[tokio::test]
async fn unknown_models_get_404() {
    let gw = TestGateway::start(CONFIG).await;
    let (status, json) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_openai_error(status, &json, 404);
    assert_eq!(json["error"]["param"], "model");
    let (status, json) = gw.get("/no/such/route", Some(MASTER_KEY)).await;
    assert_openai_error(status, &json, 404);
}

#[tokio::test]
async fn oversized_bodies_get_413_declared_or_streamed() {
    let gw = TestGateway::start(CONFIG).await;
    let big =
        json!({"model": "demo", "messages": [{"role": "user", "content": "x".repeat(20_000)}]})
            .to_string();
    let (status, json) = raw_post(&gw, Some(MASTER_KEY), big.clone()).await;
    assert_openai_error(status, &json, 413);
    // Chunked, without Content-Length: the limit still holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .into_bytes()
        .chunks(1000)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let (status, json) = raw_post(
        &gw,
        Some(MASTER_KEY),
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)),
    )
    .await;
    assert_openai_error(status, &json, 413);
}

#[tokio::test]
async fn the_models_list_has_openai_shape() {
    let gw = TestGateway::start(CONFIG).await;
    let (status, json) = gw.get("/models", Some(MASTER_KEY)).await;
    assert_eq!(status, 200);
    assert_eq!(json["object"], "list");
    assert_eq!(json["data"][0]["id"], "demo");
    assert_eq!(json["data"][0]["object"], "model");
    assert_eq!(json["data"][1]["id"], "other");
}
