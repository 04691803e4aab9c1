//! Federated users on SQLite and PostgreSQL: creation as `<Provider>_<subject>`, attribute
//! mapping on every sign-in, links declared in the file, and linking by verified email (opt-in,
//! verified on both sides, one match only). The HTTP chain itself runs against real upstreams
//! in tests/federation (see binary.rs).

use crate::on_both_backends;
use crate::support::TestDb;
use gatehouse::federation::UpstreamIdentity;
use gatehouse::flows::Site;
use gatehouse::flows::federation::{Refusal, user_for_identity};
use gatehouse::model::{IdentityProvider, User, UserStatus};
use gatehouse::oauth::discovery::PoolUrls;
use gatehouse::provision;
use gatehouse::store::now;
use serde_json::{Value, json};
use std::path::Path;

const POOL: &str = "local_FedUnit01";

const CONFIG: &str = r#"
[[pool]]
id = "local_FedUnit01"
name = "fedunit"

[[pool.identity_provider]]
name = "Upstream"
type = "OIDC"
attribute_mapping = { email = "email", email_verified = "email_verified", given_name = "given_name", "custom:team" = "team", username = "sub" }
[pool.identity_provider.details]
client_id = "gatehouse"
authorize_scopes = "openid email profile"
oidc_issuer = "https://upstream.example"

[[pool.identity_provider]]
name = "Trusted"
type = "OIDC"
link_by_verified_email = true
attribute_mapping = { email = "email", email_verified = "email_verified", username = "sub" }
[pool.identity_provider.details]
client_id = "gatehouse"
authorize_scopes = "openid email"
oidc_issuer = "https://trusted.example"

[[pool.user]]
username = "dana"
password = "Dana-Passw0rd!"
attributes = { email = "dana@example.com", email_verified = "true", given_name = "Dana" }
linked_identities = [ { provider = "Upstream", subject = "dana-upstream" } ]

[[pool.user]]
username = "vera"
password = "Vera-Passw0rd!"
attributes = { email = "Vera@Example.com", email_verified = "true" }

[[pool.user]]
username = "uma"
password = "Uma-Passw0rd!1"
attributes = { email = "uma@example.com", email_verified = "false" }
"#;

fn setup(db: &TestDb) -> (Site, Vec<IdentityProvider>) {
    let declaration =
        gatehouse::config::parse(CONFIG, Path::new("t.toml"), Path::new("."), &|_| None).unwrap();
    let mut conn = db.store.conn().unwrap();
    provision::apply(&mut conn, &declaration).unwrap();
    // Applying again changes nothing (the link is already there).
    let again = provision::apply(&mut conn, &declaration).unwrap();
    assert_eq!(again.created + again.updated, 0, "{again:?}");
    let pool = gatehouse::store::pools::get(&mut conn, POOL).unwrap();
    let providers = gatehouse::store::directory::list_identity_providers(
        &mut conn,
        &gatehouse::sealing::Sealer::process_ephemeral(),
        POOL,
    )
    .unwrap();
    let site = Site {
        urls: PoolUrls::new("http://localhost:7070", POOL, None),
        pool,
    };
    (site, providers)
}

fn provider<'a>(providers: &'a [IdentityProvider], name: &str) -> &'a IdentityProvider {
    providers.iter().find(|p| p.name == name).unwrap()
}

fn identity(subject: &str, claims: Value) -> UpstreamIdentity {
    UpstreamIdentity {
        subject: subject.into(),
        claims: claims.as_object().unwrap().clone(),
        issuer: Some("https://upstream.example".into()),
    }
}

fn sign_in(db: &TestDb, site: &Site, provider: &IdentityProvider, who: &UpstreamIdentity) -> User {
    let mut conn = db.store.conn().unwrap();
    user_for_identity(&mut conn, site, provider, who, gatehouse::store::now()).unwrap()
}

