//! Who is calling: resolved once per request by [`crate::auth`], then passed down.
//!
//! Engines never see headers or raw keys; they see a `Principal` and ask it what is allowed.

use junction_store::KeyRecord;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The master key: every model, every admin route.
    Admin,
    /// A virtual key from the store.
    Key(Box<KeyRecord>),
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
            Principal::Key(key) => {
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
            Principal::Key(key) => key
                .key_alias
                .clone()
                .unwrap_or_else(|| key.key_name.clone()),
        }
    }

    pub fn key(&self) -> Option<&KeyRecord> {
        match self {
            Principal::Key(key) => Some(key),
            _ => None,
        }
    }
}
