//! The HTTP surface in process over a real socket: discovery, JWKS, domain routing, health
//! and errors, on SQLite and on PostgreSQL.

use crate::support::{TestDb, example_declaration, spawn_server};
use gatehouse::provision;
use gatehouse::store;
use serde_json::Value;

fn prepare(db: &TestDb) {
    let mut declaration = example_declaration();
    declaration.pools[0].pool.domain = Some("auth.example.test".into());
    let mut conn = db.store.conn().unwrap();
    provision::apply(&mut conn, &declaration).unwrap();
}

async fn discovery_jwks_and_domain_routing(db: TestDb) {
    prepare(&db);
    let server = spawn_server(db.store.clone());
    let issuer_path = format!("{}/local_Example01", server.base);
    let doc: Value = server
        .client
        .get(format!("{issuer_path}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], "http://localhost:7070/local_Example01");
    assert_eq!(
        doc["jwks_uri"],
        "http://localhost:7070/local_Example01/.well-known/jwks.json"
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    let scopes = doc["scopes_supported"].as_array().unwrap();
    assert!(scopes.contains(&Value::from("https://api.example.com/write")));
    assert!(scopes.contains(&Value::from("offline_access")));
    // Endpoints are advertised on the pool's domain; the issuer stays put.
    assert_eq!(
        doc["token_endpoint"],
        "http://auth.example.test/oauth2/token"
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );

    let jwks: Value = server
        .client
        .get(format!("{issuer_path}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let active = {
        let mut conn = db.store.conn().unwrap();
        store::keys::active(&mut conn, "local_Example01")
            .unwrap()
            .unwrap()
    };
    assert_eq!(jwks["keys"][0]["kid"], active.kid.as_str());
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert_eq!(jwks["keys"][0]["use"], "sig");
    assert!(jwks["keys"][0].get("d").is_none(), "never the private key");

    // The pool's domain serves the same document at the root.
    let by_host: Value = server
        .client
        .get(format!("{}/.well-known/openid-configuration", server.base))
        .header("Host", "auth.example.test")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_host, doc);
    let with_port = server
        .client
        .get(format!("{}/.well-known/jwks.json", server.base))
        .header("Host", "auth.example.test:7070")
        .send()
        .await
        .unwrap();
    assert_eq!(with_port.status(), 200);
    let other_host = server
        .client
        .get(format!("{}/.well-known/jwks.json", server.base))
        .header("Host", "unknown.example.test")
        .send()
        .await
        .unwrap();
    assert_eq!(other_host.status(), 404);

    let health: Value = server
        .client
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["backend"], db.store.backend());
}

#[actix_web::test]
async fn sqlite_discovery_jwks_and_domain_routing() {
    discovery_jwks_and_domain_routing(TestDb::sqlite()).await;
}

#[actix_web::test]
async fn postgres_discovery_jwks_and_domain_routing() {
    if let Some(db) = TestDb::postgres() {
        discovery_jwks_and_domain_routing(db).await;
    }
}

#[actix_web::test]
async fn unknown_pools_and_paths_get_clear_errors() {
    let db = TestDb::sqlite();
    prepare(&db);
    let server = spawn_server(db.store.clone());
    let missing = server
        .client
        .get(format!(
            "{}/local_Missing00/.well-known/openid-configuration",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"], "not_found");

    let page = server
        .client
        .get(format!("{}/no/such/page", server.base))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("errorMessage-customizable"), "{html}");
    assert!(html.contains("Page not found"));

    let hostile = server
        .client
        .get(format!("{}/%00%ff/.well-known/jwks.json", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(hostile.status(), 404);
    let css = server
        .client
        .get(format!("{}/static/gatehouse.css", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}

/// A failure inside (here the signing keys' table is gone) answers the protocol's JSON with
/// `server_error`; what failed is logged, never sent.
async fn an_internal_failure_answers_server_error_without_the_detail(db: TestDb) {
    prepare(&db);
    let server = spawn_server(db.store.clone());
    let jwks = format!("{}/local_Example01/.well-known/jwks.json", server.base);
    let before = server.client.get(&jwks).send().await.unwrap();
    assert_eq!(before.status(), 200);
    {
        use diesel::connection::SimpleConnection;
        let mut conn = db.store.conn().unwrap();
        conn.batch_execute("DROP TABLE signing_keys").unwrap();
    }
    let failed = server.client.get(&jwks).send().await.unwrap();
    assert_eq!(failed.status(), 500);
    assert_eq!(failed.headers()["cache-control"], "no-store");
    let text = failed.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "error": "server_error",
            "error_description": "the server could not complete the request",
        })
    );
    assert!(!text.contains("signing_keys"), "{text}");
}

#[actix_web::test]
async fn sqlite_an_internal_failure_answers_server_error_without_the_detail() {
    an_internal_failure_answers_server_error_without_the_detail(TestDb::sqlite()).await;
}

#[actix_web::test]
async fn postgres_an_internal_failure_answers_server_error_without_the_detail() {
    if let Some(db) = TestDb::postgres() {
        an_internal_failure_answers_server_error_without_the_detail(db).await;
    }
}
