//! The configured MCP servers, each behind one persistent session, and one tool catalog.
//!
//! LiteLLM connects to every upstream anew for every listing and every call; a gateway in
//! front of stdio servers and slow remotes cannot afford that. Here each `mcp_servers` entry
//! gets one background task that owns its [`McpClient`]: it connects, lists the tools, and
//! keeps both fresh. Requests never wait for that work:
//!
//! * **Boot does not wait.** [`Registry::start`] checks the config and spawns the tasks;
//!   servers connect in parallel while the gateway already serves. A server that fails is
//!   `unhealthy` with its error and is tried again with backoff (5 s doubling to 60 s).
//! * **Listing never touches an upstream.** Tools, prompts, resources and resource templates
//!   are cached per server, re-listed when the server sends a `notifications/*/list_changed`,
//!   on a TTL, and after recovering. Every change publishes a new immutable [`Catalog`] (names
//!   resolved, filters applied), swapped in atomically, so a request reads one consistent
//!   snapshot from start to end and a server that is down costs nothing: it is simply absent
//!   until it is back. Only the tool listing decides health: a server that lacks the prompts
//!   or resources capability, or fails to list them, simply has none.
//! * **Health is observed, not probed per request.** Between listings each task pings its
//!   server, so [`Registry::health`] answers from memory with the last result and its time.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use junction_config::McpServerConfig;
pub use junction_mcp::Progress;
#[allow(
    deprecated,
    reason = "logging is deprecated by SEP-2577, but servers and clients still use it"
)]
use junction_mcp::model::LoggingLevel;
use junction_mcp::model::{
    CallToolResult, CompleteRequestParams, CompleteResult, GetPromptResult, Prompt,
    ReadResourceResult, Reference, Resource, ResourceContents, ResourceTemplate, Tool,
};
use junction_mcp::{ClientHooks, McpClient, McpError, Notification, NotificationHandler};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::caller::Caller;
use crate::client_headers::{self, HeaderRules};
use crate::downstream::{self, Relay};
use crate::filter::{FilterError, ToolFilter};
use crate::naming::{self, Exposed, NameError, NameTable, ResourceTable};
use crate::server_id::config_server_id;
use crate::upstream_config::{self, Upstream, UpstreamConfigError};
use crate::variants::{VariantKey, Variants};

/// Arguments of a tool call, as MCP carries them.
pub type Arguments = Map<String, Value>;

/// Where the progress reports of one call go (see [`Registry::call_tool_as`]).
pub type OnProgress = Arc<dyn Fn(Progress) + Send + Sync>;

/// Bound on listing the tools of a server through a caller's own session, when the server
/// is absent from the catalog (see [`Registry::catalog_for`]).
const CALLER_LISTING_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the registry can fail with.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// An `mcp_servers` entry that cannot work (checked at start).
    #[error(transparent)]
    Config(#[from] UpstreamConfigError),
    /// [`Registry::start`] was called outside a Tokio runtime, where it cannot spawn.
    #[error("the MCP registry must be started inside a Tokio runtime")]
    NoRuntime,
    /// No configured server has this name or id.
    #[error("MCP server {0:?} not found")]
    UnknownServer(String),
    /// The called name is no tool of the catalog (or names several).
    #[error(transparent)]
    UnknownTool(#[from] NameError),
    /// The name is no prompt of the catalog (or names several).
    #[error("{}", prompt_error_message(.0))]
    UnknownPrompt(NameError),
    /// The URI routes to no server of the catalog (or to several).
    #[error(transparent)]
    UnknownResource(NameError),
    /// `allowed_tools`, `disallowed_tools` or `allowed_params` refuse the call.
    #[error(transparent)]
    Forbidden(#[from] FilterError),
    /// The server has no session now (it never connected, or is not supported yet).
    #[error("MCP server {server} is unavailable: {reason}")]
    Unavailable { server: String, reason: String },
    /// The server failed the call (connection, timeout, JSON-RPC error).
    #[error(transparent)]
    Upstream(#[from] McpError),
}

/// [`NameError`] speaks of tools; the same failure for a prompt, in a prompt's words.
fn prompt_error_message(error: &NameError) -> String {
    match error {
        NameError::Unknown(name) => format!("unknown prompt {name}"),
        NameError::Ambiguous { name, candidates } => format!(
            "prompt name {name} is ambiguous: it could be {candidates:?}; get it by its prefixed name"
        ),
        other => other.to_string(),
    }
}

impl HubError {
    /// Whether the upstream did not answer in time (a gateway timeout, not a failure).
    pub fn is_timeout(&self) -> bool {
        matches!(self, HubError::Upstream(McpError::Timeout { .. }))
    }

    /// The JSON-RPC error code the upstream answered with, when it rejected the request.
    pub fn upstream_code(&self) -> Option<i32> {
        match self {
            HubError::Upstream(McpError::Rejected { code, .. }) => Some(*code),
            _ => None,
        }
    }
}

/// Timings of the background work and gateway-wide MCP settings. The defaults suit
/// production; tests shorten the timings.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Re-list a server's tools, prompts and resources at least this often, even without
    /// `list_changed`.
    pub tools_ttl: Duration,
    /// Ping a healthy server this often, so health stays current.
    pub health_interval: Duration,
    /// First wait before trying a failed server again; doubles on each failure…
    pub retry_min: Duration,
    /// …up to this.
    pub retry_max: Duration,
    /// Close a caller's own upstream session (see `client_headers.rs`) unused this long.
    pub variant_idle: Duration,
    /// `general_settings.mcp_client_side_auth_header_name` (env
    /// `LITELLM_MCP_CLIENT_SIDE_AUTH_HEADER_NAME` wins over it).
    pub client_side_auth_header: Option<String>,
    /// `litellm_settings.mcp_aliases` (`alias → mcp_servers key`): the prefix of a server
    /// without an `alias` of its own is its first alias here.
    pub mcp_aliases: BTreeMap<String, String>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            tools_ttl: Duration::from_secs(300),
            health_interval: Duration::from_secs(30),
            retry_min: Duration::from_secs(5),
            retry_max: Duration::from_secs(60),
            variant_idle: Duration::from_secs(600),
            client_side_auth_header: None,
            mcp_aliases: BTreeMap::new(),
        }
    }
}

/// Where a server stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerStatus {
    /// Not answered yet since boot.
    Connecting,
    Healthy,
    Unhealthy,
}

impl ServerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Connecting => "connecting",
            ServerStatus::Healthy => "healthy",
            ServerStatus::Unhealthy => "unhealthy",
        }
    }
}

/// One server's health, LiteLLM's `/v1/mcp/server/health` entry plus what Junction knows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerHealth {
    pub server_id: String,
    pub server_name: String,
    pub status: ServerStatus,
    /// Tools the gateway exposes from this server (after `allowed_tools`/`disallowed_tools`).
    pub tools_count: usize,
    /// Unix seconds of the last connect, listing or ping, whatever its outcome.
    pub last_health_check: Option<u64>,
    /// Why the server is unhealthy.
    pub error: Option<String>,
}

