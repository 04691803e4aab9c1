//! The storage suite: every test here runs once on SQLite and once on PostgreSQL.

use crate::on_both_backends;
use crate::support::{TestDb, example_declaration};
use gatehouse::model::directory::ALL_CLIENTS;
use gatehouse::model::*;
use gatehouse::provision;
use gatehouse::secrets::SecretDigest;
use gatehouse::store::{self, Saved, StoreError};
use uuid::Uuid;

on_both_backends!(
    migrations_run_once,
    pools_save_and_find,
    clients_save_and_find,
    users_sign_in_by_username_and_verified_alias,
    groups_and_memberships,
    resource_servers_providers_and_customizations,
    signing_keys_rotate_and_expire_from_the_jwks,
    config_applied_twice_gives_the_same_state,
    config_never_deletes_what_it_does_not_mention,
    demo_is_created_once,
    expired_protocol_state_is_purged,
    a_write_transaction_that_reads_first_outlasts_another_writer,
    address_failures_back_off_and_are_forgotten_after_an_hour,
    an_instance_secret_is_made_once,
    a_key_taken_out_of_the_jwks_stops_verifying_within_a_minute,
);

fn a_key_taken_out_of_the_jwks_stops_verifying_within_a_minute(db: &TestDb) {
    use diesel::RunQueryDsl;
    let mut conn = db.store.conn().unwrap();
    let p = pool("local_PoolKeys1", None);
    store::pools::save(&mut conn, &p).unwrap();
    provision::ensure_signing_key(&mut conn, p.id.as_str()).unwrap();
    let kid = store::keys::active(&mut conn, p.id.as_str())
        .unwrap()
        .unwrap()
        .kid;
    let ring = gatehouse::tokens::KeyRing::new();
    let now = store::now();
    let key = |conn: &mut store::AnyConnection, at: i64| {
        ring.verification_key(conn, p.id.as_str(), &kid, at)
            .unwrap()
            .is_some()
    };
    assert!(key(&mut conn, now));
    diesel::sql_query(format!(
        "UPDATE signing_keys SET retired_at = {now}, publish_until = {now} WHERE kid = '{kid}'"
    ))
    .execute(&mut conn)
    .unwrap();
    assert!(key(&mut conn, now + 1), "still trusted from the cache");
    assert!(!key(&mut conn, now + 61), "read again after a minute: gone");
    assert!(!key(&mut conn, now + 62));
}

fn an_instance_secret_is_made_once(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let first = store::instance::secret(&mut conn, "test", 1, || "one".into()).unwrap();
    let second = store::instance::secret(&mut conn, "test", 2, || "two".into()).unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("one", "one"));
    let other = store::instance::secret(&mut conn, "other", 3, || "three".into()).unwrap();
    assert_eq!(other, "three");
}

fn address_failures_back_off_and_are_forgotten_after_an_hour(db: &TestDb) {
    use gatehouse::store::throttle::{self, FORGET_AFTER_SECONDS, MAX_LOCK_SECONDS};
    let mut conn = db.store.conn().unwrap();
    let key = "ip:pool:203.0.113.7".to_owned();
    let t0 = 1_000_000;
    for i in 0..4 {
        throttle::record_address_failure(&mut conn, &key, 5, t0 + i).unwrap();
    }
    assert_eq!(
        throttle::locked_until(&mut conn, std::slice::from_ref(&key), t0 + 4).unwrap(),
        None
    );
    throttle::record_address_failure(&mut conn, &key, 5, t0 + 4).unwrap();
    assert_eq!(
        throttle::locked_until(&mut conn, std::slice::from_ref(&key), t0 + 4).unwrap(),
        Some(t0 + 4 + 5)
    );
    // Each further failure doubles the lock, up to the cap.
    for i in 5..20 {
        throttle::record_address_failure(&mut conn, &key, 5, t0 + i).unwrap();
    }
    assert_eq!(
        throttle::locked_until(&mut conn, std::slice::from_ref(&key), t0 + 19).unwrap(),
        Some(t0 + 19 + MAX_LOCK_SECONDS)
    );
    // Waiting out the longest lock is not enough to start again…
    let later = t0 + 19 + MAX_LOCK_SECONDS + 1;
    throttle::record_address_failure(&mut conn, &key, 5, later).unwrap();
    assert_eq!(
        throttle::locked_until(&mut conn, std::slice::from_ref(&key), later).unwrap(),
        Some(later + MAX_LOCK_SECONDS)
    );
    // …but a failure an hour after the previous one counts as the first.
    let much_later = later + FORGET_AFTER_SECONDS + 1;
    throttle::record_address_failure(&mut conn, &key, 5, much_later).unwrap();
    assert_eq!(
        throttle::locked_until(&mut conn, std::slice::from_ref(&key), much_later).unwrap(),
        None
    );
    // An account's count is never forgotten by waiting.
    let account = "user:pool:someone".to_owned();
    for i in 0..5 {
        throttle::record_failure(&mut conn, &account, 5, t0 + i).unwrap();
    }
    throttle::record_failure(&mut conn, &account, 5, much_later).unwrap();
    assert_eq!(
        throttle::locked_until(&mut conn, std::slice::from_ref(&account), much_later).unwrap(),
        Some(much_later + 10),
        "the sixth failure, a day later, still doubles the lock"
    );
}

