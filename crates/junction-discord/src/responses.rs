//! The bot's client of Junction's Responses API (`POST /v1/responses`).
//!
//! One question is one call: the text, the conversation's `previous_response_id`, and one
//! `mcp` tool per configured server with `server_url: "litellm_proxy"` and
//! `require_approval: "never"`, so Junction lists the tools, runs the calls the model asks
//! for and answers once the model is done. Streamed, the text arrives as
//! `response.output_text.delta` events and the finished response as the terminal event.
//! Every way this can go wrong ends as an [`AskError`] with a short sentence for the user.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::config::McpServer;
use crate::sse;

/// One question to the model.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub model: &'a str,
    pub input: &'a str,
    pub previous_response_id: Option<&'a str>,
    pub instructions: Option<&'a str>,
    pub mcp_servers: &'a [McpServer],
}

/// The finished answer: the response id to continue from, and the text to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub response_id: String,
    pub text: String,
}

/// Why there is no answer.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("cannot reach Junction: {0}")]
    Unreachable(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Junction does not know (or no longer shows this key) the response the conversation
    /// continues from: the caller starts a new conversation.
    #[error("the previous response is unknown: {0}")]
    UnknownPrevious(String),
    #[error("Junction answered {status}: {message}")]
    Rejected { status: u16, message: String },
    #[error("the response failed: {0}")]
    Failed(String),
    #[error("unreadable answer from Junction: {0}")]
    Protocol(String),
}

impl AskError {
    /// What the bot says in the channel: short, and never silent.
    pub fn user_message(&self) -> String {
        let text = match self {
            AskError::Unreachable(_) => {
                "I can't reach the AI gateway right now. Please try again in a moment.".to_owned()
            }
            AskError::Timeout(limit) => format!(
                "No answer after {} seconds, so I gave up. Please try again.",
                limit.as_secs()
            ),
            AskError::Rejected {
                status: 401 | 403,
                message,
            } => {
                format!("The AI gateway refused my credentials: {}", short(message))
            }
            AskError::Rejected {
                status: 429,
                message,
            } => {
                format!(
                    "The AI gateway is limiting me right now: {}",
                    short(message)
                )
            }
            AskError::Rejected { status, message } => format!(
                "The AI gateway answered with an error ({status}): {}",
                short(message)
            ),
            AskError::UnknownPrevious(_) => {
                "I lost track of our conversation; please ask again.".to_owned()
            }
            AskError::Failed(message) => {
                format!("Something went wrong while answering: {}", short(message))
            }
            AskError::Protocol(_) => {
                "The AI gateway sent an answer I could not read. Please try again.".to_owned()
            }
        };
        format!("\u{26a0}\u{fe0f} {text}")
    }
}

/// The client: one per bot, shared by every conversation.
#[derive(Clone)]
pub struct ResponsesClient {
    http: reqwest::Client,
    endpoint: String,
    api_key: Option<String>,
    timeout: Duration,
}

