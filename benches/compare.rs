//! Compares two server builds on the token endpoint and userInfo, so that a change of a few percent can be
//! told from this machine's drift:
//! `GATEHOUSE_COMPARE_A=old/gatehouse GATEHOUSE_COMPARE_B=new/gatehouse cargo bench --bench compare`.
//!
//! Both servers run pinned to CPU 0 at once, each on its own SQLite file; the load (from CPU 1)
//! alternates between them in short slices (A B B A …), so a slower or faster moment of the
//! machine falls on both alike. Each slice counts the grants served and the CPU time the server
//! used for them (from /proc, in nanoseconds); the figure is grants per second of server CPU.
//! Without GATEHOUSE_COMPARE_B, A is compared with itself (the method's own noise).

mod common;

use common::{
    CALLBACK, CHALLENGE, CONCURRENCY, ROTATING, SECRET, Server, VERIFIER, WEB, form_csrf, param,
    pin_self_to,
};
use reqwest::Client;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ROUNDS: usize = 12;
const SLICE: Duration = Duration::from_millis(700);

/// One server under comparison, with the material its grants consume.
struct Side {
    name: &'static str,
    server: Server,
    token_url: String,
    codes: Arc<std::sync::Mutex<Vec<String>>>,
    chains: Arc<Vec<std::sync::Mutex<String>>>,
    /// An access token of this server, presented again and again at userInfo.
    access_token: String,
}