fn pool(id: &str, domain: Option<&str>) -> UserPool {
    UserPool {
        id: PoolId::parse(id).unwrap(),
        name: format!("pool {id}"),
        domain: domain.map(String::from),
        settings: PoolSettings {
            alias_attributes: vec!["email".into(), "preferred_username".into()],
            ..PoolSettings::default()
        },
    }
}

fn user(pool: &UserPool, username: &str, attributes: &[(&str, &str)]) -> User {
    User {
        sub: Uuid::new_v4(),
        pool_id: pool.id.clone(),
        username: username.into(),
        status: UserStatus::Confirmed,
        enabled: true,
        password_hash: None,
        attributes: Attributes::from_pairs(attributes.iter().copied()).unwrap(),
        created_at: 1,
        updated_at: 1,
        srp_verifier: None,
    }
}

fn migrations_run_once(db: &TestDb) {
    assert_eq!(db.store.migrate().unwrap(), 0, "already migrated by TestDb");
    db.store.ping().unwrap();
}

fn pools_save_and_find(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let mut p = pool("local_PoolAAAA1", Some("auth.example.com"));
    assert_eq!(store::pools::save(&mut conn, &p).unwrap(), Saved::Created);
    assert_eq!(store::pools::save(&mut conn, &p).unwrap(), Saved::Unchanged);
    assert_eq!(store::pools::get(&mut conn, "local_PoolAAAA1").unwrap(), p);
    assert_eq!(
        store::pools::find_by_domain(&mut conn, "auth.example.com").unwrap(),
        Some(p.clone())
    );
    p.settings.password_policy.minimum_length = 12;
    assert_eq!(store::pools::save(&mut conn, &p).unwrap(), Saved::Updated);
    assert_eq!(
        store::pools::get(&mut conn, "local_PoolAAAA1")
            .unwrap()
            .settings
            .password_policy
            .minimum_length,
        12
    );
    // A domain belongs to one pool.
    let other = pool("local_PoolBBBB2", Some("auth.example.com"));
    assert!(matches!(
        store::pools::save(&mut conn, &other),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store::pools::get(&mut conn, "local_Missing00"),
        Err(StoreError::NotFound)
    ));
    assert_eq!(store::pools::list(&mut conn).unwrap().len(), 1);
}

