//! Throughput of the protocol endpoints with the server on one core, in release:
//! `cargo bench --bench protocol`.
//!
//! The release binary runs pinned to CPU 0 (`taskset -c 0`) on a SQLite database; this load
//! generator pins itself to CPU 1 and drives it over loopback with keep-alive connections.
//! Raw RS256 signing and verification with the same pool key are measured first, on CPU 0
//! while the server idles, so each endpoint's rate can be read against what the cryptography
//! alone allows on that core.

mod common;

use common::{
    CALLBACK, CHALLENGE, CONCURRENCY, POOL, ROTATING, SECRET, Server, VERIFIER, WEB, form_csrf,
    param, pin_self_to,
};
use gatehouse::store::{self, Store};
use gatehouse::tokens::Signer;
use reqwest::Client;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECONDS: u64 = 5;

/// CPU seconds the server under load has used.
fn server_cpu_seconds() -> f64 {
    common::cpu_seconds_of(SERVER_PID.load(Ordering::Relaxed) as u32)
}

static SERVER_PID: AtomicUsize = AtomicUsize::new(0);

/// Runs `op` from CONCURRENCY tasks for SECONDS; returns successful operations per second, and
/// prints them per second of wall time and per second of server CPU.
async fn rate<F, Fut>(name: &str, op: F) -> Rate
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    rate_at_most(name, usize::MAX, op).await
}