/// What the configuration says about a server: fixed for the registry's life.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// The `mcp_servers` key.
    pub name: String,
    /// LiteLLM's stable id of a config server (what keys and teams store).
    pub id: String,
    /// What its tool names are prefixed with (`alias`, else the name).
    pub prefix: String,
    pub alias: Option<String>,
    pub description: Option<String>,
    /// The config's `mcp_info`, as written.
    pub mcp_info: Map<String, Value>,
    /// The access groups it belongs to (`access_groups`).
    pub access_groups: Vec<String>,
    /// `allow_all_keys: true`: every key may use it, whatever its permissions.
    pub allow_all_keys: bool,
    /// Where it comes from: `config.yaml`, or the database (managed through the API).
    pub origin: ServerOrigin,
}

/// Where a server's definition lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerOrigin {
    Config,
    Database,
}

/// One immutable view of every tool, prompt and resource the gateway offers. Cheap to hold
/// (an `Arc`); a new one replaces it whenever any server's listings change.
#[derive(Debug)]
pub struct Catalog {
    separator: String,
    names: NameTable,
    prompt_names: NameTable,
    resource_table: ResourceTable,
    /// Healthy servers → their tools that pass the server's filter, their prompts, resources
    /// and resource templates, in upstream order, with the upstream (original) names and URIs.
    servers: BTreeMap<String, ServerEntries>,
}

#[derive(Debug, PartialEq)]
struct ServerEntries {
    /// What exposed resource names are prefixed with (as tool names are).
    prefix: String,
    tools: Vec<Tool>,
    by_name: HashMap<String, usize>,
    prompts: Vec<Prompt>,
    prompt_by_name: HashMap<String, usize>,
    /// Whether the server serves resources at all (it declared the capability): only such
    /// servers take reads of unlisted URIs.
    serves_resources: bool,
    resources: Vec<Resource>,
    resource_by_uri: HashMap<String, usize>,
    templates: Vec<ResourceTemplate>,
    template_by_uri: HashMap<String, usize>,
}

/// Position of each key's first occurrence (a server listing a name twice is broken; the
/// first definition wins).
fn first_positions<'a>(keys: impl Iterator<Item = &'a str>) -> HashMap<String, usize> {
    let mut positions = HashMap::new();
    for (i, key) in keys.enumerate() {
        positions.entry(key.to_owned()).or_insert(i);
    }
    positions
}

fn in_scope(servers: Option<&[String]>, server: &str) -> bool {
    servers.is_none_or(|wanted| wanted.iter().any(|s| s == server))
}

impl Catalog {
    fn empty(separator: &str) -> Catalog {
        Catalog {
            separator: separator.to_owned(),
            names: NameTable::build(separator, &[]),
            prompt_names: NameTable::build(separator, &[]),
            resource_table: ResourceTable::default(),
            servers: BTreeMap::new(),
        }
    }

    /// Exposed name ↔ (server, original name) for every tool.
    pub fn names(&self) -> &NameTable {
        &self.names
    }

    /// Exposed name ↔ (server, original name) for every prompt (named as tools are).
    pub fn prompt_names(&self) -> &NameTable {
        &self.prompt_names
    }

    /// Exposed URI ↔ (server, upstream URI) for every resource and resource template, and
    /// the routing of reads.
    pub fn resource_table(&self) -> &ResourceTable {
        &self.resource_table
    }

    /// Every tool (of `servers` only, when given, named by `mcp_servers` key), with its
    /// exposed name as `name`; everything else is the upstream's own.
    pub fn tools(&self, servers: Option<&[String]>) -> Vec<(Exposed, Tool)> {
        self.names
            .entries()
            .iter()
            .filter(|e| in_scope(servers, &e.server))
            .filter_map(|e| {
                let mut tool = self.tool(&e.server, &e.original)?.clone();
                tool.name = e.exposed.clone().into();
                Some((e.clone(), tool))
            })
            .collect()
    }

    /// The tools `scope` may list: of its servers, and within each server's tool limit.
    pub fn tools_in(&self, scope: &crate::Scope) -> Vec<(Exposed, Tool)> {
        let mut tools = self.tools(scope.servers());
        tools.retain(|(exposed, _)| scope.may_call(&exposed.server, &exposed.original));
        tools
    }

    /// Every prompt (of `servers` only, when given), sorted by exposed name, with its exposed
    /// name as `name`; everything else is the upstream's own.
    pub fn prompts(&self, servers: Option<&[String]>) -> Vec<Prompt> {
        self.prompt_names
            .entries()
            .iter()
            .filter(|e| in_scope(servers, &e.server))
            .filter_map(|e| {
                let mut prompt = self.prompt(&e.server, &e.original)?.clone();
                prompt.name.clone_from(&e.exposed);
                Some(prompt)
            })
            .collect()
    }

    /// Every resource (of `servers` only, when given), sorted by exposed URI, with its
    /// exposed URI as `uri` and `name` prefixed as LiteLLM does (`<prefix><sep><name>`).
    pub fn resources(&self, servers: Option<&[String]>) -> Vec<Resource> {
        self.resource_table
            .resources()
            .iter()
            .filter(|e| in_scope(servers, &e.server))
            .filter_map(|e| {
                let entries = self.servers.get(&e.server)?;
                let mut resource = entries
                    .resource_by_uri
                    .get(&e.original)
                    .and_then(|&i| entries.resources.get(i))?
                    .clone();
                resource.uri.clone_from(&e.exposed);
                resource.name = self.prefixed(&entries.prefix, &resource.name);
                Some(resource)
            })
            .collect()
    }

    /// Every resource template (of `servers` only, when given), sorted by exposed template,
    /// with its exposed form as `uriTemplate` and `name` prefixed.
    pub fn resource_templates(&self, servers: Option<&[String]>) -> Vec<ResourceTemplate> {
        self.resource_table
            .templates()
            .iter()
            .filter(|e| in_scope(servers, &e.server))
            .filter_map(|e| {
                let entries = self.servers.get(&e.server)?;
                let mut template = entries
                    .template_by_uri
                    .get(&e.original)
                    .and_then(|&i| entries.templates.get(i))?
                    .clone();
                template.uri_template.clone_from(&e.exposed);
                template.name = self.prefixed(&entries.prefix, &template.name);
                Some(template)
            })
            .collect()
    }

    fn prefixed(&self, prefix: &str, name: &str) -> String {
        format!("{prefix}{}{name}", self.separator)
    }

    /// The tools of one server with their original names, or `None` when the server is not
    /// in the catalog (unhealthy, or still connecting).
    pub fn server_tools(&self, server: &str) -> Option<&[Tool]> {
        self.servers.get(server).map(|s| s.tools.as_slice())
    }

    /// One tool by server and original name.
    pub fn tool(&self, server: &str, original: &str) -> Option<&Tool> {
        let entries = self.servers.get(server)?;
        entries
            .by_name
            .get(original)
            .and_then(|&i| entries.tools.get(i))
    }

    /// One prompt by server and original name.
    pub fn prompt(&self, server: &str, original: &str) -> Option<&Prompt> {
        let entries = self.servers.get(server)?;
        entries
            .prompt_by_name
            .get(original)
            .and_then(|&i| entries.prompts.get(i))
    }

    /// One resource by server and upstream URI.
    pub fn resource(&self, server: &str, uri: &str) -> Option<&Resource> {
        let entries = self.servers.get(server)?;
        entries
            .resource_by_uri
            .get(uri)
            .and_then(|&i| entries.resources.get(i))
    }

