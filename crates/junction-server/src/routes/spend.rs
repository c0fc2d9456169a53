//! LiteLLM's `GET /spend/logs`: the recorded LLM and MCP calls, newest first, in LiteLLM's
//! `LiteLLM_SpendLogs` field names.
//!
//! Filters: LiteLLM's `api_key` (a raw `sk-…` key or its hash), `user_id`, `team_id`,
//! `request_id`, `start_date` and `end_date` (`YYYY-MM-DD`, UTC, the end date included to its
//! last millisecond; full RFC 3339 timestamps are accepted too), plus Junction's `call_type`,
//! `mcp_server` and `limit`. The master key sees every row; a virtual key only its own, so
//! naming another key is a 403 rather than an empty list that would hide the refusal.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use junction_store::{MAX_SPEND_LOG_LIMIT, SpendLog, SpendLogFilter, hash_key};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::access_log::RequestLog;
use crate::clock::iso8601;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::SharedState;

const MS_PER_DAY: i64 = 86_400_000;

/// Every parameter is read as text so that a bad value is answered naming it.
#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    api_key: Option<String>,
    user_id: Option<String>,
    team_id: Option<String>,
    request_id: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    call_type: Option<String>,
    mcp_server: Option<String>,
    limit: Option<String>,
}

/// `GET /spend/logs`.
pub async fn logs(
    State(state): State<SharedState>,
    headers: HeaderMap,
    query: Result<Query<LogsQuery>, QueryRejection>,
) -> Response {
    let mut log = RequestLog::default();
    let result = async {
        let principal = super::caller(&state, &headers, &mut log).await?;
        let Ok(Query(query)) = query else {
            return Err(ApiError::bad_request(
                "invalid query string: every parameter of /spend/logs is a single value",
            ));
        };
        let filter = filter(&principal, query)?;
        // Rows of calls this replica already answered are written first, so a client reads
        // its own calls back at once.
        state.spend.flush().await;
        let rows = state.store.spend_logs(&filter).await?;
        let body: Vec<Value> = rows.into_iter().map(row_json).collect();
        Ok(axum::Json(Value::Array(body)).into_response())
    }
    .await;
    super::finish(result, log)
}

/// The store filter for `query` as `principal` may see it.
fn filter(principal: &Principal, query: LogsQuery) -> Result<SpendLogFilter, ApiError> {
    // LiteLLM's UI sends empty parameters for filters left blank.
    let given = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let asked_key = given(query.api_key).map(|k| token_hash_of(&k));
    let api_key = match principal {
        Principal::Admin => asked_key,
        Principal::Key(holder) => {
            let own = &holder.key.token_hash;
            if asked_key.as_ref().is_some_and(|asked| asked != own) {
                return Err(ApiError::forbidden(
                    "a key may only read its own spend logs; other keys' need the master key",
                )
                .with_param("api_key"));
            }
            Some(own.clone())
        }
        Principal::Anonymous => {
            return Err(ApiError::forbidden(
                "reading spend logs needs the master key or a virtual key",
            ));
        }
    };
    let start_ms = given(query.start_date)
        .map(|text| time_ms(&text, Bound::Start).ok_or_else(|| bad_date("start_date", &text)))
        .transpose()?;
    let end_ms = given(query.end_date)
        .map(|text| time_ms(&text, Bound::End).ok_or_else(|| bad_date("end_date", &text)))
        .transpose()?;
    if let (Some(start), Some(end)) = (start_ms, end_ms)
        && start > end
    {
        return Err(
            ApiError::bad_request("start_date must not be after end_date").with_param("end_date"),
        );
    }
    let limit = given(query.limit)
        .map(|text| {
            text.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_SPEND_LOG_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "limit must be a whole number from 1 to {MAX_SPEND_LOG_LIMIT}, not {text:?}"
                    ))
                    .with_param("limit")
                })
        })
        .transpose()?;
    Ok(SpendLogFilter {
        api_key,
        user_id: given(query.user_id),
        team_id: given(query.team_id),
        request_id: given(query.request_id),
        call_type: given(query.call_type),
        mcp_server: given(query.mcp_server),
        start_ms,
        end_ms,
        limit,
    })
}

