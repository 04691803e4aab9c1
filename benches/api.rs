//! The admin API on a large pool, in release: `cargo bench --bench api`. Fills a SQLite pool
//! with 100,000 users, then times `ListUsers` with an equality and a prefix filter (median and
//! p99 of single requests) and `AdminGetUser` throughput: SigV4-signed HTTP, keep-alive, one
//! client, in-process server (docs/api.md, "Admin actions").

use gatehouse::api::{ApiCredential, sigv4};
use gatehouse::app::{self, AppState};
use gatehouse::model::{Attributes, User, UserStatus};
use gatehouse::settings::Settings;
use gatehouse::store::{self, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

const POOL: &str = "local_Bench0001";
const USERS: usize = 100_000;
const KEY: &str = "AKIAGATEHOUSEBENCH01";
const SECRET: &str = "bench-secret-0123456789abcdef";

const CONFIG: &str = r#"
[[pool]]
id = "local_Bench0001"
name = "bench"
alias_attributes = ["email"]
"#;

fn fill(store: &Store) {
    let declaration = gatehouse::config::parse(
        CONFIG,
        std::path::Path::new("b.toml"),
        std::path::Path::new("."),
        &|_| None,
    )
    .unwrap();
    let mut conn = store.conn().unwrap();
    gatehouse::provision::apply(&mut conn, &declaration).unwrap();
    let pool = store::pools::get(&mut conn, POOL).unwrap();
    let start = Instant::now();
    for batch in 0..USERS / 1000 {
        store::write_transaction(&mut conn, |conn| {
            for i in batch * 1000..(batch + 1) * 1000 {
                let attributes = Attributes::from_pairs([
                    ("email", format!("user{i}@example{}.com", i % 50)),
                    ("email_verified", "true".to_owned()),
                    ("given_name", format!("Given{}", i % 1000)),
                ])
                .unwrap();
                let user = User {
                    sub: uuid::Uuid::new_v4(),
                    pool_id: pool.id.clone(),
                    username: format!("user{i}"),
                    status: UserStatus::Confirmed,
                    enabled: true,
                    password_hash: None,
                    attributes,
                    created_at: 1_700_000_000,
                    updated_at: 1_700_000_000,
                    srp_verifier: None,
                };
                store::users::create(conn, &pool, &user)?;
            }
            Ok::<_, store::StoreError>(())
        })
        .unwrap();
    }
    println!(
        "{:<48} {:>12.1} s",
        "fill 100,000 users (store::users::create)",
        start.elapsed().as_secs_f64()
    );
}

async fn call(client: &reqwest::Client, addr: &str, action: &str, input: &str) -> Duration {
    let headers = vec![
        ("host".to_owned(), addr.to_owned()),
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        (
            "x-amz-target".to_owned(),
            format!("AWSCognitoIdentityProviderService.{action}"),
        ),
    ];
    let request = sigv4::SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: input.as_bytes(),
    };
    let started = Instant::now();
    let added = sigv4::sign(KEY, SECRET, "local", &request, store::now());
    let mut builder = client
        .post(format!("http://{addr}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .body(input.to_owned());
    for (name, value) in added {
        builder = builder.header(name, value);
    }
    let response = builder.send().await.unwrap();
    assert!(response.status().is_success(), "{action} {input}");
    let body = response.bytes().await.unwrap();
    assert!(body.len() > 2);
    started.elapsed()
}

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    println!(
        "{name:<48} median {:>7.2} ms   p99 {:>7.2} ms",
        ms(median),
        ms(p99)
    );
}

fn main() {
    gatehouse::tokens::signer::install_crypto_providers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).unwrap();
    store.migrate().unwrap();
    fill(&store);
    let mut settings =
        Settings::new("127.0.0.1:0".into(), "http://localhost:7070", url, None).unwrap();
    settings.api_credentials = vec![Arc::new(ApiCredential {
        access_key_id: KEY.into(),
        secret_access_key: SECRET.into(),
        pools: vec!["*".into()],
        actions: vec!["cognito-idp:*".into()],
    })];
    actix_web::rt::System::new().block_on(async move {
        let (server, addrs) = app::bind(AppState::new(store, settings).unwrap()).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let addr = addrs[0].to_string();
        let client = reqwest::Client::new();
        let n = 1_000;
        let mut equal = Vec::new();
        for k in 0..n {
            let i = (k * 7919) % USERS;
            let input = format!(
                r#"{{"UserPoolId":"{POOL}","Filter":"email = \"user{i}@example{}.com\""}}"#,
                i % 50
            );
            equal.push(call(&client, &addr, "ListUsers", &input).await);
        }
        summary("ListUsers email = \"…\" (100,000 users)", equal);
        let mut prefix = Vec::new();
        for k in 0..n {
            // `user1234` matches user1234 and user12340–12349: 11 users.
            let i = 1000 + (k * 7919) % 9000;
            let input = format!(r#"{{"UserPoolId":"{POOL}","Filter":"email ^= \"user{i}\""}}"#);
            prefix.push(call(&client, &addr, "ListUsers", &input).await);
        }
        summary("ListUsers email ^= \"…\" (11 matches)", prefix);
        let mut wide = Vec::new();
        for k in 0..200 {
            let input = format!(
                r#"{{"UserPoolId":"{POOL}","Filter":"given_name ^= \"Given{}\"","Limit":60}}"#,
                k % 10
            );
            wide.push(call(&client, &addr, "ListUsers", &input).await);
        }
        summary("ListUsers given_name ^= (60 of ~10,000)", wide);
        let mut unfiltered = Vec::new();
        for _ in 0..200 {
            let input = format!(r#"{{"UserPoolId":"{POOL}","Limit":60}}"#);
            unfiltered.push(call(&client, &addr, "ListUsers", &input).await);
        }
        summary("ListUsers unfiltered (first 60)", unfiltered);
        let start = Instant::now();
        let gets = 2_000;
        for k in 0..gets {
            let i = (k * 104_729) % USERS;
            let input = format!(r#"{{"UserPoolId":"{POOL}","Username":"user{i}"}}"#);
            call(&client, &addr, "AdminGetUser", &input).await;
        }
        let rate = gets as f64 / start.elapsed().as_secs_f64();
        println!(
            "{:<48} {rate:>12.0} /s",
            "AdminGetUser (sequential, 1 client)"
        );
        handle.stop(true).await;
    });
}
