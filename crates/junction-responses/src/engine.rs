//! The Responses engine: one call of `POST /v1/responses` from checked request to stored
//! response, with the MCP tool loop inside.
//!
//! 1. **Prepare** (every failure here is an HTTP error, before anything is streamed): load
//!    the previous response the caller may see, resolve `item_reference`s, check approval
//!    answers against the pending requests, resolve the tools.
//! 2. **List**: one `mcp_list_tools` item per MCP entry whose label this conversation has
//!    not listed yet (OpenAI lists a label once per conversation).
//! 3. **Approvals** answered in the input: run the approved calls, tell the model about the
//!    refused ones.
//! 4. **Loop**: call the model; run the MCP calls it makes (concurrently unless
//!    `parallel_tool_calls` is false), each becoming an `mcp_call` item with its output or
//!    error (a failing tool is the model's business, not the response's); feed the results
//!    back; stop when the model answers without tools, a call needs approval (an
//!    `mcp_approval_request` item ends the response), the client must run one of its own
//!    functions (a `function_call` item), or the round limit is hit (`incomplete`).
//! 5. **Store** the response, its input and the whole conversation *before* the final event
//!    or body is sent, so that `previous_response_id` works the moment the client has the id.

use std::sync::Arc;

use bytes::Bytes;
use junction_hub::{Caller, HubError, Registry};
use junction_llm::Router;
use junction_mcp::McpError;
use junction_mcp::model::CallToolResult;
use junction_store::{Store, StoredResponse};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::error::ResponsesError;
use crate::events::Emitter;
use crate::external::ExternalPolicy;
use crate::ids::new_id;
use crate::model_round::{self, ModelCall, RoundChoice, RoundInput};
use crate::request::{CreateRequest, ToolChoice};
use crate::tools::{self, McpTool, Resolver, Route, ToolSet};

/// Gateway-wide settings of the Responses API.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Rounds of tool calls one response may run before it ends `incomplete`.
    pub max_tool_rounds: u32,
    pub external: ExternalPolicy,
    /// Whether a stored response is visible only to its owner (LiteLLM's
    /// `disable_responses_id_security` turns this off).
    pub id_security: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_tool_rounds: 10,
            external: ExternalPolicy::default(),
            id_security: true,
        }
    }
}

/// Who is asking, as far as stored responses go.
#[derive(Debug, Clone)]
pub struct Owner {
    /// The key (or team) a response belongs to: `key:<hash>`, `team:<id>`, `admin`, ….
    pub id: String,
    /// Admins read every response.
    pub admin: bool,
}

/// One request's caller: identity, MCP headers and permissions, and where spend goes.
pub struct Invocation {
    pub owner: Owner,
    /// The request's headers as MCP upstreams may see them.
    pub caller: Caller,
    pub mcp_access: junction_hub::Scope,
    /// Told of every model call and gateway tool call, for spend logs and budgets.
    pub meter: Option<Arc<dyn crate::Meter>>,
}

/// The answer: a response object, or the event stream that ends with one.
pub enum Reply {
    Json(Value),
    Stream(mpsc::Receiver<Bytes>),
}

pub struct Engine {
    router: Arc<Router>,
    hub: Arc<Registry>,
    store: Store,
    options: EngineOptions,
}

impl Engine {
    pub fn new(
        router: Arc<Router>,
        hub: Arc<Registry>,
        store: Store,
        options: EngineOptions,
    ) -> Engine {
        Engine {
            router,
            hub,
            store,
            options,
        }
    }

    /// Runs a request. Failures before the response starts are `Err`; once a stream has
    /// started, a failure is its `response.failed` event.
    pub async fn create(
        self: &Arc<Self>,
        request: CreateRequest,
        invocation: Invocation,
    ) -> Result<Reply, ResponsesError> {
        let run = self.prepare(request, invocation).await?;
        if run.request.stream {
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(async move {
                // The outcome is in the stream (and the store); nothing else to report.
                let _ = run.execute(Emitter::new(Some(tx))).await;
            });
            Ok(Reply::Stream(rx))
        } else {
            run.execute(Emitter::new(None)).await.map(Reply::Json)
        }
    }

