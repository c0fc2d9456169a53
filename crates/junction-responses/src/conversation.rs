//! A conversation is the list of Responses items so far (earlier turns' input and output,
//! then this turn's). This module renders it for a model: as Chat Completions `messages`
//! for upstreams without a Responses API (the Anthropic adapter translates those further),
//! or as Responses `input` for upstreams with one.
//!
//! Items the model has no use for are left out: tool listings, approval requests and
//! responses (an approved call appears as its `mcp_call`, a refused one as a call answered
//! "refused"). An `mcp_call` is what the model asked for plus what the tool said, so it
//! becomes a function call and its output in either dialect.

use serde_json::{Map, Value, json};

/// The text a model reads for an `mcp_call`'s outcome.
pub(crate) fn mcp_call_text(item: &Value) -> String {
    if let Some(output) = item.get("output").and_then(Value::as_str) {
        return output.to_owned();
    }
    let error = item.get("error").unwrap_or(&Value::Null);
    let text = match error {
        Value::String(s) => s.clone(),
        Value::Object(e) => match e.get("content") {
            Some(Value::Array(blocks)) => blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("the tool call failed")
                .to_owned(),
        },
        _ => String::new(),
    };
    if text.is_empty() {
        "Error: the tool call failed without saying why".to_owned()
    } else if text
        .get(..5)
        .is_some_and(|h| h.eq_ignore_ascii_case("error"))
    {
        text
    } else {
        format!("Error: {text}")
    }
}

/// Chat Completions `messages` for `instructions` + `items`.
pub(crate) fn chat_messages(instructions: Option<&str>, items: &[Value]) -> Vec<Value> {
    let mut messages = Vec::new();
    if let Some(instructions) = instructions.filter(|i| !i.is_empty()) {
        messages.push(json!({"role": "system", "content": instructions}));
    }
    let mut calls: Vec<Value> = Vec::new();
    let mut outputs: Vec<Value> = Vec::new();
    for item in items {
        match item.get("type").and_then(Value::as_str) {
            Some("function_call") => {
                if !outputs.is_empty() {
                    flush(&mut messages, &mut calls, &mut outputs);
                }
                calls.push(chat_call(
                    str_field(item, "call_id"),
                    str_field(item, "name"),
                    str_field(item, "arguments"),
                ));
            }
            Some("function_call_output") => {
                outputs.push(json!({
                    "role": "tool",
                    "tool_call_id": str_field(item, "call_id"),
                    "content": output_text(item.get("output")),
                }));
            }
            Some("mcp_call") => {
                if !outputs.is_empty() && calls.is_empty() {
                    flush(&mut messages, &mut calls, &mut outputs);
                }
                let id = str_field(item, "id");
                calls.push(chat_call(
                    id,
                    str_field(item, "name"),
                    str_field(item, "arguments"),
                ));
                outputs.push(
                    json!({"role": "tool", "tool_call_id": id, "content": mcp_call_text(item)}),
                );
            }
            Some("message") => {
                flush(&mut messages, &mut calls, &mut outputs);
                messages.push(chat_message(item));
            }
            _ => {}
        }
    }
    flush(&mut messages, &mut calls, &mut outputs);
    messages
}

fn str_field<'a>(item: &'a Value, field: &str) -> &'a str {
    item.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn chat_call(id: &str, name: &str, arguments: &str) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

/// Emits pending calls as one assistant turn (joined to the assistant's text just before,
/// when there is one: a model that says something and calls tools did so in one turn),
/// then their outputs.
fn flush(messages: &mut Vec<Value>, calls: &mut Vec<Value>, outputs: &mut Vec<Value>) {
    if !calls.is_empty() {
        let joined = messages.last_mut().is_some_and(|last| {
            let mergeable = last.get("role").and_then(Value::as_str) == Some("assistant")
                && last.get("tool_calls").is_none();
            if mergeable && let Some(map) = last.as_object_mut() {
                map.insert("tool_calls".into(), Value::Array(std::mem::take(calls)));
            }
            mergeable
        });
        if !joined {
            messages.push(
                json!({"role": "assistant", "content": null, "tool_calls": std::mem::take(calls)}),
            );
        }
    }
    messages.append(outputs);
}

