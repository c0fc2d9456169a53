//! Scripted tool calls ([`MockOptions::tool_calls`](crate::MockOptions::tool_calls)): which
//! offered tool the mock calls, and with which arguments, instead of the default (the first
//! tool, `{"query":"<text>"}`).

use serde_json::Value;

use crate::reply::Conversation;

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
/// `tool_choice` none). Otherwise, unless the choice was forced, the first script whose tool
/// is offered picks the tool; whichever tool is called, its script (if any) gives the
/// arguments.
pub(crate) fn apply(
    scripts: &[ScriptedToolCall],
    offered: &[&str],
    forced: bool,
    convo: &mut Conversation,
) {
    if scripts.is_empty() || convo.tool.is_none() {
        return;
    }
    if !forced && let Some(script) = scripts.iter().find(|s| offered.contains(&s.name.as_str())) {
        convo.tool = Some(script.name.clone());
    }
    convo.tool_arguments = convo
        .tool
        .as_deref()
        .and_then(|tool| scripts.iter().find(|s| s.name == tool))
        .map(|script| script.arguments.to_string());
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
        apply(&scripts(), &["echo", "time"], false, &mut c);
        assert_eq!(
            c.answer().reply,
            Reply::ToolCall {
                name: "time".into(),
                arguments: r#"{"timezone":"UTC"}"#.into()
            }
        );
    }

    #[test]
    fn a_forced_choice_keeps_its_tool_and_unscripted_tools_keep_the_default() {
        let mut forced = convo(Some("echo"));
        apply(&scripts(), &["echo", "time"], true, &mut forced);
        assert_eq!(
            forced.answer().reply,
            Reply::ToolCall {
                name: "echo".into(),
                arguments: r#"{"query":"what time is it"}"#.into()
            }
        );
        let mut forced_scripted = convo(Some("time"));
        apply(&scripts(), &["echo", "time"], true, &mut forced_scripted);
        assert_eq!(
            forced_scripted.tool_arguments.as_deref(),
            Some(r#"{"timezone":"UTC"}"#)
        );
        let mut none = convo(None);
        apply(&scripts(), &["echo", "time"], false, &mut none);
        assert_eq!(none.tool, None);
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
    }
}
