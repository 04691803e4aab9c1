//! Account safety over real sockets on both backends: a sign-up that meets an existing account
//! answers like a new one (prevent_user_existence_errors), and a password reset signs the user
//! out everywhere else.

use crate::hosted::{
    CALLBACK, EMAIL_POOL, HOSTED, PLAIN, Site, WEB, browser, input_value, location, param,
};
use crate::on_both_backends_with;
use reqwest::StatusCode;
use serde_json::Value;

const EMAIL_HIDDEN: &str = "emailuserclient0000000000b";

on_both_backends_with!(
    Site;
    a_taken_username_signs_up_like_a_new_one,
    a_taken_email_signs_up_like_a_new_one,
    a_password_reset_signs_the_user_out_elsewhere,
);

/// Status, whether a session cookie was set, and the location with the given names blanked.
fn shape(response: &reqwest::Response, names: &[&str]) -> (StatusCode, bool, String) {
    let mut at = location(response);
    for name in names {
        at = at.replace(name, "NAME");
    }
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("gatehouse_session="));
    (response.status(), cookie, at)
}

fn has_code(email: &Value) -> bool {
    let body: Vec<char> = email["body"].as_str().unwrap().chars().collect();
    body.windows(6).any(|w| w.iter().all(char::is_ascii_digit))
}

async fn a_taken_username_signs_up_like_a_new_one(site: Site) {
    let signup = site.page(HOSTED, "signup", PLAIN);
    let form = |username: &'static str, email: &'static str| {
        [
            ("username", username),
            ("email", email),
            ("given_name", "Someone"),
            ("password", "Someone-Passw0rd"),
        ]
    };
    let (new_browser, taken_browser) = (browser(), browser());
    let fresh = site
        .submit(&new_browser, &signup, &form("newcomer", "nina@example.com"))
        .await;
    // `dora` exists (with dora@example.com); the form gives another address.
    let taken = site
        .submit(&taken_browser, &signup, &form("dora", "nick@example.com"))
        .await;
    let fresh_shape = shape(&fresh, &["newcomer"]);
    assert_eq!(fresh_shape.0, StatusCode::FOUND);
    assert_eq!(fresh_shape, shape(&taken, &["dora"]), "the same answer");
    // Both confirmation pages show the address typed, masked, and nothing else differs.
    let (_, fresh_page) = site
        .get(&new_browser, &site.absolute(&location(&fresh)))
        .await;
    let (_, taken_page) = site
        .get(&taken_browser, &site.absolute(&location(&taken)))
        .await;
    assert!(fresh_page.contains("n***@e***.com"), "{fresh_page}");
    let without = |page: &str, name: &str| {
        page.replace(name, "NAME")
            .replace(&input_value(page, "_csrf"), "CSRF")
    };
    assert_eq!(
        without(&fresh_page, "newcomer"),
        without(&taken_page, "dora")
    );
    // A guessed code is refused alike.
    let taken_confirm = site.absolute(&location(&taken));
    let guess = site
        .submit(
            &taken_browser,
            &taken_confirm,
            &[("username", "dora"), ("code", "123456")],
        )
        .await;
    assert!(
        guess
            .text()
            .await
            .unwrap()
            .contains("Invalid verification code")
    );
    // The new account gets its code; the owner of `dora` gets a notice without one; the
    // address typed with the taken name gets nothing.
    let emails = site.emails().await;
    let to =
        |address: &str| -> Vec<&Value> { emails.iter().filter(|e| e["to"] == address).collect() };
    assert!(has_code(to("nina@example.com")[0]));
    let notice = to("dora@example.com");
    assert_eq!(notice.len(), 1, "{emails:?}");
    assert!(
        notice[0]["subject"]
            .as_str()
            .unwrap()
            .contains("tried to sign up")
    );
    assert!(
        !has_code(notice[0]),
        "no code for a sign-up the owner did not make"
    );
    assert!(to("nick@example.com").is_empty());
    assert_eq!(
        site.user_count(HOSTED),
        3,
        "dora, erin and the newcomer only"
    );
}

