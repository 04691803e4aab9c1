//! Every parameter and error case of the protocol endpoints, over a real socket, on SQLite and
//! on PostgreSQL.

use crate::on_both_backends_with;
use crate::support::{EXAMPLE_CONFIG, TestDb, example_env, spawn_server};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gatehouse::provision;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

const POOL: &str = "local_Example01";
const WEB: &str = "exampleclientid0000000000a";
const MOBILE: &str = "examplepublicclient0000000";
const ROTATING: &str = "rotatingclient000000000000";
const ROTATING_TOO: &str = "rotatingclient00000000000b";
const LIMITED: &str = "limitedclient0000000000000";
const PARTNER_ONLY: &str = "partneronlyclient000000000";
const SHORT_LIVED: &str = "shortlivedclient0000000000";
const CALLBACK: &str = "http://localhost:3000/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The example pool, plus clients and users that exercise rotation, read limits, disabled and
/// temporary-password users, and an identity provider.
const EXTRA: &str = r#"
[[pool.client]]
id = "rotatingclient000000000000"
name = "rotating"
callback_urls = ["http://localhost:3000/callback"]
logout_urls = ["http://localhost:3000/bye"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email", "profile"]
rotate_refresh_tokens = true

[[pool.client]]
id = "rotatingclient00000000000b"
name = "rotating too"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid"]
supported_identity_providers = ["COGNITO", "Partner"]
rotate_refresh_tokens = true

[[pool.client]]
id = "limitedclient0000000000000"
name = "limited"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code", "implicit"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]
read_attributes = ["email"]

[[pool.client]]
id = "partneronlyclient000000000"
name = "partner only"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid"]
supported_identity_providers = ["Partner"]

[[pool.client]]
id = "shortlivedclient0000000000"
name = "short-lived"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "phone"]
access_token_validity_minutes = 5
id_token_validity_minutes = 10
refresh_token_validity_minutes = 60
enable_token_revocation = false

[[pool.group]]
name = "staff"
precedence = 5

[[pool.group]]
name = "readers"
precedence = 2

[[pool.user]]
username = "dave"
password = "Dave-Passw0rd"
groups = ["staff", "readers", "admins"]
attributes = { phone_number = "+15555550100", phone_number_verified = "true", email = "dave@example.com" }

[[pool.user]]
username = "erin"
password = "Erin-Passw0rd"

[[pool.user]]
username = "bob"
password = "Bob-Passw0rd"
enabled = false

[[pool.user]]
username = "carol"
password = "Temp-Passw0rd"
status = "FORCE_CHANGE_PASSWORD"

[[pool.identity_provider]]
name = "Partner"
type = "OIDC"
idp_identifiers = ["example.org"]
[pool.identity_provider.details]
client_id = "gatehouse"
authorize_scopes = "openid email"
oidc_issuer = "http://localhost:8081"
"#;

struct Pool {
    db: TestDb,
    base: String,
    http: reqwest::Client,
}

/// The callback each client registered (the mobile client has only its app scheme).
fn callback(client: &str) -> &'static str {
    if client == MOBILE {
        "myapp://callback"
    } else {
        CALLBACK
    }
}

fn secret() -> String {
    example_env("EXAMPLE_CLIENT_SECRET").unwrap()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().copied())
        .finish()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The value of `name` in the query or fragment of a redirect.
