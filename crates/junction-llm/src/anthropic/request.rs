//! Chat Completions request → Anthropic Messages request.
//!
//! Clients send OpenAI-shaped requests whatever model they target, so a
//! request routed to Anthropic has to be reshaped: system prompts move to a
//! top-level field, tool calls and tool results become content blocks, and
//! consecutive messages of one role are merged because Anthropic requires
//! user and assistant turns to alternate. Anything that cannot be expressed
//! faithfully is rejected with [`TranslateError::InvalidRequest`] rather than
//! silently altered, so the client learns why instead of getting a subtly
//! different answer. OpenAI-only knobs with no Anthropic counterpart (`seed`,
//! penalties, `logprobs`, `response_format`, ...) are dropped, as LiteLLM
//! does, so that clients written for OpenAI keep working.

use serde_json::{Map, Value, json};

use super::TranslateError;

type Result<T> = std::result::Result<T, TranslateError>;

fn invalid(message: impl Into<String>) -> TranslateError {
    TranslateError::InvalidRequest(message.into())
}

/// Builds the Anthropic Messages request body for a Chat Completions request.
///
/// `upstream_model` replaces the client's `model` (the client names a
/// Junction model alias, not Anthropic's id). `default_max_tokens` is used when
/// the client gives no limit, because Anthropic requires `max_tokens` while
/// OpenAI does not.
pub fn chat_to_messages(
    req: &Map<String, Value>,
    upstream_model: &str,
    default_max_tokens: u32,
) -> Result<Value> {
    // Anthropic returns exactly one choice; silently answering with fewer
    // choices than asked would break clients that index into them.
    if let Some(n) = req.get("n").and_then(Value::as_f64)
        && n > 1.0
    {
        return Err(invalid(
            "'n' greater than 1 is not supported by Anthropic models",
        ));
    }

    let mut out = Map::new();
    out.insert("model".into(), upstream_model.into());
    out.insert(
        "max_tokens".into(),
        max_tokens(req, default_max_tokens)?.into(),
    );

    let (system, messages) = translate_messages(req.get("messages"))?;
    if let Some(system) = system {
        out.insert("system".into(), system);
    }
    out.insert("messages".into(), messages);

    let tools = tools(req.get("tools"))?;
    // Parsed even when there are no tools so that a malformed value is still
    // reported to the client.
    let mut choice = tool_choice(req.get("tool_choice"))?;
    if !tools.is_empty() {
        if req.get("parallel_tool_calls") == Some(&Value::Bool(false)) {
            let choice = choice.get_or_insert_with(|| tool_choice_of("auto"));
            // Anthropic's `none` choice has no such flag: with tools disabled
            // there is nothing to parallelise.
            if choice.get("type").and_then(Value::as_str) != Some("none") {
                choice.insert("disable_parallel_tool_use".into(), true.into());
            }
        }
        out.insert("tools".into(), Value::Array(tools));
        if let Some(choice) = choice {
            out.insert("tool_choice".into(), Value::Object(choice));
        }
    }
    // Without tools a `tool_choice` is meaningless and Anthropic rejects it,
    // so it is dropped (LiteLLM does the same) instead of failing the call.

    if let Some(stop) = stop_sequences(req.get("stop"))? {
        out.insert("stop_sequences".into(), stop);
    }
    for key in ["temperature", "top_p", "top_k"] {
        match req.get(key) {
            None | Some(Value::Null) => {}
            Some(v @ Value::Number(_)) => {
                out.insert(key.into(), v.clone());
            }
            Some(_) => return Err(invalid(format!("'{key}' must be a number"))),
        }
    }
    match req.get("stream") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Bool(_)) => {
            out.insert("stream".into(), v.clone());
        }
        Some(_) => return Err(invalid("'stream' must be a boolean")),
    }
    match req.get("user") {
        None | Some(Value::Null) => {}
        Some(Value::String(user)) => {
            out.insert("metadata".into(), json!({ "user_id": user }));
        }
        Some(_) => return Err(invalid("'user' must be a string")),
    }
    Ok(Value::Object(out))
}

fn max_tokens(req: &Map<String, Value>, default: u32) -> Result<u64> {
    // `max_tokens` is deprecated by OpenAI in favour of
    // `max_completion_tokens`, so the newer name wins when both are sent.
    for key in ["max_completion_tokens", "max_tokens"] {
        match req.get(key) {
            None | Some(Value::Null) => {}
            Some(v) => {
                return v
                    .as_u64()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| invalid(format!("'{key}' must be a positive integer")));
            }
        }
    }
    Ok(u64::from(default))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    Assistant,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// The system prompt as gathered from every system/developer message.
#[derive(Default)]
struct System {
    blocks: Vec<Value>,
    /// Whether any message used content parts. Parts can carry
    /// `cache_control`, which only survives if blocks are sent as blocks.
    saw_parts: bool,
}

