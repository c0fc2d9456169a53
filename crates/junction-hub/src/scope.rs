//! Which servers, and which of their tools, one request may use.
//!
//! A [`Scope`] is what is left after everything that narrows a request: the URL path or the
//! `x-mcp-servers` header, and the caller's permissions (LiteLLM's `object_permission`,
//! worked out by the server, which knows keys and teams). The hub only applies it: listings
//! leave out what is outside, calls of what is outside are refused. It names servers by
//! their `mcp_servers` key and tools by their upstream (unprefixed) names, the names that
//! permissions are written in.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `None`: every server.
    servers: Option<Vec<String>>,
    /// Servers whose tools are limited → the tools allowed (upstream names); a server that
    /// is not here keeps all its tools.
    tools: BTreeMap<String, BTreeSet<String>>,
}

impl Scope {
    /// Every server, every tool.
    pub fn all() -> Scope {
        Scope {
            servers: None,
            tools: BTreeMap::new(),
        }
    }

    /// Only these servers (by `mcp_servers` key), all their tools.
    pub fn only(servers: impl IntoIterator<Item = String>) -> Scope {
        let mut list: Vec<String> = Vec::new();
        for server in servers {
            if !list.contains(&server) {
                list.push(server);
            }
        }
        Scope {
            servers: Some(list),
            tools: BTreeMap::new(),
        }
    }

    /// The servers in scope, `None` meaning all of them.
    pub fn servers(&self) -> Option<&[String]> {
        self.servers.as_deref()
    }

    pub fn contains(&self, server: &str) -> bool {
        self.servers
            .as_ref()
            .is_none_or(|servers| servers.iter().any(|s| s == server))
    }

    /// Whether no server at all is in scope.
    pub fn is_empty(&self) -> bool {
        self.servers.as_ref().is_some_and(Vec::is_empty)
    }

    /// Whether `tool` (its upstream name) of `server` may be listed and called.
    pub fn may_call(&self, server: &str, tool: &str) -> bool {
        self.contains(server)
            && self
                .tools
                .get(server)
                .is_none_or(|allowed| allowed.contains(tool))
    }

    /// Allows only `tools` of `server` from now on (intersected with an earlier limit).
    pub fn limit_tools(&mut self, server: &str, tools: impl IntoIterator<Item = String>) {
        let tools: BTreeSet<String> = tools.into_iter().collect();
        match self.tools.get_mut(server) {
            Some(allowed) => allowed.retain(|t| tools.contains(t)),
            None => {
                self.tools.insert(server.to_owned(), tools);
            }
        }
    }

    /// This scope, further narrowed by `other`: the servers both contain (in this scope's
    /// order), and both sets of tool limits.
    pub fn within(&self, other: &Scope) -> Scope {
        let servers = match (&self.servers, &other.servers) {
            (None, None) => None,
            (Some(mine), None) => Some(mine.clone()),
            (None, Some(theirs)) => Some(theirs.clone()),
            (Some(mine), Some(_)) => {
                Some(mine.iter().filter(|s| other.contains(s)).cloned().collect())
            }
        };
        let mut scope = Scope {
            servers,
            tools: self.tools.clone(),
        };
        for (server, tools) in &other.tools {
            scope.limit_tools(server, tools.iter().cloned());
        }
        scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn all_contains_everything_and_only_lists() {
        assert!(Scope::all().contains("x"));
        assert!(Scope::all().may_call("x", "t"));
        let only = Scope::only(names(&["a", "b", "a"]));
        assert_eq!(only.servers(), Some(&names(&["a", "b"])[..]));
        assert!(only.contains("a") && !only.contains("c"));
        assert!(Scope::only(Vec::new()).is_empty());
        assert!(!Scope::all().is_empty());
    }

    #[test]
    fn tool_limits_intersect_and_empty_means_none() {
        let mut scope = Scope::only(names(&["a", "b"]));
        scope.limit_tools("a", names(&["x", "y"]));
        assert!(scope.may_call("a", "x") && !scope.may_call("a", "z"));
        assert!(scope.may_call("b", "anything"));
        scope.limit_tools("a", names(&["y", "z"]));
        assert!(scope.may_call("a", "y") && !scope.may_call("a", "x"));
        scope.limit_tools("b", Vec::new());
        assert!(!scope.may_call("b", "anything"));
        assert!(!scope.may_call("c", "x"), "outside the servers");
    }

    #[test]
    fn within_keeps_what_both_allow() {
        let mut path = Scope::only(names(&["a", "b", "c"]));
        path.limit_tools("a", names(&["x", "y"]));
        let mut grant = Scope::only(names(&["c", "a"]));
        grant.limit_tools("a", names(&["y"]));
        let both = path.within(&grant);
        assert_eq!(both.servers(), Some(&names(&["a", "c"])[..]));
        assert!(both.may_call("a", "y") && !both.may_call("a", "x"));
        assert_eq!(Scope::all().within(&grant).servers(), grant.servers());
        assert_eq!(path.within(&Scope::all()), path);
    }
}
