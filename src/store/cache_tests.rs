//! Unit tests of the caches in `store::cache` (docs/architecture.md, "Caches"): loaders are
//! closures here, so what reaches the database is counted without one.

use super::*;
use crate::model::{ClientId, ClientSettings, PoolId};
use std::cell::Cell;

fn client() -> AppClient {
    AppClient {
        id: ClientId::parse("exampleclientid0000000000a").unwrap(),
        pool_id: PoolId::parse("local_Example01").unwrap(),
        name: "web".into(),
        secret: None,
        sealed_secret: None,
        settings: ClientSettings::default(),
    }
}

fn key(client_id: &str) -> (String, String) {
    ("local_Example01".to_owned(), client_id.to_owned())
}

/// Looks `client_id` up at `now`, counting the loads in `reads`.
fn lookup(
    cache: &DirectoryCache,
    client_id: &str,
    now: i64,
    reads: &Cell<u32>,
    stored: Option<AppClient>,
) -> Option<AppClient> {
    let loaded: Result<_, StoreError> = cache.clients.get_or_load(&key(client_id), now, || {
        reads.set(reads.get() + 1);
        Ok(stored)
    });
    loaded.unwrap()
}

#[test]
fn a_flood_of_unknown_client_ids_leaves_the_real_client_cached() {
    // The flood takes seconds of real time in a debug build: moka's clock must not end the
    // entry before the test does.
    let cache = DirectoryCache::with_ttl(3_600);
    let real = client();
    let (real_reads, unknown_reads) = (Cell::new(0), Cell::new(0));
    let now = 1_000;
    assert!(
        lookup(
            &cache,
            real.id.as_str(),
            now,
            &real_reads,
            Some(real.clone())
        )
        .is_some()
    );
    assert_eq!(real_reads.get(), 1);

    for _ in 0..50_000 {
        let random = uuid::Uuid::new_v4().simple().to_string();
        assert!(lookup(&cache, &random, now, &unknown_reads, None).is_none());
    }
    assert_eq!(unknown_reads.get(), 50_000);

    // Still served from the cache: the store is not read again.
    let served = lookup(&cache, real.id.as_str(), now, &real_reads, None);
    assert_eq!(served.map(|c| c.name), Some("web".to_owned()));
    assert_eq!(real_reads.get(), 1);

    // The misses went to their own small cache; the found one holds the real client alone.
    cache.clients.found.entries.run_pending_tasks();
    cache.clients.missing.entries.run_pending_tasks();
    assert_eq!(cache.clients.found.entries.entry_count(), 1);
    assert!(cache.clients.missing.entries.entry_count() <= MISSING_MAX);
}

#[test]
fn a_miss_is_remembered_for_the_ttl_too() {
    let cache = DirectoryCache::default();
    let reads = Cell::new(0);
    assert!(lookup(&cache, "nobody", 0, &reads, None).is_none());
    assert!(lookup(&cache, "nobody", TTL_SECONDS - 1, &reads, None).is_none());
    assert_eq!(reads.get(), 1);
    // Created since: found once the miss has expired.
    assert!(lookup(&cache, "nobody", TTL_SECONDS, &reads, Some(client())).is_some());
    assert_eq!(reads.get(), 2);
}

#[test]
fn entries_are_read_again_after_their_ttl() {
    let cache = DirectoryCache::default();
    let reads = Cell::new(0);
    let now = 50;
    lookup(
        &cache,
        "exampleclientid0000000000a",
        now,
        &reads,
        Some(client()),
    );
    lookup(
        &cache,
        "exampleclientid0000000000a",
        now + TTL_SECONDS - 1,
        &reads,
        None,
    );
    assert_eq!(reads.get(), 1, "fresh for TTL_SECONDS");
    let gone = lookup(
        &cache,
        "exampleclientid0000000000a",
        now + TTL_SECONDS,
        &reads,
        None,
    );
    assert_eq!(reads.get(), 2, "read again once the TTL has passed");
    assert!(gone.is_none(), "a deleted client is seen as deleted");

    // The same holds for the per-pool entries.
    let scope_reads = Cell::new(0);
    let scopes = |now| {
        let loaded: Result<_, StoreError> =
            cache
                .scopes
                .get_or_load(&"local_Example01".to_owned(), now, || {
                    scope_reads.set(scope_reads.get() + 1);
                    Ok(Arc::new(HashSet::new()))
                });
        loaded.unwrap()
    };
    scopes(now);
    scopes(now + TTL_SECONDS - 1);
    assert_eq!(scope_reads.get(), 1);
    scopes(now + TTL_SECONDS);
    assert_eq!(scope_reads.get(), 2);
}