impl Side {
    async fn start(name: &'static str, binary: &str, http: &Client) -> Self {
        let server = Server::start(binary, 0).await;
        let base = server.base();
        let browser = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        let login = format!(
            "{base}/login?response_type=code&client_id={WEB}&redirect_uri={CALLBACK}&scope=openid+email+profile"
        );
        let page = browser
            .get(&login)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let form = [
            ("_csrf", form_csrf(&page)),
            ("username", "alice".into()),
            ("password", "Alice-Passw0rd".into()),
        ];
        assert_eq!(
            browser
                .post(&login)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status(),
            302
        );
        // Enough codes for every exchange slice, issued by single sign-on.
        let authorize = format!(
            "{base}/oauth2/authorize?response_type=code&client_id={WEB}&redirect_uri={CALLBACK}&scope=openid+email+profile"
        );
        let wanted = ROUNDS * (SLICE.as_millis() as usize) * 3;
        let codes = Arc::new(std::sync::Mutex::new(Vec::with_capacity(wanted)));
        let tasks: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let (browser, authorize, codes) =
                    (browser.clone(), authorize.clone(), codes.clone());
                tokio::spawn(async move {
                    for _ in 0..wanted / CONCURRENCY {
                        let r = browser.get(&authorize).send().await.unwrap();
                        let location = r.headers()["location"].to_str().unwrap().to_owned();
                        codes
                            .lock()
                            .unwrap()
                            .push(param(&location, "code").unwrap());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // One rotating refresh chain per connection.
        let token_url = format!("{base}/oauth2/token");
        let rotating = format!(
            "{base}/oauth2/authorize?response_type=code&client_id={ROTATING}&redirect_uri={CALLBACK}&scope=openid+email&code_challenge={CHALLENGE}&code_challenge_method=S256"
        );
        let mut chains = Vec::new();
        let mut access_token = String::new();
        for _ in 0..CONCURRENCY {
            let r = browser.get(&rotating).send().await.unwrap();
            let code = param(r.headers()["location"].to_str().unwrap(), "code").unwrap();
            let tokens: Value = http
                .post(&token_url)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", ROTATING),
                    ("code", &code),
                    ("redirect_uri", CALLBACK),
                    ("code_verifier", VERIFIER),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
            access_token = tokens["access_token"].as_str().unwrap().to_owned();
            chains.push(std::sync::Mutex::new(refresh));
        }
        Self {
            name,
            server,
            token_url,
            codes,
            chains: Arc::new(chains),
            access_token,
        }
    }

    /// Runs one slice of `grant` against this server: (grants served, server CPU seconds).
    async fn slice(&self, grant: Grant, http: &Client) -> (usize, f64) {
        let done = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + SLICE;
        let cpu_before = self.server.cpu_seconds();
        let tasks: Vec<_> = (0..CONCURRENCY)
            .map(|worker| {
                let (http, url, done) = (http.clone(), self.token_url.clone(), done.clone());
                let (codes, chains) = (self.codes.clone(), self.chains.clone());
                let access_token = self.access_token.clone();
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        let ok = match grant {
                            Grant::Exchange => {
                                let Some(code) = codes.lock().unwrap().pop() else {
                                    break;
                                };
                                let form = [
                                    ("grant_type", "authorization_code"),
                                    ("code", &code),
                                    ("redirect_uri", CALLBACK),
                                ];
                                let r = http.post(&url).basic_auth(WEB, Some(SECRET)).form(&form);
                                match r.send().await {
                                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                                    _ => false,
                                }
                            }
                            Grant::Refresh => {
                                let current = chains[worker].lock().unwrap().clone();
                                let form = [
                                    ("grant_type", "refresh_token"),
                                    ("client_id", ROTATING),
                                    ("refresh_token", &current),
                                ];
                                let body: Option<Value> =
                                    match http.post(&url).form(&form).send().await {
                                        Ok(r) => r.json().await.ok(),
                                        Err(_) => None,
                                    };
                                match body.as_ref().and_then(|b| b["refresh_token"].as_str()) {
                                    Some(next) => {
                                        *chains[worker].lock().unwrap() = next.to_owned();
                                        true
                                    }
                                    None => false,
                                }
                            }
                            Grant::UserInfo => {
                                let user_info = url.replace("/oauth2/token", "/oauth2/userInfo");
                                let r = http.get(&user_info).bearer_auth(&access_token);
                                match r.send().await {
                                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                                    _ => false,
                                }
                            }
                        };
                        assert!(ok, "a grant failed");
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // Responses are read before the slice ends, so the server's work for them is done.
        (
            done.load(Ordering::Relaxed),
            self.server.cpu_seconds() - cpu_before,
        )
    }
}

#[derive(Clone, Copy, Debug)]
enum Grant {
    Exchange,
    Refresh,
    /// userInfo with one access token: the verified-token cache's path.
    UserInfo,
}

fn main() {
    gatehouse::tokens::signer::install_crypto_providers();
    let a = std::env::var("GATEHOUSE_COMPARE_A")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_gatehouse").to_owned());
    let b = std::env::var("GATEHOUSE_COMPARE_B").unwrap_or_else(|_| a.clone());
    common::load_runtime().block_on(async move {
        pin_self_to(1);
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        let sides = [Side::start("A", &a, &http).await, Side::start("B", &b, &http).await];
        println!("A: {a}\nB: {b}");
        println!("{ROUNDS} rounds of {} ms per server and grant, A B B A …\n", SLICE.as_millis());
        for grant in [Grant::Exchange, Grant::Refresh, Grant::UserInfo] {
            let mut totals = [(0usize, 0f64); 2];
            let mut ratios = Vec::new();
            for round in 0..ROUNDS {
                let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
                let mut rates = [0f64; 2];
                for side in order {
                    let (count, cpu) = sides[side].slice(grant, &http).await;
                    totals[side].0 += count;
                    totals[side].1 += cpu;
                    rates[side] = count as f64 / cpu.max(1e-6);
                }
                ratios.push(rates[1] / rates[0]);
            }
            ratios.sort_by(f64::total_cmp);
            let per_cpu = |side: usize| totals[side].0 as f64 / totals[side].1;
            println!(
                "{grant:?}: {} {:.0}/s, {} {:.0}/s per server CPU-second; B/A {:+.1} % (rounds: median {:+.1} %, {:+.1} … {:+.1} %)",
                sides[0].name,
                per_cpu(0),
                sides[1].name,
                per_cpu(1),
                (per_cpu(1) / per_cpu(0) - 1.0) * 100.0,
                (ratios[ROUNDS / 2] - 1.0) * 100.0,
                (ratios[0] - 1.0) * 100.0,
                (ratios[ROUNDS - 1] - 1.0) * 100.0,
            );
        }
    });
}
