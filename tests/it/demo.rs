//! The demo app at `/demo/` and the index page at `/`: in process over a real socket on both
//! backends, then through the real binary, its banner and Chromium (docs/integrating.md, "The
//! demo app").

use crate::binary::{Running, free_port, gatehouse, line_value, npm_packages};
use crate::hosted::{input_value, location, param};
use crate::on_both_backends_with;
use crate::support::{TestDb, example_declaration, spawn_server_with};
use gatehouse::provision::{self, DEMO_CLIENT_ID, DEMO_PASSWORD, DEMO_POOL_ID};
use gatehouse::settings::DemoApp;
use reqwest::StatusCode;
use std::process::Command;

const PUBLIC: &str = "http://localhost:7070";

pub(crate) struct Demo {
    _db: TestDb,
    base: String,
}

impl Demo {
    async fn start(db: TestDb) -> Demo {
        Self::with(db, true, true)
    }

    /// The demo pool and the example file's pools (the first on a domain of its own), served
    /// with or without the demo app and the index page.
    fn with(db: TestDb, demo: bool, index: bool) -> Demo {
        {
            let mut conn = db.store.conn().unwrap();
            provision::ensure_demo(&mut conn, PUBLIC).unwrap();
            let mut declaration = example_declaration();
            declaration.pools[0].pool.domain = Some("auth.example.test".into());
            provision::apply(&mut conn, &declaration).unwrap();
        }
        let server = spawn_server_with(db.store.clone(), |settings| {
            settings.demo = demo.then(|| DemoApp {
                pool_id: DEMO_POOL_ID.into(),
                client_id: DEMO_CLIENT_ID.into(),
            });
            settings.index_page = index;
        });
        Demo {
            _db: db,
            base: server.base,
        }
    }

    /// A URL of the public URL (or a path), reached at the test server.
    fn here(&self, url: &str) -> String {
        match url.strip_prefix(PUBLIC) {
            Some(rest) => format!("{}{rest}", self.base),
            None if url.starts_with('/') => format!("{}{url}", self.base),
            None => url.to_owned(),
        }
    }

    /// GETs `url` and follows redirects; the last status, URL and body.
    async fn follow(&self, b: &reqwest::Client, url: &str) -> (StatusCode, String, String) {
        let mut url = self.here(url);
        for _ in 0..10 {
            let response = b.get(&url).send().await.unwrap();
            match response.headers().get("location") {
                Some(next) => url = self.here(next.to_str().unwrap()),
                None => return (response.status(), url, response.text().await.unwrap()),
            }
        }
        panic!("more than 10 redirects");
    }

    /// From `/demo/` through the sign-in page to the callback: the callback URL and the nonce
    /// the demo app sent.
    async fn sign_in(&self, b: &reqwest::Client) -> (String, String) {
        let start = b.get(self.here("/demo/")).send().await.unwrap();
        let authorize = location(&start);
        let nonce = param(&authorize, "nonce").unwrap();
        let (status, url, html) = self.follow(b, &authorize).await;
        assert_eq!(status, StatusCode::OK);
        assert!(url.contains("/local_DemoPool1/login?"), "{url}");
        let csrf = input_value(&html, "_csrf");
        let form = [
            ("_csrf", csrf.as_str()),
            ("username", "demo"),
            ("password", DEMO_PASSWORD),
        ];
        let response = b.post(&url).form(&form).send().await.unwrap();
        let callback = location(&response);
        assert!(
            callback.starts_with(&format!("{PUBLIC}/demo/callback?code=")),
            "{callback}"
        );
        (callback, nonce)
    }
}

fn browser() -> reqwest::Client {
    crate::hosted::browser()
}

/// The text of the element with `id` (tokens are base64url: nothing is escaped).
fn element(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("#{id} in {html}"))
        + marker.len();
    html[start..].split('<').next().unwrap().to_owned()
}

on_both_backends_with!(
    Demo;
    signs_in_refreshes_and_signs_out,
    callback_problems_are_readable_pages,
    index_lists_pools_but_not_on_a_pool_domain,
);

