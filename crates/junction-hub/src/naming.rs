//! The names under which upstream tools, prompts and resources are exposed.
//!
//! Why this file exists: LiteLLM exposes every upstream tool and prompt as
//! `<prefix><separator><name>` (prefix = alias or server name, separator from env
//! `MCP_TOOL_PREFIX_SEPARATOR`, `-` by default), and clients of Junction must see the same names.
//! LiteLLM's implementation has three known faults that Junction does not copy:
//!
//! * it splits a called name at the first separator, so a server or tool whose name contains the
//!   separator (`my-server`, `get-time`) is routed wrongly (LiteLLM #16908, #15725). Here every
//!   exposed name is looked up whole in a table built from the listings; nothing is ever split.
//! * when two servers expose the same bare name, the last one listed wins. Here such a bare name
//!   is ambiguous and the error lists the prefixed names to call instead.
//! * tools whose prefixed name is longer than 64 characters are dropped (LiteLLM PR #32319). Here
//!   they are shortened deterministically, and every exposed name satisfies MCP's
//!   `[A-Za-z0-9_.-]{1,64}`, which provider tool-name rules (OpenAI, Anthropic, Bedrock) accept.
//!
//! A [`NameTable`] is immutable and built from the whole set at once, so that collisions can be
//! settled fairly (every colliding entry gets a suffix, not "first wins") and so that the result
//! does not depend on the order in which upstreams answered.
//!
//! Resources keep their upstream URI when only one server has it, because URIs are addresses the
//! client passes back verbatim; see [`ResourceTable`] for the namespaced form used otherwise.

use std::collections::{BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};

/// LiteLLM's default separator between the server prefix and the tool name.
pub const DEFAULT_SEPARATOR: &str = "-";
/// MCP's (and the LLM providers') limit on a tool name's length.
pub const MAX_NAME_LEN: usize = 64;
/// The environment variable LiteLLM reads the separator from (there is no config key).
const SEPARATOR_ENV: &str = "MCP_TOOL_PREFIX_SEPARATOR";
/// Hex digits of SHA-256 appended when a name is shortened or disambiguated: 32 bits keep
/// accidental clashes unlikely while leaving most of the 64 characters for the readable part.
const HASH_HEX_LEN: usize = 8;
/// Hash-suffix attempts before falling back to a counter (see [`disambiguate`]).
const HASH_ATTEMPTS: u32 = 16;
/// How namespaced resource URIs start: `mcp://<server>/<upstream uri>`.
pub const RESOURCE_NAMESPACE: &str = "mcp://";

/// The separator from env `MCP_TOOL_PREFIX_SEPARATOR` (trimmed; unset or empty → `-`).
pub fn separator_from_env() -> String {
    separator_or_default(std::env::var(SEPARATOR_ENV).ok().as_deref())
}

fn separator_or_default(value: Option<&str>) -> String {
    match value.map(str::trim) {
        Some(separator) if !separator.is_empty() => separator.to_owned(),
        _ => DEFAULT_SEPARATOR.to_owned(),
    }
}

/// LiteLLM's prefix of a server (`get_server_prefix` + `normalize_server_name`): the alias if set
/// and non-empty, else the server name; spaces become `_`.
pub fn server_prefix(server_name: &str, alias: Option<&str>) -> String {
    let name = match alias {
        Some(alias) if !alias.is_empty() => alias,
        _ => server_name,
    };
    name.replace(' ', "_")
}

/// One exposed name (or URI) and what it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposed {
    /// The name clients see and call.
    pub exposed: String,
    /// The server's registry key (its `mcp_servers` name).
    pub server: String,
    /// The name (or URI) on the upstream server, sent there unchanged.
    pub original: String,
}

/// Why a called name (or a read URI) could not be mapped to one upstream entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("unknown tool {0}")]
    Unknown(String),
    #[error(
        "tool name {name} is ambiguous: it could be {candidates:?}; call it by its prefixed name"
    )]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
    #[error("unknown resource {0}")]
    UnknownResource(String),
    #[error(
        "resource {uri} is ambiguous: it could be {candidates:?}; read it by its namespaced URI"
    )]
    AmbiguousResource {
        uri: String,
        candidates: Vec<String>,
    },
}

/// One immutable table of exposed names for a set of (server, original name) entries: tools, or
/// prompts (build one table per kind; their names live in separate MCP namespaces).
///
/// Building is deterministic: the same input, in any order, gives the same names. An entry's name
/// is `prefix + separator + original`, sanitized (characters outside `[A-Za-z0-9_.-]` → `_`),
/// then shortened past 64 characters to a readable head + `_` + 8 hex digits of the SHA-256 of the
/// unsanitized name. Entries whose names still coincide all get a further `_` + hash suffix
/// derived from their own server and name, so no two entries ever share a name.
#[derive(Debug, Clone, Default)]
pub struct NameTable {
    separator: String,
    /// Sorted by exposed name.
    entries: Vec<Exposed>,
    /// `prefix + separator + original` of each entry (same index): the name as a client would
    /// type it by hand, which differs from the exposed one when sanitized, shortened or suffixed.
    typed: Vec<String>,
    by_exposed: HashMap<String, usize>,
    by_original: HashMap<String, Vec<usize>>,
    by_typed: HashMap<String, Vec<usize>>,
    by_server: HashMap<String, HashMap<String, usize>>,
}

