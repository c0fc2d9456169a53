//! Deployments of one model: round-robin, failover on connect errors and 5xx, and the statuses
//! the client sees when upstreams fail (502, 504, relayed 4xx and 429).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MASTER_KEY, TestGateway, closed_port_url, deployment};
use junction_mock_upstream::MockUpstream;
use serde_json::json;

fn hello() -> serde_json::Value {
    json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn requests_alternate_between_deployments() {
    let a = MockUpstream::start().await.unwrap();
    let b = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n{}{}",
        deployment("m", "openai/a", &a.openai_base()),
        deployment("m", "openai/b", &b.openai_base())
    );
    let gw = TestGateway::start(&yaml).await;
    for _ in 0..10 {
        let (status, _) = gw.chat(MASTER_KEY, &hello()).await;
        assert_eq!(status, 200);
    }
    assert_eq!((a.request_count(), b.request_count()), (5, 5));
}

#[tokio::test]
async fn connect_errors_and_5xx_fail_over_to_the_next_deployment() {
    let healthy = MockUpstream::start().await.unwrap();
    let broken = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n{}{}{}",
        deployment("m", "openai/down", &closed_port_url().await),
        deployment("m", "openai/error-503", &broken.openai_base()),
        deployment("m", "openai/ok", &healthy.openai_base())
    );
    let gw = TestGateway::start(&yaml).await;
    for _ in 0..6 {
        let (status, body) = gw.chat(MASTER_KEY, &hello()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["choices"][0]["message"]["content"],
            "Hello from ok! You said: hi"
        );
    }
    assert_eq!(healthy.request_count(), 6);
    assert!(
        broken.request_count() >= 2,
        "the 5xx deployment was tried in turn"
    );
    let (_, metrics) = metrics_text(&gw).await;
    assert!(metrics.contains("reason=\"connect\""), "{metrics}");
    assert!(metrics.contains("reason=\"status_5xx\""), "{metrics}");
}

async fn metrics_text(gw: &TestGateway) -> (u16, String) {
    let resp = common::client()
        .get(format!("{}/metrics", gw.url))
        .bearer_auth(MASTER_KEY)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn when_every_deployment_fails_the_client_gets_502() {
    let broken = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n{}{}",
        deployment("m", "openai/down", &closed_port_url().await),
        deployment("m", "openai/error-500", &broken.openai_base()),
    );
    let gw = TestGateway::start(&yaml).await;
    let (status, body) = gw.chat(MASTER_KEY, &hello()).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "502");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("500"),
        "{body}"
    );
}

#[tokio::test]
async fn a_slow_upstream_gives_504_after_the_deployment_timeout() {
    let slow = MockUpstream::start().await.unwrap();
    let yaml = format!(
        "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/slow-3000\n      api_base: {}\n      timeout: 0.3\n",
        slow.openai_base()
    );
    let gw = TestGateway::start(&yaml).await;
    let started = std::time::Instant::now();
    let (status, body) = gw.chat(MASTER_KEY, &hello()).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"]["type"], "timeout");
    assert!(
        started.elapsed().as_millis() < 2500,
        "timed out late: {:?}",
        started.elapsed()
    );
    // Streams are bounded by the same timeout while waiting for the first byte.
    let (status, _) = gw
        .chat(
            MASTER_KEY,
            &json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 504);
}

#[tokio::test]
async fn upstream_4xx_and_429_are_relayed_without_failover() {
    let limited = MockUpstream::start().await.unwrap();
    let other = MockUpstream::start().await.unwrap();
    for (model, expected) in [("error-429", 429), ("error-400", 400)] {
        let yaml = format!(
            "model_list:\n{}",
            deployment("m", &format!("openai/{model}"), &limited.openai_base()),
        );
        let gw = TestGateway::start(&yaml).await;
        let (status, body) = gw.chat(MASTER_KEY, &hello()).await;
        assert_eq!(status, expected, "{body}");
        assert_eq!(body["error"]["code"], expected.to_string());
    }
    // A 4xx is the request's fault: another deployment would refuse it too.
    let yaml = format!(
        "model_list:\n{}{}",
        deployment("m", "openai/error-400", &limited.openai_base()),
        deployment("m", "openai/fine", &other.openai_base()),
    );
    let gw = TestGateway::start(&yaml).await;
    let (status, _) = gw.chat(MASTER_KEY, &hello()).await;
    assert_eq!(status, 400);
    assert_eq!(other.request_count(), 0);
}
