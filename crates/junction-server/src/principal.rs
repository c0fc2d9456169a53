//! Who is calling: resolved once per request by [`crate::auth`], then passed down.
//!
//! Engines never see headers or raw keys; they see a `Principal` and ask it what is allowed.

use junction_store::{KeyRecord, OrganizationRecord, TeamRecord};

use crate::mcp_access::Levels;

/// A virtual key with the team and organisation it belongs to, read together so that
/// permissions are decided from one consistent view.
#[derive(Debug, Clone)]
pub struct KeyHolder {
    pub key: KeyRecord,
    pub team: Option<TeamRecord>,
    /// The team's organisation, else the key's own.
    pub organization: Option<OrganizationRecord>,
}

impl KeyHolder {
    /// The key's MCP permissions, level by level.
    pub fn levels(&self) -> Levels<'_> {
        Levels {
            key: self.key.object_permission.as_ref(),
            team: self
                .team
                .as_ref()
                .and_then(|t| t.object_permission.as_ref()),
            organization: self
                .organization
                .as_ref()
                .and_then(|o| o.object_permission.as_ref()),
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The master key: every model, every admin route.
    Admin,
    /// A virtual key from the store.
    Key(Box<KeyHolder>),
    /// No key, allowed only when `general_settings.allow_unauthenticated` is set.
    Anonymous,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Admin)
    }

    /// May this caller use the model `name`? An empty `models` list means every model, and
    /// LiteLLM's `all-proxy-models` entry means the same.
    pub fn may_use_model(&self, name: &str) -> bool {
        match self {
            Principal::Admin | Principal::Anonymous => true,
            Principal::Key(holder) => {
                let key = &holder.key;
                key.models.is_empty()
                    || key
                        .models
                        .iter()
                        .any(|m| m == name || m == "all-proxy-models" || m == "*")
            }
        }
    }

    /// What the access log shows instead of the key: the alias, or the key's display name.
    pub fn log_name(&self) -> String {
        match self {
            Principal::Admin => "master_key".to_owned(),
            Principal::Anonymous => "anonymous".to_owned(),
            Principal::Key(holder) => holder
                .key
                .key_alias
                .clone()
                .unwrap_or_else(|| holder.key.key_name.clone()),
        }
    }

    pub fn key(&self) -> Option<&KeyRecord> {
        match self {
            Principal::Key(holder) => Some(&holder.key),
            _ => None,
        }
    }
}
