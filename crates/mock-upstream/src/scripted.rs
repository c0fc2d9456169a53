//! Scripted tool calls ([`MockOptions::tool_calls`](crate::MockOptions::tool_calls)): which
//! offered tool(s) the mock calls, and with which arguments, instead of the default (the first
//! tool, `{"query":"<text>"}`); with
//! [`MockOptions::parallel_tool_calls`](crate::MockOptions::parallel_tool_calls), every
//! offered scripted tool at once.

use serde_json::Value;

use crate::reply::{Conversation, ToolCall};

/// A tool call the mock makes when the request offers the tool (see the crate docs,
/// "Scripted tool calls").
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptedToolCall {
    /// The tool (function) name, as offered in the request's `tools`.
    pub name: String,
    /// The arguments to call it with (a JSON object).
    pub arguments: Value,
}

impl ScriptedToolCall {
    pub fn new(name: impl Into<String>, arguments: Value) -> ScriptedToolCall {
        ScriptedToolCall {
            name: name.into(),
            arguments,
        }
    }
}

/// Applies `scripts` to a conversation whose default tool choice is already in `convo.tool`.
///
/// `offered` are the names of the request's tools; `forced` is whether `tool_choice` named
/// the tool to call. Nothing changes when no tool is to be called (no tools, or
/// `tool_choice` none). With `parallel` and no forced choice, every script whose tool is
/// offered becomes a call, in script order (none offered: the default call stays).
/// Otherwise, unless the choice was forced, the first script whose tool is offered picks the
/// tool; whichever tool is called, its script (if any) gives the arguments.
pub(crate) fn apply(
    scripts: &[ScriptedToolCall],
    offered: &[&str],
    forced: bool,
    parallel: bool,
    convo: &mut Conversation,
) {
    if scripts.is_empty() || convo.tool.is_none() {
        return;
    }
    let is_offered = |s: &&ScriptedToolCall| offered.contains(&s.name.as_str());
    if parallel && !forced {
        convo.scripted = scripts.iter().filter(is_offered).map(call).collect();
        return;
    }
    if !forced && let Some(script) = scripts.iter().find(is_offered) {
        convo.tool = Some(script.name.clone());
    }
    convo.scripted = convo
        .tool
        .as_deref()
        .and_then(|tool| scripts.iter().find(|s| s.name == tool))
        .map(call)
        .into_iter()
        .collect();
}

fn call(script: &ScriptedToolCall) -> ToolCall {
    ToolCall {
        name: script.name.clone(),
        arguments: script.arguments.to_string(),
    }
}

/// The `function.name` of each OpenAI tool (Chat Completions `tools`).
pub(crate) fn openai_offered(request: &Value) -> Vec<&str> {
    offered(request, "/function/name")
}

/// Whether an OpenAI `tool_choice` names a function.
pub(crate) fn openai_forced(request: &Value) -> bool {
    request.pointer("/tool_choice/function/name").is_some()
}

/// The `name` of each Anthropic tool.
pub(crate) fn anthropic_offered(request: &Value) -> Vec<&str> {
    offered(request, "/name")
}