/// A stored key hash is kept; anything else is a raw key, hashed as the store keeps keys.
fn token_hash_of(key: &str) -> String {
    let is_hash = key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if is_hash {
        key.to_owned()
    } else {
        hash_key(key)
    }
}

fn bad_date(param: &'static str, text: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{param} must be a date (YYYY-MM-DD) or an RFC 3339 timestamp, not {text:?}"
    ))
    .with_param(param)
}

/// Which end of a range a date bounds: a bare date starts at its first millisecond and ends
/// at its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Start,
    End,
}

/// `YYYY-MM-DD` (UTC) or an RFC 3339 timestamp (`2024-05-01T12:00:00.5Z`,
/// `…+02:00`; without an offset it is read as UTC), in unix milliseconds.
fn time_ms(text: &str, bound: Bound) -> Option<i64> {
    let text = text.trim();
    let date = text.get(..10)?;
    let day_start = date_ms(date)?;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(match bound {
            Bound::Start => day_start,
            Bound::End => day_start + MS_PER_DAY - 1,
        });
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, offset_ms) = split_offset(rest)?;
    Some(day_start + clock_ms(clock)? - offset_ms)
}

/// Unix milliseconds at the start of `YYYY-MM-DD`.
fn date_ms(date: &str) -> Option<i64> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = digits(&date[..4])?;
    let month = digits(&date[5..7])?;
    let day = digits(&date[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * MS_PER_DAY)
}

/// `HH:MM:SS[.fraction]` in milliseconds since midnight (digits past milliseconds ignored).
fn clock_ms(clock: &str) -> Option<i64> {
    let (hms, fraction) = match clock.split_once(['.', ',']) {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (clock, None),
    };
    let mut parts = hms.split(':');
    let (hour, minute, second) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || [hour, minute, second].iter().any(|p| p.len() != 2) {
        return None;
    }
    let (hour, minute, second) = (digits(hour)?, digits(minute)?, digits(second)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let millis = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let first3: String = f.chars().chain("00".chars()).take(3).collect();
            digits(&first3)?
        }
        Some(_) => return None,
    };
    Some(((hour * 60 + minute) * 60 + second) * 1000 + millis)
}