#[test]
fn moka_drops_an_entry_when_its_own_lifetime_ends() {
    let timed: Timed<u32, &str> = Timed::new(10, TTL_SECONDS);
    let entry = |lifetime| Entry {
        value: "v",
        until: i64::MAX,
        lifetime,
    };
    timed.entries.insert(1, entry(Duration::from_millis(50)));
    timed.entries.insert(2, entry(Duration::from_secs(60)));
    assert!(timed.entries.get(&1).is_some());
    std::thread::sleep(Duration::from_millis(120));
    assert!(timed.entries.get(&1).is_none(), "evicted by moka's clock");
    assert!(timed.entries.get(&2).is_some());

    // An entry's lifetime is its deadline as seen at insertion; a passed one is not stored.
    timed.insert_until(3, "w", 100, 130);
    assert_eq!(
        timed.entries.get(&3).map(|e| e.lifetime),
        Some(Duration::from_secs(30))
    );
    timed.insert_until(4, "x", 100, 100);
    assert!(timed.entries.get(&4).is_none());
}

#[derive(Debug)]
struct Claims(i64);

#[test]
fn verified_tokens_answer_only_for_their_pool_until_they_expire() {
    let tokens: VerifiedTokens<Claims> = VerifiedTokens::default();
    tokens.insert("pool_a", "kid", [1; 32], Arc::new(Claims(100)), 100, 0);
    let (claims, kid) = tokens.get("pool_a", &[1; 32], 0).unwrap();
    assert_eq!((claims.0, kid.as_str()), (100, "kid"));
    assert!(tokens.get("pool_b", &[1; 32], 0).is_none());
    assert!(tokens.get("pool_a", &[2; 32], 0).is_none());
    // Exactly when the token expires.
    assert!(tokens.get("pool_a", &[1; 32], 99).is_some());
    assert!(tokens.get("pool_a", &[1; 32], 100).is_none());
    assert_eq!(
        tokens.entries.entries.get(&[1; 32]).map(|e| e.lifetime),
        Some(Duration::from_secs(100))
    );
    // An expired token is not remembered at all.
    tokens.insert("pool_a", "kid", [3; 32], Arc::new(Claims(5)), 5, 10);
    assert!(tokens.entries.entries.get(&[3; 32]).is_none());
}

#[test]
fn verified_tokens_stay_bounded() {
    let tokens: VerifiedTokens<Claims> = VerifiedTokens::default();
    let total = VERIFIED_TOKENS_MAX * 2;
    for i in 0..total {
        let mut digest = [7; 32];
        digest[..8].copy_from_slice(&i.to_le_bytes());
        tokens.insert("pool_a", "kid", digest, Arc::new(Claims(1_000)), 1_000, 60);
    }
    tokens.entries.entries.run_pending_tasks();
    let kept = tokens.entries.entries.entry_count();
    assert!(kept <= VERIFIED_TOKENS_MAX, "{kept}");
}

#[test]
fn looks_are_bounded_by_their_bytes() {
    let look = |bytes: usize| {
        Arc::new(ClientLook {
            owner: "ALL".into(),
            css: Some(("v".into(), Arc::from("x".repeat(bytes)))),
            logo: None,
        })
    };
    let small = look_weight(&key("a"), &look(10));
    let large = look_weight(&key("a"), &look(100_000));
    assert!(large >= 100_000 && small < 1_000, "{small} {large}");
    // 64 MiB holds some 670 looks of 100 KB, not 10,000.
    let cache = DirectoryCache::default();
    for i in 0..1_000 {
        cache
            .looks
            .found
            .insert_until(key(&i.to_string()), look(100_000), 0, 5);
    }
    cache.looks.found.entries.run_pending_tasks();
    assert!(cache.looks.found.entries.weighted_size() <= LOOKS_MAX_BYTES);
}