impl NameTable {
    /// `entries`: (server name — the registry key —, server prefix, original tool/prompt name).
    ///
    /// An entry is identified by (server, original); repeats are kept once (a server has one
    /// prefix; should a pair come with two, the smaller prefix is used).
    pub fn build(separator: &str, entries: &[(String, String, String)]) -> NameTable {
        // Sorting first makes every later step independent of the input order.
        let mut input: Vec<&(String, String, String)> = entries.iter().collect();
        input.sort_by(|a, b| (&a.0, &a.2, &a.1).cmp(&(&b.0, &b.2, &b.1)));
        input.dedup_by(|later, earlier| later.0 == earlier.0 && later.2 == earlier.2);

        let typed: Vec<String> = input
            .iter()
            .map(|(_, prefix, original)| format!("{prefix}{separator}{original}"))
            .collect();
        let natural: Vec<String> = typed.iter().map(|name| natural_name(name)).collect();

        let mut uses: HashMap<&str, usize> = HashMap::new();
        for name in &natural {
            *uses.entry(name.as_str()).or_default() += 1;
        }
        let unique: Vec<bool> = natural
            .iter()
            .map(|name| uses.get(name.as_str()) == Some(&1))
            .collect();

        // Names nobody else wants are settled first and never move, so a tool keeps its name
        // when an unrelated tool appears. Only colliding entries are renamed, all of them.
        let mut taken: HashSet<String> = natural
            .iter()
            .zip(&unique)
            .filter(|(_, unique)| **unique)
            .map(|(name, _)| name.clone())
            .collect();
        let mut rows = Vec::with_capacity(input.len());
        for (((server, prefix, original), typed), (natural, unique)) in
            input.iter().zip(typed).zip(natural.iter().zip(&unique))
        {
            let exposed = if *unique {
                natural.clone()
            } else {
                let name = disambiguate(natural, server, prefix, original, &taken);
                taken.insert(name.clone());
                name
            };
            rows.push((
                Exposed {
                    exposed,
                    server: server.clone(),
                    original: original.clone(),
                },
                typed,
            ));
        }
        Self::index(separator, rows)
    }

    /// Builds the lookup maps over rows whose names are already final.
    fn index(separator: &str, mut rows: Vec<(Exposed, String)>) -> NameTable {
        rows.sort_by(|a, b| a.0.exposed.cmp(&b.0.exposed));
        let mut table = NameTable {
            separator: separator.to_owned(),
            ..NameTable::default()
        };
        for (i, (entry, typed)) in rows.into_iter().enumerate() {
            table.by_exposed.insert(entry.exposed.clone(), i);
            table
                .by_original
                .entry(entry.original.clone())
                .or_default()
                .push(i);
            table.by_typed.entry(typed.clone()).or_default().push(i);
            table
                .by_server
                .entry(entry.server.clone())
                .or_default()
                .insert(entry.original.clone(), i);
            table.entries.push(entry);
            table.typed.push(typed);
        }
        table
    }

    /// The separator the table was built with.
    pub fn separator(&self) -> &str {
        &self.separator
    }

    /// Every entry, sorted by exposed name.
    pub fn entries(&self) -> &[Exposed] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The exposed name of a server's tool (for rewriting a listing).
    pub fn exposed_name(&self, server: &str, original: &str) -> Option<&str> {
        let i = *self.by_server.get(server)?.get(original)?;
        self.entries.get(i).map(|entry| entry.exposed.as_str())
    }

    /// Resolves a name a client called, in this order:
    /// 1. an exposed name, exactly;
    /// 2. a bare original name, when exactly one server has it;
    /// 3. when no server has that bare name, `prefix + separator + original` typed by hand (e.g.
    ///    the unshortened form of a long name), when it maps to exactly one entry.
    ///
    /// Matching is case-sensitive. A bare or typed name that fits several entries is
    /// [`NameError::Ambiguous`], listing their exposed names: guessing would call the wrong tool.
    pub fn resolve(&self, name: &str) -> Result<&Exposed, NameError> {
        if let Some(&i) = self.by_exposed.get(name) {
            return Ok(&self.entries[i]);
        }
        let bare = self.by_original.get(name).map_or(&[][..], Vec::as_slice);
        let typed = self.by_typed.get(name).map_or(&[][..], Vec::as_slice);
        // A bare name several servers have stays ambiguous even when it also happens to be one
        // entry's typed form: the caller may mean any of them.
        let found = match (bare, typed) {
            ([i], _) | ([], [i]) => return Ok(&self.entries[*i]),
            ([], []) => return Err(NameError::Unknown(name.to_owned())),
            ([], several) => several,
            (several, _) => several,
        };
        let candidates: BTreeSet<&str> = found
            .iter()
            .chain(typed)
            .map(|&i| self.entries[i].exposed.as_str())
            .collect();
        Err(NameError::Ambiguous {
            name: name.to_owned(),
            candidates: candidates.into_iter().map(str::to_owned).collect(),
        })
    }

    /// Only the entries of these servers (for per-request server scoping), keeping exposed names
    /// unchanged so a name means the same thing in every scope. Bare names are resolved within
    /// the scope: a name two servers share is unambiguous when only one of them is in scope.
    pub fn scoped<S: AsRef<str>>(&self, servers: &[S]) -> NameTable {
        let keep: HashSet<&str> = servers.iter().map(AsRef::as_ref).collect();
        let rows = self
            .entries
            .iter()
            .zip(&self.typed)
            .filter(|(entry, _)| keep.contains(entry.server.as_str()))
            .map(|(entry, typed)| (entry.clone(), typed.clone()))
            .collect();
        Self::index(&self.separator, rows)
    }
}

/// Whether MCP allows this character in a tool name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The first [`HASH_HEX_LEN`] hex digits of a digest.
fn hex_prefix(digest: &[u8]) -> String {
    digest
        .iter()
        .take(HASH_HEX_LEN / 2)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// SHA-256 over length-prefixed parts, so that different splits of the same text never hash the
/// same (`("a-b", "c")` vs `("a", "b-c")`).
fn parts_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex_prefix(&hasher.finalize())
}

