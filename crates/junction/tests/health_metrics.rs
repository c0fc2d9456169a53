//! Probes and Prometheus metrics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MASTER_KEY, TestGateway, client};
use serde_json::json;

const CONFIG: &str = "model_list:\n  - model_name: demo\n    litellm_params:\n      model: openai/demo\n      mock_response: hi\n";

#[tokio::test]
async fn probes_answer_without_a_key() {
    let gw = TestGateway::start(CONFIG).await;
    let (status, body) = gw.get("/health/liveliness", None).await;
    assert_eq!((status, body), (200, json!("I'm alive!")));
    let (status, body) = gw.get("/health/readiness", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["db"], "connected");
}

#[tokio::test]
async fn metrics_count_requests_by_route_model_and_status_and_track_streams() {
    let gw = TestGateway::start(CONFIG).await;
    let ask = json!({"model": "demo", "messages": [{"role": "user", "content": "x"}]});
    gw.chat(MASTER_KEY, &ask).await;
    gw.chat(MASTER_KEY, &ask).await;
    gw.chat("sk-bad", &ask).await;
    let invented = json!({"model": "invented-by-a-client-123", "messages": [{"role": "user", "content": "x"}]});
    assert_eq!(gw.chat(MASTER_KEY, &invented).await.0, 404);
    let mut stream_ask = ask.clone();
    stream_ask["stream"] = json!(true);
    let resp = client()
        .post(gw.chat_url())
        .bearer_auth(MASTER_KEY)
        .json(&stream_ask)
        .send()
        .await
        .unwrap();
    resp.text().await.unwrap();

    let key = gw.generate_key(&json!({})).await;
    assert_eq!(
        gw.get("/metrics", Some(&key)).await.0,
        403,
        "metrics need the master key"
    );
    let resp = client()
        .get(format!("{}/metrics", gw.url))
        .bearer_auth(MASTER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    assert!(text.contains("junction_requests_total{route=\"/v1/chat/completions\",model=\"demo\",status=\"200\"} 3"), "{text}");
    assert!(
        text.contains(
            "junction_requests_total{route=\"/v1/chat/completions\",model=\"\",status=\"401\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("junction_request_duration_seconds_bucket{route=\"/v1/chat/completions\",model=\"demo\",status=\"200\",le=\"+Inf\"} 3"), "{text}");
    assert!(text.contains("junction_streams_in_flight 0"), "{text}");
    assert!(
        !text.contains("invented-by-a-client"),
        "client-chosen names must not become labels"
    );
    assert!(
        text.contains("model=\"(unknown)\",status=\"404\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_can_be_opened_like_litellm() {
    let gw = TestGateway::start(&format!(
        "{CONFIG}general_settings:\n  master_key: {MASTER_KEY}\n  require_auth_for_metrics_endpoint: false\n"
    ))
    .await;
    let resp = client()
        .get(format!("{}/metrics", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn readiness_fails_when_the_database_goes_away() {
    use sqlx::Connection;
    let db = common::TestDb::postgres().await;
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let admin_url = format!("{}/postgres", db.url.rsplit_once('/').unwrap().0);
    let gw = TestGateway::start_with_db(CONFIG, db).await;
    assert_eq!(gw.get("/health/readiness", None).await.0, 200);

    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::Executor::execute(
        &mut admin,
        format!("DROP DATABASE {name} WITH (FORCE)").as_str(),
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, body) = gw.get("/health/readiness", None).await;
        if status == 503 {
            assert_eq!(body["db"], "disconnected");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "readiness still {status}: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Liveness is about the process, not its dependencies.
    assert_eq!(gw.get("/health/liveliness", None).await.0, 200);
}
