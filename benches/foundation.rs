//! Costs of the foundation's hot operations, in release: `cargo bench --bench foundation`.
//! Each figure is the median of 5 samples; HTTP figures are sequential keep-alive requests
//! from one client to the in-process server (SQLite, 2 workers).

use gatehouse::app::{self, AppState};
use gatehouse::secrets::{self, SecretDigest};
use gatehouse::settings::Settings;
use gatehouse::store::{self, Store};
use gatehouse::tokens::{Signer, keys, signer};
use std::time::{Duration, Instant};

fn median_rate(samples: usize, mut run: impl FnMut() -> (usize, Duration)) -> f64 {
    let mut rates: Vec<f64> = (0..samples)
        .map(|_| {
            let (n, elapsed) = run();
            n as f64 / elapsed.as_secs_f64()
        })
        .collect();
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rates[samples / 2]
}

fn timed(n: usize, mut op: impl FnMut()) -> (usize, Duration) {
    let start = Instant::now();
    for _ in 0..n {
        op();
    }
    (n, start.elapsed())
}

fn report(name: &str, rate: f64) {
    println!("{name:<48} {rate:>12.0} /s  {:>10.3} ms", 1000.0 / rate);
}

fn main() {
    signer::install_crypto_providers();

    let hash = secrets::hash_password("Correct-Horse-1").unwrap();
    report(
        "argon2id verify (19 MiB, t=2, p=1)",
        median_rate(5, || {
            timed(20, || {
                assert!(secrets::verify_password("Correct-Horse-1", &hash))
            })
        }),
    );
    let digest = SecretDigest::of("a-client-secret-of-fifty-one-characters-0123456789a");
    report(
        "client secret check (SHA-256 + constant-time eq)",
        median_rate(5, || {
            timed(200_000, || {
                assert!(digest.matches("a-client-secret-of-fifty-one-characters-0123456789a"))
            })
        }),
    );

    let key_start = Instant::now();
    let generated = keys::generate().unwrap();
    println!(
        "{:<48} {:>12.1} ms",
        "RSA-2048 key generation (one)",
        key_start.elapsed().as_secs_f64() * 1000.0
    );
    let private = gatehouse::tokens::PrivateKey {
        kid: generated.kid.clone(),
        pem: generated.private_key_pem.clone(),
    };
    let signer = Signer::new();
    let claims = serde_json::json!({
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "aud": "exampleclientid0000000000a",
        "email_verified": true, "token_use": "id", "auth_time": 1_500_009_400u64,
        "iss": "http://localhost:7070/local_Example01", "cognito:username": "janedoe",
        "exp": 4_000_000_000u64, "given_name": "Jane", "iat": 1_500_009_400u64, "email": "janedoe@example.com"
    });
    report(
        "RS256 sign, ID-token-sized claims (aws-lc)",
        median_rate(5, || {
            timed(500, || drop(signer.sign(&private, &claims).unwrap()))
        }),
    );
    let token = signer.sign(&private, &claims).unwrap();
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        &generated.public_jwk.n,
        &generated.public_jwk.e,
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    report(
        "RS256 verify (jsonwebtoken, aws-lc)",
        median_rate(5, || {
            timed(5_000, || {
                drop(
                    jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation)
                        .unwrap(),
                )
            })
        }),
    );

    // HTTP: discovery and JWKS of a pool on SQLite, over loopback.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).unwrap();
    store.migrate().unwrap();
    {
        let mut conn = store.conn().unwrap();
        gatehouse::provision::ensure_demo(&mut conn, "http://localhost:7070").unwrap();
        report(
            "store: client lookup by id (SQLite)",
            median_rate(5, || {
                timed(20_000, || {
                    drop(
                        store::clients::get(
                            &mut conn,
                            "local_DemoPool1",
                            "democlient0000000000000000",
                        )
                        .unwrap(),
                    )
                })
            }),
        );
    }
    let settings = Settings::new("127.0.0.1:0".into(), "http://localhost:7070", url, None).unwrap();
    actix_web::rt::System::new().block_on(async move {
        let (server, addrs) = app::bind(AppState::new(store, settings).unwrap()).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let client = reqwest::Client::new();
        for (name, path) in [
            (
                "GET discovery (HTTP, keep-alive, 1 client)",
                "/local_DemoPool1/.well-known/openid-configuration",
            ),
            (
                "GET jwks.json (HTTP, keep-alive, 1 client)",
                "/local_DemoPool1/.well-known/jwks.json",
            ),
            ("GET /health (HTTP, keep-alive, 1 client)", "/health"),
        ] {
            let url = format!("http://{}{path}", addrs[0]);
            let mut rates = Vec::new();
            for _ in 0..5 {
                let n = 1_000;
                let start = Instant::now();
                for _ in 0..n {
                    let response = client.get(&url).send().await.unwrap();
                    assert!(response.status().is_success());
                    response.bytes().await.unwrap();
                }
                rates.push(n as f64 / start.elapsed().as_secs_f64());
            }
            rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
            report(name, rates[2]);
        }
        handle.stop(true).await;
    });
}