impl ResponsesClient {
    /// `base_url` is Junction's address (`http://host:4000`); `timeout` bounds a whole
    /// answer, tool calls and streaming included.
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        timeout: Duration,
    ) -> Result<ResponsesClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(ResponsesClient {
            http,
            endpoint: format!("{}/v1/responses", base_url.trim_end_matches('/')),
            api_key,
            timeout,
        })
    }

    /// Asks and waits for the whole answer.
    pub async fn ask(&self, question: &Question<'_>) -> Result<Answer, AskError> {
        let limit = self.timeout;
        let work = async {
            let response = self.send(question, false).await?;
            let body: Value = response
                .json()
                .await
                .map_err(|e| transport_error(&e, limit))?;
            answer_of(&body)
        };
        tokio::time::timeout(limit, work)
            .await
            .map_err(|_| AskError::Timeout(limit))?
    }

    /// Asks with `stream: true`: the text so far is published on `text` as it grows.
    pub async fn ask_streaming(
        &self,
        question: &Question<'_>,
        text: &watch::Sender<String>,
    ) -> Result<Answer, AskError> {
        let limit = self.timeout;
        let work = async {
            let response = self.send(question, true).await?;
            let mut body = response.bytes_stream();
            let mut decoder = sse::Decoder::default();
            let mut current_item: Option<String> = None;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| transport_error(&e, limit))?;
                for event in decoder.push(&chunk) {
                    if event.data == "[DONE]" {
                        continue;
                    }
                    let data: Value = serde_json::from_str(&event.data)
                        .map_err(|e| AskError::Protocol(format!("event {}: {e}", event.name)))?;
                    let kind = data
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or(event.name.as_str());
                    match kind {
                        "response.output_text.delta" => {
                            let delta = data.get("delta").and_then(Value::as_str).unwrap_or("");
                            let item = data.get("item_id").and_then(Value::as_str);
                            // Text of a later message (after a tool round) starts a new
                            // paragraph, as the finished answer joins them.
                            let new_item = item.is_some() && item != current_item.as_deref();
                            if new_item {
                                current_item = item.map(str::to_owned);
                            }
                            text.send_modify(|t| {
                                if new_item && !t.is_empty() {
                                    t.push_str("\n\n");
                                }
                                t.push_str(delta);
                            });
                        }
                        "response.completed" | "response.incomplete" => {
                            return answer_of(data.get("response").unwrap_or(&Value::Null));
                        }
                        "response.failed" => {
                            let response = data.get("response").unwrap_or(&Value::Null);
                            return Err(AskError::Failed(failure_of(response)));
                        }
                        "error" => {
                            return Err(AskError::Failed(error_message(&data)));
                        }
                        _ => {}
                    }
                }
            }
            Err(AskError::Protocol(
                "the stream ended before the response was complete".into(),
            ))
        };
        tokio::time::timeout(limit, work)
            .await
            .map_err(|_| AskError::Timeout(limit))?
    }

    async fn send(
        &self,
        question: &Question<'_>,
        stream: bool,
    ) -> Result<reqwest::Response, AskError> {
        let mut request = self
            .http
            .post(&self.endpoint)
            .json(&body_of(question, stream));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&e, self.timeout))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .map(|v| error_message(&v))
            .unwrap_or_else(|_| text.chars().take(300).collect());
        if question.previous_response_id.is_some() && status == 404 {
            return Err(AskError::UnknownPrevious(message));
        }
        Err(AskError::Rejected { status, message })
    }
}

/// The request body: seed 000's shape.
fn body_of(question: &Question<'_>, stream: bool) -> Value {
    let mut body = json!({
        "model": question.model,
        "input": question.input,
        "stream": stream,
    });
    if let Some(previous) = question.previous_response_id {
        body["previous_response_id"] = previous.into();
    }
    if let Some(instructions) = question.instructions {
        body["instructions"] = instructions.into();
    }
    if !question.mcp_servers.is_empty() {
        let tools: Vec<Value> = question
            .mcp_servers
            .iter()
            .map(|server| {
                let mut tool = json!({
                    "type": "mcp",
                    "server_label": server.label,
                    "server_url": "litellm_proxy",
                    "require_approval": "never",
                });
                if let Some(allowed) = &server.allowed_tools {
                    tool["allowed_tools"] = json!(allowed);
                }
                tool
            })
            .collect();
        body["tools"] = Value::Array(tools);
        body["tool_choice"] = "auto".into();
    }
    body
}

/// The text to show for a finished response: its messages' text, or what went wrong.
pub fn answer_of(response: &Value) -> Result<Answer, AskError> {
    let response_id = response
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| AskError::Protocol("the response has no id".into()))?
        .to_owned();
    let status = response.get("status").and_then(Value::as_str).unwrap_or("");
    if status == "failed" {
        return Err(AskError::Failed(failure_of(response)));
    }
    let output = response
        .get("output")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let texts: Vec<&str> = output
        .iter()
        .filter(|item| item.get("type").and_then(Value::as_str) == Some("message"))
        .flat_map(|item| {
            item.get("content")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
        })
        .filter(|part| part.get("type").and_then(Value::as_str) == Some("output_text"))
        .filter_map(|part| part.get("text").and_then(Value::as_str))
        .filter(|text| !text.trim().is_empty())
        .collect();
    let mut text = texts.join("\n\n");
    if text.is_empty() {
        let tool_errors: Vec<String> = output
            .iter()
            .filter(|item| item.get("type").and_then(Value::as_str) == Some("mcp_call"))
            .filter_map(|item| {
                let error = item.get("error").filter(|e| !e.is_null())?;
                let name = item.get("name").and_then(Value::as_str).unwrap_or("a tool");
                let error = error
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| error_message(error));
                Some(format!("`{name}` failed: {}", short(&error)))
            })
            .collect();
        text = if tool_errors.is_empty() {
            "(The model gave no answer.)".to_owned()
        } else {
            format!("\u{26a0}\u{fe0f} A tool failed: {}", tool_errors.join("; "))
        };
    }
    if status == "incomplete" {
        let reason = response
            .pointer("/incomplete_details/reason")
            .and_then(Value::as_str)
            .unwrap_or("unknown reason");
        text.push_str(&format!("\n\n*(The answer was cut short: {reason}.)*"));
    }
    Ok(Answer { response_id, text })
}

