//! GET/POST /signup and /confirm (docs/hosted-ui.md, "Sign up" and "Confirm the account";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/signing-up-users-in-your-app.html>):
//! self-registration under the pool's sign-in options, required attributes and password policy;
//! a code emailed to the address to verify; confirmation that signs the same browser straight
//! in (no second sign-in), and a resend.

use super::accounts::{self, Confirmation, Registered};
use super::hosted::{
    Browser, Context, Field, HostedOutcome, PageResult, Screen, after_first_factor, context,
    mask_destination, password_context, query_with,
};
use super::lifecycle::Caller;
use super::{Services, Site, session};
use crate::model::attributes::Attributes;
use crate::model::client::ExistenceErrors;
use crate::model::{User, UserStatus};
use crate::oauth::OAuthError;
use crate::store::codes::PURPOSE_SIGNUP;
use crate::store::grants::SESSION_SIGNUP;
use crate::store::{self, AnyConnection, Lease};
use crate::ui::i18n::Text;
use crate::ui::view::FieldError;

const MAX_USERNAME_CHARS: usize = 128;

/// The form field of one attribute, with the posted value when there is one.
pub fn field_for(name: &str, browser: Option<&Browser>) -> Field {
    let (input_type, autocomplete) = match name {
        "email" => ("email", "email"),
        "phone_number" => ("tel", "tel"),
        "username" => ("text", "username"),
        "given_name" => ("text", "given-name"),
        "family_name" => ("text", "family-name"),
        "middle_name" => ("text", "additional-name"),
        "name" => ("text", "name"),
        "nickname" => ("text", "nickname"),
        "birthdate" => ("text", "bday"),
        "address" => ("text", "street-address"),
        "website" | "profile" | "picture" => ("url", "url"),
        _ => ("text", "on"),
    };
    Field {
        name: name.to_owned(),
        input_type,
        autocomplete,
        value: browser.map(|b| b.short_field(name)).unwrap_or_default(),
    }
}

/// Why an attribute value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeProblem {
    Missing,
    Invalid,
}

/// Sets one attribute under the rules every front door shares: a value is required, an email
/// must look like one, and the model's name and value checks apply.
pub fn check_attribute(
    attributes: &mut Attributes,
    name: &str,
    value: &str,
) -> Result<(), AttributeProblem> {
    if value.is_empty() {
        return Err(AttributeProblem::Missing);
    }
    if name == "email" && !looks_like_email(value) {
        return Err(AttributeProblem::Invalid);
    }
    attributes
        .set(name, value)
        .map_err(|_| AttributeProblem::Invalid)
}

/// Stores a posted field as an attribute; empty or invalid values are refused with a message.
pub fn set_attribute(attributes: &mut Attributes, field: &Field) -> Result<(), Text> {
    check_attribute(attributes, &field.name, &field.value).map_err(|problem| {
        let key = match problem {
            AttributeProblem::Missing => "error.attribute_required",
            AttributeProblem::Invalid => "error.attribute_invalid",
        };
        Text::new(key).with("attribute", field.name.clone())
    })
}

pub fn looks_like_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.contains(char::is_whitespace)
        && !domain.contains('@')
}