    /// Whether the server's tools are in this catalog.
    pub fn has_server(&self, server: &str) -> bool {
        self.servers.contains_key(server)
    }

    /// The prompt table of a scope (the whole table when unscoped): bare names resolve
    /// within the scope.
    fn scoped_prompts(&self, servers: Option<&[String]>) -> Cow<'_, NameTable> {
        match servers {
            None => Cow::Borrowed(&self.prompt_names),
            Some(servers) => Cow::Owned(self.prompt_names.scoped(servers)),
        }
    }

    /// Whether `uri` is a resource of a server outside the scope: listed by it, or in its
    /// `mcp://<server>/` namespace. Such a URI is unknown in the scope, even where a lone
    /// server in scope would otherwise take every read.
    fn claimed_outside(&self, servers: Option<&[String]>, uri: &str) -> bool {
        if servers.is_none() {
            return false;
        }
        let table = &self.resource_table;
        let addressed = uri.starts_with(naming::RESOURCE_NAMESPACE)
            || table
                .resources()
                .iter()
                .any(|e| e.exposed == uri || e.original == uri);
        addressed
            && table
                .resolve(uri)
                .is_ok_and(|target| !in_scope(servers, target.server))
    }

    /// The resource table of a scope (see [`Catalog::scoped_prompts`]).
    fn scoped_resources(&self, servers: Option<&[String]>) -> Cow<'_, ResourceTable> {
        match servers {
            None => Cow::Borrowed(&self.resource_table),
            Some(servers) => Cow::Owned(self.resource_table.scoped(servers)),
        }
    }
}

/// The configured MCP servers. Create with [`Registry::start`]; share the `Arc`.
pub struct Registry {
    shared: Arc<Shared>,
    options: RegistryOptions,
    /// `x-mcp-auth`'s header name, for servers added later.
    auth_header: String,
    /// Where server tasks run: the runtime that started the registry, whichever thread asks
    /// for a server to be added.
    runtime: tokio::runtime::Handle,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field(
                "servers",
                &self
                    .shared
                    .list()
                    .iter()
                    .map(|s| s.info.name.clone())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// What the registry and its tasks share.
struct Shared {
    separator: String,
    /// In name order. Replaced whole when a server is added or removed, so a reader holds
    /// one consistent list.
    servers: std::sync::RwLock<Arc<Vec<Arc<Server>>>>,
    catalog: watch::Sender<Arc<Catalog>>,
    /// Serializes catalog rebuilds, so the last one published saw the latest states.
    publishing: Mutex<()>,
}

struct Server {
    info: Arc<ServerInfo>,
    filter: ToolFilter,
    upstream: Upstream,
    /// How callers' headers change its session (never for stdio servers: no headers there).
    rules: Option<HeaderRules>,
    /// Callers' own sessions with it.
    variants: Variants,
    state: Mutex<ServerState>,
    /// Wakes the server's task to re-list its tools now (list_changed, a failed call).
    /// An `Arc` of its own: the client's notification handler holds it, and must not hold
    /// the server (which holds the client).
    refresh: Arc<Notify>,
    /// Ends this server's task alone (it was removed or replaced).
    stop: watch::Sender<bool>,
}

struct ServerState {
    status: ServerStatus,
    error: Option<String>,
    last_check: Option<u64>,
    client: Option<McpClient>,
    /// The last listing, unfiltered; `None` until the first one succeeds.
    tools: Option<Vec<Tool>>,
    /// What the last listing found beside the tools.
    offerings: Offerings,
}

/// One listing of a server: the tools decide its health, the rest is what it offers.
struct Listing {
    tools: Vec<Tool>,
    offerings: Offerings,
}

/// A server's prompts, resources and resource templates: empty when it lacks the capability
/// or fails to list them.
#[derive(Debug, Default)]
struct Offerings {
    prompts: Vec<Prompt>,
    serves_resources: bool,
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
}

/// Locks a std mutex. A poisoned lock only means a panic elsewhere mid-update of plain data
/// that is always left whole (fields are assigned, never half-built), so keep using it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Registry {
    /// Checks every entry, then starts connecting all of them in the background and returns
    /// at once. Only configuration errors fail; unreachable servers show in [`Registry::health`].
    pub async fn start(
        servers: &BTreeMap<String, McpServerConfig>,
        separator: impl Into<String>,
    ) -> Result<Arc<Registry>, HubError> {
        Self::start_with(servers, separator, RegistryOptions::default()).await
    }

    /// [`Registry::start`] with explicit timings.
    pub async fn start_with(
        servers: &BTreeMap<String, McpServerConfig>,
        separator: impl Into<String>,
        options: RegistryOptions,
    ) -> Result<Arc<Registry>, HubError> {
        let separator = separator.into();
        let upstreams = upstream_config::upstreams(servers).await?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| HubError::NoRuntime)?;
        let auth_header =
            client_headers::client_side_auth_header(options.client_side_auth_header.as_deref());
        let list = servers
            .iter()
            .zip(upstreams)
            .map(|((name, config), (_, upstream))| {
                let definition = Definition {
                    name,
                    id: None,
                    config,
                    origin: ServerOrigin::Config,
                };
                Arc::new(Server::new(definition, upstream, &options, &auth_header))
            })
            .collect::<Vec<_>>();
        let (catalog, _) = watch::channel(Arc::new(Catalog::empty(&separator)));
        let shared = Arc::new(Shared {
            separator,
            servers: std::sync::RwLock::new(Arc::new(list)),
            catalog,
            publishing: Mutex::new(()),
        });
        let registry = Registry {
            shared,
            options,
            auth_header,
            runtime,
            shutdown: watch::channel(false).0,
            tasks: Mutex::new(Vec::new()),
        };
        for server in registry.shared.list().iter() {
            registry.spawn(server);
        }
        Ok(Arc::new(registry))
    }

    /// Starts this server's task (nothing to run for a server that cannot be served).
    fn spawn(&self, server: &Arc<Server>) {
        if !matches!(server.upstream, Upstream::Mcp(_)) {
            return;
        }
        let task = self.runtime.spawn(run_server(
            Arc::clone(&self.shared),
            Arc::clone(server),
            self.options.clone(),
            self.shutdown.subscribe(),
        ));
        let mut tasks = lock(&self.tasks);
        tasks.retain(|task| !task.is_finished());
        tasks.push(task);
    }

    /// Adds a server while the gateway runs (one defined in the database), or replaces the
    /// one of that name: the old one's sessions are closed, the new one connects in the
    /// background like any other. `id` is its stable id (a config server's is derived from
    /// its entry). Fails only when the definition cannot be served.
    pub async fn add_server(
        &self,
        name: &str,
        id: Option<&str>,
        config: &McpServerConfig,
        origin: ServerOrigin,
    ) -> Result<(), HubError> {
        let upstream = upstream_config::upstream(name, config)
            .await
            .map_err(HubError::Config)?;
        let definition = Definition {
            name,
            id,
            config,
            origin,
        };
        let server = Arc::new(Server::new(
            definition,
            upstream,
            &self.options,
            &self.auth_header,
        ));
        let replaced = {
            let mut servers = self
                .shared
                .servers
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let mut list = Vec::clone(&servers);
            let replaced = match list.binary_search_by(|s| s.info.name.as_str().cmp(name)) {
                Ok(at) => Some(std::mem::replace(&mut list[at], Arc::clone(&server))),
                Err(at) => {
                    list.insert(at, Arc::clone(&server));
                    None
                }
            };
            *servers = Arc::new(list);
            replaced
        };
        if let Some(old) = replaced {
            self.retire(old);
        }
        self.spawn(&server);
        self.shared.publish();
        Ok(())
    }

