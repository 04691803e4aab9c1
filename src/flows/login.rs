//! GET/POST /login (hosted-ui-and-oauth.md §7.4): the sign-in form, the password check, and the
//! new-password step for users created with a temporary password (user-pools.md §7.2).
//!
//! A wrong password and an unknown user get the same message and cost the same time; failures
//! are throttled per user and per address through the database.

use super::authorize::{AuthorizeOutcome, resolve};
use super::{Services, Site, issue, session};
use crate::model::UserStatus;
use crate::oauth::{OAuthError, Params};
use crate::secrets;
use crate::store::grants::{self, SESSION_ACTIVE, SESSION_NEW_PASSWORD};
use crate::store::{self, AnyConnection, throttle};

pub const WRONG_CREDENTIALS: &str = "Incorrect username or password.";
pub const TOO_MANY_ATTEMPTS: &str =
    "Password attempts exceeded. Please wait a moment and try again.";
pub const EXPIRED_FORM: &str = "This form has expired. Please try again.";
/// Failures an address may make before it is slowed down (a NAT hides many users).
const FREE_FAILURES_PER_ADDRESS: i32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SignIn,
    NewPassword,
}

/// What the sign-in page shows.
#[derive(Debug, Clone)]
pub struct LoginView {
    pub step: Step,
    pub client_name: String,
    pub username: String,
    pub error: Option<String>,
    pub password_rules: Vec<String>,
    pub lang: String,
}

pub enum LoginOutcome {
    Show {
        view: LoginView,
        /// A new session cookie to set.
        session: Option<String>,
    },
    Redirect {
        location: String,
        /// A new session cookie to set.
        session: Option<String>,
    },
    Page(String),
}

fn lang(ui_locales: Option<&str>) -> String {
    ui_locales
        .and_then(|l| l.split(' ').next())
        .filter(|l| l.len() <= 16 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or("en")
        .to_owned()
}

/// GET /login: validate the authorization parameters and show the form.
pub fn show(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    query: &str,
) -> Result<LoginOutcome, OAuthError> {
    let (client, request) = match resolve(conn, services, site, query)? {
        Ok(resolved) => resolved,
        Err(error) => return Ok(outcome_of(error.into())),
    };
    Ok(LoginOutcome::Show {
        view: LoginView {
            step: Step::SignIn,
            client_name: client.name.clone(),
            username: request.login_hint.clone().unwrap_or_default(),
            error: None,
            password_rules: Vec::new(),
            lang: lang(request.ui_locales.as_deref()),
        },
        session: None,
    })
}

fn outcome_of(outcome: AuthorizeOutcome) -> LoginOutcome {
    match outcome {
        AuthorizeOutcome::Page(message) => LoginOutcome::Page(message),
        AuthorizeOutcome::Redirect(location) => LoginOutcome::Redirect {
            location,
            session: None,
        },
        AuthorizeOutcome::SignIn(_) => LoginOutcome::Page("Unexpected sign-in state.".into()),
    }
}

pub struct Submission<'a> {
    pub query: &'a str,
    pub form: &'a Params,
    /// Whether the browser sent its CSRF cookie, and its value.
    pub csrf_cookie: Option<&'a str>,
    pub session_cookie: Option<&'a str>,
    pub address: &'a str,
    pub now: i64,
}

