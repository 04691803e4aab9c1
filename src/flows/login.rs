//! GET/POST /login (docs/hosted-ui.md, "Sign in";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/login-endpoint.html>): the sign-in
//! form, the password check, the new-password step for users created with a temporary password
//! (docs/hosted-ui.md, "New-password step"), the TOTP steps (RFC 6238) and the form for required
//! attributes the pool added after the user was created (docs/migrating.md, "Changing the schema
//! after creation"). The posted `step` field says which form was sent.
//!
//! A wrong password and an unknown user get the same message and cost the same time; failures
//! are throttled per user and per address through the database.

use super::credentials::{self, FirstFactor};
use super::hosted::{
    Browser, Context, Field, HostedOutcome, PageResult, Screen, after_first_factor, context,
    post_authentication,
};
use super::sign_in::{Challenge, Refusal, SESSION_ATTRIBUTES};
use super::{Services, Site, issue, session};
use crate::metrics::SignIn;
use crate::model::attributes::Attributes;
use crate::model::{User, UserStatus};
use crate::oauth::OAuthError;
use crate::store::grants::{self, SESSION_MFA, SESSION_MFA_SETUP, SESSION_NEW_PASSWORD};
use crate::store::{self, AnyConnection, Lease, mfa};
use crate::totp;
use crate::ui::i18n::Text;
use crate::ui::view::FieldError;

/// GET /login: validate the authorization parameters and show the form.
pub fn show(db: &mut Lease, services: &Services, site: &Site, browser: &Browser) -> PageResult {
    let conn = db.conn()?;
    let ctx = context(conn, services, site, browser)?;
    let username = browser
        .query_value("username")
        .or_else(|| ctx.request.login_hint.clone())
        .unwrap_or_default();
    let outcome = HostedOutcome::show(ctx.frame, Screen::SignIn { username });
    Ok(match browser.query_value("notice").as_deref() {
        Some("password_reset") => outcome.with_notice(Text::new("notice.password_reset")),
        Some("confirmed") => outcome.with_notice(Text::new("notice.confirmed")),
        Some("admin_confirms") => outcome.with_notice(Text::new("notice.admin_confirms")),
        _ => outcome,
    })
}

/// POST /login.
pub fn submit(db: &mut Lease, services: &Services, site: &Site, browser: &Browser) -> PageResult {
    let conn = db.conn()?;
    let ctx = context(conn, services, site, browser)?;
    let username = browser.typed_username();
    if !browser.csrf_ok {
        return Ok(HostedOutcome::show_error(
            ctx.frame,
            Screen::SignIn { username },
            Text::new("error.expired_form"),
        ));
    }
    let step = browser.field("step");
    // Every step but the provider choice belongs to the pool's own sign-in (COGNITO): a client
    // that does not offer it must not be reachable through a half-finished password sign-in.
    if step != "idp_email" && !ctx.frame.cognito_allowed {
        return Ok(HostedOutcome::Page(Text::new("page.cognito_not_allowed")));
    }
    let outcome = match step {
        "new_password" => new_password(db, services, site, ctx, browser),
        "mfa" => mfa_challenge(db, services, site, ctx, browser),
        "mfa_setup" => mfa_setup(db, services, site, ctx, browser),
        "attributes" => attributes(db, services, site, ctx, browser),
        "idp_email" => provider_by_email(conn, services, site, ctx, browser),
        _ => password(db, services, site, ctx, browser, username),
    }?;
    if let Some(result) = sign_in_result(step, &outcome) {
        services.metrics.sign_in(result);
    }
    Ok(outcome)
}

/// The page errors that end a sign-in step, as metric results.
const ERROR_RESULTS: &[(&str, SignIn)] = &[
    ("error.wrong_credentials", SignIn::WrongPassword),
    ("error.too_many_attempts", SignIn::Locked),
    ("error.too_many_codes", SignIn::Locked),
    ("error.wrong_totp", SignIn::WrongMfaCode),
    (refusal_key(Refusal::Disabled), SignIn::Disabled),
    (refusal_key(Refusal::NotConfirmed), SignIn::Unconfirmed),
    (refusal_key(Refusal::ResetRequired), SignIn::ResetRequired),
    (
        refusal_key(Refusal::TemporaryPasswordExpired),
        SignIn::TemporaryPasswordExpired,
    ),
];