    /// Removes a server while the gateway runs: it leaves the catalog at once and its
    /// sessions are closed. `false` when there is no server of that name.
    pub fn remove_server(&self, name: &str) -> bool {
        let removed = {
            let mut servers = self
                .shared
                .servers
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let mut list = Vec::clone(&servers);
            let Some(at) = list.iter().position(|s| s.info.name == name) else {
                return false;
            };
            let removed = list.remove(at);
            *servers = Arc::new(list);
            removed
        };
        self.retire(removed);
        self.shared.publish();
        true
    }

    /// Stops a server that left the list: its task closes the shared session, and its
    /// callers' own sessions are closed here.
    fn retire(&self, server: Arc<Server>) {
        server.stop.send_replace(true);
        let variants = server.variants.take_all();
        self.runtime.spawn(async move {
            futures_util::future::join_all(variants.iter().map(McpClient::close)).await;
        });
    }

    /// The separator between prefix and tool name in exposed names.
    pub fn separator(&self) -> &str {
        &self.shared.separator
    }

    /// The current catalog. Hold it for the whole request: it never changes underneath.
    pub fn catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.shared.catalog.borrow())
    }

    /// A receiver that sees every new catalog (for `notifications/tools/list_changed`).
    pub fn subscribe(&self) -> watch::Receiver<Arc<Catalog>> {
        self.shared.catalog.subscribe()
    }

    /// Every server (configured, or added since), in name order.
    pub fn servers(&self) -> Vec<Arc<ServerInfo>> {
        self.shared
            .list()
            .iter()
            .map(|s| Arc::clone(&s.info))
            .collect()
    }

    /// A server by `mcp_servers` key or by its id.
    pub fn find_server(&self, name_or_id: &str) -> Option<Arc<ServerInfo>> {
        self.find(name_or_id).map(|s| Arc::clone(&s.info))
    }

    /// A server by any name a client or admin may use for it: its exact name or id first,
    /// then its name, prefix, alias or id ignoring ASCII case.
    pub fn server_named(&self, wanted: &str) -> Option<Arc<ServerInfo>> {
        self.find_server(wanted).or_else(|| {
            self.servers().into_iter().find(|s| {
                s.prefix.eq_ignore_ascii_case(wanted)
                    || s.name.eq_ignore_ascii_case(wanted)
                    || s.id.eq_ignore_ascii_case(wanted)
                    || s.alias
                        .as_deref()
                        .is_some_and(|alias| alias.eq_ignore_ascii_case(wanted))
            })
        })
    }

    /// The servers of an access group (matched ignoring ASCII case), in name order.
    pub fn access_group(&self, group: &str) -> Vec<String> {
        self.shared
            .list()
            .iter()
            .filter(|s| {
                s.info
                    .access_groups
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(group))
            })
            .map(|s| s.info.name.clone())
            .collect()
    }

    fn find(&self, name_or_id: &str) -> Option<Arc<Server>> {
        let servers = self.shared.list();
        servers
            .iter()
            .find(|s| s.info.name == name_or_id)
            .or_else(|| servers.iter().find(|s| s.info.id == name_or_id))
            .cloned()
    }

    /// The health of every server, in name order.
    pub fn health(&self) -> Vec<ServerHealth> {
        let catalog = self.catalog();
        self.shared
            .list()
            .iter()
            .map(|server| server.health(&catalog))
            .collect()
    }

    /// Why a server's tools are not in the catalog (its error, or that it is connecting).
    pub fn unavailable_reason(&self, name_or_id: &str) -> Option<String> {
        let server = self.find(name_or_id)?;
        let state = lock(&server.state);
        Some(state.error.clone().unwrap_or_else(|| match state.status {
            ServerStatus::Connecting => "still connecting".to_owned(),
            _ => "no tools listed yet".to_owned(),
        }))
    }

    /// Calls a tool by the name a client sees (prefixed, or bare when unambiguous): resolves
    /// it in the current catalog, applies the server's filters, and calls the server with the
    /// tool's original name. A tool failure is an `Ok` result with `isError: true`.
    pub async fn call_tool(
        &self,
        called_name: &str,
        arguments: Option<Arguments>,
    ) -> Result<CallToolResult, HubError> {
        self.call_tool_as(&Caller::default(), called_name, arguments, None)
            .await
    }

    /// [`Registry::call_tool`] for `caller`: its headers may make the call go through a
    /// session of its own (see `client_headers.rs`), and tools that only its session lists
    /// can be called. The server's progress reports for this call go to `on_progress`: the
    /// session may be shared by every caller, so the reports are routed by the progress token
    /// of this one upstream request; the callback is called from the task reading the
    /// server's messages and should return quickly.
    ///
    /// Dropping the future abandons the call, and the server is told with
    /// `notifications/cancelled`.
    pub async fn call_tool_as(
        &self,
        caller: &Caller,
        called_name: &str,
        arguments: Option<Arguments>,
        on_progress: Option<OnProgress>,
    ) -> Result<CallToolResult, HubError> {
        let catalog = self.catalog_for(caller).await;
        let exposed = match catalog.names().resolve(called_name) {
            Ok(exposed) => exposed.clone(),
            Err(error) => {
                // A tool of a server that is down is absent from the catalog; say so rather
                // than call it unknown.
                return Err(self
                    .down_server_named(&catalog, None, called_name)
                    .unwrap_or(HubError::UnknownTool(error)));
            }
        };
        let server = self
            .find(&exposed.server)
            .ok_or_else(|| HubError::UnknownServer(exposed.server.clone()))?;
        self.call_on(
            &server,
            caller,
            called_name,
            &exposed.original,
            arguments,
            on_progress,
        )
        .await
    }

    /// Calls a tool of one server (by `mcp_servers` key or id) by its original name, as the
    /// REST API does. The server's filters apply as for [`Registry::call_tool`].
    pub async fn call_tool_on(
        &self,
        caller: &Caller,
        server: &str,
        original_name: &str,
        arguments: Option<Arguments>,
    ) -> Result<CallToolResult, HubError> {
        let server = self
            .find(server)
            .ok_or_else(|| HubError::UnknownServer(server.to_owned()))?;
        self.call_on(
            &server,
            caller,
            original_name,
            original_name,
            arguments,
            None,
        )
        .await
    }

    async fn call_on(
        &self,
        server: &Server,
        caller: &Caller,
        called_name: &str,
        original: &str,
        arguments: Option<Arguments>,
        on_progress: Option<OnProgress>,
    ) -> Result<CallToolResult, HubError> {
        server.filter.check_call(
            &server.info.name,
            called_name,
            original,
            &server.info.prefix,
            &self.shared.separator,
            arguments.as_ref(),
        )?;
        let client = self.session_for(server, caller).await?;
        let result = match on_progress {
            Some(on_progress) => {
                client
                    .call_tool_with_progress(original, arguments, move |progress| {
                        on_progress(progress)
                    })
                    .await
            }
            None => client.call_tool(original, arguments).await,
        };
        result.map_err(|error| server.failed(error))
    }

    /// The catalog as `caller` sees it: the shared one, plus the tools of servers absent from
    /// it (down, typically because they need each caller's credential) that the caller's own
    /// session lists. Such listings are cached with the session, for the tools TTL.
    pub async fn catalog_for(&self, caller: &Caller) -> Arc<Catalog> {
        let catalog = self.catalog();
        if caller.headers.is_empty() {
            return catalog;
        }
        // Only servers missing from the catalog matter; most requests stop at this check.
        let servers = self.shared.list();
        let absent = servers
            .iter()
            .filter(|server| !catalog.has_server(&server.info.name))
            .filter_map(|server| Some((server, server.variant_key(caller)?)));
        let listings = futures_util::future::join_all(absent.map(|(server, key)| async move {
            let listed =
                tokio::time::timeout(CALLER_LISTING_TIMEOUT, self.variant_tools(server, &key, caller))
                    .await;
            match listed {
                Ok(Ok(tools)) => Some((server, tools)),
                Ok(Err(error)) => {
                    tracing::debug!(server = %server.info.name, %error, "cannot list tools with the caller's headers");
                    None
                }
                Err(_) => {
                    tracing::debug!(server = %server.info.name, "listing tools with the caller's headers timed out");
                    None
                }
            }
        }))
        .await;
        let overlay: BTreeMap<String, ServerEntries> = listings
            .into_iter()
            .flatten()
            .map(|(server, tools)| {
                let tools = server.filtered(&tools, &self.shared.separator);
                let entries = ServerEntries::new(&server.info.prefix, tools, &Offerings::default());
                (server.info.name.clone(), entries)
            })
            .collect();
        if overlay.is_empty() {
            return catalog;
        }
        Arc::new(self.shared.assemble(overlay))
    }

    /// The tools a caller's own session of `server` lists (cached).
    async fn variant_tools(
        &self,
        server: &Server,
        key: &VariantKey,
        caller: &Caller,
    ) -> Result<Vec<Tool>, HubError> {
        let ttl = self.options.tools_ttl;
        if let Some(tools) = server.variants.cached_tools(key, ttl) {
            return Ok(tools);
        }
        let client = self.variant_session(server, key, caller).await?;
        let tools = client.list_tools().await?;
        server.variants.remember_tools(key, tools.clone());
        Ok(tools)
    }

    /// The session that serves `caller` on `server`: the shared one, unless the caller's
    /// headers change it.
    async fn session_for(&self, server: &Server, caller: &Caller) -> Result<McpClient, HubError> {
        match server.variant_key(caller) {
            None => self.client_of(server),
            Some(key) => self.variant_session(server, &key, caller).await,
        }
    }

    async fn variant_session(
        &self,
        server: &Server,
        key: &VariantKey,
        caller: &Caller,
    ) -> Result<McpClient, HubError> {
        let Upstream::Mcp(base) = &server.upstream else {
            return Err(self.unavailable(server));
        };
        let config = match &server.rules {
            Some(rules) => rules.apply(base, &key.headers),
            None => (**base).clone(),
        };
        let downstream = caller
            .downstream
            .clone()
            .filter(|_| key.downstream.is_some());
        server
            .variants
            .client(key, || async move {
                tracing::debug!(
                    server = %config.name,
                    headers = ?key.headers.header_names(),
                    downstream = ?key.downstream,
                    "opening an MCP session for one caller"
                );
                let refresh = Arc::clone(&server.refresh);
                let Some(downstream) = downstream else {
                    let hooks = ClientHooks {
                        notifications: Some(Arc::new(RefreshOnChange(refresh))),
                        requests: Some(Arc::new(downstream::SharedSessionAnswers)),
                    };
                    return McpClient::connect_with(config, hooks).await;
                };
                let level = downstream.log_level();
                let relay = Arc::new(Relay {
                    downstream,
                    refresh,
                });
                let hooks = ClientHooks {
                    notifications: Some(Arc::clone(&relay) as Arc<dyn NotificationHandler>),
                    requests: Some(relay),
                };
                let client = McpClient::connect_with(config, hooks).await?;
                if let Some(level) = level {
                    apply_log_level(&client, level).await;
                }
                Ok(client)
            })
            .await
            .map_err(HubError::Upstream)
    }

    /// A downstream session asked for log messages of `level` and above: its own upstream
    /// sessions are told, and those it opens later start with it.
    #[allow(
        deprecated,
        reason = "logging is deprecated by SEP-2577, but still used"
    )]
    pub async fn set_log_level(&self, downstream: u64, level: LoggingLevel) {
        let servers = self.shared.list();
        let clients = servers
            .iter()
            .flat_map(|server| server.variants.of_downstream(downstream));
        futures_util::future::join_all(clients.map(|client| async move {
            apply_log_level(&client, level).await;
        }))
        .await;
    }

    /// A downstream session ended: the upstream sessions opened for it are closed.
    pub fn forget_downstream(&self, downstream: u64) {
        let clients: Vec<McpClient> = self
            .shared
            .list()
            .iter()
            .flat_map(|server| server.variants.take_downstream(downstream))
            .collect();
        if clients.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                futures_util::future::join_all(clients.iter().map(McpClient::close)).await;
            });
        }
    }

    /// Gets a prompt by the name a client sees (prefixed, or bare when unambiguous) and
    /// fills it in with `arguments` on its server, called by its original name.
    pub async fn get_prompt(
        &self,
        called_name: &str,
        arguments: Option<Arguments>,
    ) -> Result<GetPromptResult, HubError> {
        self.get_prompt_in(&Caller::default(), None, called_name, arguments)
            .await
    }

    /// [`Registry::get_prompt`] among the prompts of `servers` only (`mcp_servers` keys), when
    /// given: a prompt of another server is unknown, and a bare name only needs to be unique
    /// within the scope.
    pub async fn get_prompt_in(
        &self,
        caller: &Caller,
        servers: Option<&[String]>,
        called_name: &str,
        arguments: Option<Arguments>,
    ) -> Result<GetPromptResult, HubError> {
        let catalog = self.catalog();
        let (server, original) = match catalog.scoped_prompts(servers).resolve(called_name) {
            Ok(exposed) => (exposed.server.clone(), exposed.original.clone()),
            Err(error) => {
                return Err(self
                    .down_server_named(&catalog, servers, called_name)
                    .unwrap_or(HubError::UnknownPrompt(error)));
            }
        };
        let server = self
            .find(&server)
            .ok_or_else(|| HubError::UnknownServer(server.clone()))?;
        let client = self.session_for(&server, caller).await?;
        client
            .get_prompt(&original, arguments)
            .await
            .map_err(|error| server.failed(error))
    }

    /// Reads a resource by the URI a client sees (see [`ResourceTable::resolve`] for the
    /// routing) from its server, with its upstream URI. Contents that carry a namespaced
    /// resource's upstream URI get its exposed URI back, so the client sees the addresses it
    /// can read again.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, HubError> {
        self.read_resource_in(&Caller::default(), None, uri).await
    }

    /// [`Registry::read_resource`] among the resources of `servers` only, when given.
    pub async fn read_resource_in(
        &self,
        caller: &Caller,
        servers: Option<&[String]>,
        uri: &str,
    ) -> Result<ReadResourceResult, HubError> {
        let catalog = self.catalog();
        let (server, original) = self.resource_target(&catalog, servers, uri)?;
        let table = catalog.scoped_resources(servers);
        let client = self.session_for(&server, caller).await?;
        let mut result = client
            .read_resource(&original)
            .await
            .map_err(|error| server.failed(error))?;
        // `mcp://<server>/` when the client named the resource in that form.
        let namespace = uri
            .strip_suffix(original.as_str())
            .filter(|head| !head.is_empty() && head.starts_with(naming::RESOURCE_NAMESPACE));
        for content in &mut result.contents {
            let content_uri = match content {
                ResourceContents::TextResourceContents { uri, .. }
                | ResourceContents::BlobResourceContents { uri, .. } => uri,
                _ => continue,
            };
            if let Some(exposed) = table.exposed_uri(&server.info.name, content_uri) {
                if exposed != content_uri.as_str() {
                    *content_uri = exposed.to_owned();
                }
            } else if let Some(namespace) = namespace {
                *content_uri = format!("{namespace}{content_uri}");
            }
        }
        Ok(result)
    }

    /// The server and upstream URI a client's resource URI routes to, within `servers`.
    fn resource_target(
        &self,
        catalog: &Catalog,
        servers: Option<&[String]>,
        uri: &str,
    ) -> Result<(Arc<Server>, String), HubError> {
        if catalog.claimed_outside(servers, uri) {
            return Err(HubError::UnknownResource(NameError::UnknownResource(
                uri.to_owned(),
            )));
        }
        let table = catalog.scoped_resources(servers);
        let (server, original) = match table.resolve(uri) {
            Ok(target) => (target.server.to_owned(), target.uri.to_owned()),
            Err(error) => {
                return Err(self
                    .down_server_of_scope(catalog, servers)
                    .unwrap_or(HubError::UnknownResource(error)));
            }
        };
        let server = self
            .find(&server)
            .ok_or_else(|| HubError::UnknownServer(server.clone()))?;
        Ok((server, original))
    }

    /// Subscribes `caller` to updates of a resource (`resources/subscribe`). The caller must
    /// be a downstream session: updates reach it through upstream sessions of its own (see
    /// `downstream.rs`), so no other client sees them.
    pub async fn subscribe_resource(
        &self,
        caller: &Caller,
        servers: Option<&[String]>,
        uri: &str,
        subscribe: bool,
    ) -> Result<(), HubError> {
        let catalog = self.catalog();
        let (server, original) = self.resource_target(&catalog, servers, uri)?;
        let client = self.session_for(&server, caller).await?;
        let result = if subscribe {
            client.subscribe(&original).await
        } else {
            client.unsubscribe(&original).await
        };
        result.map_err(|error| server.failed(error))
    }

    /// The exposed URI of upstream `uri` of `server` (what a client subscribed to).
    pub fn exposed_resource_uri(&self, server: &str, uri: &str) -> String {
        let catalog = self.catalog();
        match catalog.resource_table().exposed_uri(server, uri) {
            Some(exposed) => exposed.to_owned(),
            None => uri.to_owned(),
        }
    }

    /// `completion/complete` for a prompt argument (by the prompt's exposed name) or a
    /// resource template argument (by its exposed template), asked of its server under the
    /// upstream name.
    pub async fn complete(
        &self,
        caller: &Caller,
        servers: Option<&[String]>,
        mut params: CompleteRequestParams,
    ) -> Result<CompleteResult, HubError> {
        let catalog = self.catalog();
        let server = match &mut params.r#ref {
            Reference::Prompt(prompt) => {
                let exposed = catalog
                    .scoped_prompts(servers)
                    .resolve(&prompt.name)
                    .map_err(HubError::UnknownPrompt)?
                    .clone();
                prompt.name = exposed.original;
                exposed.server
            }
            Reference::Resource(template) => {
                let (server, original) = self.resource_target(&catalog, servers, &template.uri)?;
                template.uri = original;
                server.info.name.clone()
            }
            _ => {
                return Err(HubError::UnknownPrompt(NameError::Unknown(
                    "completion reference".to_owned(),
                )));
            }
        };
        let server = self
            .find(&server)
            .ok_or_else(|| HubError::UnknownServer(server.clone()))?;
        let client = self.session_for(&server, caller).await?;
        client
            .complete(params)
            .await
            .map_err(|error| server.failed(error))
    }

    /// The session of a server, or why it has none.
    fn client_of(&self, server: &Server) -> Result<McpClient, HubError> {
        let client = lock(&server.state).client.clone();
        client.ok_or_else(|| self.unavailable(server))
    }

    /// A name that is unknown because its server (in scope) is down: its prefix says whose
    /// it is, and the server is absent from the catalog. Saying so beats calling it unknown.
    fn down_server_named(
        &self,
        catalog: &Catalog,
        servers: Option<&[String]>,
        called_name: &str,
    ) -> Option<HubError> {
        let separator = self.shared.separator.as_str();
        let all = self.shared.list();
        let server = all.iter().find(|s| {
            in_scope(servers, &s.info.name)
                && !catalog.has_server(&s.info.name)
                && called_name
                    .strip_prefix(s.info.prefix.as_str())
                    .is_some_and(|rest| rest.starts_with(separator))
        })?;
        Some(self.unavailable(server))
    }

    /// A URI no server in scope takes, when the scope is one server that is down (its reads
    /// would all go there).
    fn down_server_of_scope(
        &self,
        catalog: &Catalog,
        servers: Option<&[String]>,
    ) -> Option<HubError> {
        let [only] = servers? else {
            return None;
        };
        let server = self.find(only)?;
        (!catalog.has_server(&server.info.name)).then(|| self.unavailable(&server))
    }

    fn unavailable(&self, server: &Server) -> HubError {
        HubError::Unavailable {
            server: server.info.name.clone(),
            reason: self
                .unavailable_reason(&server.info.name)
                .unwrap_or_default(),
        }
    }

    /// Stops the background work and closes every session (stdio servers are stopped).
    /// Calls afterwards fail.
    pub async fn shutdown(&self) {
        self.shutdown.send_replace(true);
        let tasks = std::mem::take(&mut *lock(&self.tasks));
        let servers = self.shared.list();
        let variants = servers.iter().flat_map(|server| server.variants.take_all());
        futures_util::future::join_all(variants.map(|client| async move { client.close().await }))
            .await;
        for result in futures_util::future::join_all(tasks).await {
            if let Err(error) = result
                && error.is_panic()
            {
                tracing::error!(%error, "an MCP server task panicked");
            }
        }
    }
}