impl System {
    fn add(&mut self, content: Option<&Value>, ctx: &str) -> Result<()> {
        match content {
            None | Some(Value::Null) => {}
            // Anthropic rejects empty text blocks, and an empty system
            // message carries nothing.
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::String(s)) => self.blocks.push(text_block(s)),
            Some(Value::Array(parts)) => {
                self.saw_parts = true;
                for (j, part) in parts.iter().enumerate() {
                    let ctx = format!("{ctx}.content[{j}]");
                    let part = part_object(part, &ctx)?;
                    match part_type(part, &ctx)? {
                        "text" => {
                            let block = text_part(part, &ctx)?;
                            if block.get("text").and_then(Value::as_str) != Some("") {
                                self.blocks.push(block);
                            }
                        }
                        other => {
                            return Err(invalid(format!(
                                "{ctx}: system messages may only contain text parts, got '{other}'"
                            )));
                        }
                    }
                }
            }
            Some(_) => {
                return Err(invalid(format!(
                    "{ctx}.content must be a string or an array of content parts"
                )));
            }
        }
        Ok(())
    }

    fn finish(self) -> Option<Value> {
        if self.blocks.is_empty() {
            return None;
        }
        if self.saw_parts {
            return Some(Value::Array(self.blocks));
        }
        let texts: Vec<&str> = self
            .blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        Some(Value::String(texts.join("\n\n")))
    }
}

fn translate_messages(messages: Option<&Value>) -> Result<(Option<Value>, Value)> {
    let messages = messages
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("'messages' must be an array"))?;
    let mut system = System::default();
    let mut turns: Vec<(Role, Vec<Value>)> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let ctx = format!("messages[{i}]");
        let message = message
            .as_object()
            .ok_or_else(|| invalid(format!("{ctx} must be an object")))?;
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{ctx} has no 'role'")))?;
        match role {
            "system" | "developer" => system.add(message.get("content"), &ctx)?,
            "user" => push_turn(
                &mut turns,
                Role::User,
                user_blocks(message.get("content"), &ctx)?,
            ),
            "assistant" => push_turn(
                &mut turns,
                Role::Assistant,
                assistant_blocks(message, &ctx)?,
            ),
            "tool" => push_turn(&mut turns, Role::User, vec![tool_result(message, &ctx)?]),
            other => {
                return Err(invalid(format!(
                    "{ctx}: role '{other}' is not supported by Anthropic models"
                )));
            }
        }
    }
    if turns.is_empty() {
        return Err(invalid(
            "at least one user, assistant or tool message is required",
        ));
    }
    let messages = turns
        .into_iter()
        .map(|(role, mut blocks)| {
            if role == Role::User {
                // Anthropic requires tool results to open the user turn; a
                // stable sort keeps the order within each group.
                blocks
                    .sort_by_key(|b| b.get("type").and_then(Value::as_str) != Some("tool_result"));
            }
            json!({ "role": role.as_str(), "content": blocks })
        })
        .collect();
    Ok((system.finish(), Value::Array(messages)))
}

/// Appends blocks to the conversation, merging into the previous turn when
/// it has the same role because Anthropic requires roles to alternate.
fn push_turn(turns: &mut Vec<(Role, Vec<Value>)>, role: Role, blocks: Vec<Value>) {
    // An empty turn (e.g. an assistant message with null content and no tool
    // calls) would be rejected upstream and says nothing.
    if blocks.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some((last, existing)) if *last == role => existing.extend(blocks),
        _ => turns.push((role, blocks)),
    }
}

fn text_block(text: &str) -> Value {
    json!({ "type": "text", "text": text })
}

fn part_object<'a>(part: &'a Value, ctx: &str) -> Result<&'a Map<String, Value>> {
    part.as_object()
        .ok_or_else(|| invalid(format!("{ctx} must be an object")))
}

fn part_type<'a>(part: &'a Map<String, Value>, ctx: &str) -> Result<&'a str> {
    part.get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{ctx} has no 'type'")))
}

/// Anthropic's prompt caching is opted into per block; LiteLLM clients mark
/// OpenAI content parts the same way, so the marker is carried over.
fn copy_cache_control(part: &Map<String, Value>, block: &mut Value) {
    if let (Some(cc), Value::Object(block)) = (part.get("cache_control"), block)
        && !cc.is_null()
    {
        block.insert("cache_control".into(), cc.clone());
    }
}

fn text_part(part: &Map<String, Value>, ctx: &str) -> Result<Value> {
    let text = part
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{ctx}: text part has no 'text' string")))?;
    let mut block = text_block(text);
    copy_cache_control(part, &mut block);
    Ok(block)
}

fn image_part(part: &Map<String, Value>, ctx: &str) -> Result<Value> {
    // OpenAI documents `{"url": ...}`, but a bare string is common in the
    // wild and unambiguous.
    let url = match part.get("image_url") {
        Some(Value::String(url)) => Some(url.as_str()),
        Some(Value::Object(o)) => o.get("url").and_then(Value::as_str),
        _ => None,
    }
    .ok_or_else(|| invalid(format!("{ctx}: image_url part has no 'image_url.url'")))?;
    let mut block = json!({ "type": "image", "source": image_source(url, ctx)? });
    copy_cache_control(part, &mut block);
    Ok(block)
}

