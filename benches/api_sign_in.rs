//! Sign-ins and user reads through the Cognito JSON API, with the server on one core, in
//! release: `cargo bench --bench api_sign_in` (docs/api.md, "Performance").
//!
//! The release binary runs pinned to CPU 0 on a SQLite database; this load generator pins
//! itself to CPU 1. Each figure is read per second of the server's CPU, against the raw cost
//! measured on the same core in the same run: argon2id for `USER_PASSWORD_AUTH`, the server's
//! 3072-bit modular exponentiations for an SRP sign-in.

mod common;

use common::{CONCURRENCY, POOL, Server, pin_self_to};
use gatehouse::api::{sigv4, srp};
use reqwest::Client;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECONDS: u64 = 5;
const CLIENT: &str = "apibenchclient000000000000";
const KEY: &str = "AKIAGATEHOUSEBENCH01";
const KEY_SECRET: &str = "bench-admin-secret-0123456789";
const PASSWORD: &str = "Bench-Passw0rd";
const USERS: usize = 32;

fn extra() -> String {
    let mut extra = format!(
        r#"
[[pool.client]]
id = "{CLIENT}"
name = "api-bench"
allowed_oauth_scopes = ["openid", "aws.cognito.signin.user.admin"]
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#
    );
    for i in 0..USERS {
        extra.push_str(&format!(
            "[[pool.user]]\nusername = \"bench{i}\"\npassword = \"{PASSWORD}\"\n"
        ));
    }
    extra
}

/// Top-level tables: they go before the example's `[[pool]]`, which would otherwise own them.
fn keys() -> String {
    format!(
        "[[api_credentials]]\naccess_key_id = \"{KEY}\"\nsecret_access_key = \"{KEY_SECRET}\"\npools = [\"*\"]\n\n"
    )
}

static SERVER_PID: AtomicUsize = AtomicUsize::new(0);

fn server_cpu_seconds() -> f64 {
    common::cpu_seconds_of(SERVER_PID.load(Ordering::Relaxed) as u32)
}

