//! GET/POST /forgotPassword and /confirmForgotPassword (docs/hosted-ui.md, "Forgot password"): a
//! one-hour code to the user's verified email, then a new password under the pool's policy. The
//! first answer is the same whether or not the account exists.

use super::accounts;
use super::hosted::{Browser, HostedOutcome, PageResult, Screen, password_context, query_with};
use super::messages::Caller;
use super::validation::{self, code_entered};
use super::{Services, Site, migration};
use crate::store::{self, Lease};
use crate::ui::i18n::Text;
use crate::ui::view::FieldError;

/// GET /forgotPassword.
pub fn show(db: &mut Lease, services: &Services, site: &Site, browser: &Browser) -> PageResult {
    let conn = db.conn()?;
    let ctx = password_context(conn, services, site, browser)?;
    let username = browser.query_value("username").unwrap_or_default();
    Ok(HostedOutcome::show(
        ctx.frame,
        Screen::ForgotPassword { username },
    ))
}

/// POST /forgotPassword: send a code when the account can be recovered, then (always) the
/// page that asks for it.
pub fn submit(db: &mut Lease, services: &Services, site: &Site, browser: &Browser) -> PageResult {
    let conn = db.conn()?;
    let ctx = password_context(conn, services, site, browser)?;
    let username = browser.typed_username();
    let screen = Screen::ForgotPassword {
        username: username.clone(),
    };
    if !browser.csrf_ok {
        let text = Text::new("error.expired_form");
        return Ok(HostedOutcome::show_error(ctx.frame, screen, text));
    }
    if username.is_empty() {
        let problem = FieldError::new("username", Text::new("error.username_missing"));
        return Ok(HostedOutcome::show_invalid(
            ctx.frame,
            screen,
            vec![problem],
        ));
    }
    let mut found = store::users::find_for_sign_in(conn, &site.pool, &username)?;
    let caller = Caller::client(ctx.client.id.as_str());
    if found.is_none() && migration::applies(site) {
        match migration::forgot_password(db, services, site, caller, &username, browser.now)? {
            migration::Migrated::Created(user) => found = Some(*user),
            // The old system does not know the name either: the page is an unknown user's.
            migration::Migrated::Failed(migration::Failure::Refused) => {}
            migration::Migrated::Failed(_) => {
                let text = Text::new("error.hook_failed");
                return Ok(HostedOutcome::show_error(ctx.frame, screen, text));
            }
        }
    }
    if let Some(user) = found {
        // Sent, too soon or not recoverable: the page is the same. A hook that refused the
        // message says so: no code is coming.
        let sent = accounts::start_reset(db, services, site, &user, caller, browser.now)?;
        if let accounts::Sent::Refused(error) = sent {
            let text = super::triggers::page_text(&error);
            return Ok(HostedOutcome::show_error(ctx.frame, screen, text));
        }
    }
    Ok(HostedOutcome::Goto {
        page: "confirmForgotPassword",
        query: query_with(&ctx.frame.query, &[("username", &username)]),
        session: None,
    })
}

/// Where a reset code may go: the user's email, once verified (no SMS here).
pub fn reset_destination(user: &crate::model::User) -> Option<&str> {
    user.attributes
        .get("email")
        .filter(|_| user.attributes.is_verified("email"))
}

/// GET /confirmForgotPassword.
pub fn show_confirm(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    browser: &Browser,
) -> PageResult {
    let conn = db.conn()?;
    let ctx = password_context(conn, services, site, browser)?;
    let username = browser.query_value("username").unwrap_or_default();
    Ok(HostedOutcome::show(
        ctx.frame,
        Screen::ConfirmForgotPassword {
            username,
            code: String::new(),
        },
    ))
}

/// POST /confirmForgotPassword: code and new password.
pub fn submit_confirm(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    browser: &Browser,
) -> PageResult {
    let conn = db.conn()?;
    let ctx = password_context(conn, services, site, browser)?;
    let username = browser.typed_username();
    let code = browser
        .short_field("code")
        .chars()
        .take(64)
        .collect::<String>();
    let screen = Screen::ConfirmForgotPassword {
        username: username.clone(),
        code: code.clone(),
    };
    let fail = |frame, text| Ok(HostedOutcome::show_error(frame, screen.clone(), text));
    if !browser.csrf_ok {
        return fail(ctx.frame, Text::new("error.expired_form"));
    }
    let password = browser.field("password");
    // Everything checkable without the code goes first, all at once; only then is the code
    // tried (each try counts against the code's attempts).
    let mut problems: Vec<FieldError> = code_entered(&code).into_iter().collect();
    problems.extend(validation::new_password(
        &site.pool.settings,
        "password",
        password,
        Some(browser.field("confirm_password")),
    ));
    if !problems.is_empty() {
        return Ok(HostedOutcome::show_invalid(ctx.frame, screen, problems));
    }
    let wrong_code = |frame, text| {
        Ok(HostedOutcome::show_invalid(
            frame,
            screen.clone(),
            vec![FieldError::new("code", text)],
        ))
    };
    let caller = super::lifecycle::Caller::client(ctx.client.id.as_str());
    match accounts::finish_reset(
        db,
        services,
        site,
        &username,
        &code,
        password,
        caller,
        browser.now,
    )? {
        accounts::Reset::Done(_) => {}
        accounts::Reset::Refused(why) => return wrong_code(ctx.frame, why.text()),
        // The new password stands; the sign-in page says what the hook said.
        accounts::Reset::HookFailed(_, error) => {
            let screen = super::hosted::Screen::SignIn { username };
            let text = super::triggers::page_text(&error);
            return Ok(HostedOutcome::show_error(ctx.frame, screen, text));
        }
    }
    Ok(HostedOutcome::Goto {
        page: "login",
        query: query_with(
            &ctx.frame.query,
            &[("username", &username), ("notice", "password_reset")],
        ),
        session: None,
    })
}

/// After a password change or reset, the user's refresh tokens and other sessions die (unless
/// the pool turned that off): whoever knew the old password is signed out too.
pub fn signed_out_elsewhere(
    conn: &mut crate::store::AnyConnection,
    site: &Site,
    user: &crate::model::User,
    keep_session: Option<&str>,
    now: i64,
) -> Result<(), crate::store::StoreError> {
    if !site.pool.settings.revoke_tokens_on_password_change {
        return Ok(());
    }
    let keep = keep_session.map(crate::secrets::SecretDigest::of);
    let (families, sessions) = store::grants::revoke_user(
        conn,
        site.pool_id(),
        &user.sub.to_string(),
        keep.as_ref().map(|k| k.as_str()),
        now,
    )?;
    if families + sessions > 0 {
        tracing::info!(pool = site.pool_id(), user = %user.username, families, sessions, "password changed: signed out elsewhere");
    }
    Ok(())
}