fn failure_of(response: &Value) -> String {
    response
        .get("error")
        .map(error_message)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "the model could not finish".to_owned())
}

/// The message of an OpenAI-style error body, an `error` event or an error object.
fn error_message(value: &Value) -> String {
    value
        .pointer("/error/message")
        .or_else(|| value.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string().chars().take(300).collect())
}

fn transport_error(error: &reqwest::Error, limit: Duration) -> AskError {
    if error.is_timeout() {
        AskError::Timeout(limit)
    } else if error.is_connect() {
        AskError::Unreachable(error.to_string())
    } else if error.is_decode() {
        AskError::Protocol(error.to_string())
    } else {
        AskError::Unreachable(error.to_string())
    }
}

fn short(message: &str) -> String {
    const MAX: usize = 300;
    let message = message.trim();
    if message.chars().count() <= MAX {
        message.to_owned()
    } else {
        let cut: String = message.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_seed_shape() {
        let servers = vec![
            McpServer {
                label: "github".into(),
                allowed_tools: Some(vec!["list_repos".into()]),
            },
            McpServer {
                label: "time".into(),
                allowed_tools: None,
            },
        ];
        let body = body_of(
            &Question {
                model: "openai/gpt-4o",
                input: "hi",
                previous_response_id: Some("resp_1"),
                instructions: None,
                mcp_servers: &servers,
            },
            true,
        );
        assert_eq!(body["previous_response_id"], "resp_1");
        assert_eq!(body["stream"], true);
        assert_eq!(body["tools"][0]["server_url"], "litellm_proxy");
        assert_eq!(body["tools"][0]["require_approval"], "never");
        assert_eq!(body["tools"][0]["allowed_tools"], json!(["list_repos"]));
        assert!(body["tools"][1].get("allowed_tools").is_none());
        assert!(body.get("instructions").is_none());
    }

    #[test]
    fn texts_of_several_messages_are_joined() {
        let answer = answer_of(&json!({
            "id": "resp_9", "status": "completed",
            "output": [
                {"type": "message", "content": [{"type": "output_text", "text": "Checking."}]},
                {"type": "mcp_call", "name": "get_time", "output": "12:00", "error": null},
                {"type": "message", "content": [{"type": "output_text", "text": "It is noon."}]}
            ]
        }))
        .unwrap();
        assert_eq!(
            answer,
            Answer {
                response_id: "resp_9".into(),
                text: "Checking.\n\nIt is noon.".into()
            }
        );
    }

    #[test]
    fn a_failed_tool_without_text_is_said() {
        let answer = answer_of(&json!({
            "id": "resp_9", "status": "completed",
            "output": [{"type": "mcp_call", "name": "get_time", "error": "server down"}]
        }))
        .unwrap();
        assert!(
            answer.text.contains("`get_time` failed: server down"),
            "{}",
            answer.text
        );
    }

    #[test]
    fn failed_and_incomplete_responses() {
        let err = answer_of(
            &json!({"id": "r", "status": "failed", "error": {"message": "upstream 500"}}),
        )
        .unwrap_err();
        assert!(
            err.user_message().contains("upstream 500"),
            "{}",
            err.user_message()
        );
        let answer = answer_of(&json!({
            "id": "r", "status": "incomplete", "incomplete_details": {"reason": "max_tool_calls"},
            "output": [{"type": "message", "content": [{"type": "output_text", "text": "Partial"}]}]
        }))
        .unwrap();
        assert!(answer.text.starts_with("Partial"));
        assert!(answer.text.contains("max_tool_calls"));
        assert!(answer_of(&json!({"status": "completed"})).is_err());
    }

    #[test]
    fn user_messages_are_short_and_never_empty() {
        let long = "x".repeat(5000);
        for error in [
            AskError::Unreachable("refused".into()),
            AskError::Timeout(Duration::from_secs(30)),
            AskError::UnknownPrevious("gone".into()),
            AskError::Rejected {
                status: 401,
                message: long.clone(),
            },
            AskError::Rejected {
                status: 429,
                message: "slow down".into(),
            },
            AskError::Rejected {
                status: 500,
                message: long.clone(),
            },
            AskError::Failed(long.clone()),
            AskError::Protocol("bad".into()),
        ] {
            let text = error.user_message();
            assert!(text.chars().count() < 400, "{text}");
            assert!(text.len() > 10);
        }
        assert!(
            AskError::Rejected {
                status: 500,
                message: "boom".into()
            }
            .user_message()
            .contains("(500): boom")
        );
    }
}
