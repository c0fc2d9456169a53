//! Which MCP servers and tools a caller may use: LiteLLM's permission semantics, in one
//! place for `/mcp`, `/mcp-rest`, `/v1/mcp/tools` and `/v1/responses`.
//!
//! Permissions are `object_permission`s on the key, its team and the team's (or key's)
//! organisation. The rules (LiteLLM's `get_allowed_mcp_servers`, research notes §5):
//!
//! 1. The master key (and an anonymous caller, when the operator turned keys off) may use
//!    every server.
//! 2. A level's servers are its `mcp_servers` (names, aliases or ids), the servers of its
//!    `mcp_access_groups`, and the servers its `mcp_tool_permissions` name.
//! 3. Key and team: both set → the intersection; one set → that one (a key without a list
//!    inherits its team's); neither → nothing.
//! 4. The organisation's set is a ceiling: it narrows what the key and team allow, and is
//!    the whole set when neither says anything.
//! 5. Servers with `allow_all_keys: true` are added for every key.
//! 6. Tools: per server, the key's and the team's lists intersect (one given → that one;
//!    none → every tool), then the organisation's list is a ceiling. `[]` allows no tool.
//!
//! LiteLLM's sentinels: `no-mcp-servers` in a key's `mcp_servers` means no server at all;
//! `all-proxy-mcpservers` in any level's `mcp_servers` means every server.

use std::collections::BTreeSet;

use junction_hub::{Registry, Scope};
use junction_store::ObjectPermission;

use crate::principal::Principal;

/// LiteLLM's sentinel for "every server" in a `mcp_servers` list.
const ALL_SERVERS: &str = "all-proxy-mcpservers";
/// LiteLLM's sentinel for "no server" in a key's `mcp_servers` list.
const NO_SERVERS: &str = "no-mcp-servers";

/// The permissions that apply to one key, from the most specific level up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Levels<'a> {
    pub key: Option<&'a ObjectPermission>,
    pub team: Option<&'a ObjectPermission>,
    pub organization: Option<&'a ObjectPermission>,
}

/// The servers and tools `principal` may use, as a [`Scope`].
pub fn grant(principal: &Principal, registry: &Registry) -> Scope {
    match principal {
        Principal::Admin | Principal::Anonymous => Scope::all(),
        Principal::Key(holder) => grant_for(&holder.levels(), &Servers::of(registry)),
    }
}

/// The servers a permission can name, and how.
struct Servers {
    /// In registry order.
    entries: Vec<Entry>,
}

/// One server as permissions see it.
struct Entry {
    /// The `mcp_servers` key.
    name: String,
    /// Every name it answers to: key, id, prefix, alias.
    names: Vec<String>,
    /// Its `access_groups`.
    groups: Vec<String>,
    /// `allow_all_keys: true`.
    open: bool,
}

impl Servers {
    fn of(registry: &Registry) -> Servers {
        let entries = registry
            .servers()
            .iter()
            .map(|s| {
                let mut names = vec![s.name.clone(), s.id.clone(), s.prefix.clone()];
                names.extend(s.alias.clone());
                Entry {
                    name: s.name.clone(),
                    names,
                    groups: s.access_groups.clone(),
                    open: s.allow_all_keys,
                }
            })
            .collect();
        Servers { entries }
    }