/// How a submitted sign-in step ended, read from its outcome in this one place
/// (`gatehouse_sign_ins_total`). `None` for what is no sign-in attempt: the provider choice,
/// an expired form, a new password the policy refuses.
fn sign_in_result(step: &str, outcome: &HostedOutcome) -> Option<SignIn> {
    let view = match outcome {
        _ if step == "idp_email" => return None,
        // Every factor is in: the browser goes back to the app.
        HostedOutcome::Redirect { .. } => return Some(SignIn::Success),
        HostedOutcome::Show { view, .. } => view,
        HostedOutcome::Goto { .. } | HostedOutcome::Page(_) => return None,
    };
    match (&view.screen, &view.error) {
        (_, Some(error)) => ERROR_RESULTS
            .iter()
            .find(|(key, _)| *key == error.key)
            .map(|(_, result)| *result),
        (Screen::MfaChallenge, None) => Some(SignIn::MfaRequired),
        (Screen::MfaSetup { .. }, None) => Some(SignIn::MfaSetupRequired),
        (Screen::NewPassword { .. }, None) if step != "new_password" => {
            Some(SignIn::NewPasswordRequired)
        }
        _ => None,
    }
}

fn password(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    ctx: Context,
    browser: &Browser,
    username: String,
) -> Result<HostedOutcome, OAuthError> {
    let password = browser.field("password");
    // An empty field is a slip, not a guess: said plainly, and never counted as a failure.
    let mut missing = Vec::new();
    if username.is_empty() {
        missing.push(FieldError::new(
            "username",
            Text::new("error.username_missing"),
        ));
    }
    if password.is_empty() {
        missing.push(FieldError::new(
            "password",
            Text::new("error.password_missing"),
        ));
    }
    if !missing.is_empty() {
        return Ok(HostedOutcome::show_invalid(
            ctx.frame,
            Screen::SignIn { username },
            missing,
        ));
    }
    let fail = |frame, text| {
        HostedOutcome::show_error(
            frame,
            Screen::SignIn {
                username: username.clone(),
            },
            Text::new(text),
        )
    };
    let checked = credentials::check_password(
        db,
        services,
        site,
        super::lifecycle::Caller::client(ctx.client.id.as_str()),
        &username,
        password,
        Some(browser.address),
        browser.now,
    )?;
    let conn = db.conn()?;
    match checked {
        FirstFactor::Locked => Ok(fail(ctx.frame, "error.too_many_attempts")),
        FirstFactor::UnknownUser | FirstFactor::WrongPassword => {
            Ok(fail(ctx.frame, "error.wrong_credentials"))
        }
        FirstFactor::Refused(refusal) => Ok(fail(ctx.frame, refusal_key(refusal))),
        // The old system refused the password; any other failure is the hook's, not the user's.
        FirstFactor::MigrationFailed(super::migration::Failure::Refused) => {
            Ok(fail(ctx.frame, "error.wrong_credentials"))
        }
        FirstFactor::MigrationFailed(_) => Ok(fail(ctx.frame, "error.hook_failed")),
        FirstFactor::Denied(error) => Ok(HostedOutcome::show_error(
            ctx.frame,
            Screen::SignIn { username },
            super::triggers::page_text(&error),
        )),
        FirstFactor::Passed {
            user,
            challenge: Some(challenge @ Challenge::NewPasswordRequired),
        } => {
            session::end(conn, browser.session_cookie)?;
            let kind = challenge.session_kind();
            let cookie = session::start(conn, site, &user, kind, browser.now)?;
            let screen = Screen::NewPassword {
                username: user.username.clone(),
                missing: missing_required(site, &user.attributes, None),
            };
            Ok(HostedOutcome::show(ctx.frame, screen).with_session(cookie))
        }
        FirstFactor::Passed { user, .. } => {
            after_first_factor(db, services, site, ctx, &user, browser)
        }
    }
}

/// The page's message for a refusal after a right password.
const fn refusal_key(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::Disabled => "error.user_disabled",
        Refusal::NotConfirmed => "error.user_not_confirmed",
        Refusal::ResetRequired => "error.reset_required",
        Refusal::TemporaryPasswordExpired => "error.temporary_password_expired",
    }
}