async fn a_taken_email_signs_up_like_a_new_one(site: Site) {
    // In a pool whose usernames are emails, a taken email is a taken name.
    let signup = site.page(EMAIL_POOL, "signup", EMAIL_HIDDEN);
    let form = |email: &'static str| [("email", email), ("password", "Someone-Passw0rd!")];
    let first = site
        .submit(&browser(), &signup, &form("ivy@example.com"))
        .await;
    assert_eq!(first.status(), StatusCode::FOUND);
    let again = site
        .submit(&browser(), &signup, &form("ivy@example.com"))
        .await;
    let other = site
        .submit(&browser(), &signup, &form("iris@example.com"))
        .await;
    assert_eq!(
        shape(&again, &["ivy"]),
        shape(&other, &["iris"]),
        "a taken email answers like a new one"
    );
    let emails = site.emails().await;
    let to_ivy: Vec<&Value> = emails
        .iter()
        .filter(|e| e["to"] == "ivy@example.com")
        .collect();
    assert_eq!(to_ivy.len(), 2, "a code, then a notice: {emails:?}");
    assert!(has_code(to_ivy[0]) && !has_code(to_ivy[1]));
}

/// Signs dora in with `b` (declining the optional authenticator) and returns her tokens.
async fn dora_tokens(site: &Site, b: &reqwest::Client) -> Value {
    let offer = site.sign_in(b, HOSTED, WEB, "dora", "Dora-Passw0rd").await;
    let html = offer.text().await.unwrap();
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
    site.exchange(HOSTED, WEB, &param(&done, "code").unwrap())
        .await
}

async fn refresh(site: &Site, refresh_token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/{HOSTED}/oauth2/token", site.root))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", WEB),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn user_info(site: &Site, access_token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/{HOSTED}/oauth2/userInfo", site.root))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
}

/// Whether `b` is still signed in: its authorization request comes straight back with a code.
async fn single_sign_on(site: &Site, b: &reqwest::Client) -> bool {
    let authorize = site.page(HOSTED, "oauth2/authorize", WEB);
    let response = b.get(&authorize).send().await.unwrap();
    location(&response).starts_with(CALLBACK)
}

async fn a_password_reset_signs_the_user_out_elsewhere(site: Site) {
    let laptop = browser();
    let tokens = dora_tokens(&site, &laptop).await;
    let (refresh_token, access_token) = (
        tokens["refresh_token"].as_str().unwrap().to_owned(),
        tokens["access_token"].as_str().unwrap().to_owned(),
    );
    assert_eq!(refresh(&site, &refresh_token).await.0, StatusCode::OK);
    assert_eq!(user_info(&site, &access_token).await, StatusCode::OK);
    assert!(single_sign_on(&site, &laptop).await, "signed in before");

    // Someone resets the password from another browser.
    let phone = browser();
    let forgot = site.page(HOSTED, "forgotPassword", WEB);
    let asked = site.submit(&phone, &forgot, &[("username", "dora")]).await;
    let code = site.last_code("dora@example.com").await;
    let reset = site.absolute(&location(&asked));
    let done = site
        .submit(
            &phone,
            &reset,
            &[
                ("username", "dora"),
                ("code", &code),
                ("password", "Fresh-Passw0rd"),
                ("confirm_password", "Fresh-Passw0rd"),
            ],
        )
        .await;
    assert!(location(&done).contains("notice=password_reset"));

    let (status, body) = refresh(&site, &refresh_token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        user_info(&site, &access_token).await,
        StatusCode::UNAUTHORIZED,
        "access tokens die with their family"
    );
    assert!(
        !single_sign_on(&site, &laptop).await,
        "the other session ended"
    );
    // The new password works and starts afresh.
    let fresh = dora_tokens_with(&site, "Fresh-Passw0rd").await;
    assert_eq!(
        refresh(&site, fresh["refresh_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::OK
    );
}

async fn dora_tokens_with(site: &Site, password: &str) -> Value {
    let b = browser();
    let response = site.sign_in(&b, HOSTED, WEB, "dora", password).await;
    // Declining the authenticator is remembered: straight to the app.
    let done = location(&response);
    assert!(done.starts_with(CALLBACK), "{done}");
    site.exchange(HOSTED, WEB, &param(&done, "code").unwrap())
        .await
}