/// `typed` made a valid MCP name: sanitized, and shortened past [`MAX_NAME_LEN`].
fn natural_name(typed: &str) -> String {
    let sanitized: String = typed
        .chars()
        .map(|c| if is_name_char(c) { c } else { '_' })
        .collect();
    if sanitized.is_empty() {
        // MCP names need at least one character; only an empty prefix, separator and name get here.
        return "_".to_owned();
    }
    if sanitized.len() <= MAX_NAME_LEN {
        return sanitized;
    }
    // Hash the unsanitized name: two long names differing only in characters that sanitize alike
    // (`é` vs `ü`) still get different suffixes.
    let hash = hex_prefix(&Sha256::digest(typed.as_bytes()));
    with_suffix(&sanitized, &hash)
}

/// `base` cut so that `base + "_" + suffix` fits in [`MAX_NAME_LEN`].
fn with_suffix(base: &str, suffix: &str) -> String {
    let keep = MAX_NAME_LEN.saturating_sub(suffix.len() + 1);
    format!("{}_{suffix}", head(base, keep))
}

/// A name for an entry whose natural name collides, not in `taken`.
///
/// The suffix is a hash of the entry's own identity, so it does not depend on which other
/// entries collide with it. Should all hash attempts be taken (practically impossible), a decimal
/// counter follows: distinct counters give distinct names and only finitely many are taken, so
/// the search always ends.
fn disambiguate(
    base: &str,
    server: &str,
    prefix: &str,
    original: &str,
    taken: &HashSet<String>,
) -> String {
    for attempt in 0..HASH_ATTEMPTS {
        let salt = attempt.to_string();
        let candidate = with_suffix(base, &parts_hash(&[server, prefix, original, &salt]));
        if !taken.contains(&candidate) {
            return candidate;
        }
    }
    let mut counter: u64 = 0;
    loop {
        let candidate = with_suffix(base, &counter.to_string());
        if !taken.contains(&candidate) {
            return candidate;
        }
        counter += 1;
    }
}

/// Where a resource read goes: the server and the URI to send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceTarget<'a> {
    pub server: &'a str,
    pub uri: &'a str,
}

/// Exposed resource URIs and resource templates of a set of servers, and the routing of reads.
///
/// * A URI (or URI template) only one server lists is exposed unchanged: it is an address the
///   client passes back verbatim, and LiteLLM does not rewrite it either.
/// * A URI several servers list is exposed as `mcp://<server>/<upstream uri>` for each of them
///   (`<server>` = the registry key, percent-encoded outside `[A-Za-z0-9._~-]`). The registry key
///   rather than the alias is used because keys are unique, so these URIs never collide. The
///   form is a valid absolute URI (clients such as the Python SDK parse resource URIs), and the
///   upstream URI is kept verbatim rather than percent-encoded so that a namespaced *template*
///   still expands to something that routes back: the text after `mcp://<server>/` is exactly
///   what the upstream gets.
/// * An unchanged URI that happens to equal another entry's namespaced form is namespaced too.
///
/// Reads are routed by [`ResourceTable::resolve`].
#[derive(Debug, Clone, Default)]
pub struct ResourceTable {
    /// Every server in scope, including those that list nothing.
    servers: BTreeSet<String>,
    /// Sorted by exposed URI.
    resources: Vec<Exposed>,
    /// Sorted by exposed template.
    templates: Vec<Exposed>,
    resource_by_exposed: HashMap<String, usize>,
    resource_by_original: HashMap<String, Vec<usize>>,
    resource_by_server: HashMap<String, HashMap<String, usize>>,
    template_by_server: HashMap<String, HashMap<String, usize>>,
    /// Percent-encoded server key → server key, for `mcp://<label>/…`.
    labels: HashMap<String, String>,
}

impl ResourceTable {
    /// `servers`: every server in scope (a server listing nothing can still be read from).
    /// `resources`: (server, upstream URI). `templates`: (server, upstream URI template).
    pub fn build(
        servers: &[String],
        resources: &[(String, String)],
        templates: &[(String, String)],
    ) -> ResourceTable {
        let servers: BTreeSet<String> = servers
            .iter()
            .chain(resources.iter().chain(templates).map(|(server, _)| server))
            .cloned()
            .collect();
        Self::index(servers, expose_uris(resources), expose_uris(templates))
    }

    fn index(
        servers: BTreeSet<String>,
        resources: Vec<Exposed>,
        templates: Vec<Exposed>,
    ) -> ResourceTable {
        let mut table = ResourceTable {
            labels: servers
                .iter()
                .map(|server| (encode_label(server), server.clone()))
                .collect(),
            servers,
            ..ResourceTable::default()
        };
        for (i, entry) in resources.iter().enumerate() {
            table.resource_by_exposed.insert(entry.exposed.clone(), i);
            table
                .resource_by_original
                .entry(entry.original.clone())
                .or_default()
                .push(i);
            table
                .resource_by_server
                .entry(entry.server.clone())
                .or_default()
                .insert(entry.original.clone(), i);
        }
        for (i, entry) in templates.iter().enumerate() {
            table
                .template_by_server
                .entry(entry.server.clone())
                .or_default()
                .insert(entry.original.clone(), i);
        }
        table.resources = resources;
        table.templates = templates;
        table
    }

    /// Every resource, sorted by exposed URI.
    pub fn resources(&self) -> &[Exposed] {
        &self.resources
    }

    /// Every resource template, sorted by exposed template.
    pub fn templates(&self) -> &[Exposed] {
        &self.templates
    }

    /// The exposed URI of a server's resource (for rewriting a listing).
    pub fn exposed_uri(&self, server: &str, uri: &str) -> Option<&str> {
        let i = *self.resource_by_server.get(server)?.get(uri)?;
        self.resources.get(i).map(|entry| entry.exposed.as_str())
    }