/// Successful operations per second of server CPU (and of wall time), from CONCURRENCY tasks.
async fn rate<F, Fut>(name: &str, concurrency: usize, op: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let (done, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let (start, cpu_start) = (Instant::now(), server_cpu_seconds());
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (op, done, failed) = (op.clone(), done.clone(), failed.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let counter = if op(worker).await { &done } else { &failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let count = done.load(Ordering::Relaxed) as f64;
    let per_cpu = count / (server_cpu_seconds() - cpu_start).max(0.01);
    let failures = failed.load(Ordering::Relaxed);
    println!(
        "{name:<52} {:>9.0} /s  {per_cpu:>9.0} per server CPU-second{}",
        count / start.elapsed().as_secs_f64(),
        if failures > 0 {
            format!("  ({failures} failed)")
        } else {
            String::new()
        }
    );
    per_cpu
}

fn per_second(seconds: u64, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        op();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn call(http: &Client, url: &str, action: &str, body: &Value) -> Option<Value> {
    let response = http
        .post(url)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    let ok = response.status().is_success();
    let value: Value = response.json().await.ok()?;
    ok.then_some(value)
}

async fn signed_call(http: &Client, url: &str, host: &str, action: &str, body: &Value) -> bool {
    let body = body.to_string().into_bytes();
    let headers = vec![
        ("host".to_owned(), host.to_owned()),
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
        body: &body,
    };
    let mut builder = http.post(url).body(body.clone());
    for (name, value) in headers.iter().skip(1).cloned().chain(sigv4::sign(
        KEY,
        KEY_SECRET,
        "local",
        &request,
        gatehouse::store::now(),
    )) {
        builder = builder.header(name, value);
    }
    matches!(builder.send().await, Ok(r) if r.status().is_success())
}

async fn password_sign_in(http: &Client, url: &str, user: usize) -> Option<Value> {
    let body = json!({
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": CLIENT,
        "AuthParameters": {"USERNAME": format!("bench{user}"), "PASSWORD": PASSWORD},
    });
    call(http, url, "InitiateAuth", &body).await
}

async fn srp_sign_in(http: &Client, url: &str, user: usize) -> bool {
    let username = format!("bench{user}");
    let (a, srp_a) = srp::client::start();
    let body = json!({
        "AuthFlow": "USER_SRP_AUTH",
        "ClientId": CLIENT,
        "AuthParameters": {"USERNAME": username, "SRP_A": srp_a},
    });
    let Some(challenge) = call(http, url, "InitiateAuth", &body).await else {
        return false;
    };
    let p = &challenge["ChallengeParameters"];
    let (Some(salt), Some(b), Some(block), Some(user_id)) = (
        p["SALT"].as_str(),
        p["SRP_B"].as_str(),
        p["SECRET_BLOCK"].as_str(),
        p["USER_ID_FOR_SRP"].as_str(),
    ) else {
        return false;
    };
    let timestamp = srp::format_timestamp(gatehouse::store::now());
    let Ok(signature) =
        srp::client::respond(POOL, user_id, PASSWORD, &a, salt, b, block, &timestamp)
    else {
        return false;
    };
    let mut answer = json!({
        "ChallengeName": "PASSWORD_VERIFIER",
        "ClientId": CLIENT,
        "ChallengeResponses": {
            "USERNAME": user_id,
            "PASSWORD_CLAIM_SECRET_BLOCK": block,
            "PASSWORD_CLAIM_SIGNATURE": signature,
            "TIMESTAMP": timestamp,
        },
    });
    if let Some(session) = challenge["Session"].as_str() {
        answer["Session"] = json!(session);
    }
    call(http, url, "RespondToAuthChallenge", &answer)
        .await
        .is_some_and(|v| v["AuthenticationResult"]["IdToken"].is_string())
}

/// The server side of one SRP sign-in, in process: B = k·v + g^b, then S = (A·v^u)^b and the
/// signature check (the client's half is computed beforehand).
fn raw_srp_rate() -> f64 {
    let verifier = srp::make_verifier(POOL, "bench0", PASSWORD, srp::new_salt());
    let (a, srp_a) = srp::client::start();
    let server = srp::server_start(&verifier);
    let block = "c2VjcmV0LWJsb2NrLWZvci1iZW5jaA==";
    let timestamp = srp::format_timestamp(gatehouse::store::now());
    let signature = srp::client::respond(
        POOL,
        "bench0",
        PASSWORD,
        &a,
        &srp::salt_param(&verifier),
        &srp::b_param(&server),
        block,
        &timestamp,
    )
    .unwrap();
    per_second(3, || {
        let fresh = srp::server_start(&verifier);
        std::hint::black_box(srp::b_param(&fresh));
        let claim = srp::Claim {
            pool_id: POOL,
            user_id_for_srp: "bench0",
            verifier: &verifier,
            b: &server.b,
            big_b: &server.big_b,
            srp_a: &srp_a,
            secret_block: block,
            timestamp: &timestamp,
            signature: &signature,
        };
        srp::verify_claim(&claim, gatehouse::store::now()).unwrap();
    })
}

fn main() {
    gatehouse::tokens::signer::install_crypto_providers();
    let binary = env!("CARGO_BIN_EXE_gatehouse");
    let runtime = common::load_runtime();
    runtime.block_on(async {
        let server = Server::start_with_config(binary, 0, &keys(), &extra()).await;
        SERVER_PID.store(server.pid() as usize, Ordering::Relaxed);
        let root = format!("http://127.0.0.1:{}/", server.port());
        let host = format!("127.0.0.1:{}", server.port());
        let http = Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();

        pin_self_to(0);
        let hash = gatehouse::secrets::hash_password(PASSWORD).unwrap();
        let argon = per_second(2, || {
            gatehouse::secrets::verify_password(PASSWORD, &hash);
        });
        let raw_srp = raw_srp_rate();
        // A sign-in also signs an access and an ID token with the pool's key.
        let key = {
            let store = gatehouse::store::Store::connect(server.database()).unwrap();
            let mut conn = store.conn().unwrap();
            gatehouse::store::keys::active(&mut conn, POOL).unwrap().unwrap()
        };
        let (private, signer) = (key.private_key(), gatehouse::tokens::Signer::new());
        let claims = json!({"sub": "x", "token_use": "access", "exp": 4_000_000_000u64});
        let rs256 = per_second(2, || drop(signer.sign(&private, &claims).unwrap()));
        pin_self_to(1);
        println!("{:<52} {rs256:>9.1} /s", "raw RS256 sign, pool key, server core");
        // The ceiling of a whole SRP sign-in: its modexps plus the two token signatures.
        let srp_ceiling = 1.0 / (1.0 / raw_srp + 2.0 / rs256);
        println!(
            "{:<52} {argon:>9.1} /s",
            "raw argon2id verify (19 MiB, t=2, p=1), server core"
        );
        println!(
            "{:<52} {raw_srp:>9.1} /s",
            "raw SRP server side (3 x 3072-bit modexp), server core"
        );

        // Every user signs in once by password first: that stores the SRP verifier of users
        // declared in the file.
        for user in 0..USERS {
            assert!(
                password_sign_in(&http, &root, user).await.is_some(),
                "bench{user} signs in"
            );
        }
        let tokens = password_sign_in(&http, &root, 0).await.unwrap();
        let access = tokens["AuthenticationResult"]["AccessToken"]
            .as_str()
            .unwrap()
            .to_owned();

        let (h, r) = (http.clone(), root.clone());
        let password = rate("USER_PASSWORD_AUTH sign-in (InitiateAuth)", 4, move |w| {
            let (h, r) = (h.clone(), r.clone());
            async move { password_sign_in(&h, &r, w % USERS).await.is_some() }
        })
        .await;
        println!(
            "  USER_PASSWORD_AUTH: {:.0} % of the raw argon2id rate",
            password / argon * 100.0
        );
        tokio::time::sleep(Duration::from_secs(1)).await;

        let (h, r) = (http.clone(), root.clone());
        let srp_rate = rate("USER_SRP_AUTH sign-in (Initiate + Respond)", 4, move |w| {
            let (h, r) = (h.clone(), r.clone());
            async move { srp_sign_in(&h, &r, w % USERS).await }
        })
        .await;
        println!(
            "  SRP sign-in: {:.0} % of the raw server-side SRP rate; {:.0} % of SRP + two RS256 signatures ({srp_ceiling:.0}/s)",
            srp_rate / raw_srp * 100.0,
            srp_rate / srp_ceiling * 100.0
        );
        tokio::time::sleep(Duration::from_secs(1)).await;

        let (h, r) = (http.clone(), root.clone());
        let body = Arc::new(json!({ "AccessToken": access }));
        rate("GetUser (access token)", CONCURRENCY, move |_| {
            let (h, r, body) = (h.clone(), r.clone(), body.clone());
            async move { call(&h, &r, "GetUser", &body).await.is_some() }
        })
        .await;

        let (h, r) = (http.clone(), root.clone());
        rate("AdminGetUser (SigV4)", CONCURRENCY, move |w| {
            let (h, r, host) = (h.clone(), r.clone(), host.clone());
            async move {
                let body = json!({"UserPoolId": POOL, "Username": format!("bench{}", w % USERS)});
                signed_call(&h, &r, &host, "AdminGetUser", &body).await
            }
        })
        .await;
        drop(server);
    });
}
