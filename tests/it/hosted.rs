//! The hosted pages over a real socket, on SQLite and PostgreSQL: sign-up, confirmation,
//! password reset, the new-password step with missing attributes, TOTP set-up and challenge,
//! translations, customization files and the mailer failing.

use crate::on_both_backends_with;
use crate::support::{TestDb, spawn_server_with_mail, wait_for_mail};
use gatehouse::mail::MailSettings;
use gatehouse::mail::smtp::{SmtpSecurity, SmtpSettings};
use gatehouse::provision;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub(crate) const HOSTED: &str = "local_HostedUi1";
pub(crate) const WEB: &str = "hostedwebclient00000000000";
pub(crate) const PLAIN: &str = "hostedplainclient000000000";
pub(crate) const MFA_POOL: &str = "local_MfaOnPoo1";
pub(crate) const MFA_CLIENT: &str = "mfaonclient000000000000000";
pub(crate) const EMAIL_POOL: &str = "local_EmailUsr1";
pub(crate) const EMAIL_CLIENT: &str = "emailuserclient00000000000";
pub(crate) const CALLBACK: &str = "http://localhost:3000/callback";

pub(crate) const CONFIG: &str = r##"
[[pool]]
id = "local_HostedUi1"
name = "hosted"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
required_attributes = ["given_name"]
mfa = "OPTIONAL"
[pool.password_policy]
minimum_length = 8
require_symbols = false
[pool.messages]
email_from = "Hosted <no-reply@hosted.test>"
verification_subject = "Confirm {username}"
verification_message = "Hello {username}, your code is {####}."
[pool.ui]
css = ".background-customizable { background-color: #112233; }"

[[pool.client]]
id = "hostedwebclient00000000000"
name = "Hosted web"
prevent_user_existence_errors = "LEGACY"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email", "profile"]
css = ".submitButton-customizable { background-color: #ff0000; }"

[[pool.client]]
id = "hostedplainclient000000000"
name = "Plain"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]

[[pool.client]]
id = "hostedcorpclient0000000000"
name = "Corp app"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]
supported_identity_providers = ["COGNITO", "Corp"]

[[pool.client]]
id = "hostedfedonlyclient0000000"
name = "Federated only"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]
supported_identity_providers = ["Corp"]

[[pool.identity_provider]]
name = "Corp"
type = "OIDC"
idp_identifiers = ["corp.example"]
attribute_mapping = { email = "email", given_name = "given_name", username = "sub" }
[pool.identity_provider.details]
client_id = "gatehouse"
authorize_scopes = "openid email"
oidc_issuer = "http://127.0.0.1:9"

[[pool.user]]
username = "dora"
password = "Dora-Passw0rd"
attributes = { email = "dora@example.com", email_verified = "true", given_name = "Dora" }

[[pool.user]]
username = "erin"
password = "Temp-Passw0rd"
status = "FORCE_CHANGE_PASSWORD"
attributes = { email = "erin@example.com" }

[[pool]]
id = "local_MfaOnPoo1"
name = "mfaon"
mfa = "ON"
allow_admin_create_user_only = true

[[pool.client]]
id = "mfaonclient000000000000000"
name = "mfa"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]

[[pool.user]]
username = "frank"
password = "Frank-Passw0rd1!"

[[pool]]
id = "local_EmailUsr1"
name = "emailuser"
username_attributes = ["email"]
auto_verified_attributes = ["email"]

[[pool.client]]
id = "emailuserclient0000000000b"
name = "email, existence hidden"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
require_pkce = false

[[pool.client]]
id = "emailuserclient00000000000"
name = "email"
prevent_user_existence_errors = "LEGACY"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]
"##;

pub(crate) struct Site {
    pub(crate) db: TestDb,
    pub(crate) root: String,
    pub(crate) outbox: PathBuf,
    _dir: tempfile::TempDir,
}

pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

pub(crate) fn authorize_query(client: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email"),
            ("state", "st"),
        ])
        .finish()
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