fn clients_save_and_find(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let p = pool("local_PoolAAAA1", None);
    store::pools::save(&mut conn, &p).unwrap();
    let client = AppClient {
        id: ClientId::generate(),
        pool_id: p.id.clone(),
        name: "web".into(),
        secret: Some(SecretDigest::of("the-secret")),
        sealed_secret: None,
        settings: ClientSettings {
            callback_urls: vec!["myapp://callback".into()],
            allowed_oauth_flows: vec![OAuthFlow::Code],
            ..ClientSettings::default()
        },
    };
    assert_eq!(
        store::clients::save(&mut conn, &client).unwrap(),
        Saved::Created
    );
    let stored = store::clients::get(&mut conn, p.id.as_str(), client.id.as_str()).unwrap();
    assert_eq!(stored, client);
    assert!(stored.secret.as_ref().unwrap().matches("the-secret"));
    assert!(!stored.secret.as_ref().unwrap().matches("the-secreT"));
    // Only the digest is stored.
    assert_ne!(stored.secret.unwrap().as_str(), "the-secret");
    assert!(matches!(
        store::clients::get(&mut conn, "local_PoolBBBB2", client.id.as_str()),
        Err(StoreError::NotFound)
    ));
    // A client id cannot move to another pool.
    let other_pool = pool("local_PoolBBBB2", None);
    store::pools::save(&mut conn, &other_pool).unwrap();
    let moved = AppClient {
        pool_id: other_pool.id.clone(),
        ..client.clone()
    };
    assert!(matches!(
        store::clients::save(&mut conn, &moved),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store::clients::list(&mut conn, p.id.as_str())
            .unwrap()
            .len(),
        1
    );
}

fn users_sign_in_by_username_and_verified_alias(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let p = pool("local_PoolAAAA1", None);
    store::pools::save(&mut conn, &p).unwrap();
    let mut alice = user(
        &p,
        "Alice",
        &[
            ("email", "Alice@Example.com"),
            ("email_verified", "true"),
            ("custom:tier", "gold"),
        ],
    );
    alice.password_hash = Some(gatehouse::secrets::hash_password("Pw-123456").unwrap());
    store::users::create(&mut conn, &p, &alice).unwrap();
    let bob = user(
        &p,
        "bob",
        &[("email", "bob@example.com"), ("email_verified", "false")],
    );
    store::users::create(&mut conn, &p, &bob).unwrap();

    let by_name = store::users::find_for_sign_in(&mut conn, &p, "alice")
        .unwrap()
        .unwrap();
    assert_eq!(by_name.sub, alice.sub);
    assert_eq!(by_name.attributes.get("custom:tier"), Some("gold"));
    assert!(gatehouse::secrets::verify_password(
        "Pw-123456",
        by_name.password_hash.as_deref().unwrap()
    ));
    let by_email = store::users::find_for_sign_in(&mut conn, &p, "alice@EXAMPLE.com").unwrap();
    assert_eq!(by_email.map(|u| u.sub), Some(alice.sub));
    // An unverified email is not an alias.
    assert!(
        store::users::find_for_sign_in(&mut conn, &p, "bob@example.com")
            .unwrap()
            .is_none()
    );

    // Usernames are unique without regard to case; a verified email signs in one user only.
    let clash = user(&p, "ALICE", &[]);
    assert!(matches!(
        store::users::create(&mut conn, &p, &clash),
        Err(StoreError::Conflict(_))
    ));
    let mut bob = store::users::find_by_username(&mut conn, &p, "bob")
        .unwrap()
        .unwrap();
    bob.attributes.set("email", "alice@example.com").unwrap();
    bob.attributes.set("email_verified", "true").unwrap();
    assert!(matches!(
        store::users::update(&mut conn, &p, &bob),
        Err(StoreError::Conflict(_))
    ));

    // Status, enabled flag and attributes are written back; the alias follows the email.
    let mut alice = by_name;
    alice.status = UserStatus::ForceChangePassword;
    alice.enabled = false;
    alice.attributes.set("email", "new@example.com").unwrap();
    store::users::update(&mut conn, &p, &alice).unwrap();
    let reread = store::users::get(&mut conn, p.id.as_str(), &alice.sub).unwrap();
    assert_eq!(reread.status, UserStatus::ForceChangePassword);
    assert!(!reread.enabled);
    assert!(
        store::users::find_for_sign_in(&mut conn, &p, "alice@example.com")
            .unwrap()
            .is_none()
    );
    assert!(
        store::users::find_for_sign_in(&mut conn, &p, "new@example.com")
            .unwrap()
            .is_some()
    );
    // A preferred username is an alias at once.
    let mut carol = user(&p, "carol", &[("preferred_username", "Caz")]);
    store::users::create(&mut conn, &p, &carol).unwrap();
    assert_eq!(
        store::users::find_for_sign_in(&mut conn, &p, "caz")
            .unwrap()
            .map(|u| u.sub),
        Some(carol.sub)
    );
    carol.status = UserStatus::ExternalProvider;
    store::users::update(&mut conn, &p, &carol).unwrap();
    for status in UserStatus::ALL {
        assert_eq!(UserStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(store::users::count(&mut conn, p.id.as_str()).unwrap(), 3);
}

fn groups_and_memberships(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let p = pool("local_PoolAAAA1", None);
    store::pools::save(&mut conn, &p).unwrap();
    let group = |name: &str, precedence: Option<i32>| Group {
        pool_id: p.id.clone(),
        name: name.into(),
        description: Some(format!("{name} group")),
        precedence,
        role_arn: None,
    };
    for g in [
        group("readers", Some(5)),
        group("admins", Some(0)),
        group("misc", None),
    ] {
        assert_eq!(
            store::directory::save_group(&mut conn, &g).unwrap(),
            Saved::Created
        );
    }
    assert_eq!(
        store::directory::save_group(&mut conn, &group("admins", Some(0))).unwrap(),
        Saved::Unchanged
    );
    assert_eq!(
        store::directory::save_group(&mut conn, &group("admins", Some(1))).unwrap(),
        Saved::Updated
    );
    let u = user(&p, "dave", &[]);
    store::users::create(&mut conn, &p, &u).unwrap();
    for name in ["misc", "readers", "admins"] {
        assert!(store::users::add_to_group(&mut conn, p.id.as_str(), name, &u.sub).unwrap());
    }
    assert!(!store::users::add_to_group(&mut conn, p.id.as_str(), "admins", &u.sub).unwrap());
    assert!(matches!(
        store::users::add_to_group(&mut conn, p.id.as_str(), "nope", &u.sub),
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store::users::groups_of(&mut conn, p.id.as_str(), &u.sub).unwrap(),
        vec!["admins", "readers", "misc"]
    );
    assert_eq!(
        store::directory::list_groups(&mut conn, p.id.as_str())
            .unwrap()
            .len(),
        3
    );
}

fn resource_servers_providers_and_customizations(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let p = pool("local_PoolAAAA1", None);
    store::pools::save(&mut conn, &p).unwrap();
    let server = ResourceServer {
        pool_id: p.id.clone(),
        identifier: "https://api.example.com".into(),
        name: "API".into(),
        scopes: vec![ResourceScope {
            name: "read".into(),
            description: "Read".into(),
        }],
    };
    assert_eq!(
        store::directory::save_resource_server(&mut conn, &server).unwrap(),
        Saved::Created
    );
    assert_eq!(
        store::directory::save_resource_server(&mut conn, &server).unwrap(),
        Saved::Unchanged
    );
    let listed = store::directory::list_resource_servers(&mut conn, p.id.as_str()).unwrap();
    assert_eq!(listed, vec![server.clone()]);
    assert_eq!(
        listed[0].qualified_scopes().collect::<Vec<_>>(),
        vec!["https://api.example.com/read"]
    );

    let provider = IdentityProvider {
        pool_id: p.id.clone(),
        name: "Upstream".into(),
        provider_type: ProviderType::Oidc,
        details: [("client_id".to_string(), "gatehouse".to_string())].into(),
        attribute_mapping: [("email".to_string(), "email".to_string())].into(),
        idp_identifiers: vec!["example.com".into()],
    };
    assert_eq!(
        store::directory::save_identity_provider(
            &mut conn,
            &gatehouse::sealing::Sealer::process_ephemeral(),
            &provider
        )
        .unwrap(),
        Saved::Created
    );
    assert_eq!(
        store::directory::list_identity_providers(
            &mut conn,
            &gatehouse::sealing::Sealer::process_ephemeral(),
            p.id.as_str()
        )
        .unwrap(),
        vec![provider]
    );

    // A client with its own customization never falls back to ALL.
    let logo: Vec<u8> = (0..=255u8).collect();
    let all = UiCustomization {
        pool_id: p.id.clone(),
        client_id: ALL_CLIENTS.into(),
        css: Some(".banner-customizable { background-color: #123456; }".into()),
        logo: Some(logo.clone()),
    };
    let own = UiCustomization {
        client_id: "clientwithitsowncss0000000".into(),
        css: None,
        logo: None,
        ..all.clone()
    };
    store::directory::save_customization(&mut conn, &all).unwrap();
    store::directory::save_customization(&mut conn, &own).unwrap();
    let pool_id = p.id.as_str();
    assert_eq!(
        store::directory::customization_for_client(
            &mut conn,
            pool_id,
            "anotherclient0000000000000"
        )
        .unwrap(),
        Some(all.clone())
    );
    assert_eq!(
        store::directory::customization_for_client(&mut conn, pool_id, &own.client_id).unwrap(),
        Some(own)
    );
    assert_eq!(
        store::directory::save_customization(&mut conn, &all).unwrap(),
        Saved::Unchanged
    );
}

fn signing_keys_rotate_and_expire_from_the_jwks(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let p = pool("local_PoolAAAA1", None);
    store::pools::save(&mut conn, &p).unwrap();
    let pool_id = p.id.as_str();
    assert!(provision::ensure_signing_key(&mut conn, pool_id).unwrap());
    assert!(!provision::ensure_signing_key(&mut conn, pool_id).unwrap());
    let first = store::keys::active(&mut conn, pool_id).unwrap().unwrap();
    let now = store::now();
    assert_eq!(
        store::keys::published(&mut conn, pool_id, now)
            .unwrap()
            .len(),
        1
    );

    let second_kid = provision::rotate_signing_key(&mut conn, pool_id).unwrap();
    let active = store::keys::active(&mut conn, pool_id).unwrap().unwrap();
    assert_eq!(active.kid, second_kid);
    assert_ne!(active.kid, first.kid);
    let published: Vec<String> = store::keys::published(&mut conn, pool_id, now)
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert!(
        published.contains(&first.kid) && published.contains(&second_kid),
        "{published:?}"
    );
    // After the longest token lifetime (60 minutes here) the old key leaves the JWKS.
    let later = store::now() + 3601;
    let published: Vec<String> = store::keys::published(&mut conn, pool_id, later)
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(published, vec![second_kid]);
    assert!(matches!(
        provision::rotate_signing_key(&mut conn, "local_Missing00"),
        Err(StoreError::NotFound)
    ));
}

/// Everything the example file touches, as one comparable value (timestamps included).
fn snapshot(db: &TestDb) -> String {
    let mut conn = db.store.conn().unwrap();
    let mut out = String::new();
    for p in store::pools::list(&mut conn).unwrap() {
        let id = p.id.to_string();
        out += &format!("{p:?}\n");
        out += &format!("{:?}\n", store::clients::list(&mut conn, &id).unwrap());
        out += &format!(
            "{:?}\n",
            store::directory::list_groups(&mut conn, &id).unwrap()
        );
        out += &format!(
            "{:?}\n",
            store::directory::list_resource_servers(&mut conn, &id).unwrap()
        );
        out += &format!(
            "{:?}\n",
            store::directory::list_identity_providers(
                &mut conn,
                &gatehouse::sealing::Sealer::process_ephemeral(),
                &id
            )
            .unwrap()
        );
        out += &format!(
            "{:?}\n",
            store::keys::active(&mut conn, &id).unwrap().map(|k| k.kid)
        );
        let alice = store::users::find_by_username(&mut conn, &p, "alice")
            .unwrap()
            .unwrap();
        out += &format!("{alice:?}\n");
        out += &format!(
            "{:?}\n",
            store::users::groups_of(&mut conn, &id, &alice.sub).unwrap()
        );
    }
    out
}

fn config_applied_twice_gives_the_same_state(db: &TestDb) {
    let declaration = example_declaration();
    let mut conn = db.store.conn().unwrap();
    let first = provision::apply(&mut conn, &declaration).unwrap();
    assert_eq!(first.updated, 0);
    assert_eq!(first.keys_generated, 1);
    assert_eq!(
        first.created, 7,
        "pool, resource server, identity provider, 2 clients, group, user: {first}"
    );
    drop(conn);
    let before = snapshot(db);
    let mut conn = db.store.conn().unwrap();
    let second = provision::apply(&mut conn, &declaration).unwrap();
    assert_eq!(
        (second.created, second.updated, second.keys_generated),
        (0, 0, 0),
        "{second}"
    );
    drop(conn);
    assert_eq!(snapshot(db), before);

    // What the file says is what is stored.
    let mut conn = db.store.conn().unwrap();
    let p = store::pools::get(&mut conn, "local_Example01").unwrap();
    assert_eq!(p.settings.alias_attributes, vec!["email"]);
    assert!(!p.settings.password_policy.require_symbols);
    let web =
        store::clients::get(&mut conn, "local_Example01", "exampleclientid0000000000a").unwrap();
    assert!(
        web.secret
            .unwrap()
            .matches("example-client-secret-0123456789abcdefghijklmnop")
    );
    assert_eq!(
        web.settings.allowed_oauth_flows,
        vec![
            OAuthFlow::Code,
            OAuthFlow::Implicit,
            OAuthFlow::ClientCredentials
        ]
    );
    let mobile =
        store::clients::get(&mut conn, "local_Example01", "examplepublicclient0000000").unwrap();
    assert!(!mobile.is_confidential());
    assert_eq!(mobile.settings.refresh_token_validity_days, 30);
    let alice = store::users::find_for_sign_in(&mut conn, &p, "alice@example.com")
        .unwrap()
        .unwrap();
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.status, UserStatus::Confirmed);
    assert_eq!(alice.attributes.get("custom:tier"), Some("gold"));
    assert!(gatehouse::secrets::verify_password(
        "Alice-Passw0rd",
        alice.password_hash.as_deref().unwrap()
    ));
    assert_eq!(
        store::users::groups_of(&mut conn, "local_Example01", &alice.sub).unwrap(),
        vec!["admins"]
    );
}

fn config_never_deletes_what_it_does_not_mention(db: &TestDb) {
    let mut declaration = example_declaration();
    let mut conn = db.store.conn().unwrap();
    provision::apply(&mut conn, &declaration).unwrap();
    let alice = store::users::find_by_username(&mut conn, &declaration.pools[0].pool, "alice")
        .unwrap()
        .unwrap();
    // A user's own changes (password, status) survive; the file keeps its attributes current.
    let mut changed = alice.clone();
    changed.password_hash = Some(gatehouse::secrets::hash_password("Changed-Passw0rd").unwrap());
    changed.attributes.set("given_name", "Ally").unwrap();
    changed.attributes.set("nickname", "al").unwrap();
    store::users::update(&mut conn, &declaration.pools[0].pool, &changed).unwrap();

    let pool = &mut declaration.pools[0];
    pool.clients.pop();
    pool.users[0]
        .attributes
        .set("family_name", "Liddell")
        .unwrap();
    let report = provision::apply(&mut conn, &declaration).unwrap();
    assert_eq!(report.updated, 1, "{report}");
    let clients = store::clients::list(&mut conn, "local_Example01").unwrap();
    assert_eq!(
        clients.len(),
        2,
        "the client left out of the file is still there"
    );
    let alice = store::users::find_by_username(&mut conn, &declaration.pools[0].pool, "alice")
        .unwrap()
        .unwrap();
    assert_eq!(alice.attributes.get("given_name"), Some("Alice"));
    assert_eq!(alice.attributes.get("family_name"), Some("Liddell"));
    assert_eq!(alice.attributes.get("nickname"), Some("al"));
    assert!(gatehouse::secrets::verify_password(
        "Changed-Passw0rd",
        alice.password_hash.as_deref().unwrap()
    ));
}

fn demo_is_created_once(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let (demo, report) = provision::ensure_demo(&mut conn, "http://localhost:7070").unwrap();
    assert!(report.is_some());
    let (_, again) = provision::ensure_demo(&mut conn, "http://localhost:7070").unwrap();
    assert!(again.is_none(), "the demo is created once");
    let p = store::pools::get(&mut conn, &demo.pool_id).unwrap();
    let client = store::clients::get(&mut conn, &demo.pool_id, &demo.client_id).unwrap();
    assert!(!client.is_confidential());
    assert_eq!(
        client.settings.callback_urls,
        vec![
            "http://localhost:7070/demo/callback",
            provision::DEMO_CALLBACK
        ]
    );
    assert_eq!(
        client.settings.allowed_oauth_flows,
        vec![OAuthFlow::Code, OAuthFlow::Implicit]
    );
    assert_eq!(
        client.settings.allowed_oauth_scopes,
        vec!["openid", "email", "profile"]
    );
    let user = store::users::find_for_sign_in(&mut conn, &p, &demo.username)
        .unwrap()
        .unwrap();
    assert!(gatehouse::secrets::verify_password(
        demo.password.as_deref().unwrap(),
        user.password_hash.as_deref().unwrap()
    ));
    assert!(
        store::keys::active(&mut conn, &demo.pool_id)
            .unwrap()
            .is_some()
    );
}

fn expired_protocol_state_is_purged(db: &TestDb) {
    use gatehouse::store::grants::{self, CodeRow, RefreshRow, SessionRow};
    let mut conn = db.store.conn().unwrap();
    let p = pool("local_PoolAAAA1", None);
    store::pools::save(&mut conn, &p).unwrap();
    let u = user(&p, "erin", &[]);
    store::users::create(&mut conn, &p, &u).unwrap();
    let (now, old) = (store::now(), store::now() - 3 * 86_400);
    let sub = u.sub.to_string();
    for (digest, expires) in [("s-old", now - 1), ("s-live", now + 3600)] {
        let session = SessionRow {
            id_digest: digest.into(),
            pool_id: p.id.to_string(),
            user_sub: sub.clone(),
            kind: "active".into(),
            auth_time: old,
            created_at: old,
            expires_at: expires,
        };
        grants::create_session(&mut conn, &session).unwrap();
    }
    for (digest, expires) in [("c-old", old), ("c-live", now + 300)] {
        let code = CodeRow {
            code_digest: digest.into(),
            pool_id: p.id.to_string(),
            client_id: "c".into(),
            user_sub: sub.clone(),
            redirect_uri: "https://x".into(),
            scopes: "openid".into(),
            nonce: None,
            code_challenge: None,
            auth_time: old,
            created_at: old,
            expires_at: expires,
            redeemed_at: None,
            family_id: None,
        };
        grants::insert_code(&mut conn, &code).unwrap();
    }
    grants::create_family(&mut conn, "f-old", p.id.as_str(), "c", Some(&sub), old).unwrap();
    grants::create_family(&mut conn, "f-live", p.id.as_str(), "c", Some(&sub), old).unwrap();
    for (digest, family, expires) in [("r-old", "f-old", old), ("r-live", "f-live", now + 86_400)] {
        let refresh = RefreshRow {
            token_digest: digest.into(),
            family_id: family.into(),
            pool_id: p.id.to_string(),
            client_id: "c".into(),
            user_sub: sub.clone(),
            scopes: "openid".into(),
            auth_time: old,
            created_at: old,
            expires_at: expires,
            rotated_at: None,
        };
        grants::insert_refresh(&mut conn, &refresh).unwrap();
    }
    store::throttle::record_failure(&mut conn, "user:x", 5, old).unwrap();
    // Session, code, refresh token, then the family it left empty, and the throttle row.
    assert_eq!(grants::purge_expired(&mut conn, now).unwrap(), 5);
    assert!(
        grants::find_session(&mut conn, p.id.as_str(), "s-live", now)
            .unwrap()
            .is_some()
    );
    assert!(
        grants::find_refresh(&mut conn, p.id.as_str(), "r-live")
            .unwrap()
            .is_some()
    );
    assert!(
        grants::find_refresh(&mut conn, p.id.as_str(), "r-old")
            .unwrap()
            .is_none()
    );
    assert!(grants::family_is_live(&mut conn, p.id.as_str(), "f-live").unwrap());
    assert!(!grants::family_is_live(&mut conn, p.id.as_str(), "f-old").unwrap());
    assert!(matches!(
        grants::redeem_code(&mut conn, p.id.as_str(), "c-live", "f-new", now).unwrap(),
        grants::Redemption::Redeemed(_)
    ));
    assert!(matches!(
        grants::redeem_code(&mut conn, p.id.as_str(), "c-old", "f-new", now).unwrap(),
        grants::Redemption::Unknown
    ));
    assert_eq!(grants::purge_expired(&mut conn, now).unwrap(), 0);
}

/// A transaction that reads before it writes must not fail because another connection wrote in
/// between: on SQLite a deferred transaction would (its snapshot is stale, and it cannot wait
/// its way out); `write_transaction` takes the write lock first, so the other writer waits.
fn a_write_transaction_that_reads_first_outlasts_another_writer(db: &TestDb) {
    use diesel::connection::SimpleConnection;
    let mut conn = db.store.conn().unwrap();
    conn.batch_execute("CREATE TABLE scratch (n INTEGER NOT NULL)")
        .unwrap();
    drop(conn);
    let (has_read, read) = std::sync::mpsc::channel();
    let other_writer = {
        // A store of its own: the shared pool may hold a single connection.
        let store = store::Store::connect(&db.url).unwrap();
        std::thread::spawn(move || {
            read.recv().unwrap();
            let mut conn = store.conn().unwrap();
            conn.batch_execute("INSERT INTO scratch (n) VALUES (2)")
        })
    };
    let mut conn = db.store.conn().unwrap();
    let outcome = store::write_transaction(&mut conn, |conn| {
        conn.batch_execute("SELECT count(*) FROM scratch")?;
        has_read.send(()).unwrap();
        // Long enough for the other connection to commit, had it not had to wait.
        std::thread::sleep(std::time::Duration::from_millis(300));
        conn.batch_execute("INSERT INTO scratch (n) VALUES (1)")
    });
    outcome.expect("the transaction that read first commits");
    other_writer
        .join()
        .unwrap()
        .expect("the other writer waited, then wrote");
    use diesel::RunQueryDsl;
    let rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM scratch)",
    ))
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(rows, 2);
}