/// A `function_call_output`'s `output`: a string, or parts whose text is joined.
fn output_text(output: Option<&Value>) -> String {
    match output {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// One message item as a chat message: text-only content becomes a string (what every
/// provider accepts for every role); images and files become chat content parts.
fn chat_message(item: &Value) -> Value {
    let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
    let parts = item
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let text_only = parts.iter().all(|p| {
        matches!(
            p.get("type").and_then(Value::as_str),
            Some("input_text" | "output_text" | "refusal")
        )
    });
    let content = if text_only {
        Value::from(
            parts
                .iter()
                .filter_map(|p| {
                    p.get("text")
                        .or_else(|| p.get("refusal"))
                        .and_then(Value::as_str)
                })
                .collect::<Vec<_>>()
                .join("\n"),
        )
    } else {
        Value::Array(parts.iter().filter_map(chat_part).collect())
    };
    json!({"role": role, "content": content})
}

fn chat_part(part: &Value) -> Option<Value> {
    match part.get("type").and_then(Value::as_str)? {
        "input_text" | "output_text" => Some(json!({"type": "text", "text": part.get("text")?})),
        "refusal" => Some(json!({"type": "text", "text": part.get("refusal")?})),
        "input_image" => {
            let url = part.get("image_url").and_then(Value::as_str)?;
            let mut image = Map::new();
            image.insert("url".into(), url.into());
            if let Some(detail) = part.get("detail").and_then(Value::as_str) {
                image.insert("detail".into(), detail.into());
            }
            Some(json!({"type": "image_url", "image_url": image}))
        }
        "input_file" => {
            let mut file = Map::new();
            for field in ["file_id", "file_data", "filename"] {
                if let Some(value) = part.get(field) {
                    file.insert(field.into(), value.clone());
                }
            }
            Some(json!({"type": "file", "file": file}))
        }
        _ => None,
    }
}

/// Responses `input` for an upstream with the Responses API. Ids are left out: the upstream
/// never saw these items (the gateway calls it with `store: false`), and OpenAI rejects ids
/// it does not know.
pub(crate) fn native_input(items: &[Value]) -> Vec<Value> {
    let mut input = Vec::new();
    for item in items {
        match item.get("type").and_then(Value::as_str) {
            Some("message") => {
                let mut message = Map::new();
                message.insert("type".into(), "message".into());
                for field in ["role", "content"] {
                    if let Some(value) = item.get(field) {
                        message.insert(field.into(), value.clone());
                    }
                }
                input.push(Value::Object(message));
            }
            Some("function_call") => input.push(json!({
                "type": "function_call",
                "call_id": str_field(item, "call_id"),
                "name": str_field(item, "name"),
                "arguments": str_field(item, "arguments"),
            })),
            Some("function_call_output") => input.push(json!({
                "type": "function_call_output",
                "call_id": str_field(item, "call_id"),
                "output": item.get("output").cloned().unwrap_or_else(|| Value::from("")),
            })),
            Some("mcp_call") => {
                let id = str_field(item, "id");
                input.push(json!({"type": "function_call", "call_id": id,
                    "name": str_field(item, "name"), "arguments": str_field(item, "arguments")}));
                input.push(json!({"type": "function_call_output", "call_id": id, "output": mcp_call_text(item)}));
            }
            _ => {}
        }
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_round_becomes_calls_then_outputs() {
        let items = vec![
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "time?"}]}),
            json!({"type": "mcp_call", "id": "mcp_1", "name": "time-now", "arguments": "{}", "output": "noon"}),
            json!({"type": "mcp_call", "id": "mcp_2", "name": "time-zone", "arguments": "{}", "output": null,
                   "error": {"type": "mcp_tool_execution_error", "content": [{"type": "text", "text": "no zone"}]}}),
            json!({"type": "mcp_list_tools", "id": "mcpl_1", "server_label": "t", "tools": []}),
            json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "It is noon."}]}),
        ];
        let messages = chat_messages(Some("be brief"), &items);
        assert_eq!(
            messages[0],
            json!({"role": "system", "content": "be brief"})
        );
        assert_eq!(messages[1], json!({"role": "user", "content": "time?"}));
        assert_eq!(messages[2]["tool_calls"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            messages[3],
            json!({"role": "tool", "tool_call_id": "mcp_1", "content": "noon"})
        );
        assert_eq!(
            messages[4],
            json!({"role": "tool", "tool_call_id": "mcp_2", "content": "Error: no zone"})
        );
        assert_eq!(
            messages[5],
            json!({"role": "assistant", "content": "It is noon."})
        );
        assert_eq!(messages.len(), 6);
    }

    #[test]
    fn text_and_calls_of_one_turn_share_the_assistant_message() {
        let items = vec![
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]}),
            json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Let me look."}]}),
            json!({"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}),
            json!({"type": "function_call_output", "call_id": "c1", "output": "done"}),
        ];
        let messages = chat_messages(None, &items);
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[1]["content"], "Let me look.");
        assert_eq!(messages[1]["tool_calls"][0]["id"], "c1");
    }

    #[test]
    fn images_become_chat_parts() {
        let items = vec![json!({"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "what is this"},
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"}]})];
        let messages = chat_messages(None, &items);
        assert_eq!(
            messages[0]["content"][1]["image_url"]["url"],
            "data:image/png;base64,AAAA"
        );
    }

    #[test]
    fn native_input_drops_ids_and_expands_mcp_calls() {
        let items = vec![
            json!({"type": "message", "id": "msg_1", "role": "user", "content": [{"type": "input_text", "text": "x"}]}),
            json!({"type": "mcp_call", "id": "mcp_1", "name": "a-b", "arguments": "{}", "output": "ok"}),
        ];
        let input = native_input(&items);
        assert_eq!(input.len(), 3);
        assert!(input[0].get("id").is_none());
        assert_eq!(input[1]["call_id"], "mcp_1");
        assert_eq!(input[2]["output"], "ok");
    }
}