fn image_source(url: &str, ctx: &str) -> Result<Value> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| invalid(format!("{ctx}: malformed data URL in image_url")))?;
        let mut params = meta.split(';');
        let media_type = params.next().unwrap_or("").trim();
        if !params.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
            return Err(invalid(format!(
                "{ctx}: image data URLs must be base64-encoded (data:<mime>;base64,<data>)"
            )));
        }
        if media_type.is_empty() {
            return Err(invalid(format!("{ctx}: image data URL has no media type")));
        }
        return Ok(json!({ "type": "base64", "media_type": media_type, "data": data }));
    }
    let scheme = url.split_once("://").map(|(s, _)| s);
    if scheme.is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https")) {
        return Ok(json!({ "type": "url", "url": url }));
    }
    Err(invalid(format!(
        "{ctx}: image_url must be an http(s) URL or a base64 data URL"
    )))
}

/// Blocks allowed where Anthropic takes user content: user messages and
/// tool results.
fn user_part(part: &Value, ctx: &str) -> Result<Value> {
    let part = part_object(part, ctx)?;
    match part_type(part, ctx)? {
        "text" => text_part(part, ctx),
        "image_url" => image_part(part, ctx),
        other => Err(invalid(format!(
            "{ctx}: content part type '{other}' is not supported by Anthropic models \
             (supported: text, image_url)"
        ))),
    }
}

fn user_parts(parts: &[Value], ctx: &str) -> Result<Vec<Value>> {
    parts
        .iter()
        .enumerate()
        .map(|(j, part)| user_part(part, &format!("{ctx}.content[{j}]")))
        .collect()
}

fn user_blocks(content: Option<&Value>, ctx: &str) -> Result<Vec<Value>> {
    match content {
        Some(Value::String(text)) => Ok(vec![text_block(text)]),
        Some(Value::Array(parts)) => user_parts(parts, ctx),
        None | Some(Value::Null) => Err(invalid(format!("{ctx}: user message has no content"))),
        Some(_) => Err(invalid(format!(
            "{ctx}.content must be a string or an array of content parts"
        ))),
    }
}

fn assistant_blocks(message: &Map<String, Value>, ctx: &str) -> Result<Vec<Value>> {
    let mut blocks = Vec::new();
    // Empty text is skipped: OpenAI clients commonly send `content: ""`
    // next to tool calls, and Anthropic rejects empty text blocks.
    match message.get("content") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => {
            if !text.is_empty() {
                blocks.push(text_block(text));
            }
        }
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                let ctx = format!("{ctx}.content[{j}]");
                let part = part_object(part, &ctx)?;
                let block = match part_type(part, &ctx)? {
                    "text" => text_part(part, &ctx)?,
                    // A refusal is what the assistant said; keeping it as
                    // text preserves the conversation's meaning.
                    "refusal" => {
                        text_block(part.get("refusal").and_then(Value::as_str).ok_or_else(
                            || invalid(format!("{ctx}: refusal part has no 'refusal' string")),
                        )?)
                    }
                    other => {
                        return Err(invalid(format!(
                            "{ctx}: assistant content part type '{other}' is not supported \
                             (supported: text, refusal)"
                        )));
                    }
                };
                if block.get("text").and_then(Value::as_str) != Some("") {
                    blocks.push(block);
                }
            }
        }
        Some(_) => {
            return Err(invalid(format!(
                "{ctx}.content must be a string, an array of content parts or null"
            )));
        }
    }
    match message.get("tool_calls") {
        None | Some(Value::Null) => {}
        Some(Value::Array(calls)) => {
            for (j, call) in calls.iter().enumerate() {
                blocks.push(tool_use(call, &format!("{ctx}.tool_calls[{j}]"))?);
            }
        }
        Some(_) => return Err(invalid(format!("{ctx}.tool_calls must be an array"))),
    }
    Ok(blocks)
}

fn tool_use(call: &Value, ctx: &str) -> Result<Value> {
    let call = call
        .as_object()
        .ok_or_else(|| invalid(format!("{ctx} must be an object")))?;
    let id = call
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{ctx} has no 'id'")))?;
    let function = call
        .get("function")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(format!("tool call '{id}' has no 'function' object")))?;
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("tool call '{id}' has no 'function.name'")))?;
    let input = match function.get("arguments") {
        // Models emit "" for tools that take no arguments.
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::String(args)) if args.trim().is_empty() => Value::Object(Map::new()),
        Some(Value::String(args)) => serde_json::from_str(args).map_err(|e| {
            invalid(format!(
                "tool call '{id}': function.arguments is not valid JSON: {e}"
            ))
        })?,
        // Not OpenAI's schema, but some clients send the object itself.
        Some(obj @ Value::Object(_)) => obj.clone(),
        Some(_) => {
            return Err(invalid(format!(
                "tool call '{id}': function.arguments must be a JSON string"
            )));
        }
    };
    if !input.is_object() {
        return Err(invalid(format!(
            "tool call '{id}': function.arguments must encode a JSON object"
        )));
    }
    Ok(json!({ "type": "tool_use", "id": id, "name": name, "input": input }))
}