/// Like `rate`, stopping early after `limit` operations (work prepared in advance).
async fn rate_at_most<F, Fut>(name: &str, limit: usize, op: F) -> Rate
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    // GATEHOUSE_BENCH_ONLY=userInfo measures only the figures whose name contains it (profiling).
    if std::env::var("GATEHOUSE_BENCH_ONLY").is_ok_and(|only| !name.contains(&only)) {
        return Rate {
            wall: 1.0,
            per_cpu: 1.0,
        };
    }
    let op = Arc::new(op);
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let start = Instant::now();
    let cpu_start = server_cpu_seconds();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let (op, done, failed, started) =
                (op.clone(), done.clone(), failed.clone(), started.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline && started.fetch_add(1, Ordering::Relaxed) < limit {
                    if op(worker).await {
                        done.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let count = done.load(Ordering::Relaxed) as f64;
    let per_second = count / start.elapsed().as_secs_f64();
    let per_cpu_second = count / (server_cpu_seconds() - cpu_start).max(0.01);
    let failures = failed.load(Ordering::Relaxed);
    println!(
        "{name:<52} {per_second:>9.0} /s  {per_cpu_second:>9.0} per server CPU-second{}",
        if failures > 0 {
            format!("  ({failures} failed)")
        } else {
            String::new()
        }
    );
    Rate {
        wall: per_second,
        per_cpu: per_cpu_second,
    }
}

/// Operations per second of wall time, and per second of the server's CPU time.
#[derive(Clone, Copy)]
struct Rate {
    wall: f64,
    per_cpu: f64,
}

/// RS256 signatures per second on the server's core for one second, the server idle. Measured
/// before and after a figure, their mean is the ceiling it is read against (this machine's
/// speed drifts by tens of percent within minutes).
fn sign_rate_on_server_core(
    signer: &Signer,
    key: &gatehouse::tokens::PrivateKey,
    claims: &Value,
) -> f64 {
    pin_self_to(0);
    let rate = per_second(1, || drop(signer.sign(key, claims).unwrap()));
    pin_self_to(1);
    rate
}

/// How many times per second `op` runs, over `seconds` of repeating it.
fn per_second(seconds: u64, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        op();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn print_share(what: &str, rate: Rate, signatures: f64, sign_rates: (f64, f64)) {
    let ceiling = (sign_rates.0 + sign_rates.1) / 2.0 / signatures;
    println!(
        "  {what}: {:.0} % of the {signatures:.0}-signature ceiling ({ceiling:.0}/s; signing on the server's core {:.0}/s before, {:.0}/s after)",
        rate.per_cpu / ceiling * 100.0,
        sign_rates.0,
        sign_rates.1
    );
}

/// Requests at a fixed rate (open loop) for SECONDS; prints latency percentiles.
async fn latency_at(name: &str, per_second: f64, client: Client, url: String) {
    let interval = Duration::from_secs_f64(1.0 / per_second);
    let mut ticker = tokio::time::interval(interval);
    let count = (per_second * SECONDS as f64) as usize;
    let mut handles = Vec::with_capacity(count);
    for _ in 0..count {
        ticker.tick().await;
        let (client, url) = (client.clone(), url.clone());
        handles.push(tokio::spawn(async move {
            let start = Instant::now();
            let response = client
                .post(url)
                .basic_auth(WEB, Some(SECRET))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await;
            let ok = matches!(&response, Ok(r) if r.status().is_success());
            if let Ok(r) = response {
                let _ = r.bytes().await;
            }
            (start.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    for handle in handles {
        let (elapsed, ok) = handle.await.unwrap();
        assert!(ok);
        latencies.push(elapsed);
    }
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{name:<52} at {per_second:>6.0}/s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
}

/// A wrong password for an existing user and any password for a name that does not exist take
/// the same path (one argon2id check): prints the median and mean time of each, one request at
/// a time, alternating, each from its own forwarded address so throttling stays out of it.
async fn failed_sign_in_timing(login: &str) {
    if std::env::var("GATEHOUSE_BENCH_ONLY").is_ok_and(|only| !"failed sign-in".contains(&only)) {
        return;
    }
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let html = browser
        .get(login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&html);
    let mut attempt = 0u32;
    let mut fail = |username: String| {
        attempt += 1;
        let address = format!(
            "10.{}.{}.{}",
            attempt >> 16,
            (attempt >> 8) & 255,
            attempt & 255
        );
        let post = browser
            .post(login)
            .header("X-Forwarded-For", address)
            .form(&[
                ("_csrf", csrf.clone()),
                ("username", username),
                ("password", "Wrong-Passw0rd9".into()),
            ]);
        async move {
            let start = Instant::now();
            let response = post.send().await.unwrap();
            let body = response.text().await.unwrap();
            assert!(
                body.contains("Incorrect username or password."),
                "a plain failure, not a lock"
            );
            start.elapsed()
        }
    };
    for round in 0..4 {
        for user in 0..common::TIMING_USERS {
            known.push(fail(format!("timing{user}")).await);
            unknown.push(fail(format!("nobody-{user}-{round}")).await);
        }
    }
    let summary = |times: &mut Vec<Duration>| {
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        (
            times[times.len() / 2].as_secs_f64() * 1e3,
            mean.as_secs_f64() * 1e3,
        )
    };
    let ((known_median, known_mean), (unknown_median, unknown_mean)) =
        (summary(&mut known), summary(&mut unknown));
    println!(
        "{:<52} known user: median {known_median:.2} ms, mean {known_mean:.2} ms; unknown name: median {unknown_median:.2} ms, mean {unknown_mean:.2} ms ({:+.1} % median)",
        "failed sign-in, one at a time",
        (unknown_median / known_median - 1.0) * 100.0
    );
}

/// A 2xx whose body was read completely.
async fn succeeded(response: reqwest::Result<reqwest::Response>) -> bool {
    match response {
        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
        _ => false,
    }
}

fn main() {
    gatehouse::tokens::signer::install_crypto_providers();
    // GATEHOUSE_BENCH_BIN runs another build (e.g. one with symbols, for a profiler).
    let server_binary = std::env::var("GATEHOUSE_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_gatehouse").to_owned());
    common::load_runtime().block_on(async move {
        let server = Server::start(&server_binary, 0).await;
        SERVER_PID.store(server.pid() as usize, Ordering::Relaxed);
        let (port, database, base) = (server.port(), server.database().to_owned(), server.base());
        let http = Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(64).build().unwrap();
        println!("server: release build, 1 core (taskset -c 0), SQLite; load: {CONCURRENCY} connections from CPU 1, {SECONDS} s per figure\n");
        // The raw figures are measured on the server's core (idle meanwhile), so each endpoint is
        // compared with what the cryptography allows on the core it runs on.
        pin_self_to(0);

        // The pool's own key, signing and verifying on this core.
        let key = {
            let store = Store::connect(&database).unwrap();
            let mut conn = store.conn().unwrap();
            store::keys::active(&mut conn, POOL).unwrap().unwrap()
        };
        let (private, jwk) = (key.private_key(), key.jwk().unwrap());
        let signer = Signer::new();
        let claims = serde_json::json!({"sub": WEB, "iss": base, "client_id": WEB, "token_use": "access", "scope": "https://api.example.com/read", "exp": 4_000_000_000u64, "iat": 1, "jti": "x", "version": 2});
        let sign_rate = per_second(2, || drop(signer.sign(&private, &claims).unwrap()));
        let token = signer.sign(&private, &claims).unwrap();
        let public = gatehouse::tokens::verifier::PublicKey::from_jwk(&jwk.n, &jwk.e).unwrap();
        let expect = gatehouse::tokens::verifier::Expect { issuer: &base, now: Some(gatehouse::store::now()) };
        let verify_rate = per_second(2, || {
            gatehouse::tokens::verifier::verify::<Value>(&token, &public, &expect).unwrap();
        });
        let hash = gatehouse::secrets::hash_password("Alice-Passw0rd").unwrap();
        let argon_rate = per_second(2, || {
            gatehouse::secrets::verify_password("Alice-Passw0rd", &hash);
        });
        println!("{:<52} {sign_rate:>9.0} /s", "raw RS256 sign, pool key (aws-lc, key parsed once)");
        println!("{:<52} {verify_rate:>9.0} /s", "raw RS256 verify, pool key (parsed once, claims checked)");
        println!("{:<52} {argon_rate:>9.1} /s", "raw argon2id verify (19 MiB, t=2, p=1)");
        println!();
        pin_self_to(1);

        // The floor every endpoint stands on: HTTP over loopback, a static answer, no database
        // and no cryptography.
        {
            let (http, url) = (http.clone(), format!("http://127.0.0.1:{port}/static/gatehouse.js"));
            rate("HTTP floor: GET a static file (no database, no crypto)", move |_| {
                let (http, url) = (http.clone(), url.clone());
                async move { succeeded(http.get(url).send().await).await }
            })
            .await;
        }

        let token_url = format!("{base}/oauth2/token");
        let cc_before = sign_rate_on_server_core(&signer, &private, &claims);
        let cc = {
            let (http, url) = (http.clone(), token_url.clone());
            rate("client_credentials grant", move |_| {
                let (http, url) = (http.clone(), url.clone());
                async move {
                    let r = http.post(url).basic_auth(WEB, Some(SECRET)).form(&[("grant_type", "client_credentials")]).send().await;
                    succeeded(r).await
                }
            })
            .await
        };
        let cc_sign_rates = (cc_before, sign_rate_on_server_core(&signer, &private, &claims));

        // A signed-in browser: codes come from single sign-on, without the password each time.
        let browser = Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
        let authorize = format!("{base}/oauth2/authorize?response_type=code&client_id={WEB}&redirect_uri={CALLBACK}&scope=openid+email+profile");
        let login = format!("{base}/login?response_type=code&client_id={WEB}&redirect_uri={CALLBACK}&scope=openid+email+profile");
        let page = browser.get(&login).send().await.unwrap().text().await.unwrap();
        let signed_in = browser.post(&login).form(&[("_csrf", form_csrf(&page)), ("username", "alice".into()), ("password", "Alice-Passw0rd".into())]).send().await.unwrap();
        assert_eq!(signed_in.status(), 302);
        let codes = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        {
            let (browser, authorize, codes) = (browser.clone(), authorize.clone(), codes.clone());
            rate("authorize with a session (SSO, code issued)", move |_| {
                let (browser, authorize, codes) = (browser.clone(), authorize.clone(), codes.clone());
                async move {
                    let Ok(r) = browser.get(authorize).send().await else { return false };
                    let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned();
                    match param(&location, "code") {
                        Some(code) => { codes.lock().unwrap().push(code); true }
                        None => false,
                    }
                }
            })
            .await;
        }
        let exchange_before = sign_rate_on_server_core(&signer, &private, &claims);
        let exchange = {
            let (http, url, codes) = (http.clone(), token_url.clone(), codes.clone());
            rate("authorization_code exchange (ID + access + refresh)", move |_| {
                let (http, url) = (http.clone(), url.clone());
                let code = codes.lock().unwrap().pop();
                async move {
                    let Some(code) = code else { return false };
                    let r = http.post(url).basic_auth(WEB, Some(SECRET))
                        .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)]).send().await;
                    succeeded(r).await
                }
            })
            .await
        };
        let exchange_sign_rates = (exchange_before, sign_rate_on_server_core(&signer, &private, &claims));

        // One rotating refresh chain per connection.
        let rotating_login = format!("{base}/oauth2/authorize?response_type=code&client_id={ROTATING}&redirect_uri={CALLBACK}&scope=openid+email&code_challenge={CHALLENGE}&code_challenge_method=S256");
        let mut chains = Vec::new();
        let mut access_token = String::new();
        for _ in 0..CONCURRENCY {
            let r = browser.get(&rotating_login).send().await.unwrap();
            let code = param(r.headers()["location"].to_str().unwrap(), "code").unwrap();
            let tokens: Value = http.post(&token_url).form(&[("grant_type", "authorization_code"), ("client_id", ROTATING), ("code", &code), ("redirect_uri", CALLBACK), ("code_verifier", VERIFIER)])
                .send().await.unwrap().json().await.unwrap();
            access_token = tokens["access_token"].as_str().unwrap().to_owned();
            chains.push(std::sync::Mutex::new(tokens["refresh_token"].as_str().unwrap().to_owned()));
        }
        let chains = Arc::new(chains);
        let refresh_before = sign_rate_on_server_core(&signer, &private, &claims);
        let refresh = {
            let (http, url, chains) = (http.clone(), token_url.clone(), chains.clone());
            rate("refresh_token grant with rotation (ID + access + refresh)", move |worker| {
                let (http, url, chains) = (http.clone(), url.clone(), chains.clone());
                async move {
                    let current = chains[worker].lock().unwrap().clone();
                    let Ok(r) = http.post(url).form(&[("grant_type", "refresh_token"), ("client_id", ROTATING), ("refresh_token", &current)]).send().await else { return false };
                    let Ok(body) = r.json::<Value>().await else { return false };
                    match body["refresh_token"].as_str() {
                        Some(next) => { *chains[worker].lock().unwrap() = next.to_owned(); true }
                        None => false,
                    }
                }
            })
            .await
        };
        let refresh_sign_rates = (refresh_before, sign_rate_on_server_core(&signer, &private, &claims));

        let userinfo = {
            let (http, url, token) = (http.clone(), format!("{base}/oauth2/userInfo"), access_token.clone());
            rate("userInfo", move |_| {
                let (http, url, token) = (http.clone(), url.clone(), token.clone());
                async move {
                    let r = http.get(url).bearer_auth(token).send().await;
                    succeeded(r).await
                }
            })
            .await
        };
        // The same, but every call presents a token never seen before, so each one is verified
        // (RSA) rather than found among the verified ones. The tokens are the server's access
        // token with a new jti each, signed in advance with the pool key.
        let userinfo_first_use = {
            let payload = access_token.split('.').nth(1).unwrap();
            let claims: Value = serde_json::from_slice(&base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap()).unwrap();
            let fresh: Vec<String> = (0..12_000)
                .map(|i| {
                    let mut claims = claims.clone();
                    claims["jti"] = Value::from(format!("bench-{i}"));
                    signer.sign(&private, &claims).unwrap()
                })
                .collect();
            let fresh = Arc::new(std::sync::Mutex::new(fresh));
            let (http, url) = (http.clone(), format!("{base}/oauth2/userInfo"));
            rate_at_most("userInfo, each token presented once", 12_000, move |_| {
                let (http, url) = (http.clone(), url.clone());
                let token = fresh.lock().unwrap().pop();
                async move {
                    let Some(token) = token else { return false };
                    succeeded(http.get(url).bearer_auth(token).send().await).await
                }
            })
            .await
        };
        let sign_in = {
            let (login, _) = (login.clone(), ());
            rate("password sign-in (POST /login, argon2id + code)", move |_| {
                let login = login.clone();
                async move {
                    let browser = Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
                    let Ok(page) = browser.get(&login).send().await else { return false };
                    let Ok(html) = page.text().await else { return false };
                    let r = browser.post(&login).form(&[("_csrf", form_csrf(&html)), ("username", "alice".into()), ("password", "Alice-Passw0rd".into())]).send().await;
                    matches!(r, Ok(r) if r.status() == 302)
                }
            })
            .await
        };
        failed_sign_in_timing(&login).await;
        println!();
        println!("Per core (per second of server CPU):");
        print_share("client_credentials", cc, 1.0, cc_sign_rates);
        print_share("code exchange", exchange, 2.0, exchange_sign_rates);
        print_share("refresh with rotation", refresh, 2.0, refresh_sign_rates);
        println!(
            "  code exchange {:.0}/s, refresh with rotation {:.0}/s, userInfo {:.0}/s ({:.0}/s for tokens seen once)",
            exchange.per_cpu, refresh.per_cpu, userinfo.per_cpu, userinfo_first_use.per_cpu
        );
        println!(
            "  password sign-in: {:.0} % of the raw argon2id rate",
            sign_in.per_cpu / argon_rate * 100.0
        );
        // Let the sign-in load drain (argon2 work still queued on the server) before measuring
        // latency: the figure is of the token endpoint, not of the previous test's tail.
        actix_web::rt::time::sleep(Duration::from_secs(3)).await;
        latency_at("client_credentials latency", (cc.wall / 2.0).max(1.0), http.clone(), token_url.clone()).await;
    });
}
