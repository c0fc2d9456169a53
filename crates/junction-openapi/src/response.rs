//! An API's HTTP response turned into the MCP tool result the model reads.
//!
//! The body is passed on as received (the model can read the API's own JSON or text), with
//! JSON also given as `structured_content` for clients that use it. Anything that is not
//! a 2xx is a tool error (`is_error`), so the model sees that the call failed and why,
//! rather than a protocol error its client would hide. The URL is shown without its query,
//! userinfo or fragment: an API key may travel in the query string.

use base64::Engine as _;
use reqwest::{Method, StatusCode, Url};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

/// Appended when the body was cut at the size limit before it reached us.
const TRUNCATED: &str = "\n[response truncated]";

/// The tool result for an API response. `body` is what was read, `truncated` whether the
/// read stopped at the size limit (then the body is never parsed: it would not be whole).
pub(crate) fn tool_result(
    method: &Method,
    url: &Url,
    status: StatusCode,
    content_type: Option<&str>,
    body: &[u8],
    truncated: bool,
) -> CallToolResult {
    let media = content_type.map(media_type);
    let media = media.as_deref();
    if !status.is_success() {
        return failure(method, url, status, media, body, truncated);
    }
    if body.is_empty() {
        let line = status_line(status);
        let text = if status == StatusCode::NO_CONTENT {
            line
        } else {
            format!("{line} (empty body)")
        };
        return CallToolResult::success(vec![ContentBlock::text(text)]);
    }
    if let Some(image) = media.filter(|media| media.starts_with("image/")) {
        if truncated {
            // A cut image does not decode; say what it was instead.
            let text = format!(
                "{image} response of at least {} bytes{TRUNCATED}",
                body.len()
            );
            return CallToolResult::success(vec![ContentBlock::text(text)]);
        }
        let data = base64::engine::general_purpose::STANDARD.encode(body);
        return CallToolResult::success(vec![ContentBlock::image(data, image)]);
    }
    let parsed = (!truncated && may_be_json(media))
        .then(|| serde_json::from_slice::<Value>(body).ok())
        .flatten();
    if let Some(value) = parsed {
        let structured = match value {
            Value::Object(_) => value,
            other => json!({ "result": other }),
        };
        let text = String::from_utf8_lossy(body);
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(structured);
        return result;
    }
    let text = body_text(media, body, truncated).unwrap_or_else(|| binary(media, body, truncated));
    CallToolResult::success(vec![ContentBlock::text(text)])
}

/// A non-2xx response: the status, the request (without its query) and the body.
fn failure(
    method: &Method,
    url: &Url,
    status: StatusCode,
    media: Option<&str>,
    body: &[u8],
    truncated: bool,
) -> CallToolResult {
    let parsed = if truncated || body.is_empty() {
        None
    } else {
        serde_json::from_slice::<Value>(body).ok()
    };
    let text = if body.is_empty() {
        "(empty body)".to_owned()
    } else {
        body_text(media, body, truncated).unwrap_or_else(|| binary(media, body, truncated))
    };
    let line = status_line(status);
    let shown = format!("{line} from {method} {}: {text}", without_query(url));
    let structured_body = match parsed {
        Some(value) => value,
        None if body.is_empty() => Value::String(String::new()),
        None => Value::String(text.strip_suffix(TRUNCATED).unwrap_or(&text).to_owned()),
    };
    let mut result = CallToolResult::error(vec![ContentBlock::text(shown)]);
    result.structured_content = Some(json!({ "status": status.as_u16(), "body": structured_body }));
    result
}

/// `HTTP 404 Not Found`, or `HTTP 599` for a code with no standard reason.
fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// Scheme, host, port and path: never the query, userinfo or fragment.
pub(crate) fn without_query(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

/// `Content-Type` without parameters, lowercased: `application/json; charset=utf-8` →
/// `application/json`.
fn media_type(content_type: &str) -> String {
    let essence = content_type.split(';').next().unwrap_or_default();
    essence.trim().to_ascii_lowercase()
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json") || media == "text/json"
}

/// JSON, or a type that says nothing about the format (many APIs send JSON as
/// `text/plain` or `application/octet-stream`, or with no type at all).
fn may_be_json(media: Option<&str>) -> bool {
    match media {
        None => true,
        Some(media) => {
            is_json(media)
                || !media.contains('/')
                || matches!(
                    media,
                    "text/plain" | "application/octet-stream" | "binary/octet-stream"
                )
        }
    }
}

/// Types whose bytes are text even when they are not valid UTF-8 (another charset):
/// shown lossily rather than as "binary".
fn is_textual(media: &str) -> bool {
    media.starts_with("text/")
        || is_json(media)
        || media.ends_with("+xml")
        || matches!(
            media,
            "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
                | "application/yaml"
                | "application/x-yaml"
        )
}

/// The body as text, if it is text: valid UTF-8 (a truncated body may end inside a
/// character, which is not held against it), or declared as a textual type.
fn body_text(media: Option<&str>, body: &[u8], truncated: bool) -> Option<String> {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text.to_owned(),
        Err(error) if truncated && error.error_len().is_none() => {
            String::from_utf8_lossy(&body[..error.valid_up_to()]).into_owned()
        }
        Err(_) if media.is_some_and(is_textual) => String::from_utf8_lossy(body).into_owned(),
        Err(_) => return None,
    };
    Some(if truncated {
        format!("{text}{TRUNCATED}")
    } else {
        text
    })
}

