//! What hooks and imports cost, with the server on one core, in release:
//! `cargo bench --bench hooks` (docs/triggers.md and docs/migrating.md, "Performance").
//!
//! The release binary runs pinned to CPU 0 on a SQLite database; this process (load generator
//! and a minimal pre token generation hook, each on threads of their own) runs on CPU 1. Each
//! figure is read per second of the server's CPU, beside what the same core allows in the same
//! run: refresh without a hook, a bare HTTP round trip, raw bcrypt and argon2id, and the
//! import command's own start-up.

mod common;

use base64::Engine;
use common::{CONCURRENCY, Server, pin_self_to};
use reqwest::Client;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECONDS: u64 = 4;
const PLAIN: &str = "local_BenchPlan";
const HOOKED: &str = "local_BenchHook";
const PLAIN_CLIENT: &str = "benchplainclient0000000000";
const HOOKED_CLIENT: &str = "benchhookclient00000000000";
const PASSWORD: &str = "Bench-Passw0rd";
const HOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const USERS: usize = 8;
/// Users imported with a bcrypt hash, each signing in for the first time once.
const LEGACY_USERS: usize = 64;
const IMPORT_ROWS: usize = 10_000;
/// The hook's fixed answer: one claim added to the access token.
const HOOK_ANSWER: &str = r#"{"response":{"claimsAndScopeOverrideDetails":{"accessTokenGeneration":{"claimsToAddOrOverride":{"bench_tier":"gold"}}}}}"#;

fn pool(id: &str, client: &str, triggers: &str) -> String {
    let mut out = format!(
        r#"
[[pool]]
id = "{id}"
name = "{id}"
auto_verified_attributes = ["email"]

[[pool.client]]
id = "{client}"
name = "bench"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#
    );
    for i in 0..USERS {
        out.push_str(&format!(
            "[[pool.user]]\nusername = \"bench{i}\"\npassword = \"{PASSWORD}\"\n"
        ));
    }
    out.push_str(triggers);
    out
}

// ---- the hook: HTTP/1.1 with keep-alive on std sockets, one thread per connection ----

#[derive(Default)]
struct HookStats {
    calls: AtomicU64,
    /// CPU time of the hook's connection threads, in nanoseconds.
    cpu_ns: AtomicU64,
    last_event: Mutex<Vec<u8>>,
}

fn thread_cpu_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: only writes to the local passed by pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// Pins the calling thread (only) to `cpu`.
fn pin_thread_to(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the calls only read and write it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn start_hook(stats: Arc<HookStats>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let stats = stats.clone();
            std::thread::spawn(move || serve_hook(stream, &stats));
        }
    });
    port
}

fn serve_hook(stream: TcpStream, stats: &HookStats) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{HOOK_ANSWER}",
        HOOK_ANSWER.len()
    );
    let (mut line, mut body) = (String::new(), Vec::new());
    let mut cpu = thread_cpu_ns();
    loop {
        let mut length = 0;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
        }
        body.resize(length, 0);
        if reader.read_exact(&mut body).is_err() || writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
        if stats.calls.fetch_add(1, Ordering::Relaxed) == 0 {
            *stats.last_event.lock().unwrap() = body.clone();
        }
        let now = thread_cpu_ns();
        stats.cpu_ns.fetch_add(now - cpu, Ordering::Relaxed);
        cpu = now;
    }
}

/// A bare POST of `body` to the hook from reqwest, on one thread pinned to the server's core:
/// (round trips per second, client CPU µs per round trip).
fn raw_round_trip(port: u16, body: Vec<u8>) -> (f64, f64) {
    std::thread::spawn(move || {
        pin_thread_to(0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let http = Client::new();
            let url = format!("http://127.0.0.1:{port}/pre-token");
            let post = || {
                http.post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
            };
            post().await.unwrap().bytes().await.unwrap();
            let (start, cpu) = (Instant::now(), thread_cpu_ns());
            let mut n = 0;
            while start.elapsed() < Duration::from_secs(2) {
                let answer = post().await.unwrap().bytes().await.unwrap();
                assert_eq!(answer.len(), HOOK_ANSWER.len());
                n += 1;
            }
            let cpu_us = (thread_cpu_ns() - cpu) as f64 / 1e3 / n as f64;
            (n as f64 / start.elapsed().as_secs_f64(), cpu_us)
        })
    })
    .join()
    .unwrap()
}

// ---- load through the JSON API ----

static SERVER_PID: AtomicUsize = AtomicUsize::new(0);