pub(crate) fn param(location: &str, name: &str) -> Option<String> {
    let part = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(part.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A hidden or visible input's value in a page.
pub(crate) fn input_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn totp_secret(html: &str) -> String {
    let start = html.find("<code id=\"totpSecret\">").expect("secret shown") + 22;
    html[start..].split('<').next().unwrap().to_owned()
}

pub(crate) fn now() -> i64 {
    gatehouse::store::now()
}

impl Site {
    pub(crate) async fn start(db: TestDb) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox.jsonl");
        Self::start_with_mail(db, MailSettings::Outbox(outbox.clone()), dir, outbox)
    }

    /// The site with its mail going elsewhere (`outbox` is then only where the file mailer
    /// would have written).
    pub(crate) fn start_with_mail(
        db: TestDb,
        mail: MailSettings,
        dir: tempfile::TempDir,
        outbox: PathBuf,
    ) -> Site {
        let declaration =
            gatehouse::config::parse(CONFIG, Path::new("t.toml"), Path::new("."), &|_| None)
                .unwrap();
        provision::apply(&mut db.store.conn().unwrap(), &declaration).unwrap();
        let server = spawn_server_with_mail(db.store.clone(), mail);
        Site {
            db,
            root: server.base,
            outbox,
            _dir: dir,
        }
    }

    pub(crate) fn page(&self, pool: &str, page: &str, client: &str) -> String {
        format!("{}/{pool}/{page}?{}", self.root, authorize_query(client))
    }

    pub(crate) fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            format!("{}{location}", self.root)
        } else {
            location.to_owned()
        }
    }

    /// Waits until the mail sender has delivered everything queued so far.
    pub(crate) async fn delivered(&self) {
        wait_for_mail(&self.db.store).await;
    }

    /// Every email delivered so far, once the queue is empty.
    pub(crate) async fn emails(&self) -> Vec<Value> {
        self.delivered().await;
        std::fs::read_to_string(&self.outbox)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The six-digit code of the last email to `to`.
    pub(crate) async fn last_code(&self, to: &str) -> String {
        let email = self
            .emails()
            .await
            .into_iter()
            .rev()
            .find(|e| e["to"] == to)
            .unwrap_or_else(|| panic!("an email to {to}"));
        let body = email["body"].as_str().unwrap();
        let digits: Vec<char> = body.chars().collect();
        digits
            .windows(6)
            .find(|w| w.iter().all(char::is_ascii_digit))
            .map(|w| w.iter().collect())
            .unwrap_or_else(|| panic!("a code in {body}"))
    }

    pub(crate) async fn get(&self, b: &reqwest::Client, url: &str) -> (StatusCode, String) {
        let response = b.get(url).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// GETs `url`, then posts its form with `fields` (and the page's CSRF token).
    pub(crate) async fn submit(
        &self,
        b: &reqwest::Client,
        url: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.get(b, url).await;
        let csrf = input_value(&html, "_csrf");
        let mut form = vec![("_csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        b.post(url).form(&form).send().await.unwrap()
    }

    pub(crate) async fn sign_in(
        &self,
        b: &reqwest::Client,
        pool: &str,
        client: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let url = self.page(pool, "login", client);
        self.submit(b, &url, &[("username", username), ("password", password)])
            .await
    }

    pub(crate) async fn exchange(&self, pool: &str, client: &str, code: &str) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/{pool}/oauth2/token", self.root))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", client),
                ("code", code),
                ("redirect_uri", CALLBACK),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub(crate) fn user_count(&self, pool: &str) -> i64 {
        gatehouse::store::users::count(&mut self.db.store.conn().unwrap(), pool).unwrap()
    }
}

pub(crate) fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

on_both_backends_with!(
    Site;
    sign_up_is_validated_then_confirmed_by_code_straight_into_the_app,
    expired_codes_and_taken_aliases_are_refused_on_confirmation,
    confirmation_codes_are_single_use_throttled_and_reveal_nothing,
    confirming_in_another_browser_leads_to_sign_in,
    forgot_password_resets_without_revealing_accounts,
    new_password_step_asks_for_missing_required_attributes,
    totp_is_set_up_then_challenged_and_never_accepted_twice,
    admin_only_pools_refuse_sign_up,
    email_as_username_pools_sign_up_and_in_by_email,
    pages_are_translated_secured_and_customized,
    a_corporate_email_routes_to_its_provider,
);

async fn a_corporate_email_routes_to_its_provider(site: Site) {
    const CORP: &str = "hostedcorpclient0000000000";
    let b = browser();
    let login = site.page(HOSTED, "login", CORP);
    let (_, html) = site.get(&b, &login).await;
    assert!(
        html.contains("name=\"idpEmailForm\"") && html.contains("Continue with Corp"),
        "{html}"
    );
    let (_, plain) = site.get(&b, &site.page(HOSTED, "login", PLAIN)).await;
    assert!(
        !plain.contains("idpEmailForm"),
        "only clients of a provider with identifiers"
    );
    // A page that moves on by itself: a redirect after a form post would meet the page's CSP
    // `form-action` on its way to the provider, and browsers would stop it.
    let routed = site
        .submit(
            &b,
            &login,
            &[("step", "idp_email"), ("email", "ann@Corp.Example")],
        )
        .await;
    assert_eq!(routed.status(), StatusCode::OK);
    let page = routed.text().await.unwrap();
    assert!(page.contains("http-equiv=\"refresh\""), "{page}");
    let marker = "class=\"btn submitButton-customizable\" href=\"";
    let start = page.find(marker).expect("a link on") + marker.len();
    let next = page[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        next.contains("/oauth2/authorize?") && next.contains("identity_provider=Corp"),
        "{next}"
    );
    let unknown = site
        .submit(
            &b,
            &login,
            &[("step", "idp_email"), ("email", "ann@elsewhere.example")],
        )
        .await;
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("No sign-in is set up for this email domain.")
    );
    // A client that offers only the provider: no password form, and none accepted.
    const FED_ONLY: &str = "hostedfedonlyclient0000000";
    let fed_login = site.page(HOSTED, "login", FED_ONLY);
    let (status, fed_page) = site.get(&b, &fed_login).await;
    assert_eq!(status, StatusCode::OK);
    assert!(fed_page.contains("Continue with Corp") && !fed_page.contains("signInFormPassword"));
    assert!(!fed_page.contains("/forgotPassword?") && !fed_page.contains("/signup?"));
    let refused = site
        .submit(
            &b,
            &fed_login,
            &[("username", "dora"), ("password", "Dora-Passw0rd")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("does not accept sign-in with a password")
    );
    let (status, _) = site
        .get(&b, &site.page(HOSTED, "forgotPassword", FED_ONLY))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A half-finished password sign-in (here the MFA offer) cannot be finished through a
    // client that does not allow password sign-in.
    let pending = browser();
    let offer = site
        .sign_in(&pending, HOSTED, PLAIN, "dora", "Dora-Passw0rd")
        .await;
    let offer = offer.text().await.unwrap();
    assert!(offer.contains("totpSecret"));
    let smuggled = pending
        .post(&fed_login)
        .form(&[
            ("_csrf", input_value(&offer, "_csrf").as_str()),
            ("step", "mfa_setup"),
            ("skip", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(smuggled.status(), StatusCode::BAD_REQUEST);
    assert!(
        location(&smuggled).is_empty(),
        "no code for the federated-only client"
    );
    // Names of federated users cannot be taken by a sign-up.
    let squat = site
        .submit(
            &b,
            &site.page(HOSTED, "signup", PLAIN),
            &[
                ("username", "Corp_someone"),
                ("email", "squat@example.com"),
                ("given_name", "Squat"),
                ("password", "Squat-Passw0rd1"),
            ],
        )
        .await;
    assert!(
        squat
            .text()
            .await
            .unwrap()
            .contains("This username is reserved")
    );
    // prompt=none never goes upstream: without a session here, login_required.
    let silent = b
        .get(format!(
            "{}/{HOSTED}/oauth2/authorize?{}&identity_provider=Corp&prompt=none",
            site.root,
            authorize_query(CORP)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&location(&silent), "error").as_deref(),
        Some("login_required")
    );
    // idp_identifier with an email on the authorization request resolves the same provider; its
    // upstream is down here, so the app hears so (never a 500, never the sign-in page).
    let direct = b
        .get(format!(
            "{}/{HOSTED}/oauth2/authorize?{}&idp_identifier=bo%40corp.example",
            site.root,
            authorize_query(CORP)
        ))
        .send()
        .await
        .unwrap();
    let to_app = location(&direct);
    assert!(to_app.starts_with(CALLBACK), "{to_app}");
    assert_eq!(
        param(&to_app, "error").as_deref(),
        Some("temporarily_unavailable")
    );
    assert_eq!(param(&to_app, "state").as_deref(), Some("st"));
}

async fn sign_up_is_validated_then_confirmed_by_code_straight_into_the_app(site: Site) {
    let b = browser();
    let signup = site.page(HOSTED, "signup", WEB);
    let (status, html) = site.get(&b, &signup).await;
    assert_eq!(status, StatusCode::OK);
    for field in [
        "name=\"username\"",
        "name=\"email\"",
        "name=\"given_name\"",
        "name=\"password\"",
    ] {
        assert!(html.contains(field), "{field} in {html}");
    }
    assert!(html.contains("passwordCheck-notValid-customizable"));
    assert!(html.contains("/static/gatehouse.js"));
    let attempt = |fields: Vec<(&'static str, &'static str)>| {
        let (b, signup) = (b.clone(), signup.clone());
        let site = &site;
        async move {
            let response = site.submit(&b, &signup, &fields).await;
            (
                response.status(),
                location(&response),
                response.text().await.unwrap(),
            )
        }
    };
    let base = vec![
        ("username", "newbie"),
        ("email", "newbie@example.com"),
        ("given_name", "New"),
        ("password", "Newbie-Passw0rd"),
    ];
    let without = |name: &str| {
        base.iter()
            .copied()
            .filter(|(k, _)| *k != name)
            .collect::<Vec<_>>()
    };
    let with = |name: &'static str, value: &'static str| {
        let mut fields = without(name);
        fields.push((name, value));
        fields
    };
    let (_, _, missing) = attempt(without("given_name")).await;
    assert!(missing.contains("Given name is required."), "{missing}");
    let (_, _, weak) = attempt(with("password", "short")).await;
    assert!(
        weak.contains("Password does not conform to policy")
            && weak.contains("at least 8 characters")
            && weak.contains("an uppercase letter")
            && weak.contains("a number"),
        "{weak}"
    );
    let (_, _, bad_email) = attempt(with("email", "not-an-email")).await;
    assert!(bad_email.contains("Email is not valid."), "{bad_email}");
    let (_, _, like_alias) = attempt(with("username", "someone@example.com")).await;
    assert!(like_alias.contains("looks like an email"), "{like_alias}");
    let (_, _, taken) = attempt(with("username", "dora")).await;
    assert!(taken.contains("User already exists"), "{taken}");
    assert!(
        site.emails().await.is_empty(),
        "no email for refused sign-ups"
    );
    // The form keeps what was typed (escaped), never the password.
    assert!(taken.contains("value=\"newbie@example.com\"") && !taken.contains("Newbie-Passw0rd"));

    let (status, next, _) = attempt(base.clone()).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        next.contains("/confirm?") && next.contains("username=newbie"),
        "{next}"
    );
    let emails = site.emails().await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["subject"], "Confirm newbie");
    assert_eq!(emails[0]["from"], "Hosted <no-reply@hosted.test>");
    let code = site.last_code("newbie@example.com").await;
    assert!(
        emails[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("Hello newbie, your code is")
    );
    // Unconfirmed users cannot sign in yet.
    let early = site
        .sign_in(&browser(), HOSTED, WEB, "newbie", "Newbie-Passw0rd")
        .await;
    assert!(
        early
            .text()
            .await
            .unwrap()
            .contains("User is not confirmed.")
    );

    let confirm = site.absolute(&next);
    let (_, page) = site.get(&b, &confirm).await;
    assert!(page.contains("n***@e***.com"), "{page}");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mismatch = site
        .submit(&b, &confirm, &[("username", "newbie"), ("code", wrong)])
        .await;
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("Invalid verification code")
    );
    let confirmed = site
        .submit(&b, &confirm, &[("username", "newbie"), ("code", &code)])
        .await;
    // The pool's MFA is OPTIONAL: set-up is offered once; skipping continues to the app.
    let html = confirmed.text().await.unwrap();
    assert!(
        html.contains("totpSecret") && html.contains("<svg"),
        "{html}"
    );
    let skip = b
        .post(site.page(HOSTED, "login", WEB))
        .form(&[
            ("_csrf", input_value(&html, "_csrf").as_str()),
            ("step", "mfa_setup"),
            ("skip", "1"),
        ])
        .send()
        .await
        .unwrap();
    let done = location(&skip);
    assert!(done.starts_with(CALLBACK), "{done}");
    let tokens = site
        .exchange(HOSTED, WEB, &param(&done, "code").unwrap())
        .await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "newbie");
    assert_eq!(id["email"], "newbie@example.com");
    assert_eq!(id["email_verified"], true);
    // Signed in now, with the verified email as an alias; declining MFA is remembered.
    let again = site
        .sign_in(
            &browser(),
            HOSTED,
            WEB,
            "newbie@example.com",
            "Newbie-Passw0rd",
        )
        .await;
    assert!(
        location(&again).starts_with(CALLBACK),
        "no second MFA offer"
    );
}

async fn confirmation_codes_are_single_use_throttled_and_reveal_nothing(site: Site) {
    let b = browser();
    let signup = site.page(HOSTED, "signup", PLAIN);
    let fields = [
        ("username", "gus"),
        ("email", "gus@example.com"),
        ("given_name", "Gus"),
        ("password", "Gus-Passw0rd"),
    ];
    let response = site.submit(&b, &signup, &fields).await;
    let confirm = site.absolute(&location(&response));
    let first = site.last_code("gus@example.com").await;
    // Resending at once sends nothing new (the first code still works) and says the same.
    let resend = site
        .submit(&b, &confirm, &[("username", "gus"), ("resend", "1")])
        .await;
    assert!(
        resend
            .text()
            .await
            .unwrap()
            .contains("A new code is on its way.")
    );
    // Five wrong guesses burn the code (and the per-user throttle answers from then on).
    for _ in 0..5 {
        let wrong = if first == "999999" {
            "999998"
        } else {
            "999999"
        };
        let r = site
            .submit(&b, &confirm, &[("username", "gus"), ("code", wrong)])
            .await;
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Invalid verification code")
        );
    }
    let locked = site
        .submit(&b, &confirm, &[("username", "gus"), ("code", &first)])
        .await;
    assert!(
        locked
            .text()
            .await
            .unwrap()
            .contains("Attempt limit exceeded")
    );
    // An unknown user gets the same answers as a real one.
    let unknown = site
        .submit(&b, &confirm, &[("username", "nobody"), ("code", "123456")])
        .await;
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("Invalid verification code")
    );
    let unknown_resend = site
        .submit(&b, &confirm, &[("username", "nobody"), ("resend", "1")])
        .await;
    assert!(
        unknown_resend
            .text()
            .await
            .unwrap()
            .contains("A new code is on its way.")
    );
    // A forged form (no CSRF token) changes nothing.
    let forged = reqwest::Client::new()
        .post(&confirm)
        .form(&[("username", "gus"), ("code", first.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
    assert_eq!(
        site.emails().await.len(),
        1,
        "nothing sent to unknown users"
    );
}

async fn expired_codes_and_taken_aliases_are_refused_on_confirmation(site: Site) {
    // Sign-up may use an email that another user holds as a verified alias; confirming it is
    // refused (Cognito's AliasExistsException) and the other user keeps the alias.
    let b = browser();
    let signup = site.page(HOSTED, "signup", PLAIN);
    let fields = [
        ("username", "imposter"),
        ("email", "dora@example.com"),
        ("given_name", "Not Dora"),
        ("password", "Imposter-Passw0rd"),
    ];
    let response = site.submit(&b, &signup, &fields).await;
    let confirm = site.absolute(&location(&response));
    let code = site.last_code("dora@example.com").await;
    let taken = site
        .submit(&b, &confirm, &[("username", "imposter"), ("code", &code)])
        .await;
    assert!(
        taken
            .text()
            .await
            .unwrap()
            .contains("An account with this email already exists.")
    );
    let dora = site
        .sign_in(
            &browser(),
            HOSTED,
            PLAIN,
            "dora@example.com",
            "Dora-Passw0rd",
        )
        .await;
    assert!(
        dora.text().await.unwrap().contains("totpSecret"),
        "dora still signs in by email"
    );

    // A code past its 24 hours is refused like a wrong one, even when right.
    let fields = [
        ("username", "late"),
        ("email", "late@example.com"),
        ("given_name", "Late"),
        ("password", "Late-Passw0rd1"),
    ];
    let response = site.submit(&b, &signup, &fields).await;
    let confirm = site.absolute(&location(&response));
    let code = site.last_code("late@example.com").await;
    {
        let mut conn = site.db.store.conn().unwrap();
        let pool = gatehouse::store::pools::get(&mut conn, HOSTED).unwrap();
        let user = gatehouse::store::users::find_by_username(&mut conn, &pool, "late")
            .unwrap()
            .unwrap();
        let mut row =
            gatehouse::store::codes::find(&mut conn, HOSTED, &user.sub.to_string(), "signup")
                .unwrap()
                .unwrap();
        assert_eq!(row.expires_at - row.created_at, 24 * 3600);
        row.expires_at = now() - 1;
        gatehouse::store::codes::replace(&mut conn, &row).unwrap();
    }
    let expired = site
        .submit(&b, &confirm, &[("username", "late"), ("code", &code)])
        .await;
    assert!(
        expired
            .text()
            .await
            .unwrap()
            .contains("Invalid verification code provided, please try again.")
    );
}

async fn confirming_in_another_browser_leads_to_sign_in(site: Site) {
    let signup = site.page(HOSTED, "signup", PLAIN);
    let fields = [
        ("username", "hana"),
        ("email", "hana@example.com"),
        ("given_name", "Hana"),
        ("password", "Hana-Passw0rd"),
    ];
    let response = site.submit(&browser(), &signup, &fields).await;
    let confirm = site.absolute(&location(&response));
    let code = site.last_code("hana@example.com").await;
    let other = browser();
    let confirmed = site
        .submit(&other, &confirm, &[("username", "hana"), ("code", &code)])
        .await;
    let next = location(&confirmed);
    assert!(
        next.contains("/login?") && next.contains("notice=confirmed"),
        "{next}"
    );
    let (_, page) = site.get(&other, &site.absolute(&next)).await;
    assert!(page.contains("Your account is confirmed") && page.contains("value=\"hana\""));
    let reused = site
        .submit(&other, &confirm, &[("username", "hana"), ("code", &code)])
        .await;
    assert!(
        reused
            .text()
            .await
            .unwrap()
            .contains("Invalid verification code")
    );
}

async fn forgot_password_resets_without_revealing_accounts(site: Site) {
    let b = browser();
    let forgot = site.page(HOSTED, "forgotPassword", PLAIN);
    let unknown = site.submit(&b, &forgot, &[("username", "nobody")]).await;
    let known = site.submit(&b, &forgot, &[("username", "dora")]).await;
    assert_eq!(unknown.status(), StatusCode::FOUND);
    assert_eq!(known.status(), StatusCode::FOUND);
    let strip = |loc: String| loc.replace("nobody", "X").replace("dora", "X");
    assert_eq!(
        strip(location(&unknown)),
        strip(location(&known)),
        "same answer"
    );
    assert_eq!(
        site.emails().await.len(),
        1,
        "only the real account gets an email"
    );
    let code = site.last_code("dora@example.com").await;
    let reset = site.absolute(&location(&known));
    let (_, page) = site.get(&b, &reset).await;
    assert!(page.contains("passwordRules"));
    let post = |code: &str, password: &str, confirm: &str| {
        let fields = [
            ("username", "dora".to_owned()),
            ("code", code.to_owned()),
            ("password", password.to_owned()),
            ("confirm_password", confirm.to_owned()),
        ];
        let (b, reset) = (b.clone(), reset.clone());
        let site = &site;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            site.submit(&b, &reset, &fields).await
        }
    };
    let differ = post(&code, "Fresh-Passw0rd", "Fresh-Passw0rd2").await;
    assert!(differ.text().await.unwrap().contains("do not match"));
    let weak = post(&code, "weak", "weak").await;
    assert!(
        weak.text()
            .await
            .unwrap()
            .contains("Password does not conform")
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mismatch = post(wrong, "Fresh-Passw0rd", "Fresh-Passw0rd").await;
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("Invalid verification code")
    );
    let done = post(&code, "Fresh-Passw0rd", "Fresh-Passw0rd").await;
    let next = location(&done);
    assert!(
        next.contains("/login?") && next.contains("notice=password_reset"),
        "{next}"
    );
    let replay = post(&code, "Other-Passw0rd", "Other-Passw0rd").await;
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("Invalid verification code")
    );
    let old = site
        .sign_in(&browser(), HOSTED, PLAIN, "dora", "Dora-Passw0rd")
        .await;
    assert!(
        old.text()
            .await
            .unwrap()
            .contains("Incorrect username or password.")
    );
    let fresh = site
        .sign_in(&browser(), HOSTED, PLAIN, "dora", "Fresh-Passw0rd")
        .await;
    // OPTIONAL MFA: the set-up offer comes first.
    assert!(fresh.text().await.unwrap().contains("totpSecret"));
}

async fn new_password_step_asks_for_missing_required_attributes(site: Site) {
    let b = browser();
    let first = site
        .sign_in(&b, HOSTED, PLAIN, "erin", "Temp-Passw0rd")
        .await;
    let html = first.text().await.unwrap();
    assert!(html.contains("name=\"new_password\"") && html.contains("name=\"given_name\""));
    let login = site.page(HOSTED, "login", PLAIN);
    let post = |given: &'static str| {
        let (b, login, csrf) = (b.clone(), login.clone(), input_value(&html, "_csrf"));
        async move {
            b.post(&login)
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("step", "new_password"),
                    ("new_password", "Erin-Passw0rd"),
                    ("confirm_password", "Erin-Passw0rd"),
                    ("given_name", given),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let missing = post("").await.text().await.unwrap();
    assert!(missing.contains("Given name is required."), "{missing}");
    let done = post("Erin").await.text().await.unwrap();
    assert!(done.contains("totpSecret"), "MFA offer follows: {done}");
    let user = gatehouse::store::users::find_by_username(
        &mut site.db.store.conn().unwrap(),
        &gatehouse::store::pools::get(&mut site.db.store.conn().unwrap(), HOSTED).unwrap(),
        "erin",
    )
    .unwrap()
    .unwrap();
    assert_eq!(user.status, gatehouse::model::UserStatus::Confirmed);
    assert_eq!(user.attributes.get("given_name"), Some("Erin"));
}

async fn totp_is_set_up_then_challenged_and_never_accepted_twice(site: Site) {
    let login = site.page(MFA_POOL, "login", MFA_CLIENT);
    let b = browser();
    let setup = site
        .sign_in(&b, MFA_POOL, MFA_CLIENT, "frank", "Frank-Passw0rd1!")
        .await;
    let html = setup.text().await.unwrap();
    assert!(
        html.contains("<svg") && !html.contains("name=\"skip\""),
        "ON: no skipping"
    );
    let secret = totp_secret(&html);
    let csrf = input_value(&html, "_csrf");
    let post = |b: &reqwest::Client, step: &'static str, code: String| {
        let (b, login, csrf) = (b.clone(), login.clone(), csrf.clone());
        async move {
            b.post(&login)
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("step", step),
                    ("code", code.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let bad = post(&b, "mfa_setup", "000000".into()).await;
    let code = gatehouse::totp::code_at(&secret, now()).unwrap();
    if code != "000000" {
        assert!(bad.text().await.unwrap().contains("Invalid code received"));
    }
    // Before the set-up completes, the browser has no session: no single sign-on.
    let sso = b
        .get(format!(
            "{}/{MFA_POOL}/oauth2/authorize?{}",
            site.root,
            authorize_query(MFA_CLIENT)
        ))
        .send()
        .await
        .unwrap();
    assert!(location(&sso).contains("/login?"));
    let done = post(&b, "mfa_setup", code.clone()).await;
    assert!(location(&done).starts_with(CALLBACK), "{}", location(&done));

    // Next sign-in: the challenge. The code just used is refused; the next step's is not.
    let b2 = browser();
    let challenge = site
        .sign_in(&b2, MFA_POOL, MFA_CLIENT, "frank", "Frank-Passw0rd1!")
        .await;
    let html = challenge.text().await.unwrap();
    assert!(html.contains("name=\"step\" value=\"mfa\""), "{html}");
    let csrf2 = input_value(&html, "_csrf");
    let post2 = |code: String| {
        let (b2, login, csrf2) = (b2.clone(), login.clone(), csrf2.clone());
        async move {
            b2.post(&login)
                .form(&[
                    ("_csrf", csrf2.as_str()),
                    ("step", "mfa"),
                    ("code", code.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let replay = post2(code.clone()).await;
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("Invalid code received")
    );
    let next = gatehouse::totp::code_at(&secret, now() + 30).unwrap();
    let ok = post2(next.clone()).await;
    assert!(
        location(&ok).starts_with(CALLBACK),
        "a code of the next step is accepted"
    );

    // A third sign-in: five wrong codes end the attempt.
    let b3 = browser();
    let challenge = site
        .sign_in(&b3, MFA_POOL, MFA_CLIENT, "frank", "Frank-Passw0rd1!")
        .await;
    let csrf3 = input_value(&challenge.text().await.unwrap(), "_csrf");
    let mut last = String::new();
    for _ in 0..6 {
        let r = b3
            .post(&login)
            .form(&[
                ("_csrf", csrf3.as_str()),
                ("step", "mfa"),
                ("code", "12345x"),
            ])
            .send()
            .await
            .unwrap();
        last = r.text().await.unwrap();
    }
    assert!(
        last.contains("Attempt limit exceeded") || last.contains("This form has expired"),
        "{last}"
    );
    let after = b3
        .post(&login)
        .form(&[
            ("_csrf", csrf3.as_str()),
            ("step", "mfa"),
            ("code", next.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        !location(&after).starts_with(CALLBACK),
        "the attempt is over"
    );

    // Reset by configuration: the user sets up an authenticator again.
    let mut declaration =
        gatehouse::config::parse(CONFIG, Path::new("t.toml"), Path::new("."), &|_| None).unwrap();
    declaration.pools[1].users[0].reset_mfa = true;
    provision::apply(&mut site.db.store.conn().unwrap(), &declaration).unwrap();
    let again = site
        .sign_in(
            &browser(),
            MFA_POOL,
            MFA_CLIENT,
            "frank",
            "Frank-Passw0rd1!",
        )
        .await;
    assert!(again.text().await.unwrap().contains("totpSecret"));
}

async fn admin_only_pools_refuse_sign_up(site: Site) {
    let b = browser();
    let (_, login) = site
        .get(&b, &site.page(MFA_POOL, "login", MFA_CLIENT))
        .await;
    assert!(!login.contains("/signup?"), "no sign-up link");
    let (_, hosted_login) = site.get(&b, &site.page(HOSTED, "login", PLAIN)).await;
    assert!(hosted_login.contains("/signup?") && hosted_login.contains("/forgotPassword?"));
    let (status, page) = site
        .get(&b, &site.page(MFA_POOL, "signup", MFA_CLIENT))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Sign-up is not available"));
    let before = site.user_count(MFA_POOL);
    let forged = b
        .post(site.page(MFA_POOL, "signup", MFA_CLIENT))
        .form(&[("username", "x"), ("password", "Xx-Passw0rd1!")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert_eq!(site.user_count(MFA_POOL), before);
}

async fn email_as_username_pools_sign_up_and_in_by_email(site: Site) {
    let b = browser();
    let signup = site.page(EMAIL_POOL, "signup", EMAIL_CLIENT);
    let (_, html) = site.get(&b, &signup).await;
    assert!(!html.contains("name=\"username\"") && html.contains("name=\"email\""));
    let fields = [("email", "Ivy@Example.com"), ("password", "Ivy-Passw0rd!")];
    let response = site.submit(&b, &signup, &fields).await;
    let confirm = site.absolute(&location(&response));
    let code = site.last_code("Ivy@Example.com").await;
    let done = site
        .submit(
            &b,
            &confirm,
            &[("username", "Ivy@Example.com"), ("code", &code)],
        )
        .await;
    let loc = location(&done);
    assert!(loc.starts_with(CALLBACK), "{loc}");
    let tokens = site
        .exchange(EMAIL_POOL, EMAIL_CLIENT, &param(&loc, "code").unwrap())
        .await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], id["sub"], "the username is the sub");
    let signed_in = site
        .sign_in(
            &browser(),
            EMAIL_POOL,
            EMAIL_CLIENT,
            "ivy@example.com",
            "Ivy-Passw0rd!",
        )
        .await;
    assert!(location(&signed_in).starts_with(CALLBACK));
    let twice = site
        .submit(
            &browser(),
            &signup,
            &[("email", "ivy@example.com"), ("password", "Ivy-Passw0rd!")],
        )
        .await;
    assert!(
        twice
            .text()
            .await
            .unwrap()
            .contains("An account with the given email already exists.")
    );
}

async fn pages_are_translated_secured_and_customized(site: Site) {
    let b = browser();
    for page in [
        "login",
        "signup",
        "forgotPassword",
        "confirmForgotPassword",
        "confirm",
    ] {
        let response = b.get(site.page(HOSTED, page, WEB)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "same-origin");
        assert_eq!(headers["cache-control"], "no-store");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("<script>") && !html.contains(" style="),
            "{page}: no inline code"
        );
    }
    let korean = format!("{}&ui_locales=ko", site.page(HOSTED, "login", WEB));
    let (_, html) = site.get(&b, &korean).await;
    assert!(
        html.contains("lang=\"ko\"") && html.contains("비밀번호"),
        "{html}"
    );
    let by_header = b
        .get(site.page(HOSTED, "signup", WEB))
        .header("accept-language", "ko-KR,ko;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(by_header.contains("가입"), "{by_header}");

    // The web client's own stylesheet, never ALL's; the plain client gets ALL's.
    let css_of = |html: &str| {
        let start = html.find("/ui/").map(|i| html[..i].rfind('"').unwrap() + 1);
        start.map(|s| html[s..].split('"').next().unwrap().to_owned())
    };
    let (_, web_page) = site.get(&b, &site.page(HOSTED, "login", WEB)).await;
    let web_css = css_of(&web_page).expect("client stylesheet linked");
    assert!(web_css.contains(&format!("/ui/{WEB}/")) && web_css.ends_with(".css"));
    let served = b
        .get(format!("{}{web_css}", site.root))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert!(
        served.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        served.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let body = served.text().await.unwrap();
    assert!(
        body.contains("#ff0000") && !body.contains("#112233"),
        "{body}"
    );
    let (_, plain_page) = site.get(&b, &site.page(HOSTED, "login", PLAIN)).await;
    let all_css = css_of(&plain_page).expect("ALL stylesheet linked");
    assert!(all_css.contains("/ui/ALL/"));
    let all_body = b
        .get(format!("{}{all_css}", site.root))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(all_body.contains("#112233"));
    let stale = b
        .get(format!(
            "{}/{HOSTED}/ui/{WEB}/0000000000000000.css",
            site.root
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::NOT_FOUND);
}

/// A mail server that refuses connections no longer fails a sign-up: the account and its code
/// are kept, the user is told a code was sent (and may ask again), and the message stays queued
/// for the sender to retry with back-off.
#[actix_web::test]
async fn a_failing_mail_server_keeps_the_sign_up_and_retries_the_mail() {
    let db = TestDb::sqlite();
    let declaration =
        gatehouse::config::parse(CONFIG, Path::new("t.toml"), Path::new("."), &|_| None).unwrap();
    provision::apply(&mut db.store.conn().unwrap(), &declaration).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let server = spawn_server_with_mail(
        db.store.clone(),
        MailSettings::Smtp(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            timeout_seconds: 2,
        }),
    );
    let before = gatehouse::store::users::count(&mut db.store.conn().unwrap(), HOSTED).unwrap();
    let url = format!("{}/{HOSTED}/signup?{}", server.base, authorize_query(WEB));
    let b = browser();
    let html = b.get(&url).send().await.unwrap().text().await.unwrap();
    let response = b
        .post(&url)
        .form(&[
            ("_csrf", input_value(&html, "_csrf").as_str()),
            ("username", "jo"),
            ("email", "jo@example.com"),
            ("given_name", "Jo"),
            ("password", "Jo-Passw0rd1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let next = location(&response);
    assert!(next.contains("/confirm?"), "{next}");
    let after = gatehouse::store::users::count(&mut db.store.conn().unwrap(), HOSTED).unwrap();
    assert_eq!(after, before + 1, "the user is kept");
    // The sender tries, fails, and keeps the message for a later attempt.
    let mut tried = None;
    for _ in 0..100 {
        let rows =
            gatehouse::store::mail_outbox::deliveries(&mut db.store.conn().unwrap()).unwrap();
        if let Some(row) = rows.into_iter().find(|r| r.attempts >= 2) {
            tried = Some(row);
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let tried = tried.expect("a second attempt within 10 s");
    assert_eq!(tried.status, "pending", "retried, not dropped");
    assert!(tried.last_error.is_some_and(|e| e.contains("SMTP")));
    // The confirmation page offers a resend, which is answered like any other.
    let confirm = format!("{}{next}", server.base);
    let page = b.get(&confirm).send().await.unwrap().text().await.unwrap();
    let resent = b
        .post(&confirm)
        .form(&[
            ("_csrf", input_value(&page, "_csrf").as_str()),
            ("username", "jo"),
            ("resend", "1"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(resent.contains("A new code is on its way."), "{resent}");
}

/// `templates_dir`: a client's own login page, rendered with the same data and escaping; the
/// pages it does not replace stay built in; a broken template stops the configuration.
#[actix_web::test]
async fn a_client_can_replace_page_templates() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pages")).unwrap();
    std::fs::write(
        dir.path().join("pages/login.html"),
        "<!DOCTYPE html><html lang=\"{{ c.lang }}\"><body><h1 id=\"own\">{{ c.title }}</h1>\
         <form method=\"post\"><input type=\"hidden\" name=\"_csrf\" value=\"{{ c.csrf }}\">\
         <input name=\"username\" value=\"{{ username }}\"><input name=\"password\" type=\"password\">\
         <button>{{ t['signin.submit'] }}</button></form></body></html>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("logo.jpg"),
        [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
    )
    .unwrap();
    let config = CONFIG.replacen(
        "css = \".submitButton-customizable { background-color: #ff0000; }\"",
        "css = \".submitButton-customizable { background-color: #ff0000; }\"\ntemplates_dir = \"pages\"\nlogo_file = \"logo.jpg\"",
        1,
    );
    let declaration =
        gatehouse::config::parse(&config, Path::new("t.toml"), dir.path(), &|_| None).unwrap();
    provision::apply(&mut db.store.conn().unwrap(), &declaration).unwrap();
    let mut settings = gatehouse::settings::Settings::new(
        "127.0.0.1:0".into(),
        "http://localhost:7070",
        "unused".into(),
        None,
    )
    .unwrap();
    settings.mail = MailSettings::Outbox(dir.path().join("outbox.jsonl"));
    settings.templates =
        std::sync::Arc::new(declaration.pools[0].templates.iter().cloned().collect());
    let state = gatehouse::app::AppState::new(db.store.clone(), settings).unwrap();
    let (server, addrs) = gatehouse::app::bind(state).unwrap();
    actix_web::rt::spawn(server);
    let root = format!("http://{}", addrs[0]);
    let b = browser();
    let login = format!(
        "{root}/{HOSTED}/login?{}&login_hint=%3Cb%3E&ui_locales=ko",
        authorize_query(WEB)
    );
    let response = b.get(&login).send().await.unwrap();
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let html = response.text().await.unwrap();
    assert!(
        html.contains("id=\"own\"") && html.contains("lang=\"ko\""),
        "{html}"
    );
    assert!(html.contains("value=\"&lt;b&gt;\""), "escaped: {html}");
    assert!(html.contains("<button>로그인</button>"), "{html}");
    // The own page's form still signs in.
    let signed_in = b
        .post(&login)
        .form(&[
            ("_csrf", input_value(&html, "_csrf").as_str()),
            ("username", "dora"),
            ("password", "Dora-Passw0rd"),
        ])
        .send()
        .await
        .unwrap();
    assert!(signed_in.text().await.unwrap().contains("totpSecret"));
    // Another page of that client, and the other client, stay built in.
    let signup = b
        .get(format!("{root}/{HOSTED}/signup?{}", authorize_query(WEB)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(signup.contains("signUpForm"));
    // The client's logo, served by content version with its type.
    let marker = "class=\"logo-customizable\" src=\"";
    let start = signup.find(marker).expect("logo shown") + marker.len();
    let logo_url = signup[start..].split('"').next().unwrap().to_owned();
    assert!(
        logo_url.contains(&format!("/ui/{WEB}/")) && logo_url.ends_with(".jpg"),
        "{logo_url}"
    );
    let logo = b.get(format!("{root}{logo_url}")).send().await.unwrap();
    assert_eq!(logo.headers()["content-type"], "image/jpeg");
    assert_eq!(
        logo.bytes().await.unwrap().as_ref(),
        [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]
    );
    std::fs::write(dir.path().join("pages/signup.html"), "{% for %}").unwrap();
    let broken = gatehouse::config::parse(&config, Path::new("t.toml"), dir.path(), &|_| None)
        .unwrap_err()
        .to_string();
    assert!(
        broken.contains("templates_dir") && broken.contains("signup.html"),
        "{broken}"
    );
}

/// Users the file creates with a temporary password get Cognito's invitation: queued in the
/// apply transaction, once however often the file is applied, and delivered by the sender; a
/// mail server that refuses it delays the invitation, not the start.
#[actix_web::test]
async fn invitations_go_out_once_and_a_failed_one_stays_queued() {
    use gatehouse::mail::sender::{MailQueue, Sender};
    let declaration =
        gatehouse::config::parse(CONFIG, Path::new("t.toml"), Path::new("."), &|_| None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox.jsonl");
    let mailer = MailSettings::Outbox(outbox.clone()).mailer().unwrap();
    let db = TestDb::sqlite();
    {
        let mut conn = db.store.conn().unwrap();
        provision::apply_and_invite(
            &mut conn,
            &declaration,
            true,
            &gatehouse::sealing::Sealer::process_ephemeral(),
        )
        .unwrap();
        provision::apply_and_invite(
            &mut conn,
            &declaration,
            true,
            &gatehouse::sealing::Sealer::process_ephemeral(),
        )
        .unwrap();
    }
    let sender = Sender::new(db.store.clone(), mailer, MailQueue::default());
    while sender.deliver_one().await {}
    let sent: Vec<Value> = std::fs::read_to_string(&outbox)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(sent.len(), 1, "only erin, and only once: {sent:?}");
    assert_eq!(sent[0]["to"], "erin@example.com");
    assert_eq!(sent[0]["subject"], "Your temporary password");
    let body = sent[0]["body"].as_str().unwrap();
    assert!(
        body.contains("erin") && body.contains("Temp-Passw0rd"),
        "{body}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refusing = MailSettings::Smtp(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        timeout_seconds: 2,
    })
    .mailer()
    .unwrap();
    let fresh = TestDb::sqlite();
    provision::apply_and_invite(
        &mut fresh.store.conn().unwrap(),
        &declaration,
        true,
        &gatehouse::sealing::Sealer::process_ephemeral(),
    )
    .unwrap();
    let sender = Sender::new(fresh.store.clone(), refusing, MailQueue::default());
    assert!(sender.deliver_one().await, "an attempt was made");
    let mut conn = fresh.store.conn().unwrap();
    assert!(gatehouse::store::users::count(&mut conn, HOSTED).unwrap() > 0);
    let rows = gatehouse::store::mail_outbox::deliveries(&mut conn).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("pending", 1));
}
