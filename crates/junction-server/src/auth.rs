//! From request headers to a [`Principal`]: the master key, or a virtual key from the store.
//!
//! Accepted headers, in LiteLLM's order: `x-litellm-api-key`, then `Authorization`, then
//! Azure-style `api-key`; each with or without a `Bearer ` prefix. Only the SHA-256 of a key is
//! ever compared or stored. Virtual keys are cached for a few seconds so a busy key does not
//! cost a database round trip per request; the cache entry is dropped on update and delete, and
//! the short TTL bounds how long another replica's change takes to show.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use junction_store::{Store, hash_key};

use crate::principal::KeyHolder;

use crate::error::ApiError;
use crate::principal::Principal;

const CACHE_TTL: Duration = Duration::from_secs(5);
/// Bounds the cache so a flood of distinct valid keys cannot grow memory without limit.
const CACHE_CAPACITY: usize = 100_000;

pub struct Authenticator {
    master_hash: Option<String>,
    allow_anonymous: bool,
    store: Store,
    /// Key hash → the key with its team and organisation, as read at that instant.
    cache: Mutex<HashMap<String, (Instant, KeyHolder)>>,
    rate: Mutex<HashMap<String, (u64, i64)>>,
}

impl Authenticator {
    pub fn new(master_key: Option<&str>, allow_anonymous: bool, store: Store) -> Self {
        Authenticator {
            master_hash: master_key.filter(|k| !k.is_empty()).map(hash_key),
            allow_anonymous,
            store,
            cache: Mutex::new(HashMap::new()),
            rate: Mutex::new(HashMap::new()),
        }
    }