/// "Sign in with your corporate email": the provider whose identifiers include the email's
/// domain, among those the client supports; an unknown domain is said on the page.
fn provider_by_email(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    ctx: Context,
    browser: &Browser,
) -> Result<HostedOutcome, OAuthError> {
    let email = browser.short_field("email");
    let supported = &ctx.client.settings.supported_identity_providers;
    let providers = super::identity_providers(conn, services, site)?;
    let found = providers
        .iter()
        .filter(|p| supported.contains(&p.name))
        .find(|p| {
            email.contains('@')
                && p.idp_identifiers
                    .iter()
                    .any(|id| crate::oauth::authorize::identifies(id, &email))
        });
    let Some(provider) = found else {
        return Ok(HostedOutcome::show_error(
            ctx.frame,
            Screen::SignIn {
                username: String::new(),
            },
            Text::new("error.no_provider_for_email"),
        ));
    };
    let query = super::hosted::query_with(
        &ctx.frame.query,
        &[("identity_provider", provider.name.as_str())],
    );
    Ok(HostedOutcome::show(
        ctx.frame,
        Screen::ContinueUpstream {
            provider: provider.name.clone(),
            query,
        },
    ))
}

/// Required attributes the user has no value for, as form fields (values from `form`).
fn missing_required(site: &Site, attributes: &Attributes, browser: Option<&Browser>) -> Vec<Field> {
    super::sign_in::missing_attributes(&site.pool.settings, attributes)
        .into_iter()
        .map(|name| super::signup::field_for(name, browser))
        .collect()
}

/// Every factor passed but the user lacks attributes the pool now requires: a pending session
/// and the form asking for them (`attributes` takes the answer).
pub(super) fn ask_attributes(
    conn: &mut AnyConnection,
    site: &Site,
    ctx: Context,
    user: &User,
    now: i64,
) -> Result<HostedOutcome, OAuthError> {
    let cookie = session::start(conn, site, user, SESSION_ATTRIBUTES, now)?;
    let screen = Screen::MissingAttributes {
        username: user.username.clone(),
        missing: missing_required(site, &user.attributes, None),
    };
    Ok(HostedOutcome::show(ctx.frame, screen).with_session(cookie))
}

/// The missing required attributes, checked like sign-up's; only they are written, onto the
/// user as stored now. Then the sign-in ends as any other.
fn attributes(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    ctx: Context,
    browser: &Browser,
) -> Result<HostedOutcome, OAuthError> {
    let conn = db.conn()?;
    let Some(pending) = pending(conn, site, browser, SESSION_ATTRIBUTES)? else {
        return Ok(expired(ctx));
    };
    let asked = missing_required(site, &pending.user.attributes, Some(browser));
    let mut given = pending.user.attributes.clone();
    let mut problems = Vec::new();
    for field in &asked {
        if let Err(text) = super::signup::set_attribute(&mut given, field) {
            problems.push(FieldError::new(field.name.clone(), text));
        }
    }
    let screen = |missing| Screen::MissingAttributes {
        username: pending.user.username.clone(),
        missing,
    };
    if !problems.is_empty() {
        return Ok(HostedOutcome::show_invalid(
            ctx.frame,
            screen(asked),
            problems,
        ));
    }
    let written = store::write_transaction(conn, |conn| {
        let mut user = store::users::get(conn, site.pool_id(), &pending.user.sub)?;
        for field in &asked {
            if let Some(value) = given.get(&field.name) {
                (user.attributes.set(field.name.clone(), value))
                    .map_err(|e| store::StoreError::Invalid(e.to_string()))?;
            }
        }
        user.updated_at = browser.now;
        store::users::update(conn, &site.pool, &user)?;
        Ok(user)
    });
    let user = match written {
        Ok(user) => user,
        Err(store::StoreError::Conflict(_)) => {
            let text = Text::new("error.alias_exists");
            return Ok(HostedOutcome::show_error(ctx.frame, screen(asked), text));
        }
        Err(e) => return Err(e.into()),
    };
    let done = session::SignedIn {
        session: pending.session,
        user,
    };
    finish(db, services, site, ctx, &done, browser)
}

/// The half-finished sign-in of kind `kind` this browser holds.
fn pending(
    conn: &mut AnyConnection,
    site: &Site,
    browser: &Browser,
    kind: &str,
) -> Result<Option<session::SignedIn>, OAuthError> {
    Ok(session::current_of_kind(
        conn,
        site,
        browser.session_cookie,
        browser.now,
        kind,
    )?)
}