fn server_cpu_seconds() -> f64 {
    common::cpu_seconds_of(SERVER_PID.load(Ordering::Relaxed) as u32)
}

/// Successful operations per second of server CPU (and of wall time), from `concurrency` tasks.
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
        "{name:<56} {:>8.0} /s  {per_cpu:>8.0} per server CPU-second{}",
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

async fn initiate(http: &Client, url: &str, body: &Value) -> Option<Value> {
    let response = http
        .post(url)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.InitiateAuth",
        )
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    let ok = response.status().is_success();
    let value: Value = response.json().await.ok()?;
    ok.then_some(value)
}

async fn sign_in(http: &Client, url: &str, client: &str, username: &str) -> Option<Value> {
    let body = json!({
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client,
        "AuthParameters": {"USERNAME": username, "PASSWORD": PASSWORD},
    });
    let answer = initiate(http, url, &body).await?;
    answer["AuthenticationResult"]["AccessToken"]
        .is_string()
        .then_some(answer)
}

async fn refresh(http: &Client, url: &str, client: &str, token: &str) -> Option<Value> {
    let body = json!({
        "AuthFlow": "REFRESH_TOKEN_AUTH",
        "ClientId": client,
        "AuthParameters": {"REFRESH_TOKEN": token},
    });
    initiate(http, url, &body).await
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn refresh_tokens(http: &Client, url: &str, client: &str) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..USERS {
        let answer = sign_in(http, url, client, &format!("bench{i}")).await;
        let answer = answer.unwrap_or_else(|| panic!("bench{i} signs in to {client}"));
        out.push(
            answer["AuthenticationResult"]["RefreshToken"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    out
}

async fn refresh_rate(
    name: &str,
    http: &Client,
    url: &str,
    client: &str,
    tokens: &[String],
) -> f64 {
    let (h, u, c, t) = (
        http.clone(),
        url.to_owned(),
        client.to_owned(),
        Arc::new(tokens.to_vec()),
    );
    rate(name, CONCURRENCY, move |w| {
        let (h, u, c, t) = (h.clone(), u.clone(), c.clone(), t.clone());
        async move { refresh(&h, &u, &c, &t[w % t.len()]).await.is_some() }
    })
    .await
}

// ---- the CSV import ----

/// A CSV in the pool's `GetCSVHeader` format plus `password_hash`: `rows` users named
/// `{prefix}{i}` with a unique verified email, each with `hash` when given.
fn csv_file(path: &Path, header: &[String], prefix: &str, rows: usize, hash: Option<&str>) {
    let mut out = csv::Writer::from_path(path).unwrap();
    let mut columns = header.to_vec();
    columns.push("password_hash".into());
    out.write_record(&columns).unwrap();
    for i in 0..rows {
        let username = format!("{prefix}{i}");
        let record: Vec<String> = columns
            .iter()
            .map(|column| match column.as_str() {
                "cognito:username" => username.clone(),
                "email" => format!("{username}@example.com"),
                "email_verified" => "true".into(),
                "cognito:mfa_enabled" => "false".into(),
                "password_hash" => hash.unwrap_or_default().into(),
                _ => String::new(),
            })
            .collect();
        out.write_record(&record).unwrap();
    }
    out.flush().unwrap();
}

/// CPU seconds of every child this process has waited for.
fn children_cpu_seconds() -> f64 {
    // SAFETY: a zeroed rusage is valid; getrusage only writes to it.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// `gatehouse users import` pinned to CPU 0: (wall seconds, CPU seconds); panics unless
/// every row was imported.
fn import(binary: &str, database: &str, pool: &str, file: &Path, rows: usize) -> (f64, f64) {
    let (start, cpu) = (Instant::now(), children_cpu_seconds());
    let output = Command::new("taskset")
        .args(["-c", "0", binary, "users", "import", "--pool", pool])
        .arg(file)
        .args(["--database-url", database])
        .env("GATEHOUSE_LOG", "warn")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let (wall, cpu) = (start.elapsed().as_secs_f64(), children_cpu_seconds() - cpu);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().last().unwrap_or_default();
    assert_eq!(
        summary,
        format!("Imported: {rows}, Skipped: 0, Failed: 0"),
        "{}",
        stdout.lines().take(3).collect::<Vec<_>>().join("\n")
    );
    (wall, cpu)
}

fn main() {
    gatehouse::tokens::signer::install_crypto_providers();
    let binary = env!("CARGO_BIN_EXE_gatehouse");
    let stats = Arc::new(HookStats::default());
    let hook_port = start_hook(stats.clone());
    let triggers = format!(
        "\n[pool.triggers]\npre_token_generation = {{ url = \"http://127.0.0.1:{hook_port}/pre-token\", secret = \"{HOOK_SECRET}\", version = \"V2_0\" }}\n"
    );
    let pools = format!(
        "{}{}",
        pool(PLAIN, PLAIN_CLIENT, ""),
        pool(HOOKED, HOOKED_CLIENT, &triggers)
    );
    let runtime = common::load_runtime();
    runtime.block_on(async {
        let server = Server::start_with_config(binary, 0, "", &pools).await;
        SERVER_PID.store(server.pid() as usize, Ordering::Relaxed);
        let url = format!("http://127.0.0.1:{}/", server.port());
        let http = Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        let work = tempfile::tempdir().unwrap();

        // Raw costs on the server's core, this process alone on it.
        pin_self_to(0);
        let argon_hash = gatehouse::secrets::hash_password(PASSWORD).unwrap();
        let argon_verify = per_second(2, || {
            gatehouse::secrets::verify_password(PASSWORD, &argon_hash);
        });
        let argon_make = per_second(2, || {
            std::hint::black_box(gatehouse::secrets::hash_password(PASSWORD).unwrap());
        });
        let bcrypt_hash = bcrypt::hash(PASSWORD, 10).unwrap();
        let bcrypt_verify = per_second(2, || {
            assert!(bcrypt::verify(PASSWORD, &bcrypt_hash).unwrap());
        });
        let srp_verifier = per_second(1, || {
            let salt = gatehouse::api::srp::new_salt();
            std::hint::black_box(gatehouse::api::srp::make_verifier(
                PLAIN, "bench0", PASSWORD, salt,
            ));
        });
        let key = {
            let store = gatehouse::store::Store::connect(server.database()).unwrap();
            let mut conn = store.conn().unwrap();
            gatehouse::store::keys::active(&mut conn, PLAIN)
                .unwrap()
                .unwrap()
        };
        let (private, signer) = (key.private_key(), gatehouse::tokens::Signer::new());
        let payload = json!({"sub": "x", "token_use": "access", "exp": 4_000_000_000u64});
        let rs256 = per_second(2, || drop(signer.sign(&private, &payload).unwrap()));
        pin_self_to(1);
        for (name, value) in [
            ("raw argon2id verify (19 MiB, t=2, p=1)", argon_verify),
            ("raw argon2id hash (19 MiB, t=2, p=1)", argon_make),
            ("raw bcrypt verify, cost 10", bcrypt_verify),
            ("raw SRP verifier (one 3072-bit modexp)", srp_verifier),
            ("raw RS256 sign, pool key", rs256),
        ] {
            println!("{name:<56} {value:>8.1} /s on the server core");
        }

        // 1. Refresh with and without a V2 pre token generation hook.
        println!("\n-- REFRESH_TOKEN_AUTH, {CONCURRENCY} clients, hook on CPU 1 --");
        let plain_tokens = refresh_tokens(&http, &url, PLAIN_CLIENT).await;
        let hooked_tokens = refresh_tokens(&http, &url, HOOKED_CLIENT).await;
        let answer = refresh(&http, &url, HOOKED_CLIENT, &hooked_tokens[0])
            .await
            .expect("a refresh through the hook");
        let access = answer["AuthenticationResult"]["AccessToken"].as_str().unwrap();
        assert_eq!(claims(access)["bench_tier"], "gold", "the hook's claim");
        let (mut plain, mut hooked) = (Vec::new(), Vec::new());
        let (calls0, hook_cpu0) = (
            stats.calls.load(Ordering::Relaxed),
            stats.cpu_ns.load(Ordering::Relaxed),
        );
        for _ in 0..2 {
            plain.push(refresh_rate("refresh, no hook", &http, &url, PLAIN_CLIENT, &plain_tokens).await);
            hooked.push(
                refresh_rate("refresh, V2 hook adding a claim", &http, &url, HOOKED_CLIENT, &hooked_tokens).await,
            );
        }
        let calls = stats.calls.load(Ordering::Relaxed) - calls0;
        let hook_us = (stats.cpu_ns.load(Ordering::Relaxed) - hook_cpu0) as f64 / 1e3 / calls as f64;
        let event = stats.last_event.lock().unwrap().clone();
        let (round_trips, http_us) = raw_round_trip(hook_port, event.clone());
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (plain, hooked) = (mean(&plain), mean(&hooked));
        let hook_cost_us = (1.0 / hooked - 1.0 / plain) * 1e6;
        println!(
            "{:<56} {round_trips:>8.0} /s  {http_us:>8.1} µs client CPU each",
            format!("raw POST of the {}-byte event to the hook (reqwest)", event.len())
        );
        println!(
            "  refresh with a V2 hook: {hooked:.0}/s = {:.0} % of refresh without ({plain:.0}/s); \
             the hook call costs {hook_cost_us:.0} µs of server CPU, of which {http_us:.0} µs is \
             the HTTP round trip; the hook itself used {hook_us:.0} µs per call on CPU 1",
            hooked / plain * 100.0
        );

        // 2. First sign-in of users imported with a bcrypt hash.
        println!("\n-- USER_PASSWORD_AUTH of users imported with a bcrypt (cost 10) hash --");
        let header = {
            let store = gatehouse::store::Store::connect(server.database()).unwrap();
            let mut conn = store.conn().unwrap();
            let pool = gatehouse::store::pools::get(&mut conn, PLAIN).unwrap();
            gatehouse::flows::user_import::header(&pool)
        };
        let legacy = work.path().join("legacy.csv");
        csv_file(&legacy, &header, "legacy", LEGACY_USERS, Some(&bcrypt_hash));
        import(binary, server.database(), PLAIN, &legacy, LEGACY_USERS);
        let mut per_sign_in = Vec::new();
        for round in ["first sign-in (bcrypt + argon2id rehash)", "second sign-in (argon2id)"] {
            let cpu = server_cpu_seconds();
            let start = Instant::now();
            // Two at a time keep the server's core busy while this side reads the answer.
            for pair in (0..LEGACY_USERS).collect::<Vec<_>>().chunks(2) {
                let ins = pair.iter().map(|i| {
                    let (h, u) = (http.clone(), url.clone());
                    async move { sign_in(&h, &u, PLAIN_CLIENT, &format!("legacy{i}")).await }
                });
                for answer in futures_util::future::join_all(ins).await {
                    assert!(answer.is_some(), "an imported user signs in");
                }
            }
            let ms = (server_cpu_seconds() - cpu) * 1e3 / LEGACY_USERS as f64;
            let wall = LEGACY_USERS as f64 / start.elapsed().as_secs_f64();
            println!("{round:<56} {wall:>8.1} /s  {ms:>8.1} ms server CPU each");
            per_sign_in.push(ms);
        }
        let ms = |rate: f64| 1e3 / rate;
        let first_floor =
            ms(bcrypt_verify) + ms(argon_make) + ms(srp_verifier) + 2.0 * ms(rs256);
        let again_floor = ms(argon_verify) + 2.0 * ms(rs256);
        println!(
            "  first sign-in: {:.1} ms of server CPU; raw bcrypt verify {:.1} + argon2id hash {:.1} \
             + SRP verifier {:.1} + two RS256 {:.1} = {first_floor:.1} ms ({:.0} %)",
            per_sign_in[0],
            ms(bcrypt_verify),
            ms(argon_make),
            ms(srp_verifier),
            2.0 * ms(rs256),
            first_floor / per_sign_in[0] * 100.0
        );
        println!(
            "  later sign-ins: {:.1} ms; raw argon2id verify + two RS256 = {again_floor:.1} ms ({:.0} %)",
            per_sign_in[1],
            again_floor / per_sign_in[1] * 100.0
        );

        // 3. `gatehouse users import` of 10,000 rows.
        println!("\n-- gatehouse users import, SQLite, pinned to CPU 0, 100 rows per transaction --");
        let empty = work.path().join("empty.csv");
        csv_file(&empty, &header, "none", 0, None);
        let (start_wall, start_cpu) = import(binary, server.database(), PLAIN, &empty, 0);
        println!(
            "{:<56} {:>8.3} s wall  {start_cpu:>8.3} s CPU",
            "start-up alone (header only)", start_wall
        );
        for (name, prefix, hash) in [
            ("10,000 rows without a hash", "bulk", None),
            ("10,000 rows with a PHC argon2id hash", "hashed", Some(argon_hash.as_str())),
        ] {
            let file = work.path().join(format!("{prefix}.csv"));
            csv_file(&file, &header, prefix, IMPORT_ROWS, hash);
            let (wall, cpu) = import(binary, server.database(), PLAIN, &file, IMPORT_ROWS);
            println!(
                "{name:<56} {:>8.0} users/s  {:>8.0} per CPU-second ({wall:.2} s wall, {cpu:.2} s CPU)",
                IMPORT_ROWS as f64 / wall,
                IMPORT_ROWS as f64 / (cpu - start_cpu).max(0.001)
            );
        }
        drop(server);
    });
}
