//! How the hosted forms guide a person, over a real socket on SQLite and PostgreSQL: every
//! problem named next to its input (`aria-invalid`, `aria-describedby`) and in the summary,
//! typed values kept (never passwords), focus on the first input, an empty sign-in named and
//! not throttled (docs/hosted-ui.md, "Mistakes on a form").

use crate::hosted::{HOSTED, PLAIN, Site, browser, input_value, location};
use crate::on_both_backends_with;

on_both_backends_with!(
    Site;
    an_empty_sign_in_names_what_is_missing_and_is_not_throttled,
    sign_up_reports_every_problem_next_to_its_input,
    the_reset_page_keeps_the_code_and_reports_every_password_problem,
    the_new_password_step_reports_every_problem_at_once,
    titles_name_the_app_once,
);

/// The `<input>` tag whose `id` is `id`.
fn input<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<input id=\"{id}\""))
        .unwrap_or_else(|| panic!("no input #{id} in {html}"));
    let end = html[start..].find('>').unwrap() + start + 1;
    &html[start..end]
}

/// Asserts the input `id` is marked invalid and described by an element holding `message`.
fn invalid_with(html: &str, id: &str, message: &str) {
    let tag = input(html, id);
    assert!(tag.contains("aria-invalid=\"true\""), "{tag}");
    let described = tag
        .split("aria-describedby=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no aria-describedby on {tag}"));
    let error_id = format!("{id}-error");
    assert!(
        described.split(' ').any(|d| d == error_id),
        "{tag} not described by #{error_id}"
    );
    let element = format!("<p id=\"{error_id}\" class=\"field-error\">{message}</p>");
    assert!(html.contains(&element), "{element} in {html}");
    // The summary lists it too, linked to the input.
    let link = format!("<a href=\"#{id}\">{message}</a>");
    assert!(html.contains(&link), "{link} in {html}");
}

fn valid(html: &str, id: &str) {
    let tag = input(html, id);
    assert!(!tag.contains("aria-invalid"), "{tag}");
}