    /// The exposed form of a server's resource template (for rewriting a listing).
    pub fn exposed_template(&self, server: &str, template: &str) -> Option<&str> {
        let i = *self.template_by_server.get(server)?.get(template)?;
        self.templates.get(i).map(|entry| entry.exposed.as_str())
    }

    /// Routes a read, in this order:
    /// 1. a listed URI, exactly as exposed;
    /// 2. a listed resource's upstream URI (ambiguous when several servers list it);
    /// 3. `mcp://<server>/<uri>` for a known server: `<uri>` on that server, listed or not;
    /// 4. an expansion of a resource template: the template whose text before its first `{` is
    ///    the longest prefix of the URI (ambiguous when that template belongs to several servers);
    /// 5. when the scope holds exactly one server, that server (LiteLLM's only supported case).
    pub fn resolve<'a>(&'a self, uri: &'a str) -> Result<ResourceTarget<'a>, NameError> {
        if let Some(&i) = self.resource_by_exposed.get(uri) {
            return Ok(self.resources[i].target());
        }
        if let Some(found) = self.resource_by_original.get(uri) {
            if let [i] = found.as_slice() {
                return Ok(self.resources[*i].target());
            }
            return Err(ambiguous_resource(
                uri,
                found.iter().map(|&i| &self.resources[i]),
            ));
        }
        if let Some((label, original)) = uri
            .strip_prefix(RESOURCE_NAMESPACE)
            .and_then(|rest| rest.split_once('/'))
            && let Some(server) = self.labels.get(label)
        {
            return Ok(ResourceTarget {
                server,
                uri: original,
            });
        }
        if let Some(target) = self.resolve_template(uri)? {
            return Ok(target);
        }
        if self.servers.len() == 1
            && let Some(server) = self.servers.first()
        {
            return Ok(ResourceTarget { server, uri });
        }
        Err(NameError::UnknownResource(uri.to_owned()))
    }

    /// Step 4 of [`ResourceTable::resolve`]. Only the literal head of a template is compared: a
    /// full RFC 6570 match is not needed to pick a server, and the upstream validates the rest.
    fn resolve_template<'a>(
        &'a self,
        uri: &'a str,
    ) -> Result<Option<ResourceTarget<'a>>, NameError> {
        let mut best: Vec<&Exposed> = Vec::new();
        let mut best_len = 0;
        for template in &self.templates {
            let head = template_head(&template.original);
            if !uri.starts_with(head) {
                continue;
            }
            if best.is_empty() || head.len() > best_len {
                best = vec![template];
                best_len = head.len();
            } else if head.len() == best_len {
                best.push(template);
            }
        }
        let servers: BTreeSet<&str> = best.iter().map(|t| t.server.as_str()).collect();
        match servers.len() {
            0 => Ok(None),
            1 => Ok(best.first().map(|template| ResourceTarget {
                server: &template.server,
                uri,
            })),
            _ => Err(ambiguous_resource(uri, best.into_iter())),
        }
    }

    /// Only these servers' resources and templates (for per-request server scoping), keeping
    /// exposed URIs unchanged.
    pub fn scoped<S: AsRef<str>>(&self, servers: &[S]) -> ResourceTable {
        let keep: HashSet<&str> = servers.iter().map(AsRef::as_ref).collect();
        let filter = |entries: &[Exposed]| -> Vec<Exposed> {
            entries
                .iter()
                .filter(|entry| keep.contains(entry.server.as_str()))
                .cloned()
                .collect()
        };
        let in_scope = self
            .servers
            .iter()
            .filter(|server| keep.contains(server.as_str()))
            .cloned()
            .collect();
        Self::index(in_scope, filter(&self.resources), filter(&self.templates))
    }
}

impl Exposed {
    fn target(&self) -> ResourceTarget<'_> {
        ResourceTarget {
            server: &self.server,
            uri: &self.original,
        }
    }
}

fn ambiguous_resource<'a>(uri: &str, entries: impl Iterator<Item = &'a Exposed>) -> NameError {
    let candidates: BTreeSet<String> = entries.map(|entry| entry.exposed.clone()).collect();
    NameError::AmbiguousResource {
        uri: uri.to_owned(),
        candidates: candidates.into_iter().collect(),
    }
}

/// The literal text of a URI template before its first expression.
fn template_head(template: &str) -> &str {
    template.split('{').next().unwrap_or(template)
}

/// A server key as the authority of a namespaced URI: unreserved characters kept, every other
/// byte percent-encoded, so the label never contains `/` and always parses as a URI host.
fn encode_label(server: &str) -> String {
    let mut label = String::with_capacity(server.len());
    for byte in server.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            label.push(char::from(byte));
        } else {
            label.push_str(&format!("%{byte:02X}"));
        }
    }
    label
}

fn namespaced_uri(server: &str, uri: &str) -> String {
    format!("{RESOURCE_NAMESPACE}{}/{uri}", encode_label(server))
}