    /// `GET /v1/responses/{id}`.
    pub async fn get(&self, id: &str, owner: &Owner) -> Result<Value, ResponsesError> {
        Ok(self.load(id, owner).await?.response)
    }

    /// `DELETE /v1/responses/{id}`.
    pub async fn delete(&self, id: &str, owner: &Owner) -> Result<Value, ResponsesError> {
        self.load(id, owner).await?;
        self.store
            .delete_response(id)
            .await
            .map_err(|e| ResponsesError::storage(&e))?;
        Ok(json!({"id": id, "object": "response", "deleted": true}))
    }

    /// `GET /v1/responses/{id}/input_items`: this response's input, a page at a time.
    pub async fn input_items(
        &self,
        id: &str,
        owner: &Owner,
        page: &ItemsPage,
    ) -> Result<Value, ResponsesError> {
        let stored = self.load(id, owner).await?;
        let mut items = stored.input_items;
        if !page.ascending {
            items.reverse();
        }
        if let Some(after) = &page.after {
            let position = items
                .iter()
                .position(|item| item.get("id").and_then(Value::as_str) == Some(after.as_str()))
                .ok_or_else(|| {
                    ResponsesError::invalid_param(
                        "after",
                        format!("no input item {after:?} in response {id}"),
                    )
                })?;
            items.drain(..=position);
        }
        let limit = page.limit.clamp(1, 100);
        let has_more = items.len() > limit;
        items.truncate(limit);
        let id_of = |item: Option<&Value>| {
            item.and_then(|i| i.get("id"))
                .cloned()
                .unwrap_or(Value::Null)
        };
        Ok(json!({
            "object": "list",
            "first_id": id_of(items.first()),
            "last_id": id_of(items.last()),
            "has_more": has_more,
            "data": items,
        }))
    }

    /// A stored response, if `owner` may see it; anything else is the same 404.
    async fn load(&self, id: &str, owner: &Owner) -> Result<StoredResponse, ResponsesError> {
        let stored = self
            .store
            .response(id)
            .await
            .map_err(|e| ResponsesError::storage(&e))?
            .ok_or_else(|| ResponsesError::not_found(id))?;
        let visible = owner.admin || !self.options.id_security || stored.owner == owner.id;
        if visible {
            Ok(stored)
        } else {
            Err(ResponsesError::not_found(id))
        }
    }

    async fn prepare(
        self: &Arc<Self>,
        mut request: CreateRequest,
        invocation: Invocation,
    ) -> Result<Run, ResponsesError> {
        let previous = match &request.previous_response_id {
            Some(id) => Some(self.load(id, &invocation.owner).await?),
            None => None,
        };
        let history = previous.map(|p| p.conversation).unwrap_or_default();
        for (index, item) in request.input.iter_mut().enumerate() {
            if item.get("type").and_then(Value::as_str) == Some("item_reference") {
                let wanted = item.get("id").and_then(Value::as_str).unwrap_or_default();
                let found = history
                    .iter()
                    .find(|h| h.get("id").and_then(Value::as_str) == Some(wanted))
                    .cloned()
                    .ok_or_else(|| {
                        ResponsesError::invalid_param(
                            "input",
                            format!("input[{index}]: item_reference {wanted:?} is no item of the previous response's conversation"),
                        )
                    })?;
                *item = found;
            }
        }
        let approvals = pending_approvals(&history, &request.input)?;
        let resolver = Resolver {
            hub: &self.hub,
            caller: &invocation.caller,
            access: &invocation.mcp_access,
            external: &self.options.external,
        };
        let tools = resolver.resolve(&request.tools).await?;
        let first_choice = first_choice(&request, &tools)?;
        Ok(Run {
            engine: self.clone(),
            id: new_id("resp_"),
            created_at: now(),
            history,
            approvals,
            tools,
            first_choice,
            invocation,
            request,
        })
    }
}