impl Drop for Registry {
    /// Without [`Registry::shutdown`], the tasks still stop and close their sessions, just
    /// without anyone waiting for them.
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

/// A server's definition, from the config file or the database.
struct Definition<'a> {
    name: &'a str,
    /// A database server's id; `None` derives LiteLLM's id of a config entry.
    id: Option<&'a str>,
    config: &'a McpServerConfig,
    origin: ServerOrigin,
}

impl Server {
    fn new(
        definition: Definition<'_>,
        upstream: Upstream,
        options: &RegistryOptions,
        auth_header: &str,
    ) -> Server {
        let Definition {
            name,
            id,
            config,
            origin,
        } = definition;
        let alias = config.alias.clone().or_else(|| {
            options
                .mcp_aliases
                .iter()
                .find(|(_, server)| *server == name)
                .map(|(alias, _)| alias.clone())
        });
        let configured_alias = config.alias.as_deref();
        let mut config = Cow::Borrowed(config);
        if config.alias != alias {
            config.to_mut().alias.clone_from(&alias);
        }
        let config = &*config;
        let unsupported = match &upstream {
            Upstream::Unsupported(reason) => Some(reason.clone()),
            Upstream::Mcp(_) => None,
        };
        let info = ServerInfo {
            name: name.to_owned(),
            id: id.map(str::to_owned).unwrap_or_else(|| {
                config_server_id(
                    name,
                    config.url.as_deref(),
                    // As configured: the id must match LiteLLM's hash of the same entry.
                    config.transport.as_deref(),
                    config.auth_type.as_deref(),
                    configured_alias,
                )
            }),
            prefix: naming::server_prefix(name, config.alias.as_deref()),
            alias: config.alias.clone(),
            description: config.description.clone().or_else(|| {
                config
                    .mcp_info
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }),
            mcp_info: config.mcp_info.clone(),
            access_groups: config.access_groups.clone(),
            allow_all_keys: config.allow_all_keys == Some(true),
            origin,
        };
        let http = matches!(
            &upstream,
            Upstream::Mcp(c) if !matches!(c.transport, junction_mcp::TransportConfig::Stdio { .. })
        );
        Server {
            info: Arc::new(info),
            filter: ToolFilter::from_config(config),
            rules: http.then(|| HeaderRules::new(name, config, auth_header)),
            variants: Variants::default(),
            upstream,
            state: Mutex::new(ServerState {
                status: if unsupported.is_some() {
                    ServerStatus::Unhealthy
                } else {
                    ServerStatus::Connecting
                },
                error: unsupported,
                last_check: None,
                client: None,
                tools: None,
                offerings: Offerings::default(),
            }),
            refresh: Arc::new(Notify::new()),
            stop: watch::channel(false).0,
        }
    }