    /// The server a reference (name, alias, prefix or id, any case) means.
    fn find(&self, reference: &str) -> Option<&str> {
        let reference = reference.trim();
        self.entries
            .iter()
            .find(|e| e.names.iter().any(|n| n == reference))
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|e| e.names.iter().any(|n| n.eq_ignore_ascii_case(reference)))
            })
            .map(|e| e.name.as_str())
    }

    fn all(&self) -> BTreeSet<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }

    fn in_group(&self, group: &str) -> impl Iterator<Item = &String> {
        self.entries
            .iter()
            .filter(move |e| {
                e.groups
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(group.trim()))
            })
            .map(|e| &e.name)
    }

    /// A level's servers (rule 2); `None` when the level says nothing.
    fn of_level(&self, permission: Option<&ObjectPermission>) -> Option<BTreeSet<String>> {
        let permission = permission.filter(|p| p.is_set())?;
        let mut set = BTreeSet::new();
        for reference in permission.mcp_servers.iter().flatten() {
            if reference == ALL_SERVERS {
                return Some(self.all());
            }
            match self.find(reference) {
                Some(server) => {
                    set.insert(server.to_owned());
                }
                None => tracing::debug!(reference, "a permission names an unknown MCP server"),
            }
        }
        for group in permission.mcp_access_groups.iter().flatten() {
            set.extend(self.in_group(group).cloned());
        }
        for reference in permission
            .mcp_tool_permissions
            .iter()
            .flatten()
            .map(|(k, _)| k)
        {
            set.extend(self.find(reference).map(str::to_owned));
        }
        Some(set)
    }

    /// A level's tool list for `server`; `None` when it does not limit that server.
    fn tools_of(
        &self,
        permission: Option<&ObjectPermission>,
        server: &str,
    ) -> Option<BTreeSet<String>> {
        let lists = permission?.mcp_tool_permissions.as_ref()?;
        let mut found: Option<BTreeSet<String>> = None;
        for (reference, tools) in lists {
            if self.find(reference) == Some(server) {
                found
                    .get_or_insert_with(BTreeSet::new)
                    .extend(tools.iter().cloned());
            }
        }
        found
    }
}

/// Rules 2–6 for one key.
fn grant_for(levels: &Levels<'_>, servers: &Servers) -> Scope {
    let refuses_all = levels
        .key
        .and_then(|p| p.mcp_servers.as_ref())
        .is_some_and(|list| list.iter().any(|s| s == NO_SERVERS));
    let mut allowed: BTreeSet<String> = if refuses_all {
        BTreeSet::new()
    } else {
        let key = servers.of_level(levels.key);
        let team = servers.of_level(levels.team);
        let below = intersect_known(key, team);
        intersect_known(below, servers.of_level(levels.organization)).unwrap_or_default()
    };
    if !refuses_all {
        allowed.extend(
            servers
                .entries
                .iter()
                .filter(|e| e.open)
                .map(|e| e.name.clone()),
        );
    }
    let ordered: Vec<String> = servers
        .entries
        .iter()
        .map(|e| &e.name)
        .filter(|name| allowed.contains(*name))
        .cloned()
        .collect();
    let mut scope = Scope::only(ordered.clone());
    for server in &ordered {
        let below = intersect_known(
            servers.tools_of(levels.key, server),
            servers.tools_of(levels.team, server),
        );
        if let Some(tools) = intersect_known(below, servers.tools_of(levels.organization, server)) {
            scope.limit_tools(server, tools);
        }
    }
    scope
}