pub fn looks_like_phone(value: &str) -> bool {
    value.strip_prefix('+').is_some_and(|digits| {
        (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The message for a password the pool's policy refuses, naming every broken rule.
pub fn policy_error(site: &Site, password: &str) -> Option<Text> {
    policy_text(&site.pool.settings.password_policy, password)
}

/// `policy_error` for a policy.
pub fn policy_text(policy: &crate::model::pool::PasswordPolicy, password: &str) -> Option<Text> {
    let broken = policy.violations(password);
    if broken.is_empty() {
        return None;
    }
    let rules: Vec<String> = broken.iter().map(|r| rule_key(*r).to_owned()).collect();
    let min = policy.minimum_length.to_string();
    Some(
        Text::new("error.password_policy")
            .with("rules", rules.join(","))
            .with("min", min),
    )
}

/// The catalogue key that describes one password rule.
pub fn rule_key(rule: crate::model::pool::PasswordRule) -> &'static str {
    use crate::model::pool::PasswordRule;
    match rule {
        PasswordRule::MinimumLength(_) => "password.rule.length",
        PasswordRule::MaximumLength => "password.rule.max_length",
        PasswordRule::Lowercase => "password.rule.lowercase",
        PasswordRule::Uppercase => "password.rule.uppercase",
        PasswordRule::Number => "password.rule.number",
        PasswordRule::Symbol => "password.rule.symbol",
    }
}

/// The inputs of the sign-up form, in order: the sign-in name(s), then required attributes.
fn fields(site: &Site, browser: Option<&Browser>) -> Vec<Field> {
    let settings = &site.pool.settings;
    let mut names: Vec<&str> = Vec::new();
    if settings.username_attributes.is_empty() {
        names.push("username");
    } else {
        names.extend(settings.username_attributes.iter().map(String::as_str));
    }
    // The code goes to the email, so a pool that verifies emails asks for one.
    if settings
        .auto_verified_attributes
        .iter()
        .any(|a| a == "email")
    {
        names.push("email");
    }
    names.extend(settings.required_attributes.iter().map(String::as_str));
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(*n))
        .map(|n| field_for(n, browser))
        .collect()
}

fn refused(ctx: &Context) -> Option<HostedOutcome> {
    (!ctx.frame.signup_allowed).then(|| HostedOutcome::Page(Text::new("page.signup_disabled")))
}

/// GET /signup.
pub fn show(db: &mut Lease, services: &Services, site: &Site, browser: &Browser) -> PageResult {
    let conn = db.conn()?;
    let ctx = context(conn, services, site, browser)?;
    if let Some(outcome) = refused(&ctx) {
        return Ok(outcome);
    }
    let screen = Screen::SignUp {
        fields: fields(site, None),
    };
    Ok(HostedOutcome::show(ctx.frame, screen))
}

/// POST /signup.
pub fn submit(db: &mut Lease, services: &Services, site: &Site, browser: &Browser) -> PageResult {
    let conn = db.conn()?;
    let ctx = context(conn, services, site, browser)?;
    if let Some(outcome) = refused(&ctx) {
        return Ok(outcome);
    }
    let form_fields = fields(site, Some(browser));
    if !browser.csrf_ok {
        return Ok(HostedOutcome::show_error(
            ctx.frame,
            Screen::SignUp {
                fields: form_fields,
            },
            Text::new("error.expired_form"),
        ));
    }
    let settings = &site.pool.settings;
    let providers: Vec<String> = if settings.username_attributes.is_empty() {
        super::identity_providers(conn, services, site)?
            .iter()
            .map(|p| p.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    let password = browser.field("password");
    let form = match super::validation::sign_up(settings, &providers, &form_fields, password) {
        Ok(form) => form,
        Err(problems) => {
            return Ok(HostedOutcome::show_invalid(
                ctx.frame,
                Screen::SignUp {
                    fields: form_fields,
                },
                problems,
            ));
        }
    };
    let hidden = ctx.client.settings.prevent_user_existence_errors == ExistenceErrors::Enabled;
    let sign_in_name = accounts::sign_in_name(site, &form.username, &form.attributes);
    let typed_email = form.attributes.get("email").map(str::to_owned);
    let verify_email = accounts::verifies_email(site);
    let registration = accounts::Registration {
        username: form.username,
        attributes: form.attributes,
        password,
        hide_existing: hidden,
        validation_data: None,
        caller: Caller::client(ctx.client.id.as_str()),
    };
    let session = match accounts::register(db, services, site, registration, browser.now)? {
        // The pre sign-up hook refused: nothing was created.
        Registered::Stopped(stop) => {
            let screen = Screen::SignUp {
                fields: form_fields,
            };
            return Ok(HostedOutcome::show_error(
                ctx.frame,
                screen,
                stop.page_text(),
            ));
        }
        // Confirmed by the pre sign-up hook: no code, the browser goes on to the app.
        Registered::Created { user, .. } if user.status == UserStatus::Confirmed => {
            return Ok(after_first_factor(db, services, site, ctx, &user, browser)?);
        }
        Registered::Refused(error) => {
            let screen = Screen::SignUp {
                fields: form_fields,
            };
            let text = super::triggers::page_text(&error);
            return Ok(HostedOutcome::show_error(ctx.frame, screen, text));
        }
        Registered::Created { user, .. } if verify_email => {
            let conn = db.conn()?;
            session::end(conn, browser.session_cookie)?;
            Some(session::start(
                conn,
                site,
                &user,
                SESSION_SIGNUP,
                browser.now,
            )?)
        }
        Registered::Created { .. } => None,
        // Looks like a new sign-up's cookie; it names no session.
        Registered::Taken if hidden => verify_email.then(|| crate::secrets::random_token(32)),
        Registered::Taken => {
            let (field, key) = match settings.username_attributes.first() {
                None => ("username", "error.username_exists"),
                Some(name) => (name.as_str(), "error.account_exists"),
            };
            let problem = FieldError::new(field, Text::new(key));
            return Ok(HostedOutcome::show_invalid(
                ctx.frame,
                Screen::SignUp {
                    fields: form_fields,
                },
                vec![problem],
            ));
        }
    };
    if !verify_email {
        // Nothing to verify: an administrator confirms the account (Cognito's behaviour).
        return Ok(HostedOutcome::Goto {
            page: "login",
            query: query_with(
                &ctx.frame.query,
                &[("username", &sign_in_name), ("notice", "admin_confirms")],
            ),
            session: None,
        });
    }
    // Where the code went is what the browser typed, masked; it is carried in the URL, so a
    // taken name and a new one lead to the same page.
    let sent_to = typed_email
        .as_deref()
        .map(mask_destination)
        .unwrap_or_default();
    Ok(HostedOutcome::Goto {
        page: "confirm",
        query: query_with(
            &ctx.frame.query,
            &[("username", &sign_in_name), ("sent_to", &sent_to)],
        ),
        session,
    })
}

/// A sign-up met an existing account: its owner hears of it by email (no code), and the
/// browser gets the answer a new account gets.
pub(super) fn notify_owner(
    conn: &mut AnyConnection,
    site: &Site,
    attempted: &User,
    sign_in_name: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let typed_email = attempted.attributes.get("email");
    let owner = match store::users::find_for_sign_in(conn, &site.pool, sign_in_name)? {
        Some(owner) => Some(owner),
        None => match typed_email {
            Some(email) => store::users::find_for_sign_in(conn, &site.pool, email)?,
            None => None,
        },
    };
    let Some(owner) = owner else { return Ok(()) };
    let Some(to) = owner.attributes.get("email") else {
        return Ok(());
    };
    let templates = &site.pool.settings.messages;
    // The name the owner signs in with: a pool of email usernames keeps the sub as username.
    let (body, html) = crate::mail::body(ACCOUNT_EXISTS_MESSAGE, sign_in_name, "");
    let email = crate::mail::Email {
        from: templates.email_from.clone(),
        reply_to: templates.reply_to.clone(),
        to: to.to_owned(),
        subject: ACCOUNT_EXISTS_SUBJECT.to_owned(),
        html,
        body,
    };
    store::mail_outbox::enqueue(conn, site.pool_id(), &email, now)?;
    Ok(())
}

const ACCOUNT_EXISTS_SUBJECT: &str = "Someone tried to sign up with your account";
const ACCOUNT_EXISTS_MESSAGE: &str = "Someone tried to create an account with your username or \
email address ({username} already has one). If it was you, sign in or reset your password \
instead. If it was not, you can ignore this message: your account has not changed.";

/// Cognito's username rules, plus: with an email (phone) alias, a username may not look like
/// an email (phone number), or one user's username could be another's alias.
pub fn username_error(
    settings: &crate::model::pool::PoolSettings,
    providers: &[String],
    username: &str,
) -> Option<Text> {
    let aliases = &settings.alias_attributes;
    // `<Provider>_…` names federated users: a sign-up may not take one in advance.
    if providers.iter().any(|p| {
        username
            .to_lowercase()
            .starts_with(&format!("{}_", p.to_lowercase()))
    }) {
        return Some(Text::new("error.username_reserved"));
    }
    if username.is_empty() {
        return Some(Text::new("error.attribute_required").with("attribute", "username"));
    }
    if username.chars().count() > MAX_USERNAME_CHARS
        || username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Some(Text::new("error.username_invalid"));
    }
    if (aliases.iter().any(|a| a == "email") && username.contains('@'))
        || (aliases.iter().any(|a| a == "phone_number") && looks_like_phone(username))
    {
        return Some(Text::new("error.username_like_alias"));
    }
    None
}

/// The confirmation page. Where the code went is shown only to the browser that signed up
/// (it holds the sign-up session), so the page tells nobody else which accounts exist.
fn confirm_screen(
    conn: &mut AnyConnection,
    site: &Site,
    browser: &Browser,
    username: &str,
) -> Result<Screen, OAuthError> {
    let signing_up = session::current_of_kind(
        conn,
        site,
        browser.session_cookie,
        browser.now,
        SESSION_SIGNUP,
    )?;
    let destination = match signing_up {
        Some(pending)
            if store::users::find_for_sign_in(conn, &site.pool, username)?
                .is_some_and(|u| u.sub == pending.user.sub) =>
        {
            store::codes::find(
                conn,
                site.pool_id(),
                &pending.user.sub.to_string(),
                PURPOSE_SIGNUP,
            )?
            .map(|row| mask_destination(&row.destination))
        }
        // What the sign-up form typed, already masked (see `submit`); nothing from the database.
        _ => browser
            .query_value("sent_to")
            .filter(|shown| super::hosted::is_masked_destination(shown)),
    };
    Ok(Screen::Confirm {
        username: username.to_owned(),
        destination,
    })
}

/// GET /confirm.
pub fn show_confirm(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    browser: &Browser,
) -> PageResult {
    let conn = db.conn()?;
    let ctx = password_context(conn, services, site, browser)?;
    let username = browser.query_value("username").unwrap_or_default();
    let screen = confirm_screen(conn, site, browser, &username)?;
    Ok(HostedOutcome::show(ctx.frame, screen))
}

/// POST /confirm: the code, or `resend`.
pub fn submit_confirm(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    browser: &Browser,
) -> PageResult {
    let conn = db.conn()?;
    let ctx = password_context(conn, services, site, browser)?;
    let username = browser.typed_username();
    let screen = confirm_screen(conn, site, browser, &username)?;
    if !browser.csrf_ok {
        return Ok(HostedOutcome::show_error(
            ctx.frame,
            screen,
            Text::new("error.expired_form"),
        ));
    }
    if browser.form.and_then(|f| f.get("resend")).is_some() {
        let user = store::users::find_for_sign_in(conn, &site.pool, &username)?
            .filter(|u| u.status == UserStatus::Unconfirmed && u.enabled);
        return Ok(resend(
            db,
            services,
            site,
            ctx,
            browser,
            user.as_ref(),
            &username,
        )?);
    }
    if let Some(problem) = super::validation::code_entered(browser.field("code")) {
        return Ok(HostedOutcome::show_invalid(
            ctx.frame,
            screen,
            vec![problem],
        ));
    }
    let caller = Caller::client(ctx.client.id.as_str());
    let code = browser.field("code");
    let user = match accounts::confirm_sign_up(
        db,
        services,
        site,
        &username,
        code,
        caller,
        browser.now,
    )? {
        Confirmation::Confirmed(user) => user,
        // Confirmed all the same: the sign-in page says what the hook said.
        Confirmation::HookFailed(_, error) => {
            let screen = Screen::SignIn { username };
            let text = super::triggers::page_text(&error);
            return Ok(HostedOutcome::show_error(ctx.frame, screen, text));
        }
        Confirmation::Refused(why) => {
            let problem = FieldError::new("code", why.text());
            return Ok(HostedOutcome::show_invalid(
                ctx.frame,
                screen,
                vec![problem],
            ));
        }
        // Said like a wrong code: the page tells no accounts apart.
        Confirmation::NotPending(_) => {
            let problem = FieldError::new("code", Text::new("error.code_mismatch"));
            return Ok(HostedOutcome::show_invalid(
                ctx.frame,
                screen,
                vec![problem],
            ));
        }
        // Another account holds this email as a verified alias (AliasExistsException).
        Confirmation::AliasExists => {
            return Ok(HostedOutcome::show_error(
                ctx.frame,
                screen,
                Text::new("error.alias_exists"),
            ));
        }
    };
    // The browser that signed up continues to the app; any other browser signs in.
    let conn = db.conn()?;
    let same_browser = session::current_of_kind(
        conn,
        site,
        browser.session_cookie,
        browser.now,
        SESSION_SIGNUP,
    )?
    .is_some_and(|pending| pending.user.sub == user.sub);
    if same_browser {
        return Ok(after_first_factor(db, services, site, ctx, &user, browser)?);
    }
    Ok(HostedOutcome::Goto {
        page: "login",
        query: query_with(
            &ctx.frame.query,
            &[("username", &username), ("notice", "confirmed")],
        ),
        session: None,
    })
}

fn resend(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    ctx: Context,
    browser: &Browser,
    user: Option<&User>,
    username: &str,
) -> Result<HostedOutcome, OAuthError> {
    let mut screen = confirm_screen(db.conn()?, site, browser, username)?;
    // An unknown or confirmed user, and a resend that comes too soon (the last code still
    // works), get the same answer as a real one: nothing tells them apart.
    let sent = Text::new("notice.code_sent");
    let Some(user) = user else {
        return Ok(HostedOutcome::show(ctx.frame, screen).with_notice(sent));
    };
    let caller = Caller::client(ctx.client.id.as_str());
    match accounts::resend_sign_up_code(db, services, site, user, caller, browser.now)? {
        accounts::Sent::To(_) => {}
        accounts::Sent::Refused(error) => {
            let text = super::triggers::page_text(&error);
            return Ok(HostedOutcome::show_error(ctx.frame, screen, text));
        }
        _ => return Ok(HostedOutcome::show(ctx.frame, screen).with_notice(sent)),
    }
    screen = confirm_screen(db.conn()?, site, browser, username)?;
    Ok(HostedOutcome::show(ctx.frame, screen).with_notice(Text::new("notice.code_sent")))
}