fn new_users_are_created_and_mapped_at_every_sign_in(db: &TestDb) {
    let (site, providers) = setup(db);
    let upstream = provider(&providers, "Upstream");
    let first = sign_in(
        db,
        &site,
        upstream,
        &identity(
            "s-1",
            json!({ "sub": "s-1", "email": "new@example.com", "email_verified": true, "given_name": "New", "team": "blue" }),
        ),
    );
    assert_eq!(first.username, "Upstream_s-1");
    assert_eq!(first.status, UserStatus::ExternalProvider);
    assert!(first.password_hash.is_none());
    assert_eq!(first.attributes.get("email_verified"), Some("true"));
    assert_eq!(first.attributes.get("custom:team"), Some("blue"));
    let identities: Value =
        serde_json::from_str(first.attributes.get("identities").unwrap()).unwrap();
    assert_eq!(identities[0]["userId"], "s-1");
    assert_eq!(identities[0]["providerName"], "Upstream");
    assert_eq!(identities[0]["providerType"], "OIDC");
    assert_eq!(identities[0]["primary"], true);
    // Next sign-in: changed claims are rewritten, missing ones leave stored values alone, and
    // a changed email without a verification claim is not verified.
    let second = sign_in(
        db,
        &site,
        upstream,
        &identity(
            "s-1",
            json!({ "sub": "s-1", "email": "other@example.com", "given_name": "Renamed" }),
        ),
    );
    assert_eq!(second.sub, first.sub);
    assert_eq!(second.attributes.get("given_name"), Some("Renamed"));
    assert_eq!(second.attributes.get("custom:team"), Some("blue"));
    assert_eq!(second.attributes.get("email"), Some("other@example.com"));
    assert_eq!(second.attributes.get("email_verified"), Some("false"));
    // A value longer than 2,048 characters fails the sign-in with a clear message.
    let mut conn = db.store.conn().unwrap();
    let long = identity("s-1", json!({ "sub": "s-1", "team": "x".repeat(2049) }));
    let refused = match user_for_identity(&mut conn, &site, upstream, &long, now()) {
        Err(Refusal::Refused(message)) => message,
        other => panic!("{other:?}"),
    };
    assert!(
        refused.contains("longer than 2,048 characters"),
        "{refused}"
    );
}

fn declared_links_sign_in_as_the_native_user(db: &TestDb) {
    let (site, providers) = setup(db);
    let dana = sign_in(
        db,
        &site,
        provider(&providers, "Upstream"),
        &identity(
            "dana-upstream",
            json!({ "sub": "dana-upstream", "given_name": "Dana U" }),
        ),
    );
    assert_eq!(dana.username, "dana");
    assert_eq!(
        dana.status,
        UserStatus::Confirmed,
        "a native user stays native"
    );
    assert_eq!(dana.attributes.get("given_name"), Some("Dana U"));
    assert!(
        dana.attributes
            .get("identities")
            .unwrap()
            .contains("dana-upstream")
    );
    // An identity that already signs in as someone else cannot be linked by the file.
    sign_in(
        db,
        &site,
        provider(&providers, "Upstream"),
        &identity("taken", json!({ "sub": "taken" })),
    );
    let stolen = CONFIG.replacen(
        "username = \"vera\"",
        "username = \"vera\"\nlinked_identities = [ { provider = \"Upstream\", subject = \"taken\" } ]",
        1,
    );
    let declaration =
        gatehouse::config::parse(&stolen, Path::new("t.toml"), Path::new("."), &|_| None).unwrap();
    let error = provision::apply(&mut db.store.conn().unwrap(), &declaration)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("already signs in as another user"),
        "{error}"
    );
}