/// Both known → the intersection; one known → that one; neither → unknown.
fn intersect_known(
    a: Option<BTreeSet<String>>,
    b: Option<BTreeSet<String>>,
) -> Option<BTreeSet<String>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.intersection(&b).cloned().collect()),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::*;

    /// github (group dev), jira (dev, pm), time, wiki (pm); `open` ones allow all keys.
    fn servers(open: &[&str]) -> Servers {
        let groups = BTreeMap::from([
            ("github", vec!["dev"]),
            ("jira", vec!["dev", "pm"]),
            ("wiki", vec!["pm"]),
        ]);
        let entries = ["github", "jira", "time", "wiki"]
            .iter()
            .map(|n| Entry {
                name: (*n).to_owned(),
                names: vec![(*n).to_owned(), format!("id-{n}"), (*n).to_owned()],
                groups: groups
                    .get(n)
                    .into_iter()
                    .flatten()
                    .map(|g| (*g).to_owned())
                    .collect(),
                open: open.contains(n),
            })
            .collect();
        Servers { entries }
    }

    fn perm(servers: &[&str], groups: &[&str]) -> ObjectPermission {
        ObjectPermission {
            mcp_servers: (!servers.is_empty())
                .then(|| servers.iter().map(|s| (*s).to_owned()).collect()),
            mcp_access_groups: (!groups.is_empty())
                .then(|| groups.iter().map(|s| (*s).to_owned()).collect()),
            mcp_tool_permissions: None,
        }
    }

    fn names(scope: &Scope) -> Vec<&str> {
        scope
            .servers()
            .unwrap()
            .iter()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn nothing_set_means_no_server_but_open_ones() {
        let s = servers(&[]);
        assert!(grant_for(&Levels::default(), &s).is_empty());
        let s = servers(&["time"]);
        assert_eq!(names(&grant_for(&Levels::default(), &s)), ["time"]);
    }

    #[test]
    fn key_and_team_intersect_and_a_key_without_a_list_inherits() {
        let s = servers(&[]);
        let key = perm(&["github", "id-time"], &[]);
        let team = perm(&[], &["dev"]);
        let both = Levels {
            key: Some(&key),
            team: Some(&team),
            organization: None,
        };
        assert_eq!(names(&grant_for(&both, &s)), ["github"]);
        let only_team = Levels {
            key: None,
            team: Some(&team),
            organization: None,
        };
        assert_eq!(names(&grant_for(&only_team, &s)), ["github", "jira"]);
        let empty_key = ObjectPermission::default();
        let inherits = Levels {
            key: Some(&empty_key),
            team: Some(&team),
            organization: None,
        };
        assert_eq!(names(&grant_for(&inherits, &s)), ["github", "jira"]);
        let only_key = Levels {
            key: Some(&key),
            team: None,
            organization: None,
        };
        assert_eq!(names(&grant_for(&only_key, &s)), ["github", "time"]);
    }

    #[test]
    fn access_groups_add_servers_and_the_organisation_is_a_ceiling() {
        let s = servers(&[]);
        let key = perm(&["time"], &["pm"]);
        let org = perm(&["jira", "time"], &[]);
        let levels = Levels {
            key: Some(&key),
            team: None,
            organization: Some(&org),
        };
        assert_eq!(names(&grant_for(&levels, &s)), ["jira", "time"]);
        let nothing_below = Levels {
            key: None,
            team: None,
            organization: Some(&org),
        };
        assert_eq!(names(&grant_for(&nothing_below, &s)), ["jira", "time"]);
    }

    #[test]
    fn sentinels_and_open_servers() {
        let s = servers(&["wiki"]);
        let all = perm(&[ALL_SERVERS], &[]);
        let levels = Levels {
            key: None,
            team: Some(&all),
            organization: None,
        };
        assert_eq!(
            names(&grant_for(&levels, &s)),
            ["github", "jira", "time", "wiki"]
        );
        let none = perm(&[NO_SERVERS], &[]);
        let levels = Levels {
            key: Some(&none),
            team: Some(&all),
            organization: None,
        };
        assert!(
            grant_for(&levels, &s).is_empty(),
            "no-mcp-servers beats even open servers"
        );
    }

    #[test]
    fn tool_permissions_grant_their_server_and_limit_its_tools() {
        let s = servers(&[]);
        let mut key = perm(&["github"], &[]);
        key.mcp_tool_permissions = Some(BTreeMap::from([
            (
                "id-github".to_owned(),
                vec!["create_issue".to_owned(), "list_repos".to_owned()],
            ),
            ("jira".to_owned(), vec![]),
        ]));
        let mut team = perm(&["github", "jira"], &[]);
        team.mcp_tool_permissions = Some(BTreeMap::from([(
            "github".to_owned(),
            vec!["list_repos".to_owned(), "delete_repo".to_owned()],
        )]));
        let levels = Levels {
            key: Some(&key),
            team: Some(&team),
            organization: None,
        };
        let scope = grant_for(&levels, &s);
        assert_eq!(names(&scope), ["github", "jira"]);
        assert!(scope.may_call("github", "list_repos"));
        assert!(
            !scope.may_call("github", "create_issue"),
            "not in the team's list"
        );
        assert!(
            !scope.may_call("github", "delete_repo"),
            "not in the key's list"
        );
        assert!(!scope.may_call("jira", "anything"), "[] allows no tool");
        let only_servers = perm(&["time"], &[]);
        let levels = Levels {
            key: Some(&only_servers),
            team: None,
            organization: None,
        };
        assert!(
            grant_for(&levels, &s).may_call("time", "get_current_time"),
            "no list: all tools"
        );
    }
}