/// POST /login.
pub fn submit(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    input: Submission,
) -> Result<LoginOutcome, OAuthError> {
    let (client, request) = match resolve(conn, services, site, input.query)? {
        Ok(resolved) => resolved,
        Err(error) => return Ok(outcome_of(error.into())),
    };
    let new_password_step = input.form.get("step") == Some("new_password");
    let mut view = LoginView {
        step: if new_password_step {
            Step::NewPassword
        } else {
            Step::SignIn
        },
        client_name: client.name.clone(),
        username: input
            .form
            .get("username")
            .unwrap_or_default()
            .chars()
            .take(256)
            .collect(),
        error: None,
        password_rules: Vec::new(),
        lang: lang(request.ui_locales.as_deref()),
    };
    if !session::csrf_matches(input.csrf_cookie, input.form.get("_csrf")) {
        view.step = Step::SignIn;
        view.error = Some(EXPIRED_FORM.into());
        return Ok(LoginOutcome::Show {
            view,
            session: None,
        });
    }
    if new_password_step {
        return new_password(conn, services, site, &client, &request, input, view);
    }

    let username = view.username.clone();
    let password = input.form.get("password").unwrap_or_default();
    let user_key = format!(
        "user:{}:{}",
        site.pool_id(),
        site.pool.settings.username_key(&username)
    );
    let address_key = format!("ip:{}:{}", site.pool_id(), input.address);
    if throttle::locked_until(conn, &[user_key.clone(), address_key.clone()], input.now)?.is_some()
    {
        view.error = Some(TOO_MANY_ATTEMPTS.into());
        return Ok(LoginOutcome::Show {
            view,
            session: None,
        });
    }
    let user = if username.is_empty() {
        None
    } else {
        store::users::find_for_sign_in(conn, &site.pool, &username)?
    };
    let verified = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
        Some(hash) => secrets::verify_password(password, hash),
        None => {
            secrets::burn_password_check(password);
            false
        }
    };
    let user = match (user, verified) {
        (Some(user), true) => user,
        _ => {
            throttle::record_failure(conn, &user_key, throttle::FREE_FAILURES, input.now)?;
            throttle::record_failure(conn, &address_key, FREE_FAILURES_PER_ADDRESS, input.now)?;
            view.error = Some(WRONG_CREDENTIALS.into());
            return Ok(LoginOutcome::Show {
                view,
                session: None,
            });
        }
    };
    throttle::clear(conn, &user_key)?;
    // Only now, with the right password, may the answer depend on the account.
    if !user.enabled {
        view.error = Some("User is disabled.".into());
        return Ok(LoginOutcome::Show {
            view,
            session: None,
        });
    }
    match user.status {
        UserStatus::Unconfirmed => {
            view.error = Some("User is not confirmed.".into());
            Ok(LoginOutcome::Show {
                view,
                session: None,
            })
        }
        UserStatus::ResetRequired => {
            view.error = Some("Password reset required for the user.".into());
            Ok(LoginOutcome::Show {
                view,
                session: None,
            })
        }
        UserStatus::ForceChangePassword => {
            session::end(conn, input.session_cookie)?;
            let cookie = session::start(conn, site, &user, SESSION_NEW_PASSWORD, input.now)?;
            view.step = Step::NewPassword;
            view.password_rules = rules(site);
            Ok(LoginOutcome::Show {
                view,
                session: Some(cookie),
            })
        }
        UserStatus::Confirmed | UserStatus::ExternalProvider => {
            session::end(conn, input.session_cookie)?;
            let cookie = session::start(conn, site, &user, SESSION_ACTIVE, input.now)?;
            let location = issue::location(
                conn, services, site, &client, &request, &user, input.now, input.now,
            );
            Ok(LoginOutcome::Redirect {
                location,
                session: Some(cookie),
            })
        }
    }
}

fn rules(site: &Site) -> Vec<String> {
    let policy = &site.pool.settings.password_policy;
    policy
        .violations("")
        .iter()
        .map(|rule| rule.to_string())
        .collect()
}

fn new_password(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    client: &crate::model::AppClient,
    request: &crate::oauth::authorize::AuthorizationRequest,
    input: Submission,
    mut view: LoginView,
) -> Result<LoginOutcome, OAuthError> {
    view.password_rules = rules(site);
    let Some(pending) = session::current_of_kind(
        conn,
        site,
        input.session_cookie,
        input.now,
        SESSION_NEW_PASSWORD,
    )?
    else {
        view.step = Step::SignIn;
        view.error = Some(EXPIRED_FORM.into());
        return Ok(LoginOutcome::Show {
            view,
            session: None,
        });
    };
    let new = input.form.get("new_password").unwrap_or_default();
    let confirm = input.form.get("confirm_password").unwrap_or_default();
    if new != confirm {
        view.error = Some("The passwords do not match.".into());
        return Ok(LoginOutcome::Show {
            view,
            session: None,
        });
    }
    let broken = site.pool.settings.password_policy.violations(new);
    if !broken.is_empty() {
        let needs: Vec<String> = broken.iter().map(ToString::to_string).collect();
        view.error = Some(format!(
            "Password does not conform to policy: it needs {}.",
            needs.join(", ")
        ));
        return Ok(LoginOutcome::Show {
            view,
            session: None,
        });
    }
    let mut user = pending.user;
    user.password_hash = Some(secrets::hash_password(new).map_err(super::internal)?);
    user.status = UserStatus::Confirmed;
    user.updated_at = input.now;
    store::users::update(conn, &site.pool, &user)?;
    grants::activate_session(conn, &pending.session.id_digest, input.now)?;
    let location = issue::location(
        conn, services, site, client, request, &user, input.now, input.now,
    );
    Ok(LoginOutcome::Redirect {
        location,
        session: None,
    })
}