fn focused(html: &str) -> Vec<String> {
    html.split("<input id=\"")
        .skip(1)
        .filter(|rest| rest.split('>').next().unwrap().contains(" autofocus"))
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

async fn an_empty_sign_in_names_what_is_missing_and_is_not_throttled(site: Site) {
    let b = browser();
    let login = site.page(HOSTED, "login", PLAIN);
    let (_, fresh) = site.get(&b, &login).await;
    assert_eq!(focused(&fresh), ["signInFormUsername"]);

    let empty = site
        .submit(&b, &login, &[("username", ""), ("password", "")])
        .await;
    let html = empty.text().await.unwrap();
    invalid_with(&html, "signInFormUsername", "Enter your username.");
    invalid_with(&html, "signInFormPassword", "Enter your password.");
    assert!(!html.contains("Incorrect username or password."), "{html}");
    assert_eq!(focused(&html), ["signInFormUsername"]);

    // More empty passwords than the free failures: none of them counts.
    for _ in 0..7 {
        let response = site
            .submit(&b, &login, &[("username", "dora"), ("password", "")])
            .await;
        let html = response.text().await.unwrap();
        invalid_with(&html, "signInFormPassword", "Enter your password.");
        valid(&html, "signInFormUsername");
        assert!(input(&html, "signInFormUsername").contains("value=\"dora\""));
        assert_eq!(focused(&html), ["signInFormPassword"]);
    }
    let wrong = site
        .sign_in(&b, HOSTED, PLAIN, "dora", "Wrong-Passw0rd")
        .await;
    let html = wrong.text().await.unwrap();
    assert!(html.contains("Incorrect username or password."), "{html}");
    assert!(input(&html, "signInFormUsername").contains("value=\"dora\""));
    assert!(!html.contains("Wrong-Passw0rd"));
    valid(&html, "signInFormPassword");
    let right = site
        .sign_in(&b, HOSTED, PLAIN, "dora", "Dora-Passw0rd")
        .await;
    let html = right.text().await.unwrap();
    // OPTIONAL MFA: the set-up offer means the password was accepted, not throttled.
    assert!(html.contains("totpSecret"), "{html}");
}

async fn sign_up_reports_every_problem_next_to_its_input(site: Site) {
    let b = browser();
    let signup = site.page(HOSTED, "signup", PLAIN);
    let (_, fresh) = site.get(&b, &signup).await;
    assert_eq!(focused(&fresh), ["field-username"]);
    let response = site
        .submit(
            &b,
            &signup,
            &[
                ("username", "nina@example.com"),
                ("email", "not-an-email"),
                ("given_name", ""),
                ("password", "short"),
            ],
        )
        .await;
    let html = response.text().await.unwrap();
    invalid_with(
        &html,
        "field-username",
        "This username looks like an email address or phone number. Please choose another.",
    );
    invalid_with(&html, "field-email", "Email is not valid.");
    invalid_with(&html, "field-given_name", "Given name is required.");
    assert!(
        input(&html, "password").contains("aria-describedby=\"password-error passwordRules\""),
        "{html}"
    );
    assert!(html.contains(
        "<p id=\"password-error\" class=\"field-error\">Password does not conform to policy"
    ));
    assert_eq!(focused(&html), ["field-username"]);
    // What was typed stays, the password does not.
    assert!(input(&html, "field-username").contains("value=\"nina@example.com\""));
    assert!(input(&html, "field-email").contains("value=\"not-an-email\""));
    assert!(!input(&html, "password").contains("value="));
    assert!(html.contains("<title>Error: "), "{html}");
    assert_eq!(site.user_count(HOSTED), 2, "nothing created");

    // Fixed in one go: one problem left, the others cleared.
    let response = site
        .submit(
            &b,
            &signup,
            &[
                ("username", "nina"),
                ("email", "nina@example.com"),
                ("given_name", "Nina"),
                ("password", ""),
            ],
        )
        .await;
    let html = response.text().await.unwrap();
    invalid_with(&html, "password", "Enter a password.");
    for id in ["field-username", "field-email", "field-given_name"] {
        valid(&html, id);
    }
    assert!(input(&html, "field-given_name").contains("value=\"Nina\""));
    assert_eq!(focused(&html), ["password"]);
}

async fn the_reset_page_keeps_the_code_and_reports_every_password_problem(site: Site) {
    let b = browser();
    let forgot = site.page(HOSTED, "forgotPassword", PLAIN);
    let (_, page) = site.get(&b, &forgot).await;
    assert_eq!(focused(&page), ["username"]);
    let empty = site.submit(&b, &forgot, &[("username", "")]).await;
    invalid_with(
        &empty.text().await.unwrap(),
        "username",
        "Enter your username.",
    );
    let sent = site.submit(&b, &forgot, &[("username", "dora")]).await;
    let reset = site.absolute(&location(&sent));
    let code = site.last_code("dora@example.com").await;
    let (_, page) = site.get(&b, &reset).await;
    assert_eq!(focused(&page), ["forgot_password_code"]);

    let post = |code: String, password: &'static str, confirm: &'static str| {
        let (b, reset, site) = (b.clone(), reset.clone(), &site);
        async move {
            let fields = [
                ("username", "dora"),
                ("code", code.as_str()),
                ("password", password),
                ("confirm_password", confirm),
            ];
            let response = site.submit(&b, &reset, &fields).await;
            response.text().await.unwrap()
        }
    };
    let differ = post(code.clone(), "Fresh-Passw0rd", "Fresh-Passw0rd2").await;
    invalid_with(&differ, "confirm_password", "The passwords do not match.");
    valid(&differ, "new_password");
    valid(&differ, "forgot_password_code");
    let kept = format!("value=\"{code}\"");
    assert!(
        input(&differ, "forgot_password_code").contains(&kept),
        "the code is kept"
    );
    assert!(!differ.contains("Fresh-Passw0rd"));
    assert_eq!(focused(&differ), ["confirm_password"]);

    let both = post(code.clone(), "weak", "other").await;
    assert!(
        both.contains(
            "<p id=\"new_password-error\" class=\"field-error\">Password does not conform"
        )
    );
    invalid_with(&both, "confirm_password", "The passwords do not match.");
    assert_eq!(focused(&both), ["new_password"]);

    let no_code = post(String::new(), "Fresh-Passw0rd", "Fresh-Passw0rd").await;
    invalid_with(&no_code, "forgot_password_code", "Enter the code.");

    // None of that spent the code.
    let done = b
        .post(&reset)
        .form(&[
            ("_csrf", input_value(&no_code, "_csrf").as_str()),
            ("username", "dora"),
            ("code", code.as_str()),
            ("password", "Fresh-Passw0rd"),
            ("confirm_password", "Fresh-Passw0rd"),
        ])
        .send()
        .await
        .unwrap();
    assert!(location(&done).contains("notice=password_reset"));
}

async fn the_new_password_step_reports_every_problem_at_once(site: Site) {
    let b = browser();
    let first = site
        .sign_in(&b, HOSTED, PLAIN, "erin", "Temp-Passw0rd")
        .await;
    let html = first.text().await.unwrap();
    assert_eq!(focused(&html), ["field-given_name"]);
    let post = |given: &'static str, new: &'static str, confirm: &'static str| {
        let (b, login) = (b.clone(), site.page(HOSTED, "login", PLAIN));
        let csrf = input_value(&html, "_csrf");
        async move {
            let response = b
                .post(&login)
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("step", "new_password"),
                    ("username", "erin"),
                    ("given_name", given),
                    ("new_password", new),
                    ("confirm_password", confirm),
                ])
                .send()
                .await
                .unwrap();
            response.text().await.unwrap()
        }
    };
    let all = post("", "weak", "weak2").await;
    invalid_with(&all, "field-given_name", "Given name is required.");
    assert!(
        all.contains(
            "<p id=\"new_password-error\" class=\"field-error\">Password does not conform"
        )
    );
    invalid_with(&all, "confirm_password", "The passwords do not match.");
    assert_eq!(focused(&all), ["field-given_name"]);

    let mismatch = post("Erin", "Erin-Passw0rd", "Erin-Passw0rd2").await;
    valid(&mismatch, "field-given_name");
    assert!(input(&mismatch, "field-given_name").contains("value=\"Erin\""));
    invalid_with(&mismatch, "confirm_password", "The passwords do not match.");
}

async fn titles_name_the_app_once(site: Site) {
    let b = browser();
    let (_, login) = site.get(&b, &site.page(HOSTED, "login", PLAIN)).await;
    assert!(login.contains("<title>Sign in to Plain</title>"), "{login}");
    let (_, forgot) = site
        .get(&b, &site.page(HOSTED, "forgotPassword", PLAIN))
        .await;
    assert!(
        forgot.contains("<title>Forgot your password? · Plain</title>"),
        "{forgot}"
    );
}
