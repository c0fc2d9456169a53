//! The provider-neutral conversation summary and the deterministic answer
//! computed from it (normal behaviour of the grammar in the crate docs).

use serde_json::json;

use crate::script::Directive;

/// What the answer depends on, extracted from either wire format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Conversation {
    /// The requested model, echoed in the answer.
    pub(crate) model: String,
    /// System prompt text, when present and non-empty.
    pub(crate) system: Option<String>,
    /// Text of the last user message ("" when there is none).
    pub(crate) last_user_text: String,
    /// Text of the trailing tool result(s), when the conversation ends with
    /// tool results.
    pub(crate) tool_results: Option<String>,
    /// The last message is a (non tool-result) user message.
    pub(crate) ends_with_user: bool,
    /// The tool to call, when tools are offered and not disabled.
    pub(crate) tool: Option<String>,
    /// Scripted calls replacing the default one call to `tool` with
    /// `{"query":"<last user text>"}` (see `scripted.rs`); empty means the
    /// default.
    pub(crate) scripted: Vec<ToolCall>,
    /// Words in the text of all messages, system prompt included.
    pub(crate) prompt_words: usize,
}

/// One call to a tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ToolCall {
    pub(crate) name: String,
    /// A JSON object as text.
    pub(crate) arguments: String,
}

/// The content of the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// An assistant text.
    Text(String),
    /// Calls to tools, at least one, in order.
    ToolCalls(Vec<ToolCall>),
}

/// The answer with its usage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) reply: Reply,
    pub(crate) prompt_tokens: usize,
    pub(crate) completion_tokens: usize,
}

impl Conversation {
    /// The deterministic answer to this conversation.
    pub(crate) fn answer(&self) -> Answer {
        let calls = self.calls();
        // `always-tools` calls tools whatever the conversation ends with, so a
        // client's tool loop never ends on its own (round-limit tests).
        let always = Directive::parse(&self.model) == Directive::AlwaysTools;
        let reply = if always && !calls.is_empty() {
            Reply::ToolCalls(calls)
        } else if let Some(results) = &self.tool_results {
            Reply::Text(format!("Tool result: {results}"))
        } else if self.ends_with_user && !calls.is_empty() {
            Reply::ToolCalls(calls)
        } else {
            let mut text = format!(
                "Hello from {}! You said: {}",
                self.model, self.last_user_text
            );
            if let Some(system) = &self.system {
                text.push_str(" [system: ");
                text.push_str(system);
                text.push(']');
            }
            Reply::Text(text)
        };
        let completion_tokens = match &reply {
            Reply::Text(text) => words(text),
            Reply::ToolCalls(calls) => calls.iter().map(|c| words(&c.arguments)).sum(),
        };
        Answer {
            reply,
            prompt_tokens: self.prompt_words,
            completion_tokens,
        }
    }

    /// The calls step 2 makes: the scripted ones, else one call to `tool` with
    /// the default arguments; none when no tool is to be called.
    fn calls(&self) -> Vec<ToolCall> {
        let Some(tool) = &self.tool else {
            return Vec::new();
        };
        if !self.scripted.is_empty() {
            return self.scripted.clone();
        }
        vec![ToolCall {
            name: tool.clone(),
            arguments: json!({ "query": self.last_user_text }).to_string(),
        }]
    }
}

/// The id of call `index` (0-based) of `count` calls in the answer to request
/// `n`: `<prefix>_<n>` for a lone call, `<prefix>_<n>_<index + 1>` when there
/// are several, so ids stay unique within a turn and across requests.
pub(crate) fn call_id(prefix: &str, n: u64, index: usize, count: usize) -> String {
    if count == 1 {
        format!("{prefix}_{n}")
    } else {
        format!("{prefix}_{n}_{}", index + 1)
    }
}

/// Number of whitespace-separated words.
pub(crate) fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Joins the non-empty texts with a single space.
pub(crate) fn join_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for text in texts.into_iter().filter(|t| !t.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(text);
    }
    out
}

/// Splits a text into streamed pieces: each word with its following space.
/// The pieces concatenate back to `text`; an empty text gives no piece.
pub(crate) fn word_pieces(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive(' ')
}

/// Splits `text` into `parts` pieces of about equal length, at character
/// boundaries (fewer pieces only when `text` has fewer characters).
pub(crate) fn split_pieces(text: &str, parts: usize) -> Vec<&str> {
    let chars = text.chars().count();
    let size = chars.div_ceil(parts.max(1)).max(1);
    let mut pieces = Vec::with_capacity(parts);
    let mut rest = text;
    while !rest.is_empty() {
        let cut = rest.char_indices().nth(size).map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convo() -> Conversation {
        Conversation {
            model: "mock-gpt".into(),
            last_user_text: "hi there".into(),
            ends_with_user: true,
            prompt_words: 2,
            ..Conversation::default()
        }
    }

    #[test]
    fn greets_with_the_user_text_and_system() {
        let answer = convo().answer();
        assert_eq!(
            answer.reply,
            Reply::Text("Hello from mock-gpt! You said: hi there".into())
        );
        assert_eq!((answer.prompt_tokens, answer.completion_tokens), (2, 7));
        let with_system = Conversation {
            system: Some("be brief".into()),
            ..convo()
        };
        assert_eq!(
            with_system.answer().reply,
            Reply::Text("Hello from mock-gpt! You said: hi there [system: be brief]".into())
        );
    }

    #[test]
    fn calls_the_tool_only_after_a_user_message() {
        let with_tool = Conversation {
            tool: Some("search".into()),
            ..convo()
        };
        let answer = with_tool.answer();
        assert_eq!(
            answer.reply,
            Reply::ToolCalls(vec![ToolCall {
                name: "search".into(),
                arguments: r#"{"query":"hi there"}"#.into()
            }])
        );
        assert_eq!(answer.completion_tokens, 2);
        let after_result = Conversation {
            tool_results: Some("42".into()),
            ends_with_user: false,
            ..with_tool
        };
        assert_eq!(
            after_result.answer().reply,
            Reply::Text("Tool result: 42".into())
        );
        let endless = Conversation {
            model: "openai/always-tools".into(),
            ..after_result
        };
        assert!(matches!(endless.answer().reply, Reply::ToolCalls(_)));
        let endless_without_tools = Conversation {
            tool: None,
            ..endless
        };
        assert_eq!(
            endless_without_tools.answer().reply,
            Reply::Text("Tool result: 42".into())
        );
    }

    #[test]
    fn call_ids_get_a_suffix_only_when_there_are_several() {
        assert_eq!(call_id("call_mock", 3, 0, 1), "call_mock_3");
        assert_eq!(call_id("call_mock", 3, 0, 2), "call_mock_3_1");
        assert_eq!(call_id("fc_mock", 3, 1, 2), "fc_mock_3_2");
    }

    #[test]
    fn splits_text() {
        assert_eq!(join_texts(["a", "", "b c"]), "a b c");
        let pieces: Vec<_> = word_pieces("Hello from x!").collect();
        assert_eq!(pieces, ["Hello ", "from ", "x!"]);
        assert_eq!(word_pieces("").count(), 0);
        let args = r#"{"query":"héllo"}"#;
        let split = split_pieces(args, 3);
        assert_eq!(split.len(), 3);
        assert_eq!(split.concat(), args);
        assert_eq!(split_pieces("ab", 3), ["a", "b"]);
    }
}