fn tool_result(message: &Map<String, Value>, ctx: &str) -> Result<Value> {
    let id = message
        .get("tool_call_id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{ctx}: tool message has no 'tool_call_id'")))?;
    let mut block = json!({ "type": "tool_result", "tool_use_id": id });
    let content = match message.get("content") {
        None | Some(Value::Null) => None,
        Some(text @ Value::String(_)) => Some(text.clone()),
        Some(Value::Array(parts)) => Some(Value::Array(user_parts(parts, ctx)?)),
        Some(_) => {
            return Err(invalid(format!(
                "{ctx}.content must be a string or an array of content parts"
            )));
        }
    };
    if let (Some(content), Value::Object(block)) = (content, &mut block) {
        block.insert("content".into(), content);
    }
    Ok(block)
}

fn tools(tools: Option<&Value>) -> Result<Vec<Value>> {
    let tools = match tools {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(tools)) => tools,
        Some(_) => return Err(invalid("'tools' must be an array")),
    };
    tools
        .iter()
        .enumerate()
        .map(|(i, tool)| {
            let ctx = format!("tools[{i}]");
            let tool = tool
                .as_object()
                .ok_or_else(|| invalid(format!("{ctx} must be an object")))?;
            match tool.get("type").and_then(Value::as_str) {
                Some("function") => {}
                Some(other) => {
                    return Err(invalid(format!(
                        "{ctx}: tool type '{other}' is not supported (only 'function')"
                    )));
                }
                None => return Err(invalid(format!("{ctx} has no 'type'"))),
            }
            let function = tool
                .get("function")
                .and_then(Value::as_object)
                .ok_or_else(|| invalid(format!("{ctx} has no 'function' object")))?;
            let name = function
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("{ctx} has no 'function.name'")))?;
            let mut out = Map::new();
            out.insert("name".into(), name.into());
            match function.get("description") {
                None | Some(Value::Null) => {}
                Some(d @ Value::String(_)) => {
                    out.insert("description".into(), d.clone());
                }
                Some(_) => {
                    return Err(invalid(format!(
                        "{ctx}: 'function.description' must be a string"
                    )));
                }
            }
            let schema = match function.get("parameters") {
                // OpenAI allows omitting parameters for argument-less tools;
                // Anthropic requires a schema.
                None | Some(Value::Null) => json!({ "type": "object", "properties": {} }),
                Some(p @ Value::Object(_)) => p.clone(),
                Some(_) => {
                    return Err(invalid(format!(
                        "{ctx}: 'function.parameters' must be a JSON schema object"
                    )));
                }
            };
            out.insert("input_schema".into(), schema);
            Ok(Value::Object(out))
        })
        .collect()
}

fn tool_choice_of(kind: &str) -> Map<String, Value> {
    let mut choice = Map::new();
    choice.insert("type".into(), kind.into());
    choice
}

fn tool_choice(choice: Option<&Value>) -> Result<Option<Map<String, Value>>> {
    let choice = match choice {
        None | Some(Value::Null) => return Ok(None),
        Some(choice) => choice,
    };
    let translated = match choice {
        Value::String(s) => match s.as_str() {
            "auto" => tool_choice_of("auto"),
            "required" => tool_choice_of("any"),
            "none" => tool_choice_of("none"),
            other => {
                return Err(invalid(format!(
                    "'tool_choice' must be 'auto', 'required', 'none' or a function, got '{other}'"
                )));
            }
        },
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("'tool_choice.function.name' is required"))?;
            let mut choice = tool_choice_of("tool");
            choice.insert("name".into(), name.into());
            choice
        }
        _ => {
            return Err(invalid(
                "'tool_choice' must be 'auto', 'required', 'none' or {\"type\":\"function\",\"function\":{\"name\":...}}",
            ));
        }
    };
    Ok(Some(translated))
}