/// `input_items` paging.
#[derive(Debug, Clone)]
pub struct ItemsPage {
    pub limit: usize,
    pub ascending: bool,
    pub after: Option<String>,
}

impl Default for ItemsPage {
    fn default() -> Self {
        ItemsPage {
            limit: 20,
            ascending: false,
            after: None,
        }
    }
}

/// An approval answer of this turn and the request it answers.
struct Approval {
    request: Value,
    approve: bool,
    reason: Option<String>,
}

/// Checks every `mcp_approval_response` against the conversation's unanswered requests.
fn pending_approvals(history: &[Value], input: &[Value]) -> Result<Vec<Approval>, ResponsesError> {
    let answered: Vec<&str> = history
        .iter()
        .filter_map(|item| {
            let answer = item.get("approval_request_id").and_then(Value::as_str)?;
            matches!(
                item.get("type").and_then(Value::as_str),
                Some("mcp_call" | "mcp_approval_response")
            )
            .then_some(answer)
        })
        .collect();
    let mut approvals = Vec::new();
    for (index, item) in input.iter().enumerate() {
        if item.get("type").and_then(Value::as_str) != Some("mcp_approval_response") {
            continue;
        }
        let wanted = item
            .get("approval_request_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let request = history
            .iter()
            .find(|h| {
                h.get("type").and_then(Value::as_str) == Some("mcp_approval_request")
                    && h.get("id").and_then(Value::as_str) == Some(wanted)
            })
            .ok_or_else(|| {
                ResponsesError::invalid_param(
                    "input",
                    format!("input[{index}]: approval_request_id {wanted:?} is no approval request of the previous response (send it with previous_response_id)"),
                )
            })?;
        if answered.contains(&wanted)
            || approvals
                .iter()
                .any(|a: &Approval| a.request["id"] == wanted)
        {
            return Err(ResponsesError::invalid_param(
                "input",
                format!("input[{index}]: approval request {wanted:?} was already answered"),
            ));
        }
        approvals.push(Approval {
            request: request.clone(),
            approve: item
                .get("approve")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            reason: item
                .get("reason")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    Ok(approvals)
}

/// The tool choice of the first round; later rounds use `auto` (or `none`), as a forced
/// choice would otherwise force a call in every round.
fn first_choice(request: &CreateRequest, tools: &ToolSet) -> Result<RoundChoice, ResponsesError> {
    Ok(match &request.tool_choice {
        ToolChoice::Auto => RoundChoice::Auto,
        ToolChoice::None => RoundChoice::None,
        ToolChoice::Required | ToolChoice::Allowed { required: true, .. } => {
            if tools.is_empty() {
                return Err(tools::no_tools_error(&request.mcp_labels()));
            }
            RoundChoice::Required
        }
        ToolChoice::Allowed { required: false, .. } => RoundChoice::Auto,
        ToolChoice::Function(name) => {
            let known = tools.client_functions.contains(name) || tools.mcp.contains_key(name);
            if !known {
                return Err(ResponsesError::invalid_param(
                    "tool_choice",
                    format!("tool_choice names the function {name:?}, which is not among the tools"),
                ));
            }
            RoundChoice::Function(name.clone())
        }
        ToolChoice::Mcp { server_label, name } => match name {
            Some(name) => RoundChoice::Function(
                tools
                    .mcp_function(server_label, name)
                    .ok_or_else(|| {
                        ResponsesError::invalid_param(
                            "tool_choice",
                            format!("tool_choice names the tool {name:?} of {server_label:?}, which offers no such tool"),
                        )
                    })?
                    .to_owned(),
            ),
            None if tools.functions_of_label(server_label).is_empty() => {
                return Err(tools::no_tools_error(&[server_label.as_str()]));
            }
            None => RoundChoice::Required,
        },
    })
}

/// One response being produced.
struct Run {
    engine: Arc<Engine>,
    id: String,
    created_at: i64,
    request: CreateRequest,
    /// The conversation before this turn.
    history: Vec<Value>,
    approvals: Vec<Approval>,
    tools: ToolSet,
    first_choice: RoundChoice,
    invocation: Invocation,
}

/// How the response ended.
struct Ending {
    status: &'static str,
    incomplete_reason: Option<&'static str>,
    error: Option<Value>,
}

#[derive(Default)]
struct Totals {
    input_tokens: u64,
    output_tokens: u64,
    cost: f64,
}

impl Run {
    async fn execute(self, mut emitter: Emitter) -> Result<Value, ResponsesError> {
        let result = self.respond(&mut emitter).await;
        emitter.flush().await;
        result
    }

    async fn respond(mut self, emitter: &mut Emitter) -> Result<Value, ResponsesError> {
        // Snapshots only for events: without a stream nobody would see them.
        if emitter.streaming() {
            emitter
                .response_event(
                    "response.created",
                    self.snapshot(emitter, "in_progress", None, None),
                )
                .await;
            emitter
                .response_event(
                    "response.in_progress",
                    self.snapshot(emitter, "in_progress", None, None),
                )
                .await;
        }
        let mut conversation = std::mem::take(&mut self.history);
        conversation.extend(self.request.input.iter().cloned());
        let mut totals = Totals::default();
        let outcome = self.run_loop(emitter, &mut conversation, &mut totals).await;
        let ending = match &outcome {
            Ok(ending) => ending,
            Err(error) => &Ending {
                status: "failed",
                incomplete_reason: None,
                error: Some(json!({"code": "server_error", "message": error.message})),
            },
        };
        let mut response = self.snapshot(emitter, ending.status, Some(&totals), Some(ending));
        if self.request.store {
            let record = StoredResponse {
                id: self.id.clone(),
                owner: self.invocation.owner.id.clone(),
                model: self.request.model.clone(),
                status: ending.status.to_owned(),
                previous_response_id: self.request.previous_response_id.clone(),
                response,
                input_items: std::mem::take(&mut self.request.input),
                conversation,
                created_at: self.created_at,
            };
            emitter.flush().await;
            if let Err(error) = self.engine.store.put_response(&record).await {
                let error = ResponsesError::storage(&error);
                if emitter.streaming() {
                    let failed = self.snapshot(
                        emitter,
                        "failed",
                        Some(&totals),
                        Some(&Ending {
                            status: "failed",
                            incomplete_reason: None,
                            error: Some(json!({"code": "server_error", "message": "the response could not be stored; it cannot be continued"})),
                        }),
                    );
                    emitter.response_event("response.failed", failed).await;
                }
                return Err(error);
            }
            response = record.response;
        }
        if emitter.streaming() {
            let terminal = match ending.status {
                "completed" => "response.completed",
                "incomplete" => "response.incomplete",
                _ => "response.failed",
            };
            emitter.response_event(terminal, response.clone()).await;
        }
        match outcome {
            Ok(_) => Ok(response),
            Err(error) => Err(error),
        }
    }

    async fn run_loop(
        &self,
        emitter: &mut Emitter,
        conversation: &mut Vec<Value>,
        totals: &mut Totals,
    ) -> Result<Ending, ResponsesError> {
        self.list_tools(emitter, conversation).await;
        for approval in &self.approvals {
            self.answer_approval(approval, emitter, conversation).await;
        }
        let max_rounds = self.engine.options.max_tool_rounds;
        let mut tool_rounds: u32 = 0;
        let mut calls_made: u64 = 0;
        loop {
            let choice = if tool_rounds == 0 && self.approvals.is_empty() {
                self.first_choice.clone()
            } else if self.first_choice == RoundChoice::None {
                RoundChoice::None
            } else {
                RoundChoice::Auto
            };
            let offered = self.offered_tools();
            let started = std::time::SystemTime::now();
            let round = model_round::run(
                &self.engine.router,
                RoundInput {
                    request: &self.request,
                    items: conversation,
                    tools: &offered,
                    choice,
                },
                emitter,
            )
            .await;
            if let Some(meter) = &self.invocation.meter {
                let (error, input_tokens, output_tokens, cost) = match &round {
                    Ok(round) => (None, round.input_tokens, round.output_tokens, round.cost),
                    Err(error) => (Some(error.to_string()), 0, 0, 0.0),
                };
                meter.model_call(crate::MeteredModelCall {
                    model: self.request.model.clone(),
                    started,
                    error,
                    input_tokens,
                    output_tokens,
                    cost,
                });
            }
            let round = match round {
                Ok(round) => round,
                Err(error) => {
                    if let Some(message) = emitter.close_message("incomplete").await {
                        conversation.push(message);
                    }
                    return Err(ResponsesError::model(&error, tool_rounds));
                }
            };
            totals.input_tokens += round.input_tokens;
            totals.output_tokens += round.output_tokens;
            totals.cost += round.cost;
            let status = if round.truncated {
                "incomplete"
            } else {
                "completed"
            };
            if let Some(message) = emitter.close_message(status).await {
                conversation.push(message);
            }
            if round.truncated {
                return Ok(incomplete("max_output_tokens"));
            }
            if round.calls.is_empty() {
                return Ok(completed());
            }
            if tool_rounds >= max_rounds {
                return Ok(incomplete("max_tool_rounds"));
            }
            if let Some(max) = self.request.max_tool_calls
                && calls_made + round.calls.len() as u64 > max
            {
                return Ok(incomplete("max_tool_calls"));
            }
            calls_made += round.calls.len() as u64;
            tool_rounds += 1;
            let handed_back = self.act_on_calls(round.calls, emitter, conversation).await;
            if handed_back {
                return Ok(completed());
            }
        }
    }

    /// The tools offered to the model, narrowed by `tool_choice: allowed_tools`.
    fn offered_tools(&self) -> Vec<Value> {
        match &self.request.tool_choice {
            ToolChoice::Allowed { names, .. } => self
                .tools
                .functions
                .iter()
                .filter(|f| {
                    let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
                    names.iter().any(|n| {
                        n == name || self.tools.mcp.get(name).is_some_and(|t| &t.item_name == n)
                    })
                })
                .cloned()
                .collect(),
            _ => self.tools.functions.clone(),
        }
    }

    async fn list_tools(&self, emitter: &mut Emitter, conversation: &mut Vec<Value>) {
        for listing in &self.tools.listings {
            let listed_before = conversation.iter().any(|item| {
                item.get("type").and_then(Value::as_str) == Some("mcp_list_tools")
                    && item.get("server_label").and_then(Value::as_str)
                        == Some(listing.label.as_str())
                    && item.get("error").is_none_or(Value::is_null)
            });
            if listed_before && listing.error.is_none() {
                continue;
            }
            let id = new_id("mcpl_");
            let pending = json!({"type": "mcp_list_tools", "id": id, "server_label": listing.label, "tools": [], "error": null});
            let index = emitter.add(pending).await;
            emitter
                .item_event("response.mcp_list_tools.in_progress", index, json!({}))
                .await;
            let kind = if listing.error.is_some() {
                "response.mcp_list_tools.failed"
            } else {
                "response.mcp_list_tools.completed"
            };
            emitter.item_event(kind, index, json!({})).await;
            let item = json!({"type": "mcp_list_tools", "id": id, "server_label": listing.label,
                "tools": listing.tools, "error": listing.error});
            emitter.done(index, item.clone()).await;
            conversation.push(item);
        }
    }

    async fn answer_approval(
        &self,
        approval: &Approval,
        emitter: &mut Emitter,
        conversation: &mut Vec<Value>,
    ) {
        let request = &approval.request;
        let request_id = str_field(request, "id");
        let name = str_field(request, "name");
        let arguments = str_field(request, "arguments");
        let label = str_field(request, "server_label");
        // The approval answer itself is part of the conversation (and of `input_items`).
        if approval.approve {
            let tool = self
                .tools
                .mcp_function(label, name)
                .and_then(|function| self.tools.mcp.get(function))
                .cloned();
            let call = PlannedCall {
                id: new_id("mcp_"),
                label: label.to_owned(),
                name: name.to_owned(),
                arguments: arguments.to_owned(),
                approval_request_id: Some(request_id.to_owned()),
                tool,
            };
            let items = self.run_calls(vec![call], emitter).await;
            conversation.extend(items);
        } else {
            let why = approval
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            conversation.push(
                json!({"type": "function_call", "id": new_id("fc_"), "call_id": request_id,
                "name": name, "arguments": arguments, "status": "completed"}),
            );
            conversation.push(json!({"type": "function_call_output", "id": new_id("fco_"), "call_id": request_id,
                "output": format!("The user did not approve this call of {name}, so it was not run{why}.")}));
        }
    }

    /// Acts on one round's calls; returns whether the response ends here with something for
    /// the client to do (an approval, or a function of its own).
    async fn act_on_calls(
        &self,
        calls: Vec<ModelCall>,
        emitter: &mut Emitter,
        conversation: &mut Vec<Value>,
    ) -> bool {
        let mut to_run = Vec::new();
        let mut handed_back = false;
        for call in calls {
            match self.tools.mcp.get(&call.name) {
                Some(tool) if tool.needs_approval => {
                    let item = json!({"type": "mcp_approval_request", "id": new_id("mcpr_"),
                        "server_label": tool.label, "name": tool.item_name, "arguments": call.arguments});
                    let index = emitter.add(item.clone()).await;
                    emitter.done(index, item.clone()).await;
                    conversation.push(item);
                    handed_back = true;
                }
                Some(tool) => to_run.push(PlannedCall {
                    id: new_id("mcp_"),
                    label: tool.label.clone(),
                    name: tool.item_name.clone(),
                    arguments: call.arguments,
                    approval_request_id: None,
                    tool: Some(tool.clone()),
                }),
                None if self.tools.client_functions.contains(&call.name) => {
                    let call_id = if call.call_id.is_empty() {
                        new_id("call_")
                    } else {
                        call.call_id
                    };
                    let id = new_id("fc_");
                    let pending = json!({"type": "function_call", "id": id, "call_id": call_id, "name": call.name,
                        "arguments": "", "status": "in_progress"});
                    let index = emitter.add(pending).await;
                    emitter
                        .item_event(
                            "response.function_call_arguments.delta",
                            index,
                            json!({"delta": call.arguments}),
                        )
                        .await;
                    emitter
                        .item_event(
                            "response.function_call_arguments.done",
                            index,
                            json!({"arguments": call.arguments, "name": call.name}),
                        )
                        .await;
                    let item = json!({"type": "function_call", "id": id, "call_id": call_id, "name": call.name,
                        "arguments": call.arguments, "status": "completed"});
                    emitter.done(index, item.clone()).await;
                    conversation.push(item);
                    handed_back = true;
                }
                None => {
                    // A name the model made up: say so to the model, and let it go on.
                    let call_id = if call.call_id.is_empty() {
                        new_id("call_")
                    } else {
                        call.call_id
                    };
                    conversation.push(
                        json!({"type": "function_call", "id": new_id("fc_"), "call_id": call_id,
                        "name": call.name, "arguments": call.arguments, "status": "completed"}),
                    );
                    conversation.push(json!({"type": "function_call_output", "id": new_id("fco_"), "call_id": call_id,
                        "output": format!("Error: there is no tool named {:?}; use one of the tools offered", call.name)}));
                }
            }
        }
        let items = self.run_calls(to_run, emitter).await;
        conversation.extend(items);
        handed_back
    }

    /// Announces the calls, runs them (together unless `parallel_tool_calls` is false), and
    /// finishes their items in order; returns the finished `mcp_call` items.
    async fn run_calls(&self, calls: Vec<PlannedCall>, emitter: &mut Emitter) -> Vec<Value> {
        let mut indexes = Vec::with_capacity(calls.len());
        for call in &calls {
            let pending = call.item("in_progress", None, None);
            let mut shown = pending.clone();
            if let Some(map) = shown.as_object_mut() {
                map.insert("arguments".into(), "".into());
            }
            let index = emitter.add(shown).await;
            emitter
                .item_event(
                    "response.mcp_call_arguments.delta",
                    index,
                    json!({"delta": call.arguments}),
                )
                .await;
            emitter
                .item_event(
                    "response.mcp_call_arguments.done",
                    index,
                    json!({"arguments": call.arguments}),
                )
                .await;
            emitter
                .item_event("response.mcp_call.in_progress", index, json!({}))
                .await;
            indexes.push(index);
        }
        emitter.flush().await;
        let caller = &self.invocation.caller;
        let hub = &self.engine.hub;
        let meter = self.invocation.meter.as_deref();
        let outcomes = if self.request.parallel_tool_calls {
            futures_util::future::join_all(
                calls.iter().map(|call| call.execute(hub, caller, meter)),
            )
            .await
        } else {
            let mut outcomes = Vec::with_capacity(calls.len());
            for call in &calls {
                outcomes.push(call.execute(hub, caller, meter).await);
            }
            outcomes
        };
        let mut items = Vec::with_capacity(calls.len());
        for ((call, index), outcome) in calls.iter().zip(indexes).zip(outcomes) {
            let (item, kind) = match outcome {
                Ok(output) => (
                    call.item("completed", Some(output), None),
                    "response.mcp_call.completed",
                ),
                Err(error) => (
                    call.item("failed", None, Some(error)),
                    "response.mcp_call.failed",
                ),
            };
            emitter.item_event(kind, index, json!({})).await;
            emitter.done(index, item.clone()).await;
            items.push(item);
        }
        items
    }

    /// The response object as it stands.
    fn snapshot(
        &self,
        emitter: &Emitter,
        status: &str,
        totals: Option<&Totals>,
        ending: Option<&Ending>,
    ) -> Value {
        let request = &self.request;
        let mut response = Map::new();
        response.insert("id".into(), self.id.clone().into());
        response.insert("object".into(), "response".into());
        response.insert("created_at".into(), self.created_at.into());
        response.insert("status".into(), status.into());
        if ending.is_some() && status != "in_progress" {
            response.insert("completed_at".into(), now().into());
        }
        response.insert(
            "error".into(),
            ending.and_then(|e| e.error.clone()).unwrap_or(Value::Null),
        );
        response.insert(
            "incomplete_details".into(),
            ending
                .and_then(|e| e.incomplete_reason)
                .map(|reason| json!({"reason": reason}))
                .unwrap_or(Value::Null),
        );
        response.insert("instructions".into(), request.instructions.clone().into());
        response.insert("max_output_tokens".into(), request.max_output_tokens.into());
        response.insert("max_tool_calls".into(), request.max_tool_calls.into());
        response.insert("model".into(), request.model.clone().into());
        response.insert("output".into(), Value::Array(emitter.output.clone()));
        response.insert(
            "parallel_tool_calls".into(),
            request.parallel_tool_calls.into(),
        );
        response.insert(
            "previous_response_id".into(),
            request.previous_response_id.clone().into(),
        );
        response.insert("reasoning".into(), Value::Null);
        response.insert("store".into(), request.store.into());
        response.insert(
            "temperature".into(),
            request.temperature.unwrap_or(1.0).into(),
        );
        response.insert(
            "text".into(),
            request
                .text
                .clone()
                .unwrap_or_else(|| json!({"format": {"type": "text"}})),
        );
        response.insert("tool_choice".into(), request.tool_choice_echo.clone());
        response.insert("tools".into(), Value::Array(request.tools_echo.clone()));
        response.insert("top_p".into(), request.top_p.unwrap_or(1.0).into());
        response.insert("truncation".into(), "disabled".into());
        response.insert(
            "usage".into(),
            totals
                .map(|t| {
                    json!({
                        "input_tokens": t.input_tokens,
                        "input_tokens_details": {"cached_tokens": 0},
                        "output_tokens": t.output_tokens,
                        "output_tokens_details": {"reasoning_tokens": 0},
                        "total_tokens": t.input_tokens + t.output_tokens,
                    })
                })
                .unwrap_or(Value::Null),
        );
        response.insert("user".into(), request.user.clone().into());
        response.insert("metadata".into(), Value::Object(request.metadata.clone()));
        Value::Object(response)
    }
}

fn completed() -> Ending {
    Ending {
        status: "completed",
        incomplete_reason: None,
        error: None,
    }
}

fn incomplete(reason: &'static str) -> Ending {
    Ending {
        status: "incomplete",
        incomplete_reason: Some(reason),
        error: None,
    }
}

/// An MCP call about to run.
struct PlannedCall {
    id: String,
    label: String,
    name: String,
    arguments: String,
    approval_request_id: Option<String>,
    /// `None` when an approved call's tool is not among this request's tools.
    tool: Option<McpTool>,
}

impl PlannedCall {
    fn item(&self, status: &str, output: Option<String>, error: Option<Value>) -> Value {
        json!({
            "type": "mcp_call",
            "id": self.id,
            "server_label": self.label,
            "name": self.name,
            "arguments": self.arguments,
            "output": output,
            "error": error,
            "status": status,
            "approval_request_id": self.approval_request_id,
        })
    }

    /// Runs the call: its text output, or the `error` object of the item.
    async fn execute(
        &self,
        hub: &Registry,
        caller: &Caller,
        meter: Option<&dyn crate::Meter>,
    ) -> Result<String, Value> {
        let Some(tool) = &self.tool else {
            return Err(protocol_error(
                -32602,
                format!(
                    "the tool {} of {} is not among this request's tools; send the same tools with the approval",
                    self.name, self.label
                ),
            ));
        };
        let arguments = if self.arguments.trim().is_empty() {
            None
        } else {
            match serde_json::from_str::<Value>(&self.arguments) {
                Ok(Value::Object(map)) => Some(map),
                Ok(_) | Err(_) => {
                    return Err(protocol_error(
                        -32602,
                        format!(
                            "the arguments the model gave are not a JSON object: {}",
                            quote(&self.arguments)
                        ),
                    ));
                }
            }
        };
        let result = match &tool.route {
            Route::Gateway { exposed } => {
                let started = std::time::SystemTime::now();
                let result = hub.call_tool_as(caller, exposed, arguments, None).await;
                if let Some(meter) = meter
                    && let Ok(target) = hub.catalog().names().resolve(exposed)
                {
                    let error = match &result {
                        Ok(result) => junction_hub::tool_error(result),
                        Err(error) => Some(error.to_string()),
                    };
                    meter.tool_call(crate::MeteredToolCall {
                        server: target.server.clone(),
                        tool: target.original.clone(),
                        started,
                        error,
                    });
                }
                result.map_err(|error| hub_error(&error))
            }
            Route::External { client, original } => client
                .call_tool(original, arguments)
                .await
                .map_err(|error| mcp_error(&error)),
        }?;
        finished(&result)
    }
}

fn finished(result: &CallToolResult) -> Result<String, Value> {
    let output = junction_mcp::openai::result_to_text(result);
    if output.is_error {
        Err(json!({
            "type": "mcp_tool_execution_error",
            "content": serde_json::to_value(&result.content).unwrap_or(Value::Null),
        }))
    } else {
        Ok(output.text)
    }
}

fn protocol_error(code: i64, message: String) -> Value {
    json!({"type": "mcp_protocol_error", "code": code, "message": message})
}

fn hub_error(error: &HubError) -> Value {
    let code = match error {
        HubError::UnknownTool(_) | HubError::Forbidden(_) => -32602,
        _ => error.upstream_code().map(i64::from).unwrap_or(-32603),
    };
    protocol_error(code, error.to_string())
}

fn mcp_error(error: &McpError) -> Value {
    match error {
        McpError::Rejected { code, .. } => protocol_error(i64::from(*code), error.to_string()),
        _ => protocol_error(-32603, error.to_string()),
    }
}

fn quote(text: &str) -> String {
    let head: String = text.chars().take(200).collect();
    if head.len() < text.len() {
        format!("{head}…")
    } else {
        head
    }
}

fn str_field<'a>(item: &'a Value, field: &str) -> &'a str {
    item.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