fn expired(ctx: Context) -> HostedOutcome {
    HostedOutcome::show_error(
        ctx.frame,
        Screen::SignIn {
            username: String::new(),
        },
        Text::new("error.expired_form"),
    )
}

fn new_password(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    ctx: Context,
    browser: &Browser,
) -> Result<HostedOutcome, OAuthError> {
    let conn = db.conn()?;
    let Some(pending) = pending(conn, site, browser, SESSION_NEW_PASSWORD)? else {
        return Ok(expired(ctx));
    };
    let mut user = pending.user.clone();
    let screen = |user: &User| Screen::NewPassword {
        username: user.username.clone(),
        missing: missing_required(site, &user.attributes, Some(browser)),
    };
    let new = browser.field("new_password");
    // Every problem at once, in the form's order: attributes, then the password twice.
    let mut problems = Vec::new();
    for field in missing_required(site, &user.attributes, Some(browser)) {
        if let Err(text) = super::signup::set_attribute(&mut user.attributes, &field) {
            problems.push(FieldError::new(field.name.clone(), text));
        }
    }
    problems.extend(super::validation::new_password(
        &site.pool.settings,
        "new_password",
        new,
        Some(browser.field("confirm_password")),
    ));
    if !problems.is_empty() {
        let screen = Screen::NewPassword {
            username: user.username.clone(),
            missing: missing_required(site, &pending.user.attributes, Some(browser)),
        };
        return Ok(HostedOutcome::show_invalid(ctx.frame, screen, problems));
    }
    db.release();
    super::passwords::set(services, &mut user, new).map_err(super::internal)?;
    let conn = db.conn()?;
    user.status = UserStatus::Confirmed;
    user.updated_at = browser.now;
    let changed = store::write_transaction(conn, |conn| {
        store::users::update(conn, &site.pool, &user)?;
        super::recovery::signed_out_elsewhere(
            conn,
            site,
            &user,
            browser.session_cookie,
            browser.now,
        )
    });
    match changed {
        Ok(()) => {}
        Err(store::StoreError::Conflict(_)) => {
            let screen = screen(&user);
            return Ok(HostedOutcome::show_error(
                ctx.frame,
                screen,
                Text::new("error.alias_exists"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    // The pending session has done its job; the next step starts its own.
    after_first_factor(db, services, site, ctx, &user, browser)
}

fn mfa_challenge(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    ctx: Context,
    browser: &Browser,
) -> Result<HostedOutcome, OAuthError> {
    let conn = db.conn()?;
    let Some(pending) = pending(conn, site, browser, SESSION_MFA)? else {
        return Ok(expired(ctx));
    };
    let sub = pending.user.sub.to_string();
    let Some(row) =
        mfa::find(conn, &services.sealer, site.pool_id(), &sub)?.filter(mfa::MfaRow::has_totp)
    else {
        return Ok(expired(ctx));
    };
    if let Some(locked) = totp_locked(conn, site, &sub, browser)? {
        return Ok(locked.replace(ctx));
    }
    if let Some(problem) = super::validation::code_entered(browser.field("code")) {
        return Ok(HostedOutcome::show_invalid(
            ctx.frame,
            Screen::MfaChallenge,
            vec![problem],
        ));
    }
    let secret = row.totp_secret.as_deref().unwrap_or_default();
    let accepted = totp::accepted_step(secret, browser.field("code"), browser.now, row.last_step)
        .map(|step| mfa::accept_step(conn, site.pool_id(), &sub, step, browser.now))
        .transpose()?
        .unwrap_or(false);
    if !accepted {
        totp_miss(conn, site, &sub, browser)?;
        return Ok(HostedOutcome::show_invalid(
            ctx.frame,
            Screen::MfaChallenge,
            vec![FieldError::new("code", Text::new("error.wrong_totp"))],
        ));
    }
    credentials::totp_passed(conn, site, &sub)?;
    finish(db, services, site, ctx, &pending, browser)
}

fn mfa_setup(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    ctx: Context,
    browser: &Browser,
) -> Result<HostedOutcome, OAuthError> {
    use crate::model::pool::MfaConfiguration;
    let conn = db.conn()?;
    let Some(pending) = pending(conn, site, browser, SESSION_MFA_SETUP)? else {
        return Ok(expired(ctx));
    };
    let sub = pending.user.sub.to_string();
    let Some(mut row) = mfa::find(conn, &services.sealer, site.pool_id(), &sub)? else {
        return Ok(expired(ctx));
    };
    // An authenticator set up meanwhile (in another browser) is not replaced or skipped here.
    if row.has_totp() {
        return Ok(expired(ctx));
    }
    let optional = site.pool.settings.mfa_configuration == MfaConfiguration::Optional;
    if optional && browser.form.and_then(|f| f.get("skip")).is_some() {
        row.declined = true;
        row.totp_secret = None;
        row.updated_at = browser.now;
        mfa::save(conn, &services.sealer, &row)?;
        return finish(db, services, site, ctx, &pending, browser);
    }
    if let Some(locked) = totp_locked(conn, site, &sub, browser)? {
        return Ok(locked.replace(ctx));
    }
    if let Some(problem) = super::validation::code_entered(browser.field("code")) {
        let screen = super::hosted::setup_screen(site, &pending.user, &row, optional);
        return Ok(HostedOutcome::show_invalid(
            ctx.frame,
            screen,
            vec![problem],
        ));
    }
    let secret = row.totp_secret.clone().unwrap_or_default();
    let step = totp::accepted_step(&secret, browser.field("code"), browser.now, row.last_step);
    let Some(step) = step else {
        totp_miss(conn, site, &sub, browser)?;
        let screen = super::hosted::setup_screen(site, &pending.user, &row, optional);
        return Ok(HostedOutcome::show_invalid(
            ctx.frame,
            screen,
            vec![FieldError::new("code", Text::new("error.wrong_totp"))],
        ));
    };
    credentials::totp_passed(conn, site, &sub)?;
    row.totp_enabled = true;
    row.last_step = step;
    row.failures = 0;
    row.declined = false;
    row.updated_at = browser.now;
    mfa::save(conn, &services.sealer, &row)?;
    finish(db, services, site, ctx, &pending, browser)
}

fn totp_miss(
    conn: &mut AnyConnection,
    site: &Site,
    sub: &str,
    browser: &Browser,
) -> Result<(), OAuthError> {
    Ok(credentials::totp_miss(conn, site, sub, browser.now)?)
}

/// An answer that replaces the page when the user's TOTP entries are locked.
struct Locked;

impl Locked {
    fn replace(self, ctx: Context) -> HostedOutcome {
        HostedOutcome::show_error(
            ctx.frame,
            Screen::SignIn {
                username: String::new(),
            },
            Text::new("error.too_many_codes"),
        )
    }
}

fn totp_locked(
    conn: &mut AnyConnection,
    site: &Site,
    sub: &str,
    browser: &Browser,
) -> Result<Option<Locked>, OAuthError> {
    if !credentials::totp_locked(conn, site, sub, browser.now)? {
        return Ok(None);
    }
    session::end(conn, browser.session_cookie)?;
    Ok(Some(Locked))
}

/// The last step passed: the pending session becomes the browser's session, unless required
/// attributes are still missing.
fn finish(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    ctx: Context,
    pending: &session::SignedIn,
    browser: &Browser,
) -> Result<HostedOutcome, OAuthError> {
    // Missing required attributes first: the sign-in is complete only once they are given.
    if !super::sign_in::missing_attributes(&site.pool.settings, &pending.user.attributes).is_empty()
    {
        let conn = db.conn()?;
        session::end(conn, browser.session_cookie)?;
        return ask_attributes(conn, site, ctx, &pending.user, browser.now);
    }
    if let Some(refused) = post_authentication(db, services, site, &ctx, &pending.user) {
        session::end(db.conn()?, browser.session_cookie)?;
        return Ok(refused);
    }
    let conn = db.conn()?;
    grants::activate_session(
        conn,
        &pending.session.id_digest,
        browser.now,
        browser.now + super::SESSION_SECONDS,
    )?;
    let location = issue::location(
        conn,
        services,
        site,
        &ctx.client,
        &ctx.request,
        &pending.user,
        browser.now,
        browser.now,
    );
    Ok(HostedOutcome::Redirect {
        location,
        session: None,
    })
}