fn stop_sequences(stop: Option<&Value>) -> Result<Option<Value>> {
    match stop {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(json!([s]))),
        Some(Value::Array(items)) => {
            if items.iter().any(|s| !s.is_string()) {
                return Err(invalid("'stop' must be a string or an array of strings"));
            }
            // An empty list means "no stop sequences", which is Anthropic's
            // default; sending it would only risk a validation error.
            Ok((!items.is_empty()).then(|| Value::Array(items.clone())))
        }
        Some(_) => Err(invalid("'stop' must be a string or an array of strings")),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn translate(req: Value) -> Result<Value> {
        let Value::Object(req) = req else {
            panic!("test request must be an object")
        };
        chat_to_messages(&req, "claude-sonnet-4-5", 4096)
    }

    fn ok(req: Value) -> Value {
        translate(req).expect("translation should succeed")
    }

    fn err(req: Value) -> String {
        match translate(req) {
            Err(TranslateError::InvalidRequest(m)) => m,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    fn user(text: &str) -> Value {
        json!({ "role": "user", "content": text })
    }

    #[test]
    fn minimal_request() {
        let out = ok(json!({ "model": "alias", "messages": [user("hi")] }));
        assert_eq!(
            out,
            json!({
                "model": "claude-sonnet-4-5",
                "max_tokens": 4096,
                "messages": [{ "role": "user", "content": [{ "type": "text", "text": "hi" }] }]
            })
        );
    }

    #[test]
    fn max_tokens_precedence() {
        let m = [user("x")];
        assert_eq!(
            ok(json!({ "messages": m, "max_tokens": 10 }))["max_tokens"],
            10
        );
        assert_eq!(
            ok(json!({ "messages": m, "max_tokens": 10, "max_completion_tokens": 20 }))["max_tokens"],
            20
        );
        assert_eq!(
            ok(json!({ "messages": m, "max_tokens": null, "max_completion_tokens": null }))["max_tokens"],
            4096
        );
        assert!(err(json!({ "messages": m, "max_tokens": -1 })).contains("max_tokens"));
        assert!(err(json!({ "messages": m, "max_tokens": 0 })).contains("positive integer"));
        assert!(
            err(json!({ "messages": m, "max_completion_tokens": "5" }))
                .contains("max_completion_tokens")
        );
    }

    #[test]
    fn system_strings_are_joined_into_a_string() {
        let out = ok(json!({ "messages": [
            { "role": "system", "content": "Be brief." },
            { "role": "developer", "content": "Use English." },
            { "role": "system", "content": "" },
            user("hi"),
        ]}));
        assert_eq!(out["system"], "Be brief.\n\nUse English.");
        assert_eq!(out["messages"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn system_parts_become_blocks_keeping_cache_control() {
        let out = ok(json!({ "messages": [
            { "role": "system", "content": "Plain." },
            { "role": "system", "content": [
                { "type": "text", "text": "Long context", "cache_control": { "type": "ephemeral" } }
            ]},
            user("hi"),
        ]}));
        assert_eq!(
            out["system"],
            json!([
                { "type": "text", "text": "Plain." },
                { "type": "text", "text": "Long context", "cache_control": { "type": "ephemeral" } }
            ])
        );
    }

    #[test]
    fn system_without_anything_is_omitted() {
        let out = ok(json!({ "messages": [{ "role": "system", "content": "" }, user("hi")] }));
        assert!(out.get("system").is_none());
    }

    #[test]
    fn system_non_text_part_is_rejected() {
        let m = err(json!({ "messages": [
            { "role": "system", "content": [{ "type": "image_url", "image_url": { "url": "https://x/y.png" } }] },
            user("hi"),
        ]}));
        assert!(
            m.contains("messages[0].content[0]") && m.contains("image_url"),
            "{m}"
        );
    }

    #[test]
    fn user_parts_text_and_images() {
        let out = ok(json!({ "messages": [{ "role": "user", "content": [
            { "type": "text", "text": "What is this?" },
            { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high" } },
            { "type": "image_url", "image_url": { "url": "https://example.com/cat.jpg" } },
            { "type": "image_url", "image_url": "HTTP://example.com/dog.gif" },
        ]}]}));
        assert_eq!(
            out["messages"][0]["content"],
            json!([
                { "type": "text", "text": "What is this?" },
                { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo=" } },
                { "type": "image", "source": { "type": "url", "url": "https://example.com/cat.jpg" } },
                { "type": "image", "source": { "type": "url", "url": "HTTP://example.com/dog.gif" } },
            ])
        );
    }

    #[test]
    fn data_url_with_extra_parameters() {
        let out = ok(json!({ "messages": [{ "role": "user", "content": [
            { "type": "image_url", "image_url": { "url": "data:image/jpeg;name=a.jpg;base64,/9j/4AAQ" } },
        ]}]}));
        assert_eq!(
            out["messages"][0]["content"][0]["source"],
            json!({ "type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ" })
        );
    }

    #[test]
    fn bad_image_urls_are_rejected() {
        for url in [
            "ftp://example.com/a.png",
            "example.com/a.png",
            "data:image/png,rawbytes",
            "data:;base64,AAAA",
            "data:image/png;base64",
        ] {
            let m = err(json!({ "messages": [{ "role": "user", "content": [
                { "type": "image_url", "image_url": { "url": url } }
            ]}]}));
            assert!(m.contains("messages[0].content[0]"), "{url}: {m}");
        }
        let m = err(json!({ "messages": [{ "role": "user", "content": [
            { "type": "image_url", "image_url": {} }
        ]}]}));
        assert!(m.contains("image_url.url"), "{m}");
    }

    #[test]
    fn unknown_user_part_type_is_rejected() {
        let m = err(json!({ "messages": [{ "role": "user", "content": [
            { "type": "text", "text": "listen" },
            { "type": "input_audio", "input_audio": { "data": "AAAA", "format": "wav" } },
        ]}]}));
        assert!(
            m.contains("'input_audio'") && m.contains("messages[0].content[1]"),
            "{m}"
        );
    }

    #[test]
    fn user_message_without_content_is_rejected() {
        assert!(err(json!({ "messages": [{ "role": "user" }] })).contains("no content"));
        assert!(err(json!({ "messages": [{ "role": "user", "content": 5 }] })).contains("content"));
    }

    #[test]
    fn assistant_text_and_tool_calls() {
        let out = ok(json!({ "messages": [
            user("weather in Paris and Rome?"),
            { "role": "assistant", "content": "Checking.", "tool_calls": [
                { "id": "call_1", "type": "function", "function": { "name": "weather", "arguments": "{\"city\":\"Paris\"}" } },
                { "id": "call_2", "type": "function", "function": { "name": "now", "arguments": "" } },
            ]},
        ]}));
        assert_eq!(
            out["messages"][1],
            json!({ "role": "assistant", "content": [
                { "type": "text", "text": "Checking." },
                { "type": "tool_use", "id": "call_1", "name": "weather", "input": { "city": "Paris" } },
                { "type": "tool_use", "id": "call_2", "name": "now", "input": {} },
            ]})
        );
    }

    #[test]
    fn assistant_null_or_empty_content_with_tool_calls() {
        for content in [Value::Null, json!("")] {
            let out = ok(json!({ "messages": [
                user("go"),
                { "role": "assistant", "content": content, "tool_calls": [
                    { "id": "c", "type": "function", "function": { "name": "f", "arguments": "{}" } },
                ]},
            ]}));
            assert_eq!(
                out["messages"][1]["content"],
                json!([{ "type": "tool_use", "id": "c", "name": "f", "input": {} }])
            );
        }
    }

    #[test]
    fn assistant_content_parts_and_refusal() {
        let out = ok(json!({ "messages": [
            user("go"),
            { "role": "assistant", "content": [
                { "type": "text", "text": "a" },
                { "type": "refusal", "refusal": "no" },
            ]},
        ]}));
        assert_eq!(
            out["messages"][1]["content"],
            json!([{ "type": "text", "text": "a" }, { "type": "text", "text": "no" }])
        );
        let m = err(json!({ "messages": [
            user("go"),
            { "role": "assistant", "content": [{ "type": "image_url", "image_url": "https://x/y" }] },
        ]}));
        assert!(m.contains("'image_url'"), "{m}");
    }

    #[test]
    fn invalid_arguments_json_names_the_tool_call() {
        let m = err(json!({ "messages": [
            user("go"),
            { "role": "assistant", "tool_calls": [
                { "id": "call_bad", "type": "function", "function": { "name": "f", "arguments": "{\"a\":" } },
            ]},
        ]}));
        assert!(
            m.contains("call_bad") && m.contains("not valid JSON"),
            "{m}"
        );
    }

    #[test]
    fn non_object_arguments_are_rejected() {
        let m = err(json!({ "messages": [
            user("go"),
            { "role": "assistant", "tool_calls": [
                { "id": "call_arr", "type": "function", "function": { "name": "f", "arguments": "[1,2]" } },
            ]},
        ]}));
        assert!(m.contains("call_arr") && m.contains("object"), "{m}");
    }

    #[test]
    fn arguments_given_as_object_are_accepted() {
        let out = ok(json!({ "messages": [
            user("go"),
            { "role": "assistant", "tool_calls": [
                { "id": "c", "type": "function", "function": { "name": "f", "arguments": { "x": 1 } } },
            ]},
        ]}));
        assert_eq!(out["messages"][1]["content"][0]["input"], json!({ "x": 1 }));
    }

    #[test]
    fn tool_call_without_id_or_name_is_rejected() {
        assert!(
            err(
                json!({ "messages": [user("go"), { "role": "assistant", "tool_calls": [
                    { "type": "function", "function": { "name": "f", "arguments": "{}" } }
                ]}]})
            )
            .contains("messages[1].tool_calls[0] has no 'id'")
        );
        assert!(
            err(
                json!({ "messages": [user("go"), { "role": "assistant", "tool_calls": [
                    { "id": "c9", "type": "function", "function": { "arguments": "{}" } }
                ]}]})
            )
            .contains("'c9'")
        );
    }

    #[test]
    fn consecutive_tool_results_merge_into_one_user_message() {
        let out = ok(json!({ "messages": [
            user("weather?"),
            { "role": "assistant", "content": null, "tool_calls": [
                { "id": "call_1", "type": "function", "function": { "name": "w", "arguments": "{}" } },
                { "id": "call_2", "type": "function", "function": { "name": "w", "arguments": "{}" } },
            ]},
            { "role": "tool", "tool_call_id": "call_1", "content": "sunny" },
            { "role": "tool", "tool_call_id": "call_2", "content": [{ "type": "text", "text": "rainy" }] },
            user("thanks, and tomorrow?"),
        ]}));
        let messages = out["messages"].as_array().cloned().unwrap_or_default();
        assert_eq!(messages.len(), 3);
        assert_eq!(
            messages[2],
            json!({ "role": "user", "content": [
                { "type": "tool_result", "tool_use_id": "call_1", "content": "sunny" },
                { "type": "tool_result", "tool_use_id": "call_2", "content": [{ "type": "text", "text": "rainy" }] },
                { "type": "text", "text": "thanks, and tomorrow?" },
            ]})
        );
    }

    #[test]
    fn tool_results_are_moved_before_text_in_a_user_turn() {
        let out = ok(json!({ "messages": [
            user("a"),
            { "role": "assistant", "tool_calls": [
                { "id": "c1", "type": "function", "function": { "name": "f", "arguments": "{}" } },
            ]},
            user("interjection"),
            { "role": "tool", "tool_call_id": "c1", "content": "r" },
        ]}));
        assert_eq!(
            out["messages"][2]["content"],
            json!([
                { "type": "tool_result", "tool_use_id": "c1", "content": "r" },
                { "type": "text", "text": "interjection" },
            ])
        );
    }

    #[test]
    fn tool_message_without_content_or_id() {
        let out = ok(json!({ "messages": [
            user("a"),
            { "role": "assistant", "tool_calls": [
                { "id": "c1", "type": "function", "function": { "name": "f", "arguments": "{}" } },
            ]},
            { "role": "tool", "tool_call_id": "c1" },
        ]}));
        assert_eq!(
            out["messages"][2]["content"],
            json!([{ "type": "tool_result", "tool_use_id": "c1" }])
        );
        assert!(
            err(json!({ "messages": [{ "role": "tool", "content": "x" }] }))
                .contains("tool_call_id")
        );
    }

    #[test]
    fn consecutive_same_role_messages_merge() {
        let out = ok(json!({ "messages": [
            user("one"),
            { "role": "system", "content": "sys in the middle" },
            user("two"),
            { "role": "assistant", "content": "a" },
            { "role": "assistant", "content": null },
            { "role": "assistant", "content": "b" },
        ]}));
        assert_eq!(
            out["messages"],
            json!([
                { "role": "user", "content": [
                    { "type": "text", "text": "one" }, { "type": "text", "text": "two" }
                ]},
                { "role": "assistant", "content": [
                    { "type": "text", "text": "a" }, { "type": "text", "text": "b" }
                ]},
            ])
        );
        assert_eq!(out["system"], "sys in the middle");
    }

    #[test]
    fn bad_messages_are_rejected() {
        assert!(err(json!({})).contains("'messages'"));
        assert!(err(json!({ "messages": "hi" })).contains("'messages'"));
        assert!(err(json!({ "messages": [] })).contains("at least one"));
        assert!(
            err(json!({ "messages": [{ "role": "system", "content": "s" }] }))
                .contains("at least one")
        );
        assert!(err(json!({ "messages": [{ "content": "x" }] })).contains("no 'role'"));
        assert!(err(json!({ "messages": ["x"] })).contains("messages[0]"));
        let m = err(json!({ "messages": [{ "role": "function", "name": "f", "content": "x" }] }));
        assert!(m.contains("'function'"), "{m}");
    }

    #[test]
    fn tools_translate_with_default_schema() {
        let out = ok(json!({ "messages": [user("x")], "tools": [
            { "type": "function", "function": {
                "name": "weather", "description": "Get weather",
                "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] },
                "strict": true,
            }},
            { "type": "function", "function": { "name": "now" } },
        ]}));
        assert_eq!(
            out["tools"],
            json!([
                { "name": "weather", "description": "Get weather", "input_schema":
                    { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } },
                { "name": "now", "input_schema": { "type": "object", "properties": {} } },
            ])
        );
        assert!(out.get("tool_choice").is_none());
    }

    #[test]
    fn bad_tools_are_rejected() {
        let m = err(json!({ "messages": [user("x")], "tools": [{ "type": "web_search" }] }));
        assert!(m.contains("tools[0]") && m.contains("web_search"), "{m}");
        let m = err(
            json!({ "messages": [user("x")], "tools": [{ "type": "function", "function": {} }] }),
        );
        assert!(m.contains("function.name"), "{m}");
        let m = err(json!({ "messages": [user("x")], "tools": [
            { "type": "function", "function": { "name": "f", "parameters": "nope" } }
        ]}));
        assert!(m.contains("parameters"), "{m}");
    }

    fn with_tools(extra: Value) -> Value {
        let mut req = json!({
            "messages": [user("x")],
            "tools": [{ "type": "function", "function": { "name": "f" } }],
        });
        if let (Value::Object(req), Value::Object(extra)) = (&mut req, extra) {
            req.extend(extra);
        }
        ok(req)
    }

    #[test]
    fn tool_choice_mapping() {
        assert_eq!(
            with_tools(json!({ "tool_choice": "auto" }))["tool_choice"],
            json!({ "type": "auto" })
        );
        assert_eq!(
            with_tools(json!({ "tool_choice": "required" }))["tool_choice"],
            json!({ "type": "any" })
        );
        assert_eq!(
            with_tools(json!({ "tool_choice": "none" }))["tool_choice"],
            json!({ "type": "none" })
        );
        assert_eq!(
            with_tools(
                json!({ "tool_choice": { "type": "function", "function": { "name": "f" } } })
            )["tool_choice"],
            json!({ "type": "tool", "name": "f" })
        );
    }

    #[test]
    fn parallel_tool_calls_false_disables_parallel_use() {
        assert_eq!(
            with_tools(json!({ "parallel_tool_calls": false }))["tool_choice"],
            json!({ "type": "auto", "disable_parallel_tool_use": true })
        );
        assert_eq!(
            with_tools(json!({ "parallel_tool_calls": false, "tool_choice": "required" }))["tool_choice"],
            json!({ "type": "any", "disable_parallel_tool_use": true })
        );
        assert_eq!(
            with_tools(json!({
                "parallel_tool_calls": false,
                "tool_choice": { "type": "function", "function": { "name": "f" } },
            }))["tool_choice"],
            json!({ "type": "tool", "name": "f", "disable_parallel_tool_use": true })
        );
        assert_eq!(
            with_tools(json!({ "parallel_tool_calls": false, "tool_choice": "none" }))["tool_choice"],
            json!({ "type": "none" })
        );
        assert!(
            with_tools(json!({ "parallel_tool_calls": true }))
                .get("tool_choice")
                .is_none()
        );
    }

    #[test]
    fn tool_choice_without_tools_is_dropped_but_validated() {
        let out = ok(
            json!({ "messages": [user("x")], "tool_choice": "required", "parallel_tool_calls": false }),
        );
        assert!(out.get("tool_choice").is_none() && out.get("tools").is_none());
        assert!(
            err(json!({ "messages": [user("x")], "tool_choice": "sometimes" }))
                .contains("sometimes")
        );
        assert!(
            err(json!({ "messages": [user("x")], "tool_choice": { "type": "function", "function": {} } }))
                .contains("function.name")
        );
    }

    #[test]
    fn sampling_stop_stream_and_user() {
        let out = ok(json!({
            "messages": [user("x")],
            "temperature": 0.2, "top_p": 0.9, "top_k": 40,
            "stop": "END", "stream": true, "user": "user-42",
        }));
        assert_eq!(out["temperature"], 0.2);
        assert_eq!(out["top_p"], 0.9);
        assert_eq!(out["top_k"], 40);
        assert_eq!(out["stop_sequences"], json!(["END"]));
        assert_eq!(out["stream"], true);
        assert_eq!(out["metadata"], json!({ "user_id": "user-42" }));

        let out = ok(json!({ "messages": [user("x")], "stop": ["a", "b"], "stream": false }));
        assert_eq!(out["stop_sequences"], json!(["a", "b"]));
        assert_eq!(out["stream"], false);
        assert!(
            ok(json!({ "messages": [user("x")], "stop": [] }))
                .get("stop_sequences")
                .is_none()
        );
        assert!(err(json!({ "messages": [user("x")], "stop": [1] })).contains("'stop'"));
        assert!(
            err(json!({ "messages": [user("x")], "temperature": "hot" })).contains("temperature")
        );
        assert!(err(json!({ "messages": [user("x")], "stream": "yes" })).contains("stream"));
    }

    #[test]
    fn openai_only_fields_are_dropped() {
        let out = ok(json!({
            "model": "alias",
            "messages": [user("x")],
            "n": 1,
            "stream_options": { "include_usage": true },
            "logprobs": true, "top_logprobs": 2,
            "presence_penalty": 0.5, "frequency_penalty": 0.5,
            "seed": 7,
            "response_format": { "type": "json_object" },
            "store": true,
            "metadata": { "k": "v" },
            "mock_response": "hello",
            "logit_bias": { "1": 2 },
        }));
        let mut keys: Vec<&str> = out
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(keys, ["max_tokens", "messages", "model"]);
    }

    #[test]
    fn n_greater_than_one_is_rejected() {
        assert!(err(json!({ "messages": [user("x")], "n": 2 })).contains("'n'"));
        ok(json!({ "messages": [user("x")], "n": null }));
    }

    #[test]
    fn cache_control_on_user_parts_is_kept() {
        let out = ok(json!({ "messages": [{ "role": "user", "content": [
            { "type": "text", "text": "doc", "cache_control": { "type": "ephemeral" } },
        ]}]}));
        assert_eq!(
            out["messages"][0]["content"][0],
            json!({ "type": "text", "text": "doc", "cache_control": { "type": "ephemeral" } })
        );
    }
}