async fn signs_in_refreshes_and_signs_out(site: Demo) {
    let b = browser();
    let start = b.get(site.here("/demo/")).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::FOUND);
    let authorize = location(&start);
    assert!(
        authorize.starts_with(&format!("{PUBLIC}/{DEMO_POOL_ID}/oauth2/authorize?")),
        "{authorize}"
    );
    let pending = start.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(pending.starts_with("gatehouse_demo_pending="), "{pending}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/demo/", "Max-Age=600"] {
        assert!(pending.contains(attribute), "{pending}");
    }
    // The verifier stays in the cookie; the pool sees only its S256 challenge.
    let verifier = pending
        .split(['=', ';'])
        .nth(1)
        .unwrap()
        .rsplit('.')
        .next()
        .unwrap();
    assert!(!authorize.contains(verifier));
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        param(&authorize, "code_challenge"),
        Some(gatehouse::oauth::pkce::challenge(verifier))
    );
    assert_eq!(
        param(&authorize, "scope").as_deref(),
        Some("openid email profile")
    );
    assert_eq!(
        param(&authorize, "redirect_uri").as_deref(),
        Some("http://localhost:7070/demo/callback")
    );

    let b = browser();
    let (callback, nonce) = site.sign_in(&b).await;
    let response = b.get(site.here(&callback)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let refresh_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gatehouse_demo_refresh="))
        .expect("the refresh token is kept");
    assert!(refresh_cookie.contains("HttpOnly") && refresh_cookie.contains("Path=/demo/"));
    let html = response.text().await.unwrap();
    assert!(
        html.contains("It worked — you are signed in as demo"),
        "{html}"
    );
    for shown in [
        "<code>cognito:username</code></th><td>demo</td>",
        "<code>email</code></th><td>demo@example.com</td>",
        &format!("<code>aud</code></th><td>{DEMO_CLIENT_ID}</td>"),
        &format!("<code>iss</code></th><td>{PUBLIC}/{DEMO_POOL_ID}</td>"),
        "<code>token_use</code></th><td>id</td>",
        "<details><summary>ID token</summary>",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    let id_token = element(&html, "id-token");
    assert_eq!(crate::hosted::claims(&id_token)["nonce"], nonce.as_str());
    let user_info = element(&html, "userinfo").replace("&#34;", "\"");
    assert!(
        user_info.contains("\"email\": \"demo@example.com\""),
        "{user_info}"
    );
    let (access, refresh_token) = (
        element(&html, "access-token"),
        element(&html, "refresh-token"),
    );
    // The code was spent: the same callback again is a readable refusal.
    let (status, _, again) = site.follow(&b, &callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(again.contains("not started here"), "{again}");

    let refreshed = b.post(site.here("/demo/refresh")).send().await.unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let html = refreshed.text().await.unwrap();
    assert!(
        html.contains("New tokens, from the refresh token."),
        "{html}"
    );
    assert!(html.contains("<code>cognito:username</code></th><td>demo</td>"));
    assert_ne!(element(&html, "access-token"), access);
    assert_eq!(element(&html, "refresh-token"), refresh_token);

    let out = b.post(site.here("/demo/logout")).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let pool_logout = location(&out);
    assert_eq!(
        pool_logout,
        format!(
            "{PUBLIC}/{DEMO_POOL_ID}/logout?client_id={DEMO_CLIENT_ID}&logout_uri=http%3A%2F%2Flocalhost%3A7070%2Fdemo%2F"
        )
    );
    let back = b.get(site.here(&pool_logout)).send().await.unwrap();
    assert_eq!(location(&back), format!("{PUBLIC}/demo/"));
    // Signed out everywhere: the refresh token was revoked and forgotten, and the hosted pages
    // ask for the password again.
    let revoked = reqwest::Client::new()
        .post(site.here(&format!("/{DEMO_POOL_ID}/oauth2/token")))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("refresh_token", &refresh_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::BAD_REQUEST);
    let (status, _, html) = site.follow(&b, "/demo/refresh").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "refresh is POST only: {html}"
    );
    let refused = b.post(site.here("/demo/refresh")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("sign in first"));
    let (_, url, _) = site.follow(&b, "/demo/").await;
    assert!(url.contains("/local_DemoPool1/login?"), "{url}");
}

async fn callback_problems_are_readable_pages(site: Demo) {
    let b = browser();
    let page = |response: reqwest::Response| async move {
        let status = response.status();
        let html_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(html_type.starts_with("text/html"), "{html_type}");
        (status, response.text().await.unwrap())
    };
    let get = |path: &str| b.get(site.here(path)).send();

    let (status, html) = page(
        get("/demo/callback?error=access_denied&error_description=The+user+cancelled")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("The pool did not sign you in."), "{html}");
    assert!(html.contains("access_denied: The user cancelled"));
    assert!(html.contains(r#"href="http://localhost:7070/demo/">Try again</a>"#));

    let (status, html) = page(get("/demo/callback?code=abc&state=xyz").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("not started here"), "{html}");

    let (status, html) = page(get("/demo/callback?state=a&state=b").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("malformed"), "{html}");

    // A started sign-in answered with another state, then with a code the pool never issued.
    let start = get("/demo/").await.unwrap();
    let state = param(&location(&start), "state").unwrap();
    let (status, html) = page(get("/demo/callback?code=abc&state=other").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("state is not the one this browser sent"),
        "{html}"
    );
    get("/demo/").await.unwrap();
    let state_again = {
        let start = get("/demo/").await.unwrap();
        param(&location(&start), "state").unwrap()
    };
    assert_ne!(state, state_again, "every sign-in has its own state");
    let (status, html) = page(
        get(&format!("/demo/callback?code=abc&state={state_again}"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("The pool refused to give this app tokens."),
        "{html}"
    );
    assert!(html.contains("invalid_grant"), "{html}");

    let (status, html) = page(get("/demo/callback").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
}

async fn index_lists_pools_but_not_on_a_pool_domain(site: Demo) {
    let b = browser();
    let (status, _, html) = site.follow(&b, "/").await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "<code>local_DemoPool1</code>",
        "<code>http://localhost:7070/local_DemoPool1</code>",
        "http://localhost:7070/local_DemoPool1/.well-known/openid-configuration",
        "<code>local_Example01</code>",
        r#"<a href="http://localhost:7070/demo/">"#,
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    // At the root of a pool's own domain, `/` is not found, as it always was.
    let on_domain = b
        .get(site.here("/"))
        .header("Host", "auth.example.test")
        .send()
        .await
        .unwrap();
    assert_eq!(on_domain.status(), StatusCode::NOT_FOUND);
    let css = b.get(site.here("/static/wide.css")).send().await.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
}

/// Without the demo (a file was given), `/demo/` is no route; `/` can be turned off.
#[actix_web::test]
async fn demo_and_index_are_absent_when_off() {
    let site = Demo::with(TestDb::sqlite(), false, false);
    let b = browser();
    for path in ["/demo/", "/demo/callback?code=a&state=b", "/"] {
        let response = b.get(site.here(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let response = b.post(site.here("/demo/refresh")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// Follows redirects from `url` with a blocking client; the last status, URL and body.
fn follow_blocking(b: &reqwest::blocking::Client, url: &str) -> (StatusCode, String, String) {
    let mut url = url.to_owned();
    for _ in 0..10 {
        let response = b.get(&url).send().unwrap();
        match response.headers().get("location") {
            Some(next) => {
                url = reqwest::Url::parse(&url)
                    .unwrap()
                    .join(next.to_str().unwrap())
                    .unwrap()
                    .to_string();
            }
            None => return (response.status(), url, response.text().unwrap()),
        }
    }
    panic!("more than 10 redirects from {url}");
}

fn serve_demo(dir: &std::path::Path, db: &TestDb, port: u16, extra: &[&str]) -> Running {
    let mut command = gatehouse(dir);
    command.args(["serve", "--database-url", &db.url]);
    command.args(["--public-url", &format!("http://127.0.0.1:{port}")]);
    command.args(extra);
    Running::start_on(command, &format!("127.0.0.1:{port}"))
}

/// The real binary: the printed "Sign in" link leads to the success page; the banner shows the
/// demo password only while it is the demo user's password; `--no-index-page`,
/// `GATEHOUSE_INDEX_PAGE=false` and `--config` turn off what they should.
fn banner_link_signs_in_and_the_password_is_printed_while_it_holds(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut running = serve_demo(dir.path(), &db, port, &[]);
    let output = running.output();
    assert_eq!(
        line_value(&output, "User:"),
        "demo / Demo-Passw0rd",
        "{output}"
    );
    let start = line_value(&output, "Sign in:");
    assert_eq!(start, format!("{base}/demo/"));
    gatehouse::tokens::signer::install_crypto_providers();
    let b = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let (_, login, html) = follow_blocking(&b, &start);
    assert!(login.contains("/local_DemoPool1/login?"), "{login}");
    let csrf = input_value(&html, "_csrf");
    let signed_in = b
        .post(&login)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "demo"),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .unwrap();
    let callback = signed_in.headers()["location"].to_str().unwrap().to_owned();
    let (status, _, html) = follow_blocking(&b, &callback);
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("It worked — you are signed in as demo"),
        "{html}"
    );
    let (status, _, index) = follow_blocking(&b, &format!("{base}/"));
    assert_eq!(status, StatusCode::OK);
    assert!(index.contains(&format!(r#"<a href="{start}">"#)), "{index}");
    assert!(running.stop().success());

    // The user changes the password; the next start no longer prints the old one.
    {
        let mut conn = db.store.conn().unwrap();
        let pool = gatehouse::store::pools::get(&mut conn, DEMO_POOL_ID).unwrap();
        let mut user = gatehouse::store::users::find_by_username(&mut conn, &pool, "demo")
            .unwrap()
            .unwrap();
        user.password_hash = Some(gatehouse::secrets::hash_password("Changed-Passw0rd1").unwrap());
        gatehouse::store::users::update(&mut conn, &pool, &user).unwrap();
    }
    let mut running = serve_demo(dir.path(), &db, port, &["--no-index-page"]);
    let output = running.output();
    assert_eq!(
        line_value(&output, "User:"),
        "demo (password changed since the demo was created)"
    );
    assert!(!output.contains(DEMO_PASSWORD), "{output}");
    assert_eq!(http_status(&b, &format!("{base}/")), StatusCode::NOT_FOUND);
    assert_eq!(http_status(&b, &start), StatusCode::FOUND);
    assert!(running.stop().success());

    let config = crate::binary::write_example(dir.path());
    let mut command = gatehouse(dir.path());
    command.args([
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--database-url",
        &db.url,
    ]);
    command.env("GATEHOUSE_INDEX_PAGE", "false");
    crate::binary::with_example_env(&mut command);
    let running = Running::start(command);
    for path in ["/", "/demo/", "/demo/callback"] {
        let url = format!("{}{path}", running.base);
        assert_eq!(http_status(&b, &url), StatusCode::NOT_FOUND, "{path}");
    }
    let status = running.stop();
    assert!(status.success(), "{status:?}");
}

fn http_status(b: &reqwest::blocking::Client, url: &str) -> StatusCode {
    b.get(url).send().unwrap().status()
}

#[test]
fn sqlite_banner_link_signs_in_and_the_password_is_printed_while_it_holds() {
    banner_link_signs_in_and_the_password_is_printed_while_it_holds(TestDb::sqlite());
}

#[test]
fn postgres_banner_link_signs_in_and_the_password_is_printed_while_it_holds() {
    if let Some(db) = TestDb::postgres() {
        banner_link_signs_in_and_the_password_is_printed_while_it_holds(db);
    }
}

/// tests/browser/demo.mjs: Chromium opens the link the binary printed, signs in with the printed
/// password, sees the success page and its claims, refreshes, signs in again and signs out.
#[test]
fn demo_app_works_in_a_real_browser() {
    let scripts = npm_packages("tests/browser");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = gatehouse(dir.path());
    command.args(["serve", "--public-url", &format!("http://127.0.0.1:{port}")]);
    let mut running = Running::start_on(command, &format!("127.0.0.1:{port}"));
    let output = running.output();
    let link = line_value(&output, "Sign in:");
    let user = line_value(&output, "User:");
    let (username, password) = user
        .split_once(" / ")
        .expect("the banner prints the password");
    let result = Command::new("node")
        .arg(scripts.join("demo.mjs"))
        .env("DEMO_URL", &link)
        .env("DEMO_USERNAME", username)
        .env("DEMO_PASSWORD", password)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "demo.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert!(running.stop().success());
}
