//! A pool's schema changed in the file after users exist (docs/migrating.md, "Changing the
//! schema after creation"), applied by restarting the real binary: a newly required attribute
//! is asked for at the next hosted sign-in; a removed custom attribute's values are hidden, and
//! come back when it is declared again. On SQLite and PostgreSQL.

use crate::binary::{Running, gatehouse};
use crate::on_both_backends;
use crate::support::TestDb;
use gatehouse::store;
use serde_json::Value;
use std::path::Path;

const POOL: &str = "local_Schema001";
const CLIENT: &str = "schemawebclient00000000000";
const CALLBACK: &str = "http://localhost:3000/callback";

/// The file, with the pool's required and custom attributes as given.
fn config(required: &[&str], custom: &[&str]) -> String {
    let quoted = |names: &[&str]| {
        (names.iter())
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let custom: Vec<String> = custom
        .iter()
        .map(|n| format!("{{ name = {n:?} }}"))
        .collect();
    format!(
        r#"[[pool]]
id = "{POOL}"
name = "schema"
required_attributes = [{required}]
custom_attributes = [{custom}]

[[pool.client]]
id = "{CLIENT}"
name = "web"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email", "profile"]

[[pool.user]]
username = "ann"
password = "Ann-Passw0rd"
attributes = {{ email = "ann@example.com", email_verified = "true" }}

[[pool.user]]
username = "bob"
password = "Bob-Passw0rd"
attributes = {{ email = "bob@example.com", email_verified = "true", given_name = "Bob" }}
"#,
        required = quoted(required),
        custom = custom.join(", "),
    )
}

/// The server on `db`, started with the file as `text` says; its log (info) goes to `log`.
fn start(dir: &Path, db: &TestDb, text: &str) -> (Running, String) {
    let file = dir.join("gatehouse.toml");
    std::fs::write(&file, text).unwrap();
    let log = dir.join(format!("log-{}.txt", uuid::Uuid::new_v4()));
    let mut command = gatehouse(dir);
    command
        .args(["serve", "--config", file.to_str().unwrap()])
        .args(["--database-url", &db.url])
        .env("GATEHOUSE_LOG", "info")
        .stderr(std::fs::File::create(&log).unwrap());
    let running = Running::start(command);
    let printed = std::fs::read_to_string(&log).unwrap();
    (running, printed)
}

fn browser() -> reqwest::blocking::Client {
    gatehouse::tokens::signer::install_crypto_providers();
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

fn login_url(base: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", CLIENT),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email profile"),
            ("state", "st"),
        ])
        .finish();
    format!("{base}/{POOL}/login?{query}")
}