/// The `name` of each Responses API function tool (`{"type":"function","name":…}`).
pub(crate) fn responses_offered(request: &Value) -> Vec<&str> {
    request
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
                .filter_map(|t| t.get("name").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a Responses API `tool_choice` is `{"type":"function","name":…}`.
pub(crate) fn responses_forced(request: &Value) -> bool {
    request.pointer("/tool_choice/type").and_then(Value::as_str) == Some("function")
        && request.pointer("/tool_choice/name").is_some()
}

/// Whether an Anthropic `tool_choice` is `{"type":"tool","name":…}`.
pub(crate) fn anthropic_forced(request: &Value) -> bool {
    request.pointer("/tool_choice/type").and_then(Value::as_str) == Some("tool")
        && request.pointer("/tool_choice/name").is_some()
}

fn offered<'a>(request: &'a Value, pointer: &str) -> Vec<&'a str> {
    request
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t.pointer(pointer).and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::reply::Reply;

    fn single(name: &str, arguments: &str) -> Reply {
        Reply::ToolCalls(vec![ToolCall {
            name: name.into(),
            arguments: arguments.into(),
        }])
    }

    fn convo(tool: Option<&str>) -> Conversation {
        Conversation {
            model: "m".into(),
            last_user_text: "what time is it".into(),
            ends_with_user: true,
            tool: tool.map(str::to_owned),
            ..Conversation::default()
        }
    }

    fn scripts() -> Vec<ScriptedToolCall> {
        vec![
            ScriptedToolCall::new("absent", json!({})),
            ScriptedToolCall::new("time", json!({"timezone": "UTC"})),
        ]
    }

    #[test]
    fn the_first_offered_script_picks_tool_and_arguments() {
        let mut c = convo(Some("echo"));
        apply(&scripts(), &["echo", "time"], false, false, &mut c);
        assert_eq!(c.answer().reply, single("time", r#"{"timezone":"UTC"}"#));
    }

    #[test]
    fn a_forced_choice_keeps_its_tool_and_unscripted_tools_keep_the_default() {
        for parallel in [false, true] {
            let mut forced = convo(Some("echo"));
            apply(&scripts(), &["echo", "time"], true, parallel, &mut forced);
            assert_eq!(
                forced.answer().reply,
                single("echo", r#"{"query":"what time is it"}"#)
            );
            let mut forced_scripted = convo(Some("time"));
            apply(
                &scripts(),
                &["echo", "time"],
                true,
                parallel,
                &mut forced_scripted,
            );
            assert_eq!(
                forced_scripted.answer().reply,
                single("time", r#"{"timezone":"UTC"}"#)
            );
            let mut none = convo(None);
            apply(&scripts(), &["echo", "time"], false, parallel, &mut none);
            assert_eq!(none.tool, None);
            assert!(none.scripted.is_empty());
        }
    }

    #[test]
    fn parallel_calls_every_offered_script_in_script_order() {
        let scripts = vec![
            ScriptedToolCall::new("time", json!({"timezone": "UTC"})),
            ScriptedToolCall::new("absent", json!({})),
            ScriptedToolCall::new("echo", json!({"text": "x"})),
        ];
        let mut c = convo(Some("echo"));
        apply(&scripts, &["echo", "time"], false, true, &mut c);
        let answer = c.answer();
        assert_eq!(
            answer.reply,
            Reply::ToolCalls(vec![
                ToolCall {
                    name: "time".into(),
                    arguments: r#"{"timezone":"UTC"}"#.into()
                },
                ToolCall {
                    name: "echo".into(),
                    arguments: r#"{"text":"x"}"#.into()
                },
            ])
        );
        assert_eq!(answer.completion_tokens, 2);
        let mut unscripted = convo(Some("other"));
        apply(&scripts, &["other"], false, true, &mut unscripted);
        assert_eq!(
            unscripted.answer().reply,
            single("other", r#"{"query":"what time is it"}"#)
        );
    }

    #[test]
    fn reads_both_wire_formats() {
        let openai = json!({
            "tools": [{"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "b"}}],
            "tool_choice": {"type": "function", "function": {"name": "b"}},
        });
        assert_eq!(openai_offered(&openai), ["a", "b"]);
        assert!(openai_forced(&openai));
        assert!(!openai_forced(&json!({"tool_choice": "auto"})));
        let anthropic = json!({
            "tools": [{"name": "a", "input_schema": {}}],
            "tool_choice": {"type": "tool", "name": "a"},
        });
        assert_eq!(anthropic_offered(&anthropic), ["a"]);
        assert!(anthropic_forced(&anthropic));
        assert!(!anthropic_forced(&json!({"tool_choice": {"type": "auto"}})));
        let responses = json!({
            "tools": [{"type": "function", "name": "a"}, {"type": "mcp", "server_label": "s"}, {"type": "function", "name": "b"}],
            "tool_choice": {"type": "function", "name": "b"},
        });
        assert_eq!(responses_offered(&responses), ["a", "b"]);
        assert!(responses_forced(&responses));
        assert!(!responses_forced(&json!({"tool_choice": "required"})));
    }
}