/// Exposed forms of (server, URI) pairs, sorted by exposed form; see [`ResourceTable`].
fn expose_uris(entries: &[(String, String)]) -> Vec<Exposed> {
    let mut input: Vec<&(String, String)> = entries.iter().collect();
    input.sort();
    input.dedup();

    let mut servers_per_uri: HashMap<&str, usize> = HashMap::new();
    for (_, uri) in &input {
        *servers_per_uri.entry(uri.as_str()).or_default() += 1;
    }
    let mut namespaced: Vec<bool> = input
        .iter()
        .map(|(_, uri)| servers_per_uri.get(uri.as_str()).is_some_and(|&n| n > 1))
        .collect();
    // Namespaced forms are distinct from each other (the label has no '/', so server and URI
    // can be read back). Only an unchanged URI can equal one of them; namespacing it too cannot
    // create a new clash, and each round namespaces at least one more entry, so this ends.
    loop {
        let taken: HashSet<String> = input
            .iter()
            .zip(&namespaced)
            .filter(|(_, namespaced)| **namespaced)
            .map(|((server, uri), _)| namespaced_uri(server, uri))
            .collect();
        let mut changed = false;
        for ((_, uri), namespaced) in input.iter().zip(namespaced.iter_mut()) {
            if !*namespaced && taken.contains(uri.as_str()) {
                *namespaced = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    let mut exposed: Vec<Exposed> = input
        .iter()
        .zip(&namespaced)
        .map(|((server, uri), namespaced)| Exposed {
            exposed: if *namespaced {
                namespaced_uri(server, uri)
            } else {
                uri.clone()
            },
            server: server.clone(),
            original: uri.clone(),
        })
        .collect();
    exposed.sort_by(|a, b| a.exposed.cmp(&b.exposed));
    exposed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(server: &str, prefix: &str, original: &str) -> (String, String, String) {
        (server.to_owned(), prefix.to_owned(), original.to_owned())
    }

    fn is_valid_name(name: &str) -> bool {
        !name.is_empty() && name.len() <= MAX_NAME_LEN && name.chars().all(is_name_char)
    }

    fn exposed_of(table: &NameTable, server: &str, original: &str) -> String {
        table
            .exposed_name(server, original)
            .unwrap_or_else(|| panic!("{server}/{original} missing"))
            .to_owned()
    }

    #[test]
    fn separator_defaults_and_trims() {
        assert_eq!(separator_or_default(None), "-");
        assert_eq!(separator_or_default(Some("")), "-");
        assert_eq!(separator_or_default(Some("   ")), "-");
        assert_eq!(separator_or_default(Some(" __ ")), "__");
        assert_eq!(separator_or_default(Some("::")), "::");
    }

    #[test]
    fn prefix_is_alias_else_server_name_with_spaces_replaced() {
        assert_eq!(server_prefix("deepwiki", None), "deepwiki");
        assert_eq!(server_prefix("deepwiki", Some("wiki")), "wiki");
        assert_eq!(server_prefix("deepwiki", Some("")), "deepwiki");
        assert_eq!(server_prefix("my server", None), "my_server");
        assert_eq!(server_prefix("x", Some("my  alias")), "my__alias");
    }

    #[test]
    fn names_are_prefix_separator_original() {
        let table = NameTable::build(
            "-",
            &[
                entry("deepwiki", "deepwiki", "read_wiki_contents"),
                entry("time", "t", "get_current_time"),
            ],
        );
        let names: Vec<&str> = table.entries().iter().map(|e| e.exposed.as_str()).collect();
        assert_eq!(names, ["deepwiki-read_wiki_contents", "t-get_current_time"]);
        let custom = NameTable::build("__", &[entry("time", "time", "now")]);
        assert_eq!(custom.entries()[0].exposed, "time__now");
        assert_eq!(custom.separator(), "__");
    }

    #[test]
    fn separator_inside_server_and_tool_names_resolves_both_ways() {
        let table = NameTable::build(
            "-",
            &[
                entry("my-server", "my-server", "get-time"),
                entry("my", "my", "server-x"),
                entry("other", "other", "get"),
            ],
        );
        let hit = table.resolve("my-server-get-time").unwrap();
        assert_eq!(
            (hit.server.as_str(), hit.original.as_str()),
            ("my-server", "get-time")
        );
        let bare = table.resolve("get-time").unwrap();
        assert_eq!(
            (bare.server.as_str(), bare.original.as_str()),
            ("my-server", "get-time")
        );
        // LiteLLM would split `my-server-x` at the first '-' and look for tool `server-x` on a
        // server `my`; here it is one exact lookup.
        let other = table.resolve("my-server-x").unwrap();
        assert_eq!(
            (other.server.as_str(), other.original.as_str()),
            ("my", "server-x")
        );
        assert_eq!(
            table.resolve("server-x").unwrap().exposed,
            "my-server-x".to_owned()
        );
    }

    #[test]
    fn bare_name_of_two_servers_is_ambiguous_and_lists_candidates() {
        let table = NameTable::build(
            "-",
            &[
                entry("b", "b", "search"),
                entry("a", "a", "search"),
                entry("a", "a", "only_a"),
            ],
        );
        assert_eq!(
            table.resolve("search"),
            Err(NameError::Ambiguous {
                name: "search".into(),
                candidates: vec!["a-search".into(), "b-search".into()],
            })
        );
        assert_eq!(
            table.resolve("search").unwrap_err().to_string(),
            r#"tool name search is ambiguous: it could be ["a-search", "b-search"]; call it by its prefixed name"#
        );
        assert_eq!(table.resolve("b-search").unwrap().server, "b");
        assert_eq!(table.resolve("only_a").unwrap().server, "a");
    }

    #[test]
    fn unknown_names_and_case_sensitivity() {
        let table = NameTable::build("-", &[entry("a", "a", "Echo")]);
        assert_eq!(
            table.resolve("echo"),
            Err(NameError::Unknown("echo".into()))
        );
        assert_eq!(
            table.resolve("A-Echo").unwrap_err().to_string(),
            "unknown tool A-Echo"
        );
        assert!(table.resolve("a-Echo").is_ok());
        assert!(NameTable::default().resolve("x").is_err());
    }

    #[test]
    fn exposed_name_wins_over_another_servers_bare_name() {
        // `y-z` is server y's tool z (exposed) and also the bare name of server x's tool.
        let table = NameTable::build("-", &[entry("x", "x", "y-z"), entry("y", "y", "z")]);
        let hit = table.resolve("y-z").unwrap();
        assert_eq!((hit.server.as_str(), hit.original.as_str()), ("y", "z"));
        assert_eq!(table.resolve("x-y-z").unwrap().server, "x");
    }

    #[test]
    fn invalid_characters_are_replaced() {
        let table = NameTable::build(
            "::",
            &[
                entry("s", "my_server", "get weather/now"),
                entry("u", "ü", "日本"),
            ],
        );
        assert_eq!(
            exposed_of(&table, "s", "get weather/now"),
            "my_server__get_weather_now"
        );
        assert_eq!(exposed_of(&table, "u", "日本"), "_____");
        // The name as typed by hand, before sanitizing, still resolves.
        assert_eq!(
            table.resolve("my_server::get weather/now").unwrap().server,
            "s"
        );
        assert_eq!(table.resolve("get weather/now").unwrap().server, "s");
    }

    #[test]
    fn long_names_are_shortened_to_64_with_a_hash_of_the_full_name() {
        let long_tool = "a".repeat(100);
        let table = NameTable::build("-", &[entry("srv", "srv", &long_tool)]);
        let name = exposed_of(&table, "srv", &long_tool);
        // python3 -c "import hashlib; print(hashlib.sha256(('srv-' + 'a'*100).encode()).hexdigest()[:8])"
        assert_eq!(name, format!("srv-{}_9485714c", "a".repeat(51)));
        assert_eq!(name.len(), MAX_NAME_LEN);
        // Exactly 64 characters is kept as is.
        let fits = "b".repeat(60);
        let table = NameTable::build("-", &[entry("srv", "srv", &fits)]);
        assert_eq!(exposed_of(&table, "srv", &fits), format!("srv-{fits}"));
        // Called by the full name, typed by hand, or by the bare name.
        let table = NameTable::build("-", &[entry("srv", "srv", &long_tool)]);
        assert_eq!(
            table.resolve(&format!("srv-{long_tool}")).unwrap().original,
            long_tool
        );
        assert_eq!(table.resolve(&long_tool).unwrap().original, long_tool);
    }

    #[test]
    fn long_names_with_a_common_head_stay_distinct() {
        let one = format!("{}_one", "x".repeat(80));
        let two = format!("{}_two", "x".repeat(80));
        let table = NameTable::build("-", &[entry("s", "s", &one), entry("s", "s", &two)]);
        let (a, b) = (exposed_of(&table, "s", &one), exposed_of(&table, "s", &two));
        assert_ne!(a, b);
        assert!(is_valid_name(&a) && is_valid_name(&b));
        assert_eq!(table.resolve(&a).unwrap().original, one);
        assert_eq!(table.resolve(&b).unwrap().original, two);
    }

    #[test]
    fn collisions_suffix_every_colliding_entry() {
        // `a b` and `a_b` sanitize alike; server `my` tool `server-get` and server `my-server`
        // tool `get` join alike.
        let input = [
            entry("s", "s", "a b"),
            entry("s", "s", "a_b"),
            entry("my", "my", "server-get"),
            entry("my-server", "my-server", "get"),
            entry("s", "s", "plain"),
        ];
        let table = NameTable::build("-", &input);
        assert_eq!(exposed_of(&table, "s", "plain"), "s-plain");
        for (server, original, base) in [
            ("s", "a b", "s-a_b_"),
            ("s", "a_b", "s-a_b_"),
            ("my", "server-get", "my-server-get_"),
            ("my-server", "get", "my-server-get_"),
        ] {
            let name = exposed_of(&table, server, original);
            assert!(name.starts_with(base), "{name}");
            assert_eq!(name.len(), base.len() + HASH_HEX_LEN);
            let hit = table.resolve(&name).unwrap();
            assert_eq!(
                (hit.server.as_str(), hit.original.as_str()),
                (server, original)
            );
        }
        // Bare names are still unique here.
        assert_eq!(table.resolve("a b").unwrap().original, "a b");
        assert_eq!(table.resolve("a_b").unwrap().original, "a_b");
        // The joined name fits both entries: ambiguous, never a guess.
        match table.resolve("my-server-get") {
            Err(NameError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_natural_name_equal_to_a_suffixed_one_keeps_its_name() {
        let colliding = [entry("s", "s", "a b"), entry("s", "s", "a_b")];
        let first = NameTable::build("-", &colliding);
        let suffixed = exposed_of(&first, "s", "a b");
        // A new tool whose plain name is that suffixed name takes it; the colliding entry moves.
        let squatter = suffixed.trim_start_matches("s-").to_owned();
        let mut input = colliding.to_vec();
        input.push(entry("s", "s", &squatter));
        let table = NameTable::build("-", &input);
        assert_eq!(exposed_of(&table, "s", &squatter), suffixed);
        let moved = exposed_of(&table, "s", "a b");
        assert_ne!(moved, suffixed);
        let names: HashSet<&str> = table.entries().iter().map(|e| e.exposed.as_str()).collect();
        assert_eq!(names.len(), 3);
    }

    #[test]
    fn disambiguation_falls_back_to_a_counter() {
        let mut taken = HashSet::new();
        for attempt in 0..HASH_ATTEMPTS {
            let salt = attempt.to_string();
            taken.insert(with_suffix("base", &parts_hash(&["s", "p", "o", &salt])));
        }
        taken.insert("base_0".to_owned());
        assert_eq!(disambiguate("base", "s", "p", "o", &taken), "base_1");
        let long = "z".repeat(70);
        let name = disambiguate(&long, "s", "p", "o", &HashSet::new());
        assert_eq!(name.len(), MAX_NAME_LEN);
    }

    #[test]
    fn duplicate_entries_are_kept_once() {
        let table = NameTable::build(
            "-",
            &[
                entry("s", "s", "t"),
                entry("s", "s", "t"),
                entry("s", "s2", "t"),
            ],
        );
        assert_eq!(table.len(), 1);
        assert_eq!(table.entries()[0].exposed, "s-t");
    }

    #[test]
    fn empty_everything_still_gives_a_valid_name() {
        let table = NameTable::build("", &[entry("s", "", "")]);
        assert_eq!(table.entries()[0].exposed, "_");
    }

    #[test]
    fn scoped_table_keeps_names_and_resolves_bare_names_within_scope() {
        let table = NameTable::build(
            "-",
            &[
                entry("a", "a", "search"),
                entry("b", "b", "search"),
                entry("b", "b", "x y"),
                entry("b", "b", "x_y"),
            ],
        );
        let scoped = table.scoped(&["b"]);
        assert_eq!(scoped.len(), 3);
        assert_eq!(scoped.resolve("search").unwrap().exposed, "b-search");
        assert!(scoped.resolve("a-search").is_err());
        for e in scoped.entries() {
            assert_eq!(
                table.exposed_name(&e.server, &e.original),
                Some(e.exposed.as_str())
            );
        }
        assert!(table.scoped::<&str>(&[]).is_empty());
    }

    #[test]
    fn build_is_independent_of_input_order() {
        let input = vec![
            entry("s", "s", "a b"),
            entry("s", "s", "a_b"),
            entry("t", "s", "a_b"),
            entry("u", "u", &"q".repeat(90)),
            entry("v", "v", "search"),
            entry("w", "w", "search"),
        ];
        let reference = NameTable::build("-", &input);
        let mut reversed = input.clone();
        reversed.reverse();
        assert_eq!(
            NameTable::build("-", &reversed).entries(),
            reference.entries()
        );
        let mut rotated = input.clone();
        rotated.rotate_left(2);
        assert_eq!(
            NameTable::build("-", &rotated).entries(),
            reference.entries()
        );
    }

    /// xorshift64*: a deterministic generator so the property test needs no crate and always
    /// checks the same inputs.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }
    }

    const FRAGMENTS: &[&str] = &[
        "get",
        "time",
        "get-time",
        "read_wiki",
        "a b",
        "a_b",
        "a-b",
        "日本語",
        "é",
        "ü",
        "🙂",
        "\u{200b}",
        "x.y",
        "__",
        "-",
        "/",
        "::",
        "",
        "Tool",
        "tool",
        "search",
        "server-get",
    ];
    const SERVERS: &[(&str, &str)] = &[
        ("alpha", "alpha"),
        ("beta", "b"),
        ("my-server", "my-server"),
        ("my", "my"),
        ("dup1", "same"),
        ("dup2", "same"),
        ("sp ace", "sp_ace"),
        ("uni", "ünï"),
        ("empty", ""),
        (
            "long",
            "a_server_prefix_that_is_itself_longer_than_the_whole_limit_of_64_chars",
        ),
    ];
    const SEPARATORS: &[&str] = &["-", "-", "__", "::", "/", "."];

    fn random_name(rng: &mut Rng) -> String {
        let mut name = String::new();
        for _ in 0..=rng.below(4) {
            name.push_str(rng.pick::<&str>(FRAGMENTS));
        }
        if rng.below(6) == 0 {
            let filler = *rng.pick(&["x", "é", "-", "ab"]);
            name.push_str(&filler.repeat(30 + rng.below(60)));
            name.push_str(rng.pick::<&str>(FRAGMENTS));
        }
        name
    }

    #[test]
    fn property_any_input_gives_unique_valid_resolvable_names() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut total = 0;
        for _round in 0..60 {
            let separator = *rng.pick(SEPARATORS);
            let mut input: Vec<(String, String, String)> = Vec::new();
            for _ in 0..(5 + rng.below(30)) {
                let (server, prefix) = *rng.pick(SERVERS);
                let original = if !input.is_empty() && rng.below(4) == 0 {
                    // Same tool name on another (or the same) server.
                    rng.pick(&input).2.clone()
                } else {
                    random_name(&mut rng)
                };
                input.push(entry(server, prefix, &original));
            }
            let table = NameTable::build(separator, &input);

            let distinct: HashSet<(&str, &str)> = input
                .iter()
                .map(|(s, _, o)| (s.as_str(), o.as_str()))
                .collect();
            assert_eq!(table.len(), distinct.len());
            total += table.len();

            let mut seen = HashSet::new();
            for e in table.entries() {
                assert!(is_valid_name(&e.exposed), "invalid name {:?}", e.exposed);
                assert!(seen.insert(e.exposed.clone()), "duplicate {:?}", e.exposed);
                assert_eq!(table.resolve(&e.exposed).unwrap(), e);
            }
            for (server, original) in &distinct {
                let exposed = table.exposed_name(server, original).unwrap();
                // A bare name resolves to its tool when it is nobody's exposed name and only
                // one server has it; otherwise it is refused, never guessed.
                if table.by_exposed.contains_key(*original) {
                    continue;
                }
                let owners = distinct.iter().filter(|(_, o)| o == original).count();
                match table.resolve(original) {
                    Ok(hit) if owners == 1 => assert_eq!(hit.exposed, exposed),
                    Err(NameError::Ambiguous { candidates, .. }) if owners > 1 => {
                        assert!(candidates.iter().any(|c| c == exposed))
                    }
                    other => panic!("{original:?} with {owners} owners gave {other:?}"),
                }
            }

            // Same input, shuffled: same table.
            let mut shuffled = input.clone();
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.below(i + 1));
            }
            assert_eq!(
                NameTable::build(separator, &shuffled).entries(),
                table.entries()
            );
        }
        assert!(total >= 1000, "only {total} names checked");
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(s, u)| ((*s).to_owned(), (*u).to_owned()))
            .collect()
    }

    fn servers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn unique_resource_uris_are_exposed_unchanged() {
        let table = ResourceTable::build(
            &servers(&["a", "b"]),
            &pairs(&[("a", "file:///a.txt"), ("b", "github://repo/readme")]),
            &[],
        );
        assert_eq!(
            table.exposed_uri("a", "file:///a.txt"),
            Some("file:///a.txt")
        );
        assert_eq!(
            table.resolve("github://repo/readme"),
            Ok(ResourceTarget {
                server: "b",
                uri: "github://repo/readme"
            })
        );
    }

    #[test]
    fn shared_resource_uris_are_namespaced_and_route_back() {
        let table = ResourceTable::build(
            &servers(&["docs one", "docs2"]),
            &pairs(&[
                ("docs one", "file:///README.md"),
                ("docs2", "file:///README.md"),
                ("docs2", "file:///only2.md"),
            ]),
            &[],
        );
        let one = table.exposed_uri("docs one", "file:///README.md").unwrap();
        let two = table.exposed_uri("docs2", "file:///README.md").unwrap();
        assert_eq!(one, "mcp://docs%20one/file:///README.md");
        assert_eq!(two, "mcp://docs2/file:///README.md");
        assert_eq!(
            table.resolve(one),
            Ok(ResourceTarget {
                server: "docs one",
                uri: "file:///README.md"
            })
        );
        assert_eq!(table.resolve(two).unwrap().server, "docs2");
        assert_eq!(
            table.resolve("file:///README.md"),
            Err(NameError::AmbiguousResource {
                uri: "file:///README.md".into(),
                candidates: vec![
                    "mcp://docs%20one/file:///README.md".into(),
                    "mcp://docs2/file:///README.md".into()
                ],
            })
        );
        assert_eq!(
            table.exposed_uri("docs2", "file:///only2.md"),
            Some("file:///only2.md")
        );
        // Any URI of a known server can be addressed explicitly, listed or not.
        assert_eq!(
            table.resolve("mcp://docs2/file:///unlisted?x=1#f"),
            Ok(ResourceTarget {
                server: "docs2",
                uri: "file:///unlisted?x=1#f"
            })
        );
    }

    #[test]
    fn a_unique_uri_equal_to_a_namespaced_one_is_namespaced_too() {
        let table = ResourceTable::build(
            &[],
            &pairs(&[("a", "x:y"), ("b", "x:y"), ("c", "mcp://a/x:y")]),
            &[],
        );
        let exposed: HashSet<&str> = table
            .resources()
            .iter()
            .map(|e| e.exposed.as_str())
            .collect();
        assert_eq!(exposed.len(), 3);
        assert_eq!(
            table.exposed_uri("c", "mcp://a/x:y"),
            Some("mcp://c/mcp://a/x:y")
        );
        // The exact listing wins: this is server a's namespaced URI.
        assert_eq!(
            table.resolve("mcp://a/x:y"),
            Ok(ResourceTarget {
                server: "a",
                uri: "x:y"
            })
        );
        assert_eq!(
            table.resolve("mcp://c/mcp://a/x:y").unwrap().uri,
            "mcp://a/x:y"
        );
    }

    #[test]
    fn template_expansions_route_by_longest_literal_head() {
        let table = ResourceTable::build(
            &servers(&["fs", "docs", "gh", "gh2"]),
            &[],
            &pairs(&[
                ("fs", "file:///{path}"),
                ("docs", "file:///docs/{page}"),
                ("gh", "github://{owner}/{repo}"),
                ("gh2", "github://{owner}/{repo}"),
            ]),
        );
        assert_eq!(
            table.exposed_template("fs", "file:///{path}"),
            Some("file:///{path}")
        );
        assert_eq!(
            table.exposed_template("gh", "github://{owner}/{repo}"),
            Some("mcp://gh/github://{owner}/{repo}")
        );
        assert_eq!(table.resolve("file:///etc/hosts").unwrap().server, "fs");
        assert_eq!(table.resolve("file:///docs/intro").unwrap().server, "docs");
        // An expansion of a namespaced template routes back, the rest going upstream verbatim.
        assert_eq!(
            table.resolve("mcp://gh2/github://rust-lang/rust"),
            Ok(ResourceTarget {
                server: "gh2",
                uri: "github://rust-lang/rust"
            })
        );
        assert!(matches!(
            table.resolve("github://rust-lang/rust"),
            Err(NameError::AmbiguousResource { candidates, .. }) if candidates.len() == 2
        ));
        assert_eq!(
            table.resolve("https://nowhere").unwrap_err().to_string(),
            "unknown resource https://nowhere"
        );
    }

    #[test]
    fn a_single_server_scope_reads_any_uri() {
        let table = ResourceTable::build(&servers(&["only"]), &[], &[]);
        assert_eq!(
            table.resolve("anything://x"),
            Ok(ResourceTarget {
                server: "only",
                uri: "anything://x"
            })
        );
        let two = ResourceTable::build(&servers(&["a", "b"]), &pairs(&[("a", "r://1")]), &[]);
        assert!(two.resolve("anything://x").is_err());
        let scoped = two.scoped(&["b"]);
        assert_eq!(scoped.resolve("anything://x").unwrap().server, "b");
        assert!(scoped.resources().is_empty());
    }

    #[test]
    fn resource_exposure_is_independent_of_input_order() {
        let input = pairs(&[
            ("a", "x:1"),
            ("b", "x:1"),
            ("c", "mcp://a/x:1"),
            ("a", "x:2"),
            ("a", "x:2"),
        ]);
        let reference = ResourceTable::build(&[], &input, &input);
        let mut reversed = input.clone();
        reversed.reverse();
        let other = ResourceTable::build(&[], &reversed, &reversed);
        assert_eq!(other.resources(), reference.resources());
        assert_eq!(other.templates(), reference.templates());
        assert_eq!(reference.resources().len(), 4);
    }
}