fn param(location: &str, name: &str) -> Option<String> {
    let part = location
        .split_once(['?', '#'])
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    url::form_urlencoded::parse(part.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The `_csrf` token of the sign-in page at `login`, as `browser` gets it.
async fn page_token(browser: &reqwest::Client, login: &str) -> String {
    csrf(
        &browser
            .get(login)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
}

/// Posts the sign-in form to `to` with `token`, adding `headers`.
async fn post_sign_in(
    browser: &reqwest::Client,
    to: &str,
    token: &str,
    username: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut post = browser.post(to).form(&[
        ("_csrf", token),
        ("username", username),
        ("password", password),
    ]);
    for (name, value) in headers {
        post = post.header(*name, *value);
    }
    post.send().await.unwrap()
}

fn csrf(html: &str) -> String {
    let start = html
        .find("name=\"_csrf\" value=\"")
        .expect("form has _csrf")
        + 20;
    html[start..].split('"').next().unwrap().to_owned()
}

impl Pool {
    async fn start(db: TestDb) -> Pool {
        let text = format!("{EXAMPLE_CONFIG}{EXTRA}");
        let declaration =
            gatehouse::config::parse(&text, Path::new("t.toml"), Path::new("."), &example_env)
                .unwrap();
        provision::apply(&mut db.store.conn().unwrap(), &declaration).unwrap();
        let server = spawn_server(db.store.clone());
        Pool {
            db,
            base: format!("{}/{POOL}", server.base),
            http: server.client,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn authorize(
        &self,
        browser: &reqwest::Client,
        pairs: &[(&str, &str)],
    ) -> reqwest::Response {
        browser
            .get(format!(
                "{}?{}",
                self.url("/oauth2/authorize"),
                query(pairs)
            ))
            .send()
            .await
            .unwrap()
    }

    /// Signs in on the hosted page and returns the final response (a redirect on success).
    async fn sign_in(
        &self,
        browser: &reqwest::Client,
        pairs: &[(&str, &str)],
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let login = format!("{}?{}", self.url("/login"), query(pairs));
        let page = browser.get(&login).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "login page for {pairs:?}");
        let html = page.text().await.unwrap();
        post_sign_in(browser, &login, &csrf(&html), username, password, &[]).await
    }

    /// A fresh code for `client` (PKCE when `pkce`).
    async fn code(&self, client: &str, scope: &str, pkce: bool) -> String {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", callback(client)),
            ("scope", scope),
            ("state", "st"),
        ];
        if pkce {
            pairs.extend([
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ]);
        }
        let response = self
            .sign_in(&browser(), &pairs, "alice", "Alice-Passw0rd")
            .await;
        let location = location(&response);
        assert_eq!(
            param(&location, "state").as_deref(),
            Some("st"),
            "{location}"
        );
        param(&location, "code").unwrap_or_else(|| panic!("a code in {location}"))
    }

    async fn token(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self.http.post(self.url("/oauth2/token")).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (
            status,
            response.json().await.unwrap_or(Value::Null),
            headers,
        )
    }

    async fn exchange(
        &self,
        client: &str,
        code: &str,
        verifier: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", code),
            ("redirect_uri", callback(client)),
        ];
        form.extend(verifier.map(|v| ("code_verifier", v)));
        let (status, body, _) = self.token(&form, None).await;
        (status, body)
    }

    /// The web client's tokens for `code` (Basic authentication), after checking they came.
    async fn web_tokens(&self, code: &str) -> Value {
        let (status, tokens, _) = self
            .token(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", CALLBACK),
                ],
                Some((WEB, &secret())),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    async fn user_info(&self, access_token: &str) -> (StatusCode, Value, String) {
        let response = self
            .http
            .get(self.url("/oauth2/userInfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (
            status,
            response.json().await.unwrap_or(Value::Null),
            challenge,
        )
    }
}

on_both_backends_with!(
    Pool;
    discovery_lists_every_endpoint,
    untrusted_clients_and_redirects_get_a_page_never_a_redirect,
    authorize_errors_redirect_with_state,
    pkce_parameters_are_checked,
    scopes_are_checked_and_defaulted,
    identity_provider_parameters,
    prompt_max_age_and_single_sign_on,
    login_hint_and_locale_reach_the_page,
    sign_in_errors_do_not_reveal_accounts,
    temporary_password_must_be_replaced,
    failed_sign_ins_are_throttled,
    behind_a_trusted_proxy_failures_count_per_forwarded_address,
    malformed_authorize_parameters_are_reported_to_the_client,
    a_client_without_cognito_reaches_its_sign_in_options,
    malformed_api_requests_get_the_protocol_error,
    introspection_and_userinfo_drop_a_disabled_users_tokens,
    client_lifetimes_groups_and_the_phone_scope,
    a_refresh_may_narrow_its_scopes_but_not_widen_them,
    sessions_are_digests_and_single_sign_on_keeps_the_first_sign_in,
    hostile_paths_queries_and_cookies_never_get_a_server_error,
    implicit_flow_returns_tokens_in_the_fragment,
    code_exchange_checks_everything,
    replayed_code_revokes_its_tokens,
    token_endpoint_rejects_bad_requests_and_clients,
    refresh_keeps_auth_time_and_rotation_detects_reuse,
    client_credentials_grants_custom_scopes_only,
    userinfo_filters_by_scope_and_read_attributes,
    userinfo_rejects_bad_tokens,
    logout_in_all_its_forms,
    revoke_and_introspect,
    parallel_redemptions_of_one_code_succeed_once,
    parallel_uses_of_a_rotating_refresh_token_succeed_once,
);

async fn discovery_lists_every_endpoint(pool: Pool) {
    let doc: Value = pool
        .http
        .get(pool.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (key, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userInfo"),
        ("revocation_endpoint", "/oauth2/revoke"),
        ("introspection_endpoint", "/oauth2/introspect"),
        ("end_session_endpoint", "/logout"),
    ] {
        assert_eq!(
            doc[key],
            format!("http://localhost:7070/{POOL}{path}"),
            "{key}"
        );
    }
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials"
        ])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        doc["response_types_supported"],
        serde_json::json!(["code", "token"])
    );
    let claims = doc["claims_supported"].as_array().unwrap();
    // Every claim of the tokens this pool issued is listed, the custom attribute included.
    let code = pool.code(WEB, "openid email profile", false).await;
    let tokens = pool.web_tokens(&code).await;
    for jwt in ["id_token", "access_token"] {
        for (claim, _) in crate::protocol::claims(tokens[jwt].as_str().unwrap())
            .as_object()
            .unwrap()
        {
            assert!(claims.iter().any(|c| c == claim), "{claim} of the {jwt}");
        }
    }
    assert!(claims.iter().any(|c| c == "custom:tier"));
}

async fn untrusted_clients_and_redirects_get_a_page_never_a_redirect(pool: Pool) {
    let b = browser();
    for pairs in [
        vec![("response_type", "code"), ("redirect_uri", CALLBACK)],
        vec![
            ("response_type", "code"),
            ("client_id", "nosuchclient00000000000000"),
            ("redirect_uri", CALLBACK),
        ],
        vec![("response_type", "code"), ("client_id", MOBILE)],
        vec![
            ("response_type", "code"),
            ("client_id", MOBILE),
            ("redirect_uri", "https://evil.example/cb"),
        ],
        vec![
            ("response_type", "code"),
            ("client_id", MOBILE),
            ("redirect_uri", "myapp://callback/extra"),
        ],
    ] {
        let response = pool.authorize(&b, &pairs).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{pairs:?}");
        assert!(response.headers().get("location").is_none());
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("errorMessage-customizable")
        );
    }
    let duplicated = b
        .get(format!(
            "{}?client_id={MOBILE}&client_id={WEB}",
            pool.url("/oauth2/authorize")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicated.status(), StatusCode::BAD_REQUEST);
    let login = b
        .get(format!(
            "{}?client_id={MOBILE}&redirect_uri=https://evil.example/",
            pool.url("/login")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::BAD_REQUEST);
}

async fn authorize_errors_redirect_with_state(pool: Pool) {
    let b = browser();
    let missing = pool
        .authorize(
            &b,
            &[
                ("client_id", WEB),
                ("redirect_uri", CALLBACK),
                ("state", "s1"),
            ],
        )
        .await;
    assert_eq!(missing.status(), StatusCode::FOUND);
    let loc = location(&missing);
    assert!(loc.starts_with("http://localhost:3000/callback?"), "{loc}");
    assert_eq!(param(&loc, "error").as_deref(), Some("invalid_request"));
    assert!(param(&loc, "error_description").is_some());
    assert_eq!(param(&loc, "state").as_deref(), Some("s1"));

    let unsupported = pool
        .authorize(
            &b,
            &[
                ("response_type", "id_token"),
                ("client_id", WEB),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
    assert_eq!(
        param(&location(&unsupported), "error").as_deref(),
        Some("unsupported_response_type")
    );

    // The mobile client may not use the implicit flow: the error goes in the fragment.
    let implicit = pool
        .authorize(
            &b,
            &[
                ("response_type", "token"),
                ("client_id", MOBILE),
                ("redirect_uri", "myapp://callback"),
                ("state", "s2"),
            ],
        )
        .await;
    let loc = location(&implicit);
    assert!(loc.starts_with("myapp://callback#"), "{loc}");
    assert_eq!(param(&loc, "error").as_deref(), Some("unauthorized_client"));
    assert_eq!(param(&loc, "state").as_deref(), Some("s2"));

    let long = "x".repeat(3000);
    let too_long = pool
        .authorize(
            &b,
            &[
                ("response_type", "code"),
                ("client_id", WEB),
                ("redirect_uri", CALLBACK),
                ("state", &long),
            ],
        )
        .await;
    assert_eq!(
        param(&location(&too_long), "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(param(&location(&too_long), "state"), None, "not echoed");
}

/// A malformed parameter other than client_id or redirect_uri goes back to the client as
/// `invalid_request`; those two are shown on a page. Values are never altered on the way.
async fn malformed_authorize_parameters_are_reported_to_the_client(pool: Pool) {
    let b = browser();
    let url = pool.url("/oauth2/authorize");
    let base = format!(
        "response_type=code&client_id={WEB}&{}",
        query(&[("redirect_uri", CALLBACK)])
    );
    let get = |q: String| {
        let (b, url) = (b.clone(), url.clone());
        async move { b.get(format!("{url}?{q}")).send().await.unwrap() }
    };
    for (extra, state) in [
        ("&state=a&state=b", None),
        ("&state=%FF&state=x", None),
        ("&state=s&scope=openid&scope=", Some("s")),
        ("&state=%FF", None),
        ("&state=s&nonce=a%00b", Some("s")),
    ] {
        let response = get(format!("{base}{extra}")).await;
        let loc = location(&response);
        assert_eq!(response.status(), StatusCode::FOUND, "{extra}");
        assert!(loc.starts_with(CALLBACK), "{extra}: {loc}");
        assert_eq!(
            param(&loc, "error").as_deref(),
            Some("invalid_request"),
            "{extra}"
        );
        assert_eq!(param(&loc, "state").as_deref(), state, "{extra}");
    }
    // A name that cannot be read might have been client_id, and a second redirect_uri might
    // be anyone's: both are pages.
    let registered = query(&[("redirect_uri", CALLBACK)]);
    let after_another_problem = format!("&x=%FF&redirect_uri=%FF&{registered}");
    for extra in [
        "&state=s&%FF=1",
        "&redirect_uri=https%3A%2F%2Fevil.example%2F",
        after_another_problem.as_str(),
    ] {
        let response = get(format!("{base}{extra}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{extra}");
        assert_eq!(location(&response), "", "{extra}");
    }
    // The sign-in page checks what it carries as strictly as the authorization endpoint.
    let login = b
        .get(format!("{}?{base}&state=%FF", pool.url("/login")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&location(&login), "error").as_deref(),
        Some("invalid_request"),
        "{}",
        location(&login)
    );
    let state = "a&b=c#d+e é";
    let fine = get(format!("{base}&prompt=none&{}", query(&[("state", state)]))).await;
    assert_eq!(
        param(&location(&fine), "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(
        param(&location(&fine), "state").as_deref(),
        Some(state),
        "state round-trips exactly"
    );
}

/// A client that signs in only through an upstream provider gets the sign-in page (with that
/// provider's button), never `unauthorized_client`; a password session made with another
/// client does not sign its users in.
async fn a_client_without_cognito_reaches_its_sign_in_options(pool: Pool) {
    let b = browser();
    let pairs = [
        ("response_type", "code"),
        ("client_id", PARTNER_ONLY),
        ("redirect_uri", CALLBACK),
        ("state", "p"),
    ];
    let response = pool.authorize(&b, &pairs).await;
    let loc = location(&response);
    assert!(loc.contains("/login?"), "{loc}");
    let login = format!("{}?{}", pool.url("/login"), query(&pairs));
    let html = b.get(&login).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("identity_provider=Partner"), "{html}");
    // A client offering both: with identity_provider=COGNITO in the request, the provider's
    // button replaces it rather than naming a second provider.
    let both = query(&[
        ("response_type", "code"),
        ("client_id", ROTATING_TOO),
        ("redirect_uri", CALLBACK),
        ("identity_provider", "COGNITO"),
    ]);
    let html = b
        .get(format!("{}?{both}", pool.url("/login")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = html
        .find("identity_provider=Partner")
        .expect("a Partner button");
    let href = &html[html[..at].rfind("href=\"").unwrap()..at];
    assert!(!href.contains("COGNITO"), "{href}");
    // A password posted for this client is refused.
    let refused = pool.sign_in(&b, &pairs, "alice", "Alice-Passw0rd").await;
    assert_eq!(location(&refused), "");
    // A session made with a password for another client does not answer for it.
    let signed_in = pool
        .sign_in(
            &b,
            &[
                ("response_type", "code"),
                ("client_id", WEB),
                ("redirect_uri", CALLBACK),
            ],
            "alice",
            "Alice-Passw0rd",
        )
        .await;
    assert!(param(&location(&signed_in), "code").is_some());
    let again = pool.authorize(&b, &pairs).await;
    assert!(location(&again).contains("/login?"), "{}", location(&again));
    let none = pool
        .authorize(&b, &[pairs.as_slice(), &[("prompt", "none")]].concat())
        .await;
    assert_eq!(
        param(&location(&none), "error").as_deref(),
        Some("login_required")
    );
    // identity_provider=COGNITO asks for what this client does not offer.
    let cognito = [pairs.as_slice(), &[("identity_provider", "COGNITO")]].concat();
    let cognito = pool.authorize(&b, &cognito).await;
    assert_eq!(
        param(&location(&cognito), "error").as_deref(),
        Some("unauthorized_client")
    );
}

async fn pkce_parameters_are_checked(pool: Pool) {
    let b = browser();
    let base = [
        ("response_type", "code"),
        ("client_id", MOBILE),
        ("redirect_uri", "myapp://callback"),
    ];
    for extra in [
        vec![("code_challenge", CHALLENGE)],
        vec![
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "plain"),
        ],
        vec![("code_challenge_method", "S256")],
        vec![
            ("code_challenge", "short"),
            ("code_challenge_method", "S256"),
        ],
    ] {
        let pairs: Vec<_> = base.iter().copied().chain(extra.iter().copied()).collect();
        let response = pool.authorize(&b, &pairs).await;
        assert_eq!(
            param(&location(&response), "error").as_deref(),
            Some("invalid_request"),
            "{extra:?}"
        );
    }
    let ok: Vec<_> = base
        .iter()
        .copied()
        .chain([
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .collect();
    let response = pool.authorize(&b, &ok).await;
    assert!(
        location(&response).contains("/login?"),
        "{}",
        location(&response)
    );
}

async fn scopes_are_checked_and_defaulted(pool: Pool) {
    let b = browser();
    let not_allowed = pool
        .authorize(
            &b,
            &[
                ("response_type", "code"),
                ("client_id", MOBILE),
                ("redirect_uri", "myapp://callback"),
                ("scope", "openid phone"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    assert_eq!(
        param(&location(&not_allowed), "error").as_deref(),
        Some("invalid_scope")
    );
    let without_openid = pool
        .authorize(
            &b,
            &[
                ("response_type", "code"),
                ("client_id", MOBILE),
                ("redirect_uri", "myapp://callback"),
                ("scope", "email"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    assert_eq!(
        param(&location(&without_openid), "error").as_deref(),
        Some("invalid_scope")
    );
    // No scope: every scope of the client.
    let response = pool
        .sign_in(
            &browser(),
            &[
                ("response_type", "code"),
                ("client_id", WEB),
                ("redirect_uri", CALLBACK),
            ],
            "alice",
            "Alice-Passw0rd",
        )
        .await;
    let code = param(&location(&response), "code").unwrap();
    let (status, tokens, _) = pool
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
            ],
            Some((WEB, &secret())),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["scope"],
        "openid email phone profile aws.cognito.signin.user.admin https://api.example.com/read"
    );
}

async fn identity_provider_parameters(pool: Pool) {
    let b = browser();
    let base = [
        ("response_type", "code"),
        ("client_id", WEB),
        ("redirect_uri", CALLBACK),
    ];
    let with = |extra: (&'static str, &'static str)| {
        base.iter().copied().chain([extra]).collect::<Vec<_>>()
    };
    let cognito = pool
        .authorize(&b, &with(("identity_provider", "COGNITO")))
        .await;
    assert!(location(&cognito).contains("/login?"));
    let unknown = pool
        .authorize(&b, &with(("identity_provider", "Nope")))
        .await;
    assert_eq!(
        param(&location(&unknown), "error").as_deref(),
        Some("invalid_request")
    );
    let unknown_id = pool
        .authorize(&b, &with(("idp_identifier", "nowhere.example")))
        .await;
    assert_eq!(
        param(&location(&unknown_id), "error").as_deref(),
        Some("invalid_request")
    );
    // A provider of the pool that the client does not support.
    let unsupported = pool
        .authorize(&b, &with(("idp_identifier", "example.org")))
        .await;
    assert_eq!(
        param(&location(&unsupported), "error").as_deref(),
        Some("unauthorized_client")
    );
}

async fn prompt_max_age_and_single_sign_on(pool: Pool) {
    let b = browser();
    let base = [
        ("response_type", "code"),
        ("client_id", WEB),
        ("redirect_uri", CALLBACK),
        ("state", "p"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        base.iter()
            .copied()
            .chain(extra.iter().copied())
            .collect::<Vec<_>>()
    };
    let none = pool.authorize(&b, &with(&[("prompt", "none")])).await;
    let loc = location(&none);
    assert_eq!(param(&loc, "error").as_deref(), Some("login_required"));
    assert_eq!(param(&loc, "state").as_deref(), Some("p"));

    let signed_in = pool.sign_in(&b, &base, "alice", "Alice-Passw0rd").await;
    assert!(param(&location(&signed_in), "code").is_some());
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains(&format!("Path=/{POOL}")),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "no Secure on http");

    // Single sign-on: a code without the page, also with prompt=none and a generous max_age.
    for extra in [
        &[][..],
        &[("prompt", "none")][..],
        &[("max_age", "3600")][..],
    ] {
        let sso = pool.authorize(&b, &with(extra)).await;
        assert!(
            param(&location(&sso), "code").is_some(),
            "{extra:?}: {}",
            location(&sso)
        );
    }
    // prompt=login and max_age=0 ask again.
    for extra in [&[("prompt", "login")][..], &[("max_age", "0")][..]] {
        let again = pool.authorize(&b, &with(extra)).await;
        assert!(location(&again).contains("/login?"), "{extra:?}");
    }
    let bad = pool.authorize(&b, &with(&[("prompt", "none login")])).await;
    assert_eq!(
        param(&location(&bad), "error").as_deref(),
        Some("invalid_request")
    );
    let bad_age = pool.authorize(&b, &with(&[("max_age", "-1")])).await;
    assert_eq!(
        param(&location(&bad_age), "error").as_deref(),
        Some("invalid_request")
    );

    // auth_time is the sign-in, not the SSO answer.
    let first = pool
        .sign_in(&b, &with(&[("prompt", "login")]), "alice", "Alice-Passw0rd")
        .await;
    let code = param(&location(&first), "code").unwrap();
    let tokens = pool.web_tokens(&code).await;
    let auth_time = claims(tokens["id_token"].as_str().unwrap())["auth_time"]
        .as_i64()
        .unwrap();
    assert!((gatehouse::store::now() - auth_time).abs() <= 2);
}

async fn login_hint_and_locale_reach_the_page(pool: Pool) {
    let page = browser()
        .get(format!(
            "{}?{}",
            pool.url("/login"),
            query(&[
                ("response_type", "code"),
                ("client_id", WEB),
                ("redirect_uri", CALLBACK),
                ("login_hint", "alice@example.com"),
                ("ui_locales", "ko en")
            ])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("value=\"alice@example.com\""));
    assert!(html.contains("<html lang=\"ko\">"));
}

async fn sign_in_errors_do_not_reveal_accounts(pool: Pool) {
    let pairs = [
        ("response_type", "code"),
        ("client_id", WEB),
        ("redirect_uri", CALLBACK),
    ];
    let wrong = pool
        .sign_in(&browser(), &pairs, "alice", "Wrong-Passw0rd")
        .await;
    let unknown = pool
        .sign_in(&browser(), &pairs, "nobody", "Wrong-Passw0rd")
        .await;
    for response in [wrong, unknown] {
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        assert!(
            html.contains(
                "class=\"errorMessage-customizable\" role=\"alert\">Incorrect username or password."
            ),
            "{html}"
        );
    }
    let disabled = pool
        .sign_in(&browser(), &pairs, "bob", "Bob-Passw0rd")
        .await;
    assert!(disabled.text().await.unwrap().contains("User is disabled."));
    // A verified email signs in as the username (alias_attributes = ["email"]).
    let alias = pool
        .sign_in(&browser(), &pairs, "ALICE@example.com", "Alice-Passw0rd")
        .await;
    assert!(param(&location(&alias), "code").is_some());
    // Without the CSRF cookie the form is refused.
    let login = format!("{}?{}", pool.url("/login"), query(&pairs));
    let forged = browser()
        .post(&login)
        .form(&[
            ("_csrf", "x"),
            ("username", "alice"),
            ("password", "Alice-Passw0rd"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::OK);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
    // A cookie planted by someone else (say from a sibling domain) does not help them: the
    // token is keyed by the installation, so neither a guess nor a plain digest of the cookie
    // passes; the token of the real page does.
    let b = browser();
    let real = page_token(&b, &login).await;
    for token in [
        gatehouse::secrets::SecretDigest::of("csrf|planted")
            .as_str()
            .to_owned(),
        real.clone(),
    ] {
        let planted = post_sign_in(
            &browser(),
            &login,
            &token,
            "alice",
            "Alice-Passw0rd",
            &[("cookie", "gatehouse_csrf=planted")],
        )
        .await;
        assert!(
            planted
                .text()
                .await
                .unwrap()
                .contains("This form has expired")
        );
    }
    let genuine = post_sign_in(&b, &login, &real, "alice", "Alice-Passw0rd", &[]).await;
    assert!(param(&location(&genuine), "code").is_some());
    // A form posted from a page of another site (say a sibling domain that planted the cookie
    // it was given, with the token that fits it) is refused by its Origin; the pool's own
    // origins, under the public URL or the host the request names, are fine.
    for (origin, accepted) in [
        ("http://evil.example", false),
        ("null", false),
        // Another scheme or port of the public URL's host is another origin.
        ("https://localhost:7070", false),
        ("http://localhost:9999", false),
        ("http://localhost:7070", true),
        (pool.base.trim_end_matches(&format!("/{POOL}")), true),
    ] {
        let b = browser();
        let token = page_token(&b, &login).await;
        let headers = [("origin", origin)];
        let posted = post_sign_in(&b, &login, &token, "alice", "Alice-Passw0rd", &headers).await;
        assert_eq!(
            param(&location(&posted), "code").is_some(),
            accepted,
            "{origin}"
        );
    }
    // Every process on the database shares the key: a page from one server, posted to another.
    let other = crate::support::spawn_server(pool.db.store.clone());
    let b = browser();
    let token = page_token(&b, &login).await;
    let there = format!("{}/{POOL}/login?{}", other.base, query(&pairs));
    let elsewhere = post_sign_in(&b, &there, &token, "alice", "Alice-Passw0rd", &[]).await;
    assert!(param(&location(&elsewhere), "code").is_some());
    let not_form = browser()
        .post(&login)
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_form.status(), StatusCode::BAD_REQUEST);
}

async fn temporary_password_must_be_replaced(pool: Pool) {
    let b = browser();
    let pairs = [
        ("response_type", "code"),
        ("client_id", WEB),
        ("redirect_uri", CALLBACK),
        ("state", "t"),
    ];
    let first = pool.sign_in(&b, &pairs, "carol", "Temp-Passw0rd").await;
    assert_eq!(first.status(), StatusCode::OK);
    let html = first.text().await.unwrap();
    assert!(html.contains("name=\"new_password\""), "{html}");
    // Without completing it, no single sign-on.
    let sso = pool.authorize(&b, &pairs).await;
    assert!(location(&sso).contains("/login?"));
    let login = format!("{}?{}", pool.url("/login"), query(&pairs));
    let submit = |new: &'static str, confirm: &'static str, token: String| {
        let b = b.clone();
        let login = login.clone();
        async move {
            b.post(&login)
                .form(&[
                    ("_csrf", token.as_str()),
                    ("step", "new_password"),
                    ("username", "carol"),
                    ("new_password", new),
                    ("confirm_password", confirm),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let weak = submit("weak", "weak", csrf(&html))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        weak.contains("Password does not conform to policy"),
        "{weak}"
    );
    let mismatch = submit("New-Passw0rd", "New-Passw0rd2", csrf(&html))
        .await
        .text()
        .await
        .unwrap();
    assert!(mismatch.contains("do not match"));
    let done = submit("New-Passw0rd", "New-Passw0rd", csrf(&html)).await;
    let loc = location(&done);
    assert!(
        param(&loc, "code").is_some() && param(&loc, "state").as_deref() == Some("t"),
        "{loc}"
    );
    let again = pool
        .sign_in(&browser(), &pairs, "carol", "New-Passw0rd")
        .await;
    assert!(
        param(&location(&again), "code").is_some(),
        "the new password works and the status is CONFIRMED"
    );
}

async fn failed_sign_ins_are_throttled(pool: Pool) {
    let pairs = [
        ("response_type", "code"),
        ("client_id", WEB),
        ("redirect_uri", CALLBACK),
    ];
    for _ in 0..5 {
        let response = pool
            .sign_in(&browser(), &pairs, "alice", "Wrong-Passw0rd")
            .await;
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Incorrect username or password.")
        );
    }
    let locked = pool
        .sign_in(&browser(), &pairs, "alice", "Alice-Passw0rd")
        .await;
    assert!(
        locked
            .text()
            .await
            .unwrap()
            .contains("Password attempts exceeded")
    );
    // The lock is per user: others still sign in from the same address.
    let other = pool
        .sign_in(
            &browser(),
            &[
                ("response_type", "code"),
                ("client_id", ROTATING),
                ("redirect_uri", CALLBACK),
            ],
            "carol",
            "Temp-Passw0rd",
        )
        .await;
    assert!(other.text().await.unwrap().contains("new_password"));
}

async fn behind_a_trusted_proxy_failures_count_per_forwarded_address(pool: Pool) {
    use gatehouse::store::throttle;
    // The same database behind a proxy on loopback that the server trusts.
    let proxied = crate::support::spawn_server_with(pool.db.store.clone(), |settings| {
        settings.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    });
    let login = format!(
        "{}/{POOL}/login?{}",
        proxied.base,
        query(&[
            ("response_type", "code"),
            ("client_id", WEB),
            ("redirect_uri", CALLBACK),
        ])
    );
    let sign_in = |forwarded_for: Option<&'static str>, password: &'static str| {
        let login = login.clone();
        async move {
            let browser = browser();
            let token = page_token(&browser, &login).await;
            let headers: Vec<_> = forwarded_for
                .map(|a| ("X-Forwarded-For", a))
                .into_iter()
                .collect();
            post_sign_in(&browser, &login, &token, "alice", password, &headers).await
        }
    };
    // A failure is counted against the address the proxy forwarded, not the proxy's.
    let failed = sign_in(Some("198.51.100.1, 203.0.113.8"), "Wrong-Passw0rd").await;
    assert_eq!(failed.status(), StatusCode::OK);
    let mut conn = pool.db.store.conn().unwrap();
    let now = gatehouse::store::now();
    let key = |address: &str| format!("ip:{POOL}:{address}");
    for _ in 0..49 {
        throttle::record_address_failure(&mut conn, &key("203.0.113.8"), 50, now).unwrap();
    }
    assert!(
        throttle::locked_until(&mut conn, &[key("203.0.113.8")], now)
            .unwrap()
            .is_some(),
        "49 more failures lock it: the first was counted for 203.0.113.8"
    );

    // An address with 50 failures is locked; the users behind other addresses are not.
    for _ in 0..50 {
        throttle::record_address_failure(&mut conn, &key("203.0.113.7"), 50, now).unwrap();
    }
    let locked = sign_in(Some("203.0.113.7"), "Alice-Passw0rd").await;
    assert!(
        locked
            .text()
            .await
            .unwrap()
            .contains("Password attempts exceeded")
    );
    let elsewhere = sign_in(Some("203.0.113.9"), "Alice-Passw0rd").await;
    assert!(param(&location(&elsewhere), "code").is_some());
    // Without a trusted proxy the header is the client's own word and is ignored.
    let direct = format!(
        "{}?{}",
        pool.url("/login"),
        query(&[
            ("response_type", "code"),
            ("client_id", WEB),
            ("redirect_uri", CALLBACK),
        ])
    );
    let browser = browser();
    let token = page_token(&browser, &direct).await;
    let headers = [("X-Forwarded-For", "203.0.113.7")];
    let direct = post_sign_in(
        &browser,
        &direct,
        &token,
        "alice",
        "Alice-Passw0rd",
        &headers,
    )
    .await;
    assert!(param(&location(&direct), "code").is_some());
}

async fn implicit_flow_returns_tokens_in_the_fragment(pool: Pool) {
    let response = pool
        .sign_in(
            &browser(),
            &[
                ("response_type", "token"),
                ("client_id", WEB),
                ("redirect_uri", CALLBACK),
                ("scope", "openid email"),
                ("state", "i"),
                ("nonce", "n-1"),
            ],
            "alice",
            "Alice-Passw0rd",
        )
        .await;
    let loc = location(&response);
    assert!(loc.starts_with("http://localhost:3000/callback#"), "{loc}");
    assert_eq!(param(&loc, "token_type").as_deref(), Some("Bearer"));
    assert_eq!(param(&loc, "expires_in").as_deref(), Some("3600"));
    assert_eq!(param(&loc, "state").as_deref(), Some("i"));
    assert!(param(&loc, "refresh_token").is_none());
    let access = param(&loc, "access_token").unwrap();
    let id = claims(&param(&loc, "id_token").unwrap());
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(
        id["at_hash"],
        URL_SAFE_NO_PAD.encode(&Sha256::digest(access.as_bytes())[..16])
    );
    assert_eq!(pool.user_info(&access).await.0, StatusCode::OK);
    // Without openid: no ID token.
    let response = pool
        .sign_in(
            &browser(),
            &[
                ("response_type", "token"),
                ("client_id", WEB),
                ("redirect_uri", CALLBACK),
                ("scope", "https://api.example.com/read"),
            ],
            "alice",
            "Alice-Passw0rd",
        )
        .await;
    assert!(param(&location(&response), "id_token").is_none());
}

async fn code_exchange_checks_everything(pool: Pool) {
    let code = pool.code(MOBILE, "openid email profile", true).await;
    let (status, body) = pool.exchange(MOBILE, &code, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "missing verifier"
    );
    let code = pool.code(MOBILE, "openid email profile", true).await;
    let (_, body) = pool
        .exchange(
            MOBILE,
            &code,
            Some("wrong-verifier-wrong-verifier-wrong-verifier-00"),
        )
        .await;
    assert_eq!(body["error"], "invalid_grant");
    let code = pool.code(MOBILE, "openid email profile", true).await;
    let (_, body, _) = pool
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("client_id", MOBILE),
                ("code", &code),
                ("redirect_uri", "myapp://callback/other"),
                ("code_verifier", VERIFIER),
            ],
            None,
        )
        .await;
    assert_eq!(body["error"], "invalid_grant", "redirect_uri differs");
    let code = pool.code(WEB, "openid", false).await;
    let (_, body) = pool.exchange(MOBILE, &code, None).await;
    assert_eq!(body["error"], "invalid_grant", "another client's code");
    let (_, body) = pool.exchange(MOBILE, "not-a-code", None).await;
    assert_eq!(body["error"], "invalid_grant");
    let (_, body, _) = pool
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("client_id", MOBILE),
                ("redirect_uri", CALLBACK),
            ],
            None,
        )
        .await;
    assert_eq!(body["error"], "invalid_request", "missing code");

    // An expired code.
    let code = pool.code(MOBILE, "openid", true).await;
    {
        use diesel::prelude::*;
        let mut conn = pool.db.store.conn().unwrap();
        diesel::sql_query("UPDATE authorization_codes SET expires_at = 0")
            .execute(&mut *conn)
            .unwrap();
    }
    let (_, body) = pool.exchange(MOBILE, &code, Some(VERIFIER)).await;
    assert_eq!(body["error"], "invalid_grant");

    // The happy path, with every claim.
    let code = pool.code(MOBILE, "openid email profile", true).await;
    let (status, tokens) = pool.exchange(MOBILE, &code, Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 43);
    let id = claims(tokens["id_token"].as_str().unwrap());
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(id["aud"], MOBILE);
    assert_eq!(id["iss"], format!("http://localhost:7070/{POOL}"));
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["cognito:groups"], serde_json::json!(["admins"]));
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["given_name"], "Alice");
    assert_eq!(id["custom:tier"], "gold");
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(id["origin_jti"], access["origin_jti"]);
    assert_ne!(id["jti"], access["jti"]);
    assert_eq!(access["client_id"], MOBILE);
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["username"], "alice");
    assert_eq!(access["version"], 2);
    assert_eq!(access["scope"], "openid email profile");
    assert!(access.get("aud").is_none());
}

async fn replayed_code_revokes_its_tokens(pool: Pool) {
    let code = pool.code(MOBILE, "openid", true).await;
    let (_, tokens) = pool.exchange(MOBILE, &code, Some(VERIFIER)).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(pool.user_info(&access).await.0, StatusCode::OK);
    let (status, body) = pool.exchange(MOBILE, &code, Some(VERIFIER)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(pool.user_info(&access).await.0, StatusCode::UNAUTHORIZED);
    let (_, refreshed, _) = pool
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", MOBILE),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
            None,
        )
        .await;
    assert_eq!(refreshed["error"], "invalid_grant");
}

async fn token_endpoint_rejects_bad_requests_and_clients(pool: Pool) {
    let url = pool.url("/oauth2/token");
    let json = pool
        .http
        .post(&url)
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let (_, body, _) = pool.token(&[("client_id", MOBILE)], None).await;
    assert_eq!(body["error"], "invalid_request");
    let (_, body, _) = pool
        .token(&[("grant_type", "password"), ("client_id", MOBILE)], None)
        .await;
    assert_eq!(body["error"], "unsupported_grant_type");
    let twice = pool
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(
        twice.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    let (status, body, headers) = pool
        .token(
            &[("grant_type", "client_credentials")],
            Some((WEB, "wrong")),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let (status, body, _) = pool
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", WEB),
                ("client_secret", "wrong"),
            ],
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_client"))
    );
    let (_, body, _) = pool
        .token(
            &[("grant_type", "client_credentials"), ("client_id", WEB)],
            None,
        )
        .await;
    assert_eq!(
        body["error"], "invalid_client",
        "a confidential client must authenticate"
    );
    let (_, body, _) = pool
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "nosuchclient00000000000000"),
            ],
            None,
        )
        .await;
    assert_eq!(body["error"], "invalid_client");
    let (_, body, _) = pool
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("client_id", MOBILE),
                ("client_secret", "x"),
                ("code", "c"),
                ("redirect_uri", CALLBACK),
            ],
            None,
        )
        .await;
    assert_eq!(
        body["error"], "invalid_client",
        "a public client has no secret"
    );
    // client_secret_post works like Basic.
    let secret = secret();
    let (status, _, _) = pool
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", WEB),
                ("client_secret", &secret),
            ],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let get = pool.http.get(&url).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        get.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let big = "a".repeat(100 * 1024);
    let too_big = pool
        .http
        .post(&url)
        .form(&[("grant_type", big.as_str())])
        .send()
        .await
        .unwrap();
    assert!(too_big.status().is_client_error());
}

/// Malformed requests to the API endpoints: the protocol's error on both backends (PostgreSQL
/// refuses NUL in text, so a NUL must never reach a query), never a 500.
async fn malformed_api_requests_get_the_protocol_error(pool: Pool) {
    let token_url = pool.url("/oauth2/token");
    let post = |body: &'static str, basic: Option<String>| {
        let mut request = pool
            .http
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(header) = basic {
            request = request.header("authorization", header);
        }
        async move {
            let r = request.send().await.unwrap();
            let challenge = r.headers().get("www-authenticate").is_some();
            (r.status(), r.json::<Value>().await.unwrap(), challenge)
        }
    };
    let basic = |credentials: &str| Some(format!("Basic {}", STANDARD.encode(credentials)));
    for body in [
        "grant_type=client_credentials&client_id=a%00b",
        "grant_type=client_credentials&client_id=%FF",
        "grant_type=client_credentials&grant_type=",
        "grant_type=client_credentials&%00=1",
    ] {
        let (status, answer, _) = post(body, None).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{body}"
        );
    }
    for header in [
        basic("a%00b:secret"),
        basic("%FF:secret"),
        basic("no-colon"),
        Some("Basic !!!not-base64".to_owned()),
    ] {
        let (status, answer, challenge) =
            post("grant_type=client_credentials", header.clone()).await;
        assert_eq!(
            (status, answer["error"].as_str(), challenge),
            (StatusCode::UNAUTHORIZED, Some("invalid_client"), true),
            "{header:?}"
        );
    }
    // Scheme names are case-insensitive; Basic credentials are form-encoded (RFC 6749 §2.3.1).
    let secret = secret();
    let encoded = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
    let shouted = Some(format!(
        "BASIC {}",
        STANDARD.encode(format!("{WEB}:{encoded}"))
    ));
    let (status, answer, _) = post("grant_type=client_credentials", shouted).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let access = answer["access_token"].as_str().unwrap().to_owned();
    // Over the size limit: still the protocol's JSON.
    let big = format!(
        "grant_type=client_credentials&pad={}",
        "a".repeat(70 * 1024)
    );
    let too_big = pool
        .http
        .post(&token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        too_big.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    // The sign-in form over the limit: a page.
    let page = pool
        .http
        .post(pool.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={}", "a".repeat(70 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("too large"));
    // userInfo: one way to send the token (RFC 6750 §2); `bearer` in any case.
    let code = pool.code(WEB, "openid email", false).await;
    let tokens = pool.web_tokens(&code).await;
    let user_access = tokens["access_token"].as_str().unwrap();
    let both = pool
        .http
        .post(pool.url("/oauth2/userInfo"))
        .bearer_auth(user_access)
        .form(&[("access_token", user_access)])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        both.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let lower = pool
        .http
        .get(pool.url("/oauth2/userInfo"))
        .header("authorization", format!("bEaReR {user_access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
    // A client-credentials token has no user to show.
    let (status, _, _) = pool.user_info(&access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A client's own token lifetimes, groups in precedence order, the phone scope at userInfo,
/// refresh tokens stored only as digests and refused once expired, revocation switched off.
async fn client_lifetimes_groups_and_the_phone_scope(pool: Pool) {
    let b = browser();
    let pairs = [
        ("response_type", "code"),
        ("client_id", SHORT_LIVED),
        ("redirect_uri", CALLBACK),
        ("scope", "openid phone"),
    ];
    let signed_in = pool.sign_in(&b, &pairs, "dave", "Dave-Passw0rd").await;
    let code = param(&location(&signed_in), "code").expect("a code");
    let (status, tokens) = pool.exchange(SHORT_LIVED, &code, None).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["expires_in"], 300);
    let (id, access) = (
        claims(tokens["id_token"].as_str().unwrap()),
        claims(tokens["access_token"].as_str().unwrap()),
    );
    let lifetime = |c: &Value| c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap();
    assert_eq!((lifetime(&id), lifetime(&access)), (600, 300));
    let groups = serde_json::json!(["admins", "readers", "staff"]);
    assert_eq!(
        (&id["cognito:groups"], &access["cognito:groups"]),
        (&groups, &groups)
    );
    // phone scope: the phone claims, not the email ones.
    assert_eq!(id["phone_number"], "+15555550100");
    let (status, info, _) = pool
        .user_info(tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&info["phone_number"], &info["phone_number_verified"]),
        (&Value::from("+15555550100"), &Value::from(true))
    );
    assert!(info.get("email").is_none(), "{info}");
    // The refresh token is stored as its digest, and lives the client's 60 minutes.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let mut conn = pool.db.store.conn().unwrap();
    let digest = gatehouse::secrets::SecretDigest::of(refresh);
    let row = gatehouse::store::grants::find_refresh(&mut conn, POOL, digest.as_str())
        .unwrap()
        .expect("stored by digest");
    assert_eq!(row.expires_at - row.created_at, 3600);
    assert!(
        gatehouse::store::grants::find_refresh(&mut conn, POOL, refresh)
            .unwrap()
            .is_none(),
        "never stored as itself"
    );
    // Revocation is off for this client.
    let revoke = pool
        .http
        .post(pool.url("/oauth2/revoke"))
        .form(&[("token", refresh), ("client_id", SHORT_LIVED)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        revoke.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
    // Expired: invalid_grant.
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "UPDATE refresh_tokens SET expires_at = 0 WHERE token_digest = '{}'",
        digest.as_str()
    ))
    .execute(&mut conn)
    .unwrap();
    let (status, body, _) = pool
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", SHORT_LIVED),
                ("refresh_token", refresh),
            ],
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    // A user without groups gets no cognito:groups claim at all.
    let signed_in = pool
        .sign_in(&browser(), &pairs, "erin", "Erin-Passw0rd")
        .await;
    let code = param(&location(&signed_in), "code").expect("a code");
    let (_, tokens) = pool.exchange(SHORT_LIVED, &code, None).await;
    for jwt in ["id_token", "access_token"] {
        let c = claims(tokens[jwt].as_str().unwrap());
        assert!(c.get("cognito:groups").is_none(), "{jwt}: {c}");
    }
}

/// RFC 6749 §6: `scope` on a refresh may name part of the grant; a scope beyond it is
/// `invalid_scope`, and a rotating client's token is not spent by asking.
async fn a_refresh_may_narrow_its_scopes_but_not_widen_them(pool: Pool) {
    let code = pool.code(ROTATING, "openid email profile", false).await;
    let (_, tokens) = pool.exchange(ROTATING, &code, None).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let grant = |refresh: String, scope: Option<&'static str>| {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", ROTATING.to_owned()),
            ("refresh_token", refresh),
        ];
        form.extend(scope.map(|s| ("scope", s.to_owned())));
        let request = pool.http.post(pool.url("/oauth2/token")).form(&form);
        async move {
            let r = request.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    // The code grant has no scope parameter (RFC 6749 §4.1.3): one sent is ignored.
    let code = pool.code(ROTATING, "openid email", false).await;
    let (status, ignored, _) = pool
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("client_id", ROTATING),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("scope", "openid phone"),
            ],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ignored}");
    assert_eq!(
        claims(ignored["access_token"].as_str().unwrap())["scope"],
        "openid email"
    );
    let (status, wider) = grant(refresh.clone(), Some("openid phone")).await;
    assert_eq!(
        (status, wider["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    let (status, narrowed) = grant(refresh, Some("openid email")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the refused request spent nothing: {narrowed}"
    );
    let access = claims(narrowed["access_token"].as_str().unwrap());
    assert_eq!(access["scope"], "openid email");
    let id = claims(narrowed["id_token"].as_str().unwrap());
    assert!(
        id.get("given_name").is_none() && id.get("email").is_some(),
        "{id}"
    );
    // A spent token with a scope request is still a reuse: invalid_grant, family revoked.
    let first = ignored["refresh_token"].as_str().unwrap().to_owned();
    let spent = grant(first.clone(), None).await;
    assert_eq!(spent.0, StatusCode::OK);
    let (status, reused) = grant(first, Some("openid phone")).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let successor = spent.1["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = grant(successor, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the family is revoked");
    // The rotated refresh token still carries the whole grant.
    let next = narrowed["refresh_token"].as_str().unwrap().to_owned();
    let (status, full) = grant(next, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        claims(full["access_token"].as_str().unwrap())["scope"],
        "openid email profile"
    );
}

/// The session cookie is stored only as its digest; single sign-on reports when the user
/// actually signed in; `lang` works like `ui_locales`; a disabled user's session stops answering.
async fn sessions_are_digests_and_single_sign_on_keeps_the_first_sign_in(pool: Pool) {
    use diesel::RunQueryDsl;
    use reqwest::cookie::CookieStore;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let pairs = [
        ("response_type", "code"),
        ("client_id", WEB),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
    ];
    let signed_in = pool.sign_in(&b, &pairs, "alice", "Alice-Passw0rd").await;
    assert!(param(&location(&signed_in), "code").is_some());
    let cookies = jar.cookies(&pool.url("/login").parse().unwrap()).unwrap();
    let session = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("gatehouse_session="))
        .expect("a session cookie")
        .to_owned();
    let mut conn = pool.db.store.conn().unwrap();
    let now = gatehouse::store::now();
    let digest = gatehouse::secrets::SecretDigest::of(&session);
    let find = |conn: &mut gatehouse::store::AnyConnection, id: &str| {
        gatehouse::store::grants::find_session(conn, POOL, id, now).unwrap()
    };
    assert!(find(&mut conn, digest.as_str()).is_some());
    assert!(
        find(&mut conn, &session).is_none(),
        "never stored as itself"
    );
    // Pretend the sign-in was 100 s ago: single sign-on reports that time, not now.
    let first = find(&mut conn, digest.as_str()).unwrap().auth_time - 100;
    diesel::sql_query(format!(
        "UPDATE sessions SET auth_time = {first} WHERE id_digest = '{}'",
        digest.as_str()
    ))
    .execute(&mut conn)
    .unwrap();
    let sso = pool.authorize(&b, &pairs).await;
    let code = param(&location(&sso), "code").expect("single sign-on");
    let tokens = pool.web_tokens(&code).await;
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["auth_time"],
        first
    );
    // max_age shorter than that asks again.
    let stale = pool
        .authorize(
            &b,
            &[pairs.as_slice(), &[("max_age", "50"), ("prompt", "none")]].concat(),
        )
        .await;
    assert_eq!(
        param(&location(&stale), "error").as_deref(),
        Some("login_required")
    );
    // `lang` chooses the page's language like `ui_locales`.
    let login = format!(
        "{}?{}",
        pool.url("/login"),
        query(&[pairs.as_slice(), &[("lang", "ko")]].concat())
    );
    let html = b.get(&login).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<html lang=\"ko\">"));
    // A disabled user's session no longer signs in.
    let pool_row = gatehouse::store::pools::get(&mut conn, POOL).unwrap();
    let mut alice = gatehouse::store::users::find_by_username(&mut conn, &pool_row, "alice")
        .unwrap()
        .unwrap();
    alice.enabled = false;
    gatehouse::store::users::update(&mut conn, &pool_row, &alice).unwrap();
    let none = pool
        .authorize(&b, &[pairs.as_slice(), &[("prompt", "none")]].concat())
        .await;
    assert_eq!(
        param(&location(&none), "error").as_deref(),
        Some("login_required")
    );
}

/// NUL bytes, invalid UTF-8 and junk in every place a browser can put them: a 4xx or a page,
/// never a 5xx (PostgreSQL refuses NUL in text, so none may reach a query).
async fn hostile_paths_queries_and_cookies_never_get_a_server_error(pool: Pool) {
    let junk = ["%00", "%FF", "a%00b", "%C0%AF", "..%2F..%2F"];
    let mut urls = Vec::new();
    for j in junk {
        for path in [
            format!("/ui/{j}/x.css"),
            format!("/ui/{WEB}/{j}"),
            format!("/login?client_id={j}&redirect_uri={j}&response_type=code"),
            format!("/signup?client_id={j}"),
            format!("/forgotPassword?client_id={WEB}&redirect_uri={j}"),
            format!("/logout?client_id={j}&logout_uri={j}"),
            format!("/logout?id_token_hint={j}"),
            format!("/oauth2/authorize?client_id={j}"),
            format!("/oauth2/idpresponse?code={j}&state={j}"),
        ] {
            urls.push(pool.url(&path));
        }
    }
    for url in urls {
        for cookie in [
            "gatehouse_session=%00; gatehouse_csrf=%FF",
            "gatehouse_session=\u{7f}",
        ] {
            let response = pool.http.get(&url).header("cookie", cookie).send().await;
            let status = response.map(|r| r.status().as_u16()).unwrap_or(400);
            assert!(status < 500, "{status} for {url} with {cookie:?}");
        }
    }
}

/// Disabling or deleting a user ends their tokens at userInfo and introspection.
async fn introspection_and_userinfo_drop_a_disabled_users_tokens(pool: Pool) {
    let secret = secret();
    let code = pool.code(WEB, "openid email", false).await;
    let tokens = pool.web_tokens(&code).await;
    let introspect = |token: String| {
        let request = pool
            .http
            .post(pool.url("/oauth2/introspect"))
            .basic_auth(WEB, Some(secret.clone()))
            .form(&[("token", token)]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let (access, refresh) = (
        tokens["access_token"].as_str().unwrap().to_owned(),
        tokens["refresh_token"].as_str().unwrap().to_owned(),
    );
    assert_eq!(introspect(access.clone()).await["active"], true);
    assert_eq!(introspect(refresh.clone()).await["active"], true);
    let mut conn = pool.db.store.conn().unwrap();
    let pool_row = gatehouse::store::pools::get(&mut conn, POOL).unwrap();
    let mut alice = gatehouse::store::users::find_by_username(&mut conn, &pool_row, "alice")
        .unwrap()
        .unwrap();
    alice.enabled = false;
    gatehouse::store::users::update(&mut conn, &pool_row, &alice).unwrap();
    assert_eq!(introspect(access.clone()).await["active"], false);
    assert_eq!(introspect(refresh.clone()).await["active"], false);
    let (status, _, _) = pool.user_info(&access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A client's own token has no user and stays active.
    let (_, cc, _) = pool
        .token(
            &[("grant_type", "client_credentials")],
            Some((WEB, &secret)),
        )
        .await;
    let cc = cc["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(cc).await["active"], true);
}

async fn refresh_keeps_auth_time_and_rotation_detects_reuse(pool: Pool) {
    // Without rotation: new ID and access tokens, the same auth_time, no new refresh token.
    let code = pool.code(MOBILE, "openid email", true).await;
    let (_, tokens) = pool.exchange(MOBILE, &code, Some(VERIFIER)).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, refreshed, _) = pool
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", MOBILE),
                ("refresh_token", refresh),
            ],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert!(refreshed.get("refresh_token").is_none());
    let (before, after) = (
        claims(tokens["id_token"].as_str().unwrap()),
        claims(refreshed["id_token"].as_str().unwrap()),
    );
    assert_eq!(before["auth_time"], after["auth_time"]);
    assert_eq!(before["origin_jti"], after["origin_jti"]);
    let (_, again, _) = pool
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", MOBILE),
                ("refresh_token", refresh),
            ],
            None,
        )
        .await;
    assert!(
        again.get("access_token").is_some(),
        "without rotation a refresh token is reusable"
    );
    let (_, wrong, _) = pool
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            Some((WEB, &secret())),
        )
        .await;
    assert_eq!(
        wrong["error"], "invalid_grant",
        "another client's refresh token"
    );
    let (_, missing, _) = pool
        .token(
            &[("grant_type", "refresh_token"), ("client_id", MOBILE)],
            None,
        )
        .await;
    assert_eq!(missing["error"], "invalid_request");

    // With rotation: a new refresh token each time; reusing an old one revokes the family.
    let code = pool.code(ROTATING, "openid", false).await;
    let (_, tokens) = pool.exchange(ROTATING, &code, None).await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    // Another rotating client, an unknown token: refused, and neither spends the real one.
    for (client, token) in [(ROTATING_TOO, first.as_str()), (ROTATING, "not-a-token")] {
        let (_, refused, _) = pool
            .token(
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", client),
                    ("refresh_token", token),
                ],
                None,
            )
            .await;
        assert_eq!(refused["error"], "invalid_grant");
        assert_eq!(
            refused["error_description"],
            "the refresh token is not valid"
        );
    }
    let (_, second, _) = pool
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", ROTATING),
                ("refresh_token", &first),
            ],
            None,
        )
        .await;
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first);
    let (_, reuse, _) = pool
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", ROTATING),
                ("refresh_token", &first),
            ],
            None,
        )
        .await;
    assert_eq!(reuse["error"], "invalid_grant");
    let (_, after_reuse, _) = pool
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", ROTATING),
                ("refresh_token", &second_refresh),
            ],
            None,
        )
        .await;
    assert_eq!(
        after_reuse["error"], "invalid_grant",
        "the whole family is revoked"
    );
    assert_eq!(
        pool.user_info(second["access_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

async fn client_credentials_grants_custom_scopes_only(pool: Pool) {
    let secret = secret();
    let (status, body, _) = pool
        .token(
            &[("grant_type", "client_credentials")],
            Some((WEB, &secret)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["scope"], "https://api.example.com/read");
    assert_eq!(access["sub"], WEB);
    assert_eq!(access["client_id"], WEB);
    let (_, body, _) = pool
        .token(
            &[("grant_type", "client_credentials"), ("scope", "openid")],
            Some((WEB, &secret)),
        )
        .await;
    assert_eq!(body["error"], "invalid_scope");
    let (_, body, _) = pool
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "https://api.example.com/write"),
            ],
            Some((WEB, &secret)),
        )
        .await;
    assert_eq!(
        body["error"], "invalid_scope",
        "not allowed for this client"
    );
    let (_, body, _) = pool
        .token(
            &[("grant_type", "client_credentials"), ("client_id", MOBILE)],
            None,
        )
        .await;
    assert_eq!(body["error"], "unauthorized_client");
    // A client-credentials token is not a user's: userInfo refuses it.
    let (_, token, _) = pool
        .token(
            &[("grant_type", "client_credentials")],
            Some((WEB, &secret)),
        )
        .await;
    assert_eq!(
        pool.user_info(token["access_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

async fn userinfo_filters_by_scope_and_read_attributes(pool: Pool) {
    let code = pool.code(MOBILE, "openid email", true).await;
    let (_, tokens) = pool.exchange(MOBILE, &code, Some(VERIFIER)).await;
    let (status, info, _) = pool
        .user_info(tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["username"], "alice");
    assert!(info.get("given_name").is_none() && info.get("custom:tier").is_none());
    // POST with the token in the form works too.
    let posted = pool
        .http
        .post(pool.url("/oauth2/userInfo"))
        .form(&[("access_token", tokens["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    // A client that may read only `email` gets only `email`, whatever the scope.
    let code = pool
        .code(LIMITED, "openid aws.cognito.signin.user.admin", false)
        .await;
    let (_, tokens) = pool.exchange(LIMITED, &code, None).await;
    let (_, info, _) = pool
        .user_info(tokens["access_token"].as_str().unwrap())
        .await;
    let mut keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, vec!["email", "sub", "username"]);
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert!(id.get("given_name").is_none() && id.get("email").is_some());
}

async fn userinfo_rejects_bad_tokens(pool: Pool) {
    let missing = pool
        .http
        .get(pool.url("/oauth2/userInfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert!(
        missing.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_request")
    );
    for token in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."] {
        let (status, _, challenge) = pool.user_info(token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{challenge}"
        );
    }
    // A token signed by the pool's key but expired, and one for another issuer.
    let (expired, other_issuer) = {
        let mut conn = pool.db.store.conn().unwrap();
        let key = gatehouse::store::keys::active(&mut conn, POOL)
            .unwrap()
            .unwrap()
            .private_key();
        let signer = gatehouse::tokens::Signer::new();
        let now = gatehouse::store::now();
        let base = serde_json::json!({"sub": "x", "iss": format!("http://localhost:7070/{POOL}"), "token_use": "access", "client_id": WEB, "scope": "openid", "iat": now - 7200, "exp": now - 3600, "jti": "j"});
        let mut other = base.clone();
        other["iss"] = "http://localhost:7070/local_Other0001".into();
        other["exp"] = (now + 3600).into();
        (
            signer.sign(&key, &base).unwrap(),
            signer.sign(&key, &other).unwrap(),
        )
    };
    assert_eq!(pool.user_info(&expired).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        pool.user_info(&other_issuer).await.0,
        StatusCode::UNAUTHORIZED
    );
    // An ID token is not an access token.
    let code = pool.code(MOBILE, "openid", true).await;
    let (_, tokens) = pool.exchange(MOBILE, &code, Some(VERIFIER)).await;
    assert_eq!(
        pool.user_info(tokens["id_token"].as_str().unwrap()).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A tampered access token.
    let access = tokens["access_token"].as_str().unwrap();
    let mut parts: Vec<String> = access.split('.').map(String::from).collect();
    let mut payload = claims(access);
    payload["username"] = "mallory".into();
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    assert_eq!(
        pool.user_info(&parts.join(".")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn logout_in_all_its_forms(pool: Pool) {
    let b = browser();
    let base = [
        ("response_type", "code"),
        ("client_id", WEB),
        ("redirect_uri", CALLBACK),
    ];
    let signed_in = pool.sign_in(&b, &base, "alice", "Alice-Passw0rd").await;
    let code = param(&location(&signed_in), "code").unwrap();
    let tokens = pool.web_tokens(&code).await;
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let logout = |pairs: Vec<(&'static str, String)>| {
        let b = b.clone();
        let url = format!(
            "{}?{}",
            pool.url("/logout"),
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        );
        async move { b.get(url).send().await.unwrap() }
    };
    // Unregistered sign-out URL: an error page, and the session survives.
    let bad = logout(vec![
        ("client_id", WEB.into()),
        ("logout_uri", "https://evil.example/".into()),
    ])
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(
        param(
            &location(
                &pool
                    .authorize(&b, &[base.as_slice(), &[("prompt", "none")]].concat())
                    .await
            ),
            "code"
        )
        .is_some()
    );
    // Cognito form 1.
    let out = logout(vec![
        ("client_id", WEB.into()),
        ("logout_uri", "http://localhost:3000/".into()),
    ])
    .await;
    assert_eq!(location(&out), "http://localhost:3000/");
    let after = pool
        .authorize(&b, &[base.as_slice(), &[("prompt", "none")]].concat())
        .await;
    assert_eq!(
        param(&location(&after), "error").as_deref(),
        Some("login_required")
    );
    // Cognito form 2: sign out, then the sign-in page.
    let again = pool.sign_in(&b, &base, "alice", "Alice-Passw0rd").await;
    assert!(param(&location(&again), "code").is_some());
    let form2 = logout(vec![
        ("client_id", WEB.into()),
        ("redirect_uri", CALLBACK.into()),
        ("response_type", "code".into()),
        ("state", "z".into()),
    ])
    .await;
    assert!(
        location(&form2).contains(&format!("/{POOL}/login?")),
        "{}",
        location(&form2)
    );
    let after = pool
        .authorize(&b, &[base.as_slice(), &[("prompt", "none")]].concat())
        .await;
    assert_eq!(
        param(&location(&after), "error").as_deref(),
        Some("login_required")
    );
    // Form 2 with an error it can send to the client: the session ends on the server too (a
    // stolen copy of the cookie no longer signs in).
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let kept = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let again = pool.sign_in(&kept, &base, "alice", "Alice-Passw0rd").await;
    assert!(param(&location(&again), "code").is_some());
    let cookies = {
        use reqwest::cookie::CookieStore;
        let url = pool.url("/oauth2/authorize").parse().unwrap();
        jar.cookies(&url).unwrap()
    };
    let bad_form2 = kept
        .get(format!(
            "{}?{}",
            pool.url("/logout"),
            query(&[
                ("client_id", WEB),
                ("redirect_uri", CALLBACK),
                ("response_type", "bogus"),
            ])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&location(&bad_form2), "error").as_deref(),
        Some("unsupported_response_type")
    );
    let replayed = pool
        .http
        .get(format!(
            "{}?{}",
            pool.url("/oauth2/authorize"),
            query(&[base.as_slice(), &[("prompt", "none")]].concat())
        ))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&location(&replayed), "error").as_deref(),
        Some("login_required")
    );
    // OIDC RP-initiated logout with the ID token as hint.
    let rp = logout(vec![
        ("id_token_hint", id_token.clone()),
        ("post_logout_redirect_uri", "http://localhost:3000/".into()),
        ("state", "bye".into()),
    ])
    .await;
    assert_eq!(location(&rp), "http://localhost:3000/?state=bye");
    let wrong_client = logout(vec![
        ("id_token_hint", id_token),
        ("client_id", MOBILE.into()),
        ("post_logout_redirect_uri", "http://localhost:3000/".into()),
    ])
    .await;
    assert_eq!(wrong_client.status(), StatusCode::BAD_REQUEST);
    let plain = logout(vec![]).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.text().await.unwrap().contains("You are signed out"));
}

async fn revoke_and_introspect(pool: Pool) {
    let secret = secret();
    let code = pool.code(WEB, "openid email", false).await;
    let tokens = pool.web_tokens(&code).await;
    let (access, refresh) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    let introspect = |token: String, basic: Option<(&'static str, String)>| {
        let mut request = pool
            .http
            .post(pool.url("/oauth2/introspect"))
            .form(&[("token", token)]);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        async move {
            let r = request.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, answer) = introspect(access.into(), Some((WEB, secret.clone()))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            answer["active"].as_bool(),
            answer["client_id"].as_str(),
            answer["username"].as_str()
        ),
        (Some(true), Some(WEB), Some("alice"))
    );
    let (_, answer) = introspect(refresh.into(), Some((WEB, secret.clone()))).await;
    assert_eq!(
        (answer["active"].as_bool(), answer["token_type"].as_str()),
        (Some(true), Some("refresh_token"))
    );
    let (_, answer) = introspect("garbage".into(), Some((WEB, secret.clone()))).await;
    assert_eq!(answer, serde_json::json!({"active": false}));
    let (status, answer) = pool
        .http
        .post(pool.url("/oauth2/introspect"))
        .form(&[("token", access), ("client_id", MOBILE)])
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json::<Value>().await.unwrap()["error"],
        "invalid_client",
        "public clients cannot introspect"
    );

    // Revoking with another client changes nothing; unknown tokens are not an error.
    let revoke = |form: Vec<(&'static str, String)>, basic: Option<(&'static str, String)>| {
        let mut request = pool.http.post(pool.url("/oauth2/revoke")).form(&form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(
        revoke(
            vec![("token", refresh.into()), ("client_id", MOBILE.into())],
            None
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(pool.user_info(access).await.0, StatusCode::OK);
    assert_eq!(
        revoke(
            vec![("token", "unknown".into())],
            Some((WEB, secret.clone()))
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        revoke(vec![("client_id", MOBILE.into())], None).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        revoke(vec![("token", refresh.into())], Some((WEB, "wrong".into()))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        revoke(vec![("token", refresh.into())], Some((WEB, secret.clone()))).await,
        StatusCode::OK
    );
    assert_eq!(pool.user_info(access).await.0, StatusCode::UNAUTHORIZED);
    let (_, answer) = introspect(access.into(), Some((WEB, secret.clone()))).await;
    assert_eq!(answer["active"], false);
    let (_, answer) = introspect(refresh.into(), Some((WEB, secret))).await;
    assert_eq!(answer["active"], false);
}

async fn parallel_redemptions_of_one_code_succeed_once(pool: Pool) {
    let code = pool.code(MOBILE, "openid", true).await;
    let attempts = (0..50).map(|_| pool.exchange(MOBILE, &code, Some(VERIFIER)));
    let results = futures_util::future::join_all(attempts).await;
    let wins = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(
        wins,
        1,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s != StatusCode::OK)
            .all(|(_, body)| body["error"] == "invalid_grant")
    );
}

async fn parallel_uses_of_a_rotating_refresh_token_succeed_once(pool: Pool) {
    let code = pool.code(ROTATING, "openid", false).await;
    let (_, tokens) = pool.exchange(ROTATING, &code, None).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", ROTATING),
        ("refresh_token", refresh.as_str()),
    ];
    let attempts = (0..50).map(|_| pool.token(&form, None));
    let results = futures_util::future::join_all(attempts).await;
    let wins: Vec<&Value> = results
        .iter()
        .filter(|r| r.0 == StatusCode::OK)
        .map(|r| &r.1)
        .collect();
    assert_eq!(
        wins.len(),
        1,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    // Every loser was refused as a grant error, not a server failure.
    for (status, body, _) in results.iter().filter(|r| r.0 != StatusCode::OK) {
        assert_eq!(
            (*status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
    }
    // The family is revoked: the winner's access token and new refresh token no longer work.
    let (status, _, _) = pool
        .user_info(wins[0]["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let new_refresh = wins[0]["refresh_token"].as_str().unwrap();
    let (_, after, _) = pool
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("client_id", ROTATING),
                ("refresh_token", new_refresh),
            ],
            None,
        )
        .await;
    assert_eq!(after["error"], "invalid_grant");
}

/// On SQLite a token grant first runs on the server's worker with a connection that does not
/// wait for the write lock. When another writer holds it, the grant runs again on the blocking
/// pool, which waits: the exchange succeeds once the lock is released, not with an error.
#[actix_web::test]
async fn grants_wait_for_another_sqlite_writer() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let pool = Pool::start(TestDb::sqlite()).await;
    let code = pool.code(MOBILE, "openid", true).await;
    let path = pool.db.url.strip_prefix("sqlite://").unwrap().to_owned();
    let mut writer = diesel::SqliteConnection::establish(&path).unwrap();
    writer.batch_execute("BEGIN IMMEDIATE").unwrap();
    let exchange = pool.exchange(MOBILE, &code, Some(VERIFIER));
    let release = async {
        // The server keeps answering meanwhile.
        let jwks = pool
            .http
            .get(pool.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(jwks.status(), StatusCode::OK);
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        writer.batch_execute("COMMIT").unwrap();
    };
    let ((status, tokens), ()) = futures_util::join!(exchange, release);
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["refresh_token"].is_string());
    // The code was spent exactly once.
    assert_eq!(
        pool.exchange(MOBILE, &code, Some(VERIFIER)).await.1["error"],
        "invalid_grant"
    );
}