fn binary(media: Option<&str>, body: &[u8], truncated: bool) -> String {
    let media = media.unwrap_or("unknown type");
    if truncated {
        format!(
            "binary response of at least {} bytes ({media}){TRUNCATED}",
            body.len()
        )
    } else {
        format!("binary response of {} bytes ({media})", body.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://user:pw@h:8443/v2/pet/9?api_key=secret#frag").unwrap()
    }

    fn respond(
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        truncated: bool,
    ) -> CallToolResult {
        let status = StatusCode::from_u16(status).unwrap();
        tool_result(&Method::GET, &url(), status, content_type, body, truncated)
    }

    fn only_text(result: &CallToolResult) -> &str {
        assert_eq!(result.content.len(), 1);
        &result.content[0].as_text().unwrap().text
    }

    #[test]
    fn json_object_is_text_and_structured() {
        let body = br#"{"id": 9, "name": "rex"}"#;
        let result = respond(200, Some("application/json; charset=utf-8"), body, false);
        assert_eq!(result.is_error, Some(false));
        assert_eq!(only_text(&result), r#"{"id": 9, "name": "rex"}"#);
        assert_eq!(
            result.structured_content,
            Some(json!({"id": 9, "name": "rex"}))
        );
    }

    #[test]
    fn json_non_object_is_wrapped() {
        let result = respond(200, Some("application/problem+json"), b"[1,2]", false);
        assert_eq!(result.structured_content, Some(json!({"result": [1, 2]})));
        let result = respond(200, None, b"42", false);
        assert_eq!(result.structured_content, Some(json!({"result": 42})));
        assert_eq!(only_text(&result), "42");
    }

    #[test]
    fn json_is_not_guessed_from_other_declared_types() {
        let result = respond(200, Some("text/csv"), b"1", false);
        assert_eq!(only_text(&result), "1");
        assert_eq!(result.structured_content, None);
    }

    #[test]
    fn invalid_json_is_text() {
        let result = respond(200, Some("application/json"), b"{oops", false);
        assert_eq!(only_text(&result), "{oops");
        assert_eq!(result.structured_content, None);
        assert_eq!(result.is_error, Some(false));
    }

    #[test]
    fn text_and_xml() {
        let result = respond(200, Some("application/xml"), b"<pet/>", false);
        assert_eq!(only_text(&result), "<pet/>");
        assert_eq!(result.structured_content, None);
        // Latin-1 declared as text is shown lossily, not as binary.
        let result = respond(200, Some("text/plain; charset=latin1"), b"caf\xe9", false);
        assert_eq!(only_text(&result), "caf\u{fffd}");
    }

    #[test]
    fn image_is_image_content() {
        let result = respond(200, Some("image/png"), b"\x89PNG", false);
        assert_eq!(result.content.len(), 1);
        let image = result.content[0].as_image().unwrap();
        assert_eq!(image.mime_type, "image/png");
        assert_eq!(image.data, "iVBORw==");
    }

    #[test]
    fn other_binary_is_described() {
        let result = respond(
            200,
            Some("application/octet-stream"),
            b"\xff\xfe\x00",
            false,
        );
        assert_eq!(
            only_text(&result),
            "binary response of 3 bytes (application/octet-stream)"
        );
        let result = respond(200, None, b"\xff", false);
        assert_eq!(
            only_text(&result),
            "binary response of 1 bytes (unknown type)"
        );
    }

    #[test]
    fn empty_body_still_has_content() {
        assert_eq!(
            only_text(&respond(204, None, b"", false)),
            "HTTP 204 No Content"
        );
        assert_eq!(
            only_text(&respond(201, Some("application/json"), b"", false)),
            "HTTP 201 Created (empty body)"
        );
    }

    #[test]
    fn truncated_body_is_marked_and_not_parsed() {
        let result = respond(200, Some("application/json"), br#"{"a": [1, 2"#, true);
        assert_eq!(only_text(&result), "{\"a\": [1, 2\n[response truncated]");
        assert_eq!(result.structured_content, None);
        // A cut in the middle of a character does not make the text binary.
        let result = respond(
            200,
            None,
            "caf\u{e9}".as_bytes().split_last().unwrap().1,
            true,
        );
        assert_eq!(only_text(&result), "caf\n[response truncated]");
        let result = respond(200, Some("image/png"), b"\x89PNG", true);
        assert_eq!(
            only_text(&result),
            "image/png response of at least 4 bytes\n[response truncated]"
        );
    }

    #[test]
    fn error_status_is_a_tool_error_without_the_query() {
        let result = respond(
            404,
            Some("application/json"),
            br#"{"message":"not found"}"#,
            false,
        );
        assert_eq!(result.is_error, Some(true));
        assert_eq!(
            only_text(&result),
            r#"HTTP 404 Not Found from GET https://h:8443/v2/pet/9: {"message":"not found"}"#
        );
        assert_eq!(
            result.structured_content,
            Some(json!({"status": 404, "body": {"message": "not found"}}))
        );
    }

    #[test]
    fn error_status_with_text_empty_or_truncated_body() {
        let result = respond(500, Some("text/plain"), b"boom", false);
        assert_eq!(
            only_text(&result),
            "HTTP 500 Internal Server Error from GET https://h:8443/v2/pet/9: boom"
        );
        assert_eq!(
            result.structured_content,
            Some(json!({"status": 500, "body": "boom"}))
        );
        let result = respond(502, None, b"", false);
        assert!(only_text(&result).ends_with("/v2/pet/9: (empty body)"));
        assert_eq!(
            result.structured_content,
            Some(json!({"status": 502, "body": ""}))
        );
        let result = respond(400, Some("application/json"), br#"{"a":"#, true);
        assert!(only_text(&result).ends_with(": {\"a\":\n[response truncated]"));
        assert_eq!(
            result.structured_content,
            Some(json!({"status": 400, "body": "{\"a\":"}))
        );
        let result = respond(599, None, b"x", false);
        assert!(only_text(&result).starts_with("HTTP 599 from GET"));
        assert!(!only_text(&result).contains("secret"));
    }
}
