//! What a failed tool call is logged as: the tool's own words, not only that it failed.

use junction_mcp::model::CallToolResult;
use junction_mcp::openai::result_to_text;

/// Longest error text kept, in characters: enough for a message, not a whole payload.
const MAX_CHARS: usize = 500;

/// The error a result with `isError: true` reports, for a spend log's `error`; `None` when
/// the call succeeded.
pub fn tool_error(result: &CallToolResult) -> Option<String> {
    if result.is_error != Some(true) {
        return None;
    }
    let text = result_to_text(result).text;
    let text = text.trim();
    if text.is_empty() {
        return Some("the tool returned an error".to_owned());
    }
    let mut kept: String = text.chars().take(MAX_CHARS).collect();
    if kept.len() < text.len() {
        kept.push('…');
    }
    Some(format!("the tool returned an error: {kept}"))
}

#[cfg(test)]
mod tests {
    use junction_mcp::model::ContentBlock;

    use super::*;

    #[test]
    fn keeps_the_tools_words_and_bounds_them() {
        assert_eq!(
            tool_error(&CallToolResult::success(vec![ContentBlock::text("ok")])),
            None
        );
        let failed = CallToolResult::error(vec![ContentBlock::text("Invalid timezone: Mars")]);
        assert_eq!(
            tool_error(&failed).as_deref(),
            Some("the tool returned an error: Invalid timezone: Mars")
        );
        let long = CallToolResult::error(vec![ContentBlock::text("x".repeat(2_000))]);
        let logged = tool_error(&long).unwrap_or_default();
        assert!(
            logged.ends_with('…') && logged.chars().count() < 540,
            "{logged}"
        );
        let silent = CallToolResult::error(vec![]);
        assert_eq!(
            tool_error(&silent).as_deref(),
            Some("the tool returned an error")
        );
    }
}