fn csrf(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("a form in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// What a form post answered: the app's code, or the page shown instead.
enum Answer {
    Code(String),
    Page(String),
}

fn answer(response: reqwest::blocking::Response) -> Answer {
    match response.headers().get("location") {
        Some(location) => {
            let location = location.to_str().unwrap();
            assert!(location.starts_with(CALLBACK), "{location}");
            let code = url::Url::parse(location)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "code")
                .unwrap_or_else(|| panic!("a code in {location}"))
                .1
                .into_owned();
            Answer::Code(code)
        }
        None => Answer::Page(response.text().unwrap()),
    }
}

/// Signs in on the hosted page: the browser, the page it got and what the form post answered.
fn sign_in(base: &str, username: &str, password: &str) -> (reqwest::blocking::Client, Answer) {
    let b = browser();
    let url = login_url(base);
    let page = b.get(&url).send().unwrap().text().unwrap();
    let posted = b
        .post(&url)
        .form(&[
            ("_csrf", csrf(&page).as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .unwrap();
    (b, answer(posted))
}

/// The token endpoint's answer for `code`.
fn tokens(base: &str, code: &str) -> Value {
    let response = browser()
        .post(format!("{base}/{POOL}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", code),
            ("redirect_uri", CALLBACK),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().unwrap()
}

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Signs in with no step in between; the ID token's claims and the userInfo answer.
fn signed_in_claims(base: &str, username: &str, password: &str) -> (Value, Value) {
    let (_, answered) = sign_in(base, username, password);
    let Answer::Code(code) = answered else {
        panic!("{username} signs in at once");
    };
    let tokens = tokens(base, &code);
    let id = claims(tokens["id_token"].as_str().unwrap());
    let info: Value = browser()
        .get(format!("{base}/{POOL}/oauth2/userInfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    (id, info)
}

fn user(db: &TestDb, username: &str) -> gatehouse::model::User {
    let mut conn = db.store.conn().unwrap();
    let pool = store::pools::get(&mut conn, POOL).unwrap();
    store::users::find_by_username(&mut conn, &pool, username)
        .unwrap()
        .unwrap()
}

on_both_backends!(
    a_newly_required_attribute_is_asked_for_at_the_next_sign_in,
    a_removed_custom_attribute_is_hidden_until_declared_again,
    the_attributes_are_asked_after_the_authenticator,
);

fn a_newly_required_attribute_is_asked_for_at_the_next_sign_in(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (running, _) = start(dir.path(), db, &config(&[], &["tier"]));
    let (id, _) = signed_in_claims(&running.base, "ann", "Ann-Passw0rd");
    assert!(id.get("given_name").is_none());
    running.stop();

    // The file now requires a given name; the next start applies it and says so.
    let (running, log) = start(dir.path(), db, &config(&["given_name"], &["tier"]));
    assert!(log.contains("attribute schema changed"), "{log}");
    assert!(log.contains("required_added=[\"given_name\"]"), "{log}");
    let base = running.base.clone();

    // A user who has one is not asked.
    let (id, _) = signed_in_claims(&base, "bob", "Bob-Passw0rd");
    assert_eq!(id["given_name"], "Bob");

    // Ann is asked after her password, before the app gets a code.
    let (b, answered) = sign_in(&base, "ann", "Ann-Passw0rd");
    let Answer::Page(page) = answered else {
        panic!("ann is asked for her given name first");
    };
    assert!(
        page.contains("name=\"step\" value=\"attributes\""),
        "{page}"
    );
    assert!(page.contains("name=\"given_name\""), "{page}");
    assert!(!page.contains("name=\"password\""), "{page}");
    let post = |given: &str| {
        let form = [
            ("_csrf", csrf(&page)),
            ("step", "attributes".to_owned()),
            ("given_name", given.to_owned()),
        ];
        answer(b.post(login_url(&base)).form(&form).send().unwrap())
    };
    let Answer::Page(refused) = post("  ") else {
        panic!("an empty given name is refused");
    };
    assert!(refused.contains("Given name is required."), "{refused}");
    assert!(refused.contains("aria-invalid=\"true\""), "{refused}");
    assert_eq!(user(db, "ann").attributes.get("given_name"), None);
    let Answer::Code(code) = post("Ann") else {
        panic!("the given name completes the sign-in");
    };
    let id = claims(tokens(&base, &code)["id_token"].as_str().unwrap());
    assert_eq!(id["given_name"], "Ann");
    assert_eq!(user(db, "ann").attributes.get("given_name"), Some("Ann"));

    // The form cannot be replayed by a browser without the pending step.
    let stranger = browser();
    let page = stranger
        .get(login_url(&base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let replay = [
        ("_csrf", csrf(&page)),
        ("step", "attributes".to_owned()),
        ("given_name", "Mallory".to_owned()),
    ];
    let Answer::Page(expired) = answer(
        stranger
            .post(login_url(&base))
            .form(&replay)
            .send()
            .unwrap(),
    ) else {
        panic!("no code without a pending step");
    };
    assert!(expired.contains("signInFormUsername"), "{expired}");
    assert_eq!(user(db, "ann").attributes.get("given_name"), Some("Ann"));

    // Next time Ann goes straight through.
    let (id, _) = signed_in_claims(&base, "ann", "Ann-Passw0rd");
    assert_eq!(id["given_name"], "Ann");
    running.stop();
}

fn a_removed_custom_attribute_is_hidden_until_declared_again(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (running, _) = start(dir.path(), db, &config(&[], &["tier", "team"]));
    let mut ann = user(db, "ann");
    ann.attributes.set("custom:tier", "gold").unwrap();
    ann.attributes.set("custom:team", "blue").unwrap();
    {
        let mut conn = db.store.conn().unwrap();
        let pool = store::pools::get(&mut conn, POOL).unwrap();
        store::users::update(&mut conn, &pool, &ann).unwrap();
    }
    let (id, info) = signed_in_claims(&running.base, "ann", "Ann-Passw0rd");
    assert_eq!(id["custom:tier"], "gold");
    assert_eq!(info["custom:tier"], "gold");
    running.stop();

    // `tier` is removed from the file: its value is kept, out of sight.
    let (running, log) = start(dir.path(), db, &config(&[], &["team"]));
    assert!(log.contains("custom_removed=[\"custom:tier\"]"), "{log}");
    assert!(log.contains("values_hidden=1"), "{log}");
    assert!(
        log.contains("hidden values of a custom attribute") && log.contains("custom:tier"),
        "{log}"
    );
    let (id, info) = signed_in_claims(&running.base, "ann", "Ann-Passw0rd");
    assert!(id.get("custom:tier").is_none(), "{id}");
    assert!(info.get("custom:tier").is_none(), "{info}");
    assert_eq!(id["custom:team"], "blue");
    let hidden = user(db, "ann");
    assert_eq!(hidden.attributes.get("custom:tier"), None);
    assert_eq!(hidden.attributes.get("custom:team"), Some("blue"));
    let retired = store::retired::of_user(&mut db.store.conn().unwrap(), POOL, &hidden.sub);
    assert_eq!(
        retired.unwrap().get("custom:tier").map(String::as_str),
        Some("gold")
    );
    running.stop();

    // A start that changes nothing keeps it hidden and says so again.
    let (running, log) = start(dir.path(), db, &config(&[], &["team"]));
    assert!(!log.contains("attribute schema changed"), "{log}");
    assert!(log.contains("hidden values of a custom attribute"), "{log}");
    let (id, _) = signed_in_claims(&running.base, "ann", "Ann-Passw0rd");
    assert!(id.get("custom:tier").is_none(), "{id}");
    running.stop();

    // Declared again: the value is back.
    let (running, log) = start(dir.path(), db, &config(&[], &["team", "tier"]));
    assert!(log.contains("values_restored=1"), "{log}");
    let (id, info) = signed_in_claims(&running.base, "ann", "Ann-Passw0rd");
    assert_eq!(id["custom:tier"], "gold");
    assert_eq!(info["custom:tier"], "gold");
    let back = user(db, "ann");
    let retired = store::retired::of_user(&mut db.store.conn().unwrap(), POOL, &back.sub);
    assert!(retired.unwrap().is_empty());
    running.stop();
}

fn the_attributes_are_asked_after_the_authenticator(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let text = config(&["given_name"], &[])
        .replace("name = \"schema\"\n", "name = \"schema\"\nmfa = \"ON\"\n");
    let (running, _) = start(dir.path(), db, &text);
    let base = running.base.clone();
    let (b, answered) = sign_in(&base, "ann", "Ann-Passw0rd");
    let Answer::Page(setup) = answered else {
        panic!("the authenticator comes first");
    };
    let start = setup.find("<code id=\"totpSecret\">").expect("a secret") + 22;
    let secret = setup[start..].split('<').next().unwrap();
    let code = gatehouse::totp::code_at(secret, store::now()).unwrap();
    let form = [
        ("_csrf", csrf(&setup)),
        ("step", "mfa_setup".to_owned()),
        ("code", code),
    ];
    let Answer::Page(page) = answer(b.post(login_url(&base)).form(&form).send().unwrap()) else {
        panic!("the given name is asked before the code");
    };
    assert!(
        page.contains("name=\"step\" value=\"attributes\""),
        "{page}"
    );
    let form = [
        ("_csrf", csrf(&page)),
        ("step", "attributes".to_owned()),
        ("given_name", "Ann".to_owned()),
    ];
    let Answer::Code(code) = answer(b.post(login_url(&base)).form(&form).send().unwrap()) else {
        panic!("then the app gets its code");
    };
    let id = claims(tokens(&base, &code)["id_token"].as_str().unwrap());
    assert_eq!(id["given_name"], "Ann");
    running.stop();
}
