//! The behaviour grammar: how a request's `model` name scripts the mock
//! (`error-<status>`, `slow-<ms>`, `drip-<ms>`, `always-tools`; see the crate
//! docs).

use std::time::Duration;

use axum::http::StatusCode;

/// What the model name asks the mock to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Directive {
    /// Answer normally.
    Normal,
    /// Answer this status with the provider's error body.
    Error(StatusCode),
    /// Wait this long before answering.
    Slow(Duration),
    /// Wait this long between streamed events (once, when not streaming).
    Drip(Duration),
    /// Call the offered tools even after tool results (endless tool loops).
    AlwaysTools,
}

impl Directive {
    /// Parses the directive in `model` (only the part after the last `/`).
    pub(crate) fn parse(model: &str) -> Directive {
        let name = model.rsplit('/').next().unwrap_or(model);
        if let Some(code) = number_after(name, "error-") {
            return match u16::try_from(code).map(StatusCode::from_u16) {
                Ok(Ok(status)) if (400..=599).contains(&status.as_u16()) => {
                    Directive::Error(status)
                }
                _ => Directive::Normal,
            };
        }
        if let Some(ms) = number_after(name, "slow-") {
            return Directive::Slow(Duration::from_millis(ms));
        }
        if let Some(ms) = number_after(name, "drip-") {
            return Directive::Drip(Duration::from_millis(ms));
        }
        if name == "always-tools" || name.starts_with("always-tools-") {
            return Directive::AlwaysTools;
        }
        Directive::Normal
    }

    /// Delay before the response starts.
    pub(crate) fn delay_before(self, streaming: bool) -> Duration {
        match self {
            Directive::Slow(d) => d,
            Directive::Drip(d) if !streaming => d,
            _ => Duration::ZERO,
        }
    }

    /// Delay between streamed events.
    pub(crate) fn delay_between(self, streaming: bool) -> Duration {
        match self {
            Directive::Drip(d) if streaming => d,
            _ => Duration::ZERO,
        }
    }
}

/// `Some(n)` when `name` is `<prefix><digits>` optionally followed by
/// `-<anything>`.
fn number_after(name: &str, prefix: &str) -> Option<u64> {
    let rest = name.strip_prefix(prefix)?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, tail) = rest.split_at(end);
    if digits.is_empty() || !(tail.is_empty() || tail.starts_with('-')) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_grammar() {
        assert_eq!(
            Directive::parse("error-429"),
            Directive::Error(StatusCode::TOO_MANY_REQUESTS)
        );
        assert_eq!(
            Directive::parse("openai/error-500-primary"),
            Directive::Error(StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert_eq!(
            Directive::parse("slow-250"),
            Directive::Slow(Duration::from_millis(250))
        );
        assert_eq!(
            Directive::parse("drip-10-x"),
            Directive::Drip(Duration::from_millis(10))
        );
        assert_eq!(Directive::parse("always-tools"), Directive::AlwaysTools);
        assert_eq!(
            Directive::parse("openai/always-tools-b"),
            Directive::AlwaysTools
        );
        for normal in [
            "always-toolsx",
            "always-tools/x",
            "mock-gpt",
            "error-200",
            "error-600",
            "error-",
            "error-5x",
            "slow-",
            "slow-1a",
            "xslow-5",
            "drip-99999999999999999999999",
        ] {
            assert_eq!(Directive::parse(normal), Directive::Normal, "{normal}");
        }
    }

    #[test]
    fn delays_depend_on_streaming() {
        let drip = Directive::parse("drip-5");
        assert_eq!(drip.delay_before(false), Duration::from_millis(5));
        assert_eq!(drip.delay_before(true), Duration::ZERO);
        assert_eq!(drip.delay_between(true), Duration::from_millis(5));
        assert_eq!(drip.delay_between(false), Duration::ZERO);
        let slow = Directive::parse("slow-7");
        assert_eq!(slow.delay_before(true), Duration::from_millis(7));
        assert_eq!(slow.delay_between(true), Duration::ZERO);
    }
}