    fn health(&self, catalog: &Catalog) -> ServerHealth {
        let state = lock(&self.state);
        ServerHealth {
            server_id: self.info.id.clone(),
            server_name: self.info.name.clone(),
            status: state.status,
            tools_count: catalog
                .server_tools(&self.info.name)
                .map_or(0, <[Tool]>::len),
            last_health_check: state.last_check,
            error: state.error.clone(),
        }
    }

    /// A failed operation: when the server may be gone, its task checks now rather than at
    /// the next ping, so health and the catalog catch up.
    fn failed(&self, error: McpError) -> HubError {
        if matches!(
            error,
            McpError::Connect { .. } | McpError::Disconnected { .. }
        ) {
            self.refresh.notify_one();
        }
        HubError::Upstream(error)
    }

    /// The key of the caller's own session with this server, when its headers change the
    /// session (`None`: the shared session serves it).
    fn variant_key(&self, caller: &Caller) -> Option<VariantKey> {
        let headers = self
            .rules
            .as_ref()
            .map(|rules| rules.variant(&caller.headers))
            .unwrap_or_default();
        let downstream = caller
            .downstream
            .as_deref()
            .filter(|d| downstream::wants_own_sessions(*d))
            .map(|d| d.id());
        (!headers.is_default() || downstream.is_some()).then_some(VariantKey {
            headers,
            downstream,
        })
    }

