//! Metering: one spend-log row per LLM call and per MCP tool call, charged to whoever made
//! it (key, team, organisation, user), with its cost.
//!
//! A [`Meter`] is made once per request from its [`Principal`] and travels with the work:
//! the chat route uses it directly, `/mcp` and `/mcp-rest` put it into the request for the
//! tool-call path, and `/v1/responses` hands it to the tool loop as its
//! [`junction_responses::Meter`]. Every row goes to the background recorder (`spend.rs`), and
//! its cost is added at once to the cached key, team and organisation, so budgets hold
//! before the row is written.
//!
//! MCP costs are LiteLLM's: `mcp_info.mcp_server_cost_info.tool_name_to_cost_per_query`
//! (by the unprefixed tool name) wins, then `default_cost_per_query`, then nothing.

use std::time::{SystemTime, UNIX_EPOCH};

use junction_hub::{HubError, ServerInfo};
use junction_store::SpendLog;
use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use crate::ids::uuid_v4;
use crate::principal::Principal;
use crate::state::SharedState;

/// LiteLLM's `call_type`s.
pub const CHAT: &str = "acompletion";
pub const RESPONSES: &str = "aresponses";
pub const MCP_TOOL: &str = "call_mcp_tool";

/// Charges the calls of one request to its caller.
#[derive(Clone)]
pub struct Meter {
    state: SharedState,
    /// The caller's part of every row: key hash, alias, team, organisation, user.
    payer: SpendLog,
    /// Why the caller may not spend (a key, team or organisation budget used up when the
    /// request was authenticated); `None` when it may.
    refusal: Option<String>,
}

/// How a metered call ended.
pub struct Outcome {
    pub started: SystemTime,
    pub error: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost: f64,
}

impl Meter {
    pub fn new(state: &SharedState, principal: &Principal) -> Meter {
        let mut payer = SpendLog::default();
        let mut refusal = None;
        if let Principal::Key(holder) = principal {
            refusal = crate::auth::Authenticator::within_budgets(holder)
                .err()
                .map(|error| error.message);
            payer.api_key.clone_from(&holder.key.token_hash);
            payer.key_alias.clone_from(&holder.key.key_alias);
            payer.team_id.clone_from(&holder.key.team_id);
            payer.user_id.clone_from(&holder.key.user_id);
            payer.organization_id = holder
                .organization
                .as_ref()
                .map(|o| o.organization_id.clone())
                .or_else(|| holder.key.organization_id.clone());
        }
        Meter {
            state: state.clone(),
            payer,
            refusal,
        }
    }

    /// Why a call that costs money must be refused, if it must: the budget message.
    pub fn over_budget(&self) -> Option<&str> {
        self.refusal.as_deref()
    }

    /// Records an LLM call of `model` (the name the client asked for).
    pub fn model_call(&self, call_type: &str, model: &str, outcome: Outcome) {
        let mut log = self.row(call_type, model.to_owned(), &outcome);
        log.model_group = Some(model.to_owned());
        self.charge(log);
    }

    /// Records a call of `tool` (its upstream name) on `server` that ended with `result`; the
    /// cost comes from the server's `mcp_info`.
    pub fn tool_call(
        &self,
        server: &ServerInfo,
        tool: &str,
        started: SystemTime,
        result: &Result<CallToolResult, HubError>,
    ) {
        let error = match result {
            Ok(result) => junction_hub::tool_error(result),
            Err(error) => Some(error.to_string()),
        };
        self.tool_call_ended(server, tool, started, error);
    }

    fn tool_call_ended(
        &self,
        server: &ServerInfo,
        tool: &str,
        started: SystemTime,
        error: Option<String>,
    ) {
        let outcome = Outcome {
            started,
            error,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost: tool_cost(server, tool),
        };
        let exposed = format!("{}{}{tool}", server.prefix, self.state.mcp.separator());
        let mut log = self.row(MCP_TOOL, format!("MCP: {exposed}"), &outcome);
        log.mcp_server = Some(server.name.clone());
        log.mcp_tool = Some(tool.to_owned());
        log.metadata = json!({
            "mcp_tool_call_metadata": {
                "name": tool,
                "mcp_server_name": server.name,
                "namespaced_tool_name": format!("{}/{tool}", server.name),
                "mcp_server_cost_info": server.mcp_info.get("mcp_server_cost_info").cloned().unwrap_or(Value::Null),
            }
        });
        self.charge(log);
    }

    fn row(&self, call_type: &str, model: String, outcome: &Outcome) -> SpendLog {
        let mut log = self.payer.clone();
        log.request_id = uuid_v4();
        log.call_type = call_type.to_owned();
        log.model = model;
        log.start_time = unix_ms(outcome.started);
        log.end_time = unix_ms(SystemTime::now()).max(log.start_time);
        log.prompt_tokens = to_i64(outcome.prompt_tokens);
        log.completion_tokens = to_i64(outcome.completion_tokens);
        log.total_tokens = log.prompt_tokens.saturating_add(log.completion_tokens);
        log.spend = if outcome.cost.is_finite() && outcome.cost > 0.0 {
            outcome.cost
        } else {
            0.0
        };
        log.status = if outcome.error.is_some() {
            "failure"
        } else {
            "success"
        }
        .to_owned();
        log.error.clone_from(&outcome.error);
        if log.metadata.is_null() {
            log.metadata = json!({});
        }
        log
    }

    fn charge(&self, log: SpendLog) {
        if log.spend > 0.0 && !log.api_key.is_empty() {
            self.state.auth.note_spend(
                &log.api_key,
                log.team_id.as_deref(),
                log.organization_id.as_deref(),
                log.spend,
            );
        }
        self.state.spend.record(log);
    }
}

impl junction_responses::Meter for Meter {
    fn model_call(&self, call: junction_responses::MeteredModelCall) {
        Meter::model_call(
            self,
            RESPONSES,
            &call.model,
            Outcome {
                started: call.started,
                error: call.error,
                prompt_tokens: call.input_tokens,
                completion_tokens: call.output_tokens,
                cost: call.cost,
            },
        );
    }

    fn tool_call(&self, call: junction_responses::MeteredToolCall) {
        if let Some(server) = self.state.mcp.find_server(&call.server) {
            self.tool_call_ended(&server, &call.tool, call.started, call.error);
        }
    }
}

/// LiteLLM's per-query cost of a tool: its own entry, else the server's default, else 0.
pub fn tool_cost(server: &ServerInfo, tool: &str) -> f64 {
    let Some(info) = server.mcp_info.get("mcp_server_cost_info") else {
        return 0.0;
    };
    info.get("tool_name_to_cost_per_query")
        .and_then(|per_tool| per_tool.get(tool))
        .and_then(Value::as_f64)
        .or_else(|| info.get("default_cost_per_query").and_then(Value::as_f64))
        .filter(|cost| cost.is_finite() && *cost > 0.0)
        .unwrap_or(0.0)
}

fn unix_ms(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
