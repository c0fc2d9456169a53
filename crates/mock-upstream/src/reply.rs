//! The provider-neutral conversation summary and the deterministic answer
//! computed from it (normal behaviour of the grammar in the crate docs).

use serde_json::json;

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
    /// The arguments (a JSON object as text) of a scripted tool call, replacing
    /// `{"query":"<last user text>"}` (see `scripted.rs`).
    pub(crate) tool_arguments: Option<String>,
    /// Words in the text of all messages, system prompt included.
    pub(crate) prompt_words: usize,
}

/// The content of the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// An assistant text.
    Text(String),
    /// One call to the named tool; `arguments` is a JSON object as text.
    ToolCall { name: String, arguments: String },
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
        let reply = match (&self.tool_results, &self.tool) {
            (Some(results), _) => Reply::Text(format!("Tool result: {results}")),
            (None, Some(name)) if self.ends_with_user => Reply::ToolCall {
                name: name.clone(),
                arguments: self
                    .tool_arguments
                    .clone()
                    .unwrap_or_else(|| json!({ "query": self.last_user_text }).to_string()),
            },
            _ => {
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
            }
        };
        let completion_tokens = match &reply {
            Reply::Text(text) => words(text),
            Reply::ToolCall { arguments, .. } => words(arguments),
        };
        Answer {
            reply,
            prompt_tokens: self.prompt_words,
            completion_tokens,
        }
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
            Reply::ToolCall {
                name: "search".into(),
                arguments: r#"{"query":"hi there"}"#.into()
            }
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