fn linking_by_email_needs_the_opt_in_and_verification_on_both_sides(db: &TestDb) {
    let (site, providers) = setup(db);
    let trusted = provider(&providers, "Trusted");
    let upstream = provider(&providers, "Upstream");
    // Opted in, verified upstream, verified here (case aside): vera herself.
    let vera = sign_in(
        db,
        &site,
        trusted,
        &identity(
            "t-vera",
            json!({ "sub": "t-vera", "email": "vera@example.com", "email_verified": true }),
        ),
    );
    assert_eq!(vera.username, "vera");
    // Unverified upstream: a new federated user, never vera.
    let unverified = sign_in(
        db,
        &site,
        trusted,
        &identity(
            "t-fake",
            json!({ "sub": "t-fake", "email": "vera@example.com", "email_verified": false }),
        ),
    );
    assert_eq!(unverified.username, "Trusted_t-fake");
    // Unverified here: uma's email does not link.
    let uma = sign_in(
        db,
        &site,
        trusted,
        &identity(
            "t-uma",
            json!({ "sub": "t-uma", "email": "uma@example.com", "email_verified": true }),
        ),
    );
    assert_eq!(uma.username, "Trusted_t-uma");
    // A provider without the opt-in never links by email.
    let plain = sign_in(
        db,
        &site,
        upstream,
        &identity(
            "u-vera",
            json!({ "sub": "u-vera", "email": "vera@example.com", "email_verified": true }),
        ),
    );
    assert_eq!(plain.username, "Upstream_u-vera");
}

on_both_backends!(
    new_users_are_created_and_mapped_at_every_sign_in,
    declared_links_sign_in_as_the_native_user,
    linking_by_email_needs_the_opt_in_and_verification_on_both_sides,
);

#[test]
fn provider_settings_are_checked_per_type() {
    let parse = |extra: &str| {
        gatehouse::config::parse(
            &format!("[[pool]]\nname = \"p\"\n{extra}"),
            Path::new("t.toml"),
            Path::new("."),
            &|_| None,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    let facebook = parse("[[pool.identity_provider]]\nname = \"Facebook\"\ntype = \"Facebook\"\n[pool.identity_provider.details]\nclient_id = \"a\"\napi_version = \"17\"\n").unwrap_err();
    assert!(
        facebook.contains("details.client_secret") && facebook.contains("details.api_version"),
        "{facebook}"
    );
    let apple = parse("[[pool.identity_provider]]\nname = \"Apple\"\ntype = \"SignInWithApple\"\n[pool.identity_provider.details]\nclient_id = \"a\"\nteam_id = \"T\"\nkey_id = \"K\"\nprivate_key = \"not a key\"\n").unwrap_err();
    assert!(
        apple.contains("details.private_key: is not a PEM EC P-256 private key"),
        "{apple}"
    );
    let oidc = parse("[[pool.identity_provider]]\nname = \"O\"\ntype = \"OIDC\"\n[pool.identity_provider.details]\nclient_id = \"a\"\nauthorize_scopes = \"openid\"\noidc_issuer = \"https://o.example\"\nattributes_request_method = \"PUT\"\ntoken_endpoint_auth_method = \"private_key_jwt\"\n").unwrap_err();
    assert!(
        oidc.contains("attributes_request_method") && oidc.contains("token_endpoint_auth_method"),
        "{oidc}"
    );
    let typo = parse("[[pool.identity_provider]]\nname = \"O\"\ntype = \"OIDC\"\n[pool.identity_provider.details]\nclient_id = \"a\"\nauthorize_scopes = \"openid\"\noidc_issuer = \"https://o.example\"\nclient_secert = \"x\"\n").unwrap_err();
    assert!(
        typo.contains("details.client_secert: not a provider detail"),
        "{typo}"
    );
    let no_issuer = parse("[[pool.identity_provider]]\nname = \"O\"\ntype = \"OIDC\"\n[pool.identity_provider.details]\nclient_id = \"a\"\nauthorize_scopes = \"openid\"\nauthorize_url = \"https://o.example/a\"\ntoken_url = \"https://o.example/t\"\njwks_uri = \"https://o.example/k\"\n").unwrap_err();
    assert!(no_issuer.contains("details.oidc_issuer"), "{no_issuer}");
    let links = parse("[[pool.user]]\nusername = \"u\"\nlinked_identities = [ { provider = \"Nope\", subject = \"s\" } ]\n").unwrap_err();
    assert!(links.contains("linked_identities[0].provider"), "{links}");
}