    /// The tools of a listing that the server's filter lets through.
    fn filtered(&self, tools: &[Tool], separator: &str) -> Vec<Tool> {
        tools
            .iter()
            .filter(|t| self.filter.allows(&t.name, &self.info.prefix, separator))
            .cloned()
            .collect()
    }

    /// What the catalog shows of this server: the tools of the last listing that its filter
    /// lets through, and everything else it offers; `None` unless it is healthy and listed.
    fn exposed(&self, separator: &str) -> Option<ServerEntries> {
        let state = lock(&self.state);
        if state.status != ServerStatus::Healthy {
            return None;
        }
        let tools = self.filtered(state.tools.as_ref()?, separator);
        Some(ServerEntries::new(
            &self.info.prefix,
            tools,
            &state.offerings,
        ))
    }
}

impl ServerEntries {
    fn new(prefix: &str, tools: Vec<Tool>, offerings: &Offerings) -> ServerEntries {
        ServerEntries {
            prefix: prefix.to_owned(),
            by_name: first_positions(tools.iter().map(|t| t.name.as_ref())),
            tools,
            prompt_by_name: first_positions(offerings.prompts.iter().map(|p| p.name.as_str())),
            prompts: offerings.prompts.clone(),
            serves_resources: offerings.serves_resources,
            resource_by_uri: first_positions(offerings.resources.iter().map(|r| r.uri.as_str())),
            resources: offerings.resources.clone(),
            template_by_uri: first_positions(
                offerings.templates.iter().map(|t| t.uri_template.as_str()),
            ),
            templates: offerings.templates.clone(),
        }
    }
}