/// Splits the time of day from its UTC offset (`Z`, `±HH:MM`, or none), the offset in ms.
fn split_offset(rest: &str) -> Option<(&str, i64)> {
    if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let Some(sign_at) = rest.rfind(['+', '-']) else {
        return Some((rest, 0));
    };
    let (clock, offset) = rest.split_at(sign_at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = offset[1..].split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes) = (digits(hours)?, digits(minutes)?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((clock, sign * (hours * 60 + minutes) * 60_000))
}

/// ASCII digits only (no sign, no spaces).
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's days-from-civil, proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2024-05-01T12:00:00.123Z` for unix milliseconds.
fn iso8601_ms(ms: i64) -> String {
    let seconds = iso8601(ms.div_euclid(1000));
    let base = seconds.strip_suffix('Z').unwrap_or(&seconds);
    format!("{base}.{:03}Z", ms.rem_euclid(1000))
}

/// One row as LiteLLM names its fields. `metadata` also carries what LiteLLM's UI reads from
/// it: the MCP tool's namespaced name, the error, and the key's alias.
fn row_json(log: SpendLog) -> Value {
    let mut metadata = match log.metadata {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let (Some(server), Some(tool)) = (&log.mcp_server, &log.mcp_tool) {
        metadata
            .entry("mcp_namespaced_tool_name")
            .or_insert_with(|| json!(format!("{server}/{tool}")));
    }
    if let Some(error) = &log.error {
        metadata
            .entry("error_information")
            .or_insert_with(|| json!({"error_message": error}));
    }
    if let Some(alias) = &log.key_alias {
        metadata
            .entry("user_api_key_alias")
            .or_insert_with(|| json!(alias));
    }
    json!({
        "request_id": log.request_id,
        "call_type": log.call_type,
        "api_key": log.api_key,
        "spend": log.spend,
        "total_tokens": log.total_tokens,
        "prompt_tokens": log.prompt_tokens,
        "completion_tokens": log.completion_tokens,
        "startTime": iso8601_ms(log.start_time),
        "endTime": iso8601_ms(log.end_time),
        "request_duration_ms": log.end_time.saturating_sub(log.start_time),
        "model": log.model,
        "model_group": log.model_group,
        "api_base": log.api_base,
        "user": log.user_id,
        "team_id": log.team_id,
        "organization_id": log.organization_id,
        "status": log.status,
        "metadata": metadata,
        "mcp_server": log.mcp_server,
        "mcp_tool": log.mcp_tool,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const DAY_2024_05_01: i64 = 1_714_521_600_000;

    #[test]
    fn dates_cover_whole_utc_days() {
        assert_eq!(time_ms("1970-01-01", Bound::Start), Some(0));
        assert_eq!(time_ms("2024-05-01", Bound::Start), Some(DAY_2024_05_01));
        assert_eq!(
            time_ms("2024-05-01", Bound::End),
            Some(DAY_2024_05_01 + MS_PER_DAY - 1)
        );
        assert_eq!(time_ms("2000-02-29", Bound::Start), Some(951_782_400_000));
    }

    #[test]
    fn timestamps_are_exact_instants() {
        let noon = DAY_2024_05_01 + 12 * 3_600_000;
        for text in [
            "2024-05-01T12:00:00Z",
            "2024-05-01t12:00:00z",
            "2024-05-01 12:00:00",
            "2024-05-01T14:00:00+02:00",
            "2024-05-01T09:30:00-02:30",
        ] {
            assert_eq!(time_ms(text, Bound::Start), Some(noon), "{text}");
            assert_eq!(time_ms(text, Bound::End), Some(noon), "{text}");
        }
        assert_eq!(
            time_ms("2024-05-01T12:00:00.5Z", Bound::Start),
            Some(noon + 500)
        );
        assert_eq!(
            time_ms("2024-05-01T12:00:00.123456+00:00", Bound::Start),
            Some(noon + 123)
        );
    }

    #[test]
    fn malformed_dates_are_refused() {
        for text in [
            "",
            "yesterday",
            "2024-5-01",
            "2024-13-01",
            "2024-02-30",
            "2023-02-29",
            "2024-05-01T",
            "2024-05-01T25:00:00Z",
            "2024-05-01T12:00Z",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00+2",
            "2024-05-01X12:00:00Z",
            "+024-05-01",
            "2024-05-01T12:00:00Zjunk",
        ] {
            assert_eq!(time_ms(text, Bound::Start), None, "{text:?}");
        }
    }

    #[test]
    fn renders_milliseconds() {
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(DAY_2024_05_01 + 7), "2024-05-01T00:00:00.007Z");
        assert_eq!(iso8601_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn rows_use_litellm_names() {
        let row = row_json(SpendLog {
            request_id: "r".into(),
            call_type: "call_mcp_tool".into(),
            key_alias: Some("ci".into()),
            user_id: Some("u".into()),
            model: "MCP: github-list_issues".into(),
            mcp_server: Some("github".into()),
            mcp_tool: Some("list_issues".into()),
            status: "failure".into(),
            error: Some("boom".into()),
            start_time: 1_000,
            end_time: 1_250,
            metadata: json!({"kept": true}),
            ..SpendLog::default()
        });
        assert_eq!(row["startTime"], "1970-01-01T00:00:01.000Z");
        assert_eq!(row["endTime"], "1970-01-01T00:00:01.250Z");
        assert_eq!(row["request_duration_ms"], 250);
        assert_eq!(row["user"], "u");
        assert_eq!(row["api_key"], "");
        assert_eq!(row["model_group"], Value::Null);
        assert_eq!(
            row["metadata"],
            json!({
                "kept": true,
                "mcp_namespaced_tool_name": "github/list_issues",
                "error_information": {"error_message": "boom"},
                "user_api_key_alias": "ci",
            })
        );
    }
}