    /// Resolves the caller, or fails with 401.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let Some(raw) = presented_key(headers) else {
            if self.allow_anonymous {
                return Ok(Principal::Anonymous);
            }
            return Err(ApiError::unauthorized(
                "Authentication Error, No api key passed in.",
            ));
        };
        let hash = hash_key(raw);
        if let Some(master) = &self.master_hash
            && constant_time_eq(master.as_bytes(), hash.as_bytes())
        {
            return Ok(Principal::Admin);
        }
        let holder = match self.cached(&hash) {
            Some(holder) => holder,
            None => {
                let Some(holder) = self.load(&hash).await? else {
                    return Err(ApiError::unauthorized(
                        "Authentication Error, Invalid proxy server token passed.",
                    ));
                };
                self.remember(&hash, &holder);
                holder
            }
        };
        let key = &holder.key;
        if key.blocked {
            return Err(ApiError::unauthorized(
                "Authentication Error, this key is blocked.",
            ));
        }
        if let Some(expires) = key.expires_at
            && expires <= crate::clock::unix_now()
        {
            return Err(ApiError::unauthorized(format!(
                "Authentication Error - Expired Key. Key expired at {}",
                crate::clock::iso8601(expires)
            )));
        }
        Ok(Principal::Key(Box::new(holder)))
    }

    /// Enforces a key's `rpm_limit` (a fixed one-minute window per replica) and the
    /// `max_budget` of the key, its team and its organisation: 429 once one is spent.
    pub fn admit(&self, holder: &KeyHolder) -> Result<(), ApiError> {
        Self::within_budgets(holder)?;
        let key = &holder.key;
        if let Some(limit) = key.rpm_limit {
            let minute = crate::clock::unix_now() / 60;
            let mut rate = lock(&self.rate);
            if rate.len() > CACHE_CAPACITY {
                rate.retain(|_, (m, _)| *m as i64 == minute);
            }
            let entry = rate
                .entry(key.token_hash.clone())
                .or_insert((minute as u64, 0));
            if entry.0 != minute as u64 {
                *entry = (minute as u64, 0);
            }
            if entry.1 >= limit {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    format!("Rate limit exceeded for this key: rpm_limit is {limit}."),
                ));
            }
            entry.1 += 1;
        }
        Ok(())
    }

    /// The `max_budget` of the key, its team and its organisation: 429 once one is spent.
    /// Every call that costs money checks it (LLM calls through [`Authenticator::admit`], MCP tool
    /// calls through the request's `Meter`).
    pub fn within_budgets(holder: &KeyHolder) -> Result<(), ApiError> {
        let key = &holder.key;
        let budgets = [
            ("key", None, key.spend, key.max_budget),
            (
                "team",
                holder.team.as_ref().map(|t| t.team_id.as_str()),
                holder.team.as_ref().map_or(0.0, |t| t.spend),
                holder.team.as_ref().and_then(|t| t.max_budget),
            ),
            (
                "organization",
                holder
                    .organization
                    .as_ref()
                    .map(|o| o.organization_id.as_str()),
                holder.organization.as_ref().map_or(0.0, |o| o.spend),
                holder.organization.as_ref().and_then(|o| o.max_budget),
            ),
        ];
        for (level, id, spend, budget) in budgets {
            if let Some(budget) = budget
                && spend >= budget
            {
                let whose = match id {
                    Some(id) => format!(" ({level} {id})"),
                    None => String::new(),
                };
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "budget_exceeded",
                    format!(
                        "Budget has been exceeded!{whose} Current cost: {spend}, Max budget: {budget}"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A key with its team and organisation (a dangling team or organisation id reads as
    /// none: the key then has only its own permissions).
    async fn load(&self, hash: &str) -> Result<Option<KeyHolder>, ApiError> {
        let Some(key) = self.store.key_by_hash(hash).await? else {
            return Ok(None);
        };
        let team = match &key.team_id {
            Some(id) => self.store.team(id).await?,
            None => None,
        };
        let organization_id = team
            .as_ref()
            .and_then(|t| t.organization_id.clone())
            .or_else(|| key.organization_id.clone());
        let organization = match organization_id {
            Some(id) => self.store.organization(&id).await?,
            None => None,
        };
        Ok(Some(KeyHolder {
            key,
            team,
            organization,
        }))
    }

    /// Forgets every cached key, after a team or organisation changed: their keys'
    /// permissions and budgets may have changed with it.
    pub fn forget_all(&self) {
        lock(&self.cache).clear();
    }

    /// Forgets a cached key after it changed.
    pub fn forget(&self, hash: &str) {
        lock(&self.cache).remove(hash);
    }

    /// Adds spend to the cached key, and to its team and organisation in every cached key
    /// that shares them, so budget checks see it before the cache expires.
    pub fn note_spend(
        &self,
        hash: &str,
        team_id: Option<&str>,
        organization_id: Option<&str>,
        amount: f64,
    ) {
        for (cached_hash, (_, holder)) in lock(&self.cache).iter_mut() {
            if cached_hash == hash {
                holder.key.spend += amount;
            }
            if let Some(team) = holder.team.as_mut()
                && Some(team.team_id.as_str()) == team_id
            {
                team.spend += amount;
            }
            if let Some(org) = holder.organization.as_mut()
                && Some(org.organization_id.as_str()) == organization_id
            {
                org.spend += amount;
            }
        }
    }

    fn cached(&self, hash: &str) -> Option<KeyHolder> {
        let cache = lock(&self.cache);
        let (at, holder) = cache.get(hash)?;
        (at.elapsed() < CACHE_TTL).then(|| holder.clone())
    }

    fn remember(&self, hash: &str, holder: &KeyHolder) {
        let mut cache = lock(&self.cache);
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
        }
        cache.insert(hash.to_owned(), (Instant::now(), holder.clone()));
    }
}

/// A poisoned lock only means another request panicked mid-update of a cache; the data is
/// still a valid cache, so keep serving.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The key the client presented, without any `Bearer ` prefix.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    ["x-litellm-api-key", "authorization", "api-key"]
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .map(strip_bearer)
        .find(|v| !v.is_empty())
}

pub(crate) fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match (value.get(..6), value.get(6..)) {
        (Some(scheme), Some(rest))
            if scheme.eq_ignore_ascii_case("bearer")
                && rest.chars().next().is_none_or(char::is_whitespace) =>
        {
            rest.trim()
        }
        _ => value,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_litellm_headers_in_order() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer sk-auth".parse().unwrap());
        assert_eq!(presented_key(&h), Some("sk-auth"));
        h.insert("x-litellm-api-key", "sk-litellm".parse().unwrap());
        assert_eq!(presented_key(&h), Some("sk-litellm"));
        h.insert("x-litellm-api-key", "bearer  sk-x ".parse().unwrap());
        assert_eq!(presented_key(&h), Some("sk-x"));
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer ".parse().unwrap());
        assert_eq!(presented_key(&h), None);
    }

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
