//! A short-lived cache of API credentials that just authenticated, so a burst of calls from
//! one integration does not look the same credential up in the database on every request.
//! Keyed by the presented sid; holds the SHA-256 of the secret (compared in constant time) and
//! the account scope. Changes made through this process (rotation, suspension) drop the entry at
//! once (with its sub-accounts' entries); other instances see them within `api_auth.cache_secs`.
use crate::server::clock::Millis;
use crate::server::crypto;
use crate::server::services::AccountScope;
use std::collections::HashMap;
use std::sync::Mutex;

const MAX_ENTRIES: usize = 10_000;

pub struct AuthCache {
    ttl_ms: i64,
    entries: Mutex<HashMap<String, (String, AccountScope, Millis)>>,
    /// Bumped by every `forget`: an authentication that looked a credential up before a
    /// revocation must not cache what it read after the revocation dropped the entry.
    generation: std::sync::atomic::AtomicU64,
}

impl AuthCache {
    pub fn new(ttl_ms: i64) -> Self {
        Self {
            ttl_ms,
            entries: Mutex::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn get(&self, sid: &str, secret: &str, now: Millis) -> Option<AccountScope> {
        if self.ttl_ms <= 0 {
            return None;
        }
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (hash, scope, at) = map.get(sid)?;
        (now - at < self.ttl_ms && crypto::token_matches(secret, hash)).then(|| scope.clone())
    }

    pub fn put(&self, sid: &str, secret: &str, scope: &AccountScope, now: Millis) {
        if self.ttl_ms <= 0 {
            return;
        }
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.insert(&mut map, sid, secret, scope, now);
    }

    fn insert(
        &self,
        map: &mut HashMap<String, (String, AccountScope, Millis)>,
        sid: &str,
        secret: &str,
        scope: &AccountScope,
        now: Millis,
    ) {
        if map.len() >= MAX_ENTRIES {
            let ttl = self.ttl_ms;
            map.retain(|_, (_, _, at)| now - *at < ttl);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(
            sid.to_owned(),
            (crypto::hash_token(secret), scope.clone(), now),
        );
    }

    /// Drops one cached credential (after an API key is revoked).
    pub fn forget(&self, sid: &str) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.bump();
        map.remove(sid);
    }

    /// The current generation, read before looking a credential up in the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// `put`, unless something was forgotten since `generation` was read (the lookup may have
    /// seen the credential before its revocation).
    pub fn put_if_current(
        &self,
        sid: &str,
        secret: &str,
        scope: &AccountScope,
        now: Millis,
        generation: u64,
    ) {
        if self.ttl_ms <= 0 {
            return;
        }
        // Checked and stored under the map's lock, which `forget` also holds while bumping.
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation() == generation {
            self.insert(&mut map, sid, secret, scope, now);
        }
    }

    /// Drops every cached credential of `account` and of its sub-accounts (after rotation or a
    /// status change: a suspended parent takes its sub-accounts with it). Accounts nest two
    /// levels, so the sub-accounts are the entries whose parent is `account`.
    pub fn forget_account(&self, account: &str) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.bump();
        map.retain(|_, (_, scope, _)| {
            let a = scope.account();
            a.sid.as_str() != account && a.parent_sid.as_ref().is_none_or(|p| p.as_str() != account)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountSid, AccountStatus};
    use crate::server::services::scope::Account;

    fn scope(sid: &AccountSid) -> AccountScope {
        sub_scope(sid, None)
    }

    fn sub_scope(sid: &AccountSid, parent: Option<&AccountSid>) -> AccountScope {
        AccountScope::authenticated(Account {
            sid: sid.clone(),
            parent_sid: parent.cloned(),
            friendly_name: "A".into(),
            status: AccountStatus::Active,
            date_created: 0,
            date_updated: 0,
        })
    }

    #[test]
    fn remembers_only_the_right_secret_for_the_ttl() {
        let sid = AccountSid::generate();
        let cache = AuthCache::new(5000);
        cache.put(sid.as_str(), "secret", &scope(&sid), 1000);
        assert!(cache.get(sid.as_str(), "secret", 5999).is_some());
        assert!(cache.get(sid.as_str(), "wrong", 2000).is_none());
        assert!(cache.get(sid.as_str(), "secret", 6000).is_none(), "expired");
        cache.put(sid.as_str(), "secret", &scope(&sid), 7000);
        cache.forget_account(sid.as_str());
        assert!(
            cache.get(sid.as_str(), "secret", 7001).is_none(),
            "forgotten"
        );
        let off = AuthCache::new(0);
        off.put(sid.as_str(), "secret", &scope(&sid), 0);
        assert!(off.get(sid.as_str(), "secret", 0).is_none());
    }

    /// A lookup that started before a revocation must not cache what it read: the revocation
    /// dropped the entry, and the late answer would otherwise put it back for the whole TTL.
    #[test]
    fn a_lookup_older_than_a_revocation_is_not_cached() {
        let sid = AccountSid::generate();
        let cache = AuthCache::new(5000);
        let before = cache.generation();
        cache.forget("SKrevokedmeanwhile");
        cache.put_if_current(sid.as_str(), "secret", &scope(&sid), 1000, before);
        assert!(cache.get(sid.as_str(), "secret", 1001).is_none());
        let now = cache.generation();
        cache.put_if_current(sid.as_str(), "secret", &scope(&sid), 1000, now);
        assert!(cache.get(sid.as_str(), "secret", 1001).is_some());
    }

    /// Suspending or closing a parent drops its sub-accounts' credentials too.
    #[test]
    fn forgetting_an_account_forgets_its_sub_accounts() {
        let (parent, sub, other) = (
            AccountSid::generate(),
            AccountSid::generate(),
            AccountSid::generate(),
        );
        let cache = AuthCache::new(5000);
        cache.put(parent.as_str(), "p", &scope(&parent), 0);
        cache.put(sub.as_str(), "s", &sub_scope(&sub, Some(&parent)), 0);
        cache.put("SKsubkey", "k", &sub_scope(&sub, Some(&parent)), 0);
        cache.put(other.as_str(), "o", &scope(&other), 0);
        cache.forget_account(parent.as_str());
        assert!(cache.get(parent.as_str(), "p", 1).is_none());
        assert!(cache.get(sub.as_str(), "s", 1).is_none());
        assert!(cache.get("SKsubkey", "k", 1).is_none());
        assert!(cache.get(other.as_str(), "o", 1).is_some());
    }
}