impl Shared {
    /// The servers now (a snapshot: additions and removals replace the list).
    fn list(&self) -> Arc<Vec<Arc<Server>>> {
        Arc::clone(&self.servers.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Rebuilds the catalog from every server's current state and publishes it if it differs.
    fn publish(&self) {
        let _one_at_a_time = lock(&self.publishing);
        let fresh = self.assemble(BTreeMap::new());
        self.catalog.send_if_modified(|current| {
            if current.servers == fresh.servers {
                return false;
            }
            *current = Arc::new(fresh);
            true
        });
    }

    /// A catalog of every server's current state, with `overlay`'s entries for servers that
    /// are not in it (listed through a caller's own session).
    fn assemble(&self, mut overlay: BTreeMap<String, ServerEntries>) -> Catalog {
        let mut servers = BTreeMap::new();
        let mut tools = Vec::new();
        let mut prompts = Vec::new();
        let mut resource_servers = Vec::new();
        let mut resources = Vec::new();
        let mut templates = Vec::new();
        for server in self.list().iter() {
            let Some(entries) = server
                .exposed(&self.separator)
                .or_else(|| overlay.remove(&server.info.name))
            else {
                continue;
            };
            let name = &server.info.name;
            let prefix = &server.info.prefix;
            // The tables keep one entry per (server, name): a repeat in a listing is dropped.
            tools.extend(
                entries
                    .tools
                    .iter()
                    .map(|t| (name.clone(), prefix.clone(), t.name.to_string())),
            );
            prompts.extend(
                entries
                    .prompts
                    .iter()
                    .map(|p| (name.clone(), prefix.clone(), p.name.clone())),
            );
            if entries.serves_resources {
                resource_servers.push(name.clone());
            }
            resources.extend(
                entries
                    .resources
                    .iter()
                    .map(|r| (name.clone(), r.uri.clone())),
            );
            templates.extend(
                entries
                    .templates
                    .iter()
                    .map(|t| (name.clone(), t.uri_template.clone())),
            );
            servers.insert(name.clone(), entries);
        }
        Catalog {
            separator: self.separator.clone(),
            names: NameTable::build(&self.separator, &tools),
            prompt_names: NameTable::build(&self.separator, &prompts),
            resource_table: ResourceTable::build(&resource_servers, &resources, &templates),
            servers,
        }
    }
}

/// Forwards `tools/list_changed`, `prompts/list_changed` and `resources/list_changed` to the
/// server's task (which then lists everything again).
struct RefreshOnChange(Arc<Notify>);

impl NotificationHandler for RefreshOnChange {
    fn on_notification(&self, _server: &str, notification: Notification) {
        if matches!(
            notification,
            Notification::ToolsListChanged
                | Notification::PromptsListChanged
                | Notification::ResourcesListChanged
        ) {
            self.0.notify_one();
        }
    }
}

/// One server's life: connect, list, keep fresh, retry with backoff, close at shutdown.
async fn run_server(
    shared: Arc<Shared>,
    server: Arc<Server>,
    options: RegistryOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let Upstream::Mcp(config) = &server.upstream else {
        return;
    };
    let name = server.info.name.as_str();
    let mut removed = server.stop.subscribe();
    let mut failures: u32 = 0;
    let mut list_due = true;
    let mut next_list = Instant::now();
    loop {
        let check = check_server(&server, config, list_due);
        let outcome = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            _ = removed.wait_for(|stop| *stop) => break,
            outcome = check => outcome,
        };
        let error = outcome.as_ref().err().map(ToString::to_string);
        let listed = outcome.ok().flatten();
        let listed_count = listed.as_ref().map(|l| l.tools.len());
        let status = if error.is_none() {
            ServerStatus::Healthy
        } else {
            ServerStatus::Unhealthy
        };
        let was = {
            let mut state = lock(&server.state);
            let was = state.status;
            state.last_check = Some(unix_now());
            state.status = status;
            state.error.clone_from(&error);
            if let Some(listing) = listed {
                state.tools = Some(listing.tools);
                state.offerings = listing.offerings;
            }
            was
        };
        match &error {
            None => {
                if was != ServerStatus::Healthy {
                    tracing::info!(server = name, "MCP server is healthy");
                }
                if let Some(count) = listed_count {
                    tracing::debug!(server = name, tools = count, "listed MCP tools");
                    list_due = false;
                    next_list = Instant::now() + options.tools_ttl;
                }
                failures = 0;
            }
            Some(error) => {
                if was == ServerStatus::Unhealthy {
                    tracing::debug!(server = name, %error, "MCP server still unavailable");
                } else {
                    tracing::warn!(server = name, %error, "MCP server is unhealthy");
                }
                failures = failures.saturating_add(1);
                // Whatever it had may have changed while it was away.
                list_due = true;
            }
        }
        // A ping that changes nothing leaves the catalog alone.
        if listed_count.is_some() || was != status {
            shared.publish();
        }
        for idle in server.variants.take_idle(options.variant_idle) {
            tokio::spawn(async move { idle.close().await });
        }

        let wait = if failures == 0 {
            options
                .health_interval
                .min(next_list.saturating_duration_since(Instant::now()))
        } else {
            backoff(&options, failures)
        };
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            _ = removed.wait_for(|stop| *stop) => break,
            () = server.refresh.notified() => list_due = true,
            () = tokio::time::sleep(wait) => {
                if Instant::now() >= next_list {
                    list_due = true;
                }
            }
        }
    }
    let client = lock(&server.state).client.take();
    if let Some(client) = client {
        client.close().await;
    }
}

/// One round of work: connect if there is no session, then list everything (when due) or
/// ping. `Ok(Some(listing))` after a listing, `Ok(None)` after a ping.
async fn check_server(
    server: &Server,
    config: &junction_mcp::ClientConfig,
    list: bool,
) -> Result<Option<Listing>, McpError> {
    let existing = lock(&server.state).client.clone();
    let (client, fresh) = match existing {
        Some(client) => (client, false),
        None => {
            let hooks = ClientHooks {
                notifications: Some(Arc::new(RefreshOnChange(Arc::clone(&server.refresh)))),
                requests: Some(Arc::new(downstream::SharedSessionAnswers)),
            };
            let client = McpClient::connect_with(config.clone(), hooks).await?;
            lock(&server.state).client = Some(client.clone());
            (client, true)
        }
    };
    if list || fresh {
        let (tools, offerings) = tokio::join!(client.list_tools(), list_offerings(&client));
        Ok(Some(Listing {
            tools: tools?,
            offerings,
        }))
    } else {
        match client.ping().await {
            // Any answer proves the server is there; servers of the stateless 2026-07-28
            // revision may not know `ping` at all.
            Ok(()) | Err(McpError::Rejected { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// A server's prompts, resources and templates, each listed only when the server declared
/// the capability (or said nothing about itself). A failed listing counts as none: these
/// are extras, and a server whose tools work stays healthy.
async fn list_offerings(client: &McpClient) -> Offerings {
    let capabilities = client.server_info().map(|info| info.capabilities);
    let has_prompts = capabilities.as_ref().is_none_or(|c| c.prompts.is_some());
    let serves_resources = capabilities.as_ref().is_none_or(|c| c.resources.is_some());
    let (prompts, resources, templates) = tokio::join!(
        optional_listing(client, has_prompts, "prompts", client.list_prompts()),
        optional_listing(
            client,
            serves_resources,
            "resources",
            client.list_resources()
        ),
        optional_listing(
            client,
            serves_resources,
            "resource templates",
            client.list_resource_templates()
        ),
    );
    Offerings {
        prompts,
        serves_resources,
        resources,
        templates,
    }
}

async fn optional_listing<T>(
    client: &McpClient,
    wanted: bool,
    what: &str,
    listing: impl Future<Output = Result<Vec<T>, McpError>>,
) -> Vec<T> {
    if !wanted {
        return Vec::new();
    }
    match listing.await {
        Ok(items) => items,
        Err(error) => {
            tracing::debug!(server = client.name(), %error, "cannot list MCP {what}; none exposed");
            Vec::new()
        }
    }
}

/// Sets a session's log level; a server without logging simply keeps quiet.
#[allow(
    deprecated,
    reason = "logging is deprecated by SEP-2577, but still used"
)]
async fn apply_log_level(client: &McpClient, level: LoggingLevel) {
    if let Err(error) = client.set_logging_level(level).await {
        tracing::debug!(server = client.name(), %error, "cannot set the MCP log level");
    }
}

/// `retry_min`, doubled per consecutive failure, capped at `retry_max`.
fn backoff(options: &RegistryOptions, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    options
        .retry_min
        .saturating_mul(1 << doublings)
        .min(options.retry_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap() {
        let options = RegistryOptions::default();
        let waits: Vec<u64> = (1..=6).map(|n| backoff(&options, n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
        assert_eq!(backoff(&options, u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn statuses_serialize_as_litellm_words() {
        assert_eq!(
            serde_json::to_value(ServerStatus::Unhealthy).ok(),
            Some(Value::String("unhealthy".into()))
        );
        assert_eq!(ServerStatus::Connecting.as_str(), "connecting");
    }
}
