//! User migration (docs/triggers.md, "User migration";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-migrate-user.html>):
//! a password sign-in or a forgot-password request for a name the pool does not know asks the
//! pool's `user_migration` hook, and the user it describes is created here, once. Every front
//! door (the hosted pages, `InitiateAuth`, `AdminInitiateAuth`, `ForgotPassword`) comes through
//! this module; SRP sign-ins never do (the password never reaches the server).

use super::{Services, Site, aliases, passwords, signup, triggers, validation};
use crate::hooks::event::{self, Event};
use crate::hooks::{self, HookError};
use crate::mail::{self, Email};
use crate::model::attributes::Attributes;
use crate::model::triggers::TriggerKind;
use crate::model::{User, UserStatus};
use crate::store::{self, Lease, StoreError};
use serde_json::{Map, Value};

/// Who asks: the app client and the `ClientMetadata` it sent (none on the hosted pages).
pub use super::lifecycle::Caller;

/// Why a migration created nobody. Nothing is ever half-created.
#[derive(Debug)]
pub enum Failure {
    /// The hook refused: a wrong password, or a name the old system does not know either.
    Refused,
    /// The hook's answer cannot make a user here (a wrong field, a missing required attribute,
    /// a taken alias or username); the detail is for the log.
    Unusable(String),
    /// The hook did not answer.
    Unreachable(HookError),
}

pub enum Migrated {
    Created(Box<User>),
    Failed(Failure),
}

/// The subject and text of the welcome email a migrated user gets unless the hook answered
/// `messageAction = "SUPPRESS"`.
pub const WELCOME_SUBJECT: &str = "Your account has moved";
pub const WELCOME_MESSAGE: &str =
    "Your account {username} is ready. Sign in with the password you already use.";

/// Whether a name the pool does not know goes to a migration hook.
pub fn applies(site: &Site) -> bool {
    triggers::declared(site, TriggerKind::UserMigration)
}

/// `UserMigration_Authentication`: the hook checks `password` against the old system. A user
/// it returns is created with `password` (hashed here, never stored in clear) and its status.
pub fn sign_in(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    caller: Caller<'_>,
    typed: &str,
    password: &str,
    now: i64,
) -> Result<Migrated, StoreError> {
    let validation_data = caller.metadata.map(event::string_map_value);
    let event = Event::new(
        "UserMigration_Authentication",
        site.pool_id(),
        typed,
        caller.client_id,
    )
    .request("password", password)
    .request(
        "validationData",
        validation_data.unwrap_or_else(|| Value::Object(Map::new())),
    );
    migrate(
        db,
        services,
        site,
        caller,
        event,
        typed,
        Some(password),
        now,
    )
}

/// `UserMigration_ForgotPassword`: the hook only looks the user up. The user is created
/// RESET_REQUIRED with no password, whatever `finalUserStatus` says; the caller then sends the
/// reset code as for any user.
pub fn forgot_password(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    caller: Caller<'_>,
    typed: &str,
    now: i64,
) -> Result<Migrated, StoreError> {
    let event = Event::new(
        "UserMigration_ForgotPassword",
        site.pool_id(),
        typed,
        caller.client_id,
    );
    migrate(db, services, site, caller, event, typed, None, now)
}

#[allow(clippy::too_many_arguments)]
fn migrate(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    caller: Caller<'_>,
    event: Event,
    typed: &str,
    password: Option<&str>,
    now: i64,
) -> Result<Migrated, StoreError> {
    let source = event.trigger_source().to_owned();
    let event = event.client_metadata(caller.metadata);
    let event = ["userAttributes", "finalUserStatus", "messageAction"]
        .into_iter()
        .chain([
            "desiredDeliveryMediums",
            "forceAliasCreation",
            "enableSMSMFA",
        ])
        .fold(event, |event, field| event.response(field, Value::Null));
    let failed = |failure: Failure| {
        // Why, never the event (it holds the password) nor the typed name (users often type
        // their password there).
        let why = match &failure {
            Failure::Refused => "refused".to_owned(),
            Failure::Unusable(detail) => detail.clone(),
            Failure::Unreachable(error) => error.to_string(),
        };
        tracing::info!(pool = site.pool_id(), typed_chars = typed.chars().count(), %source, reason = %why, "user migration failed");
        Ok(Migrated::Failed(failure))
    };
    let response = match triggers::call(db, services, site, TriggerKind::UserMigration, event) {
        Ok(Some(response)) => response,
        Ok(None) => return failed(Failure::Refused),
        Err(error) => {
            return failed(match error.failure {
                hooks::Failure::Rejected(_) => Failure::Refused,
                hooks::Failure::InvalidResponse(detail) => Failure::Unusable(detail),
                hooks::Failure::Unreachable(_) => Failure::Unreachable(error),
            });
        }
    };
    let providers: Vec<String> = super::identity_providers(db.conn()?, services, site)?
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let plan = match plan(site, &providers, typed, &response, password.is_some()) {
        Ok(plan) => plan,
        Err(detail) => return failed(Failure::Unusable(detail)),
    };
    let sub = uuid::Uuid::new_v4();
    let mut user = User {
        sub,
        pool_id: site.pool.id.clone(),
        username: plan.username.unwrap_or_else(|| sub.to_string()),
        status: plan.status,
        enabled: true,
        password_hash: None,
        attributes: plan.attributes,
        created_at: now,
        updated_at: now,
        srp_verifier: None,
    };
    // RESET_REQUIRED with nowhere to send the code would be a user nobody can ever sign in as.
    if user.status == UserStatus::ResetRequired
        && super::recovery::reset_destination(&user).is_none()
    {
        return failed(Failure::Unusable(
            "a user who must reset the password needs a verified email".to_owned(),
        ));
    }
    if let Some(password) = password {
        db.release();
        passwords::set(services, &mut user, password)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
    }
    let conn = db.conn()?;
    let welcome = plan.welcome && user.attributes.get("email").is_some();
    let created = store::write_transaction(conn, |conn| {
        if let Some(kind) = aliases::claim(conn, site, &user, plan.force_alias, now)? {
            return Err(StoreError::Conflict(format!(
                "{kind} is another user's alias"
            )));
        }
        store::users::create(conn, &site.pool, &user)?;
        if welcome {
            queue_welcome(conn, site, &user, now)?;
        }
        Ok(())
    });
    match created {
        Ok(()) => {
            if welcome {
                services.mail.wake();
            }
            tracing::info!(pool = site.pool_id(), user = %user.username, %source, "user migrated");
            Ok(Migrated::Created(Box::new(user)))
        }
        Err(StoreError::Conflict(what)) => failed(Failure::Unusable(what)),
        Err(e) => Err(e),
    }
}

/// What the hook's answer makes of the user.
#[derive(Debug)]
struct Plan {
    /// `None` where the pool signs in by email or phone (the username is then the `sub`).
    username: Option<String>,
    attributes: Attributes,
    status: UserStatus,
    welcome: bool,
    force_alias: bool,
}

/// Reads the answer's `response` under Cognito's rules; `Err` says what is wrong.
fn plan(
    site: &Site,
    providers: &[String],
    typed: &str,
    response: &Map<String, Value>,
    with_password: bool,
) -> Result<Plan, String> {
    let settings = &site.pool.settings;
    let given = event::string_map(response, "userAttributes")?
        .filter(|given| !given.is_empty())
        .ok_or("`userAttributes` is required")?;
    let status = match event::string_field(response, "finalUserStatus")?.as_deref() {
        // Without a password (forgot-password) the user can only go through the reset.
        _ if !with_password => UserStatus::ResetRequired,
        None | Some("CONFIRMED") => UserStatus::Confirmed,
        Some("RESET_REQUIRED") => UserStatus::ResetRequired,
        Some(other) => return Err(format!("`finalUserStatus` {other:?} is not allowed")),
    };
    let mut welcome = match event::string_field(response, "messageAction")?.as_deref() {
        None | Some("RESEND") => true,
        Some("SUPPRESS") => false,
        Some(other) => return Err(format!("`messageAction` {other:?} is not allowed")),
    };
    if let Some(mediums) = event::string_list(response, "desiredDeliveryMediums")? {
        if let Some(other) = mediums.iter().find(|m| *m != "EMAIL" && *m != "SMS") {
            return Err(format!("`desiredDeliveryMediums` has {other:?}"));
        }
        // This server sends no SMS: a welcome asked for by SMS only is not sent.
        welcome &= mediums.iter().any(|m| m == "EMAIL");
    }
    let force_alias = event::bool_field(response, "forceAliasCreation")?.unwrap_or(false);
    // Accepted for compatibility; SMS MFA does not exist here (docs/triggers.md).
    event::bool_field(response, "enableSMSMFA")?;

    let mut attributes = Attributes::new();
    let mut username = None;
    for (name, value) in &given {
        match name.as_str() {
            "username" => username = Some(value.clone()),
            // Says whether the old pool's user had MFA; MFA does not migrate.
            "cognito:mfa_enabled" => {}
            _ if validation::schema_problem(settings, name).is_some() => {
                return Err(format!("`{name}` is not in the pool's schema"));
            }
            _ => signup::check_attribute(&mut attributes, name, value)
                .map_err(|_| format!("`{name}` has an invalid value"))?,
        }
    }
    let username = if settings.username_attributes.is_empty() {
        let username = username.unwrap_or_else(|| typed.to_owned());
        if signup::username_error(settings, providers, &username).is_some() {
            return Err(format!(
                "{username:?} cannot be a username here (a name typed as an alias needs `username`)"
            ));
        }
        Some(username)
    } else {
        // The typed email or phone number is the sign-in name when the hook left it out.
        for kind in &settings.username_attributes {
            let fits = match kind.as_str() {
                "email" => typed.contains('@'),
                _ => signup::looks_like_phone(typed),
            };
            if fits && attributes.get(kind).is_none() {
                signup::check_attribute(&mut attributes, kind, typed)
                    .map_err(|_| format!("`{kind}` has an invalid value"))?;
            }
        }
        None
    };
    if let Some(missing) = settings
        .required_attributes
        .iter()
        .find(|name| attributes.get(name).is_none_or(str::is_empty))
    {
        return Err(format!("the required attribute `{missing}` is missing"));
    }
    Ok(Plan {
        username,
        attributes,
        status,
        welcome,
        force_alias,
    })
}

/// The welcome email (docs/triggers.md, "User migration"), from the pool's sender address.
fn queue_welcome(
    conn: &mut crate::store::AnyConnection,
    site: &Site,
    user: &User,
    now: i64,
) -> Result<(), StoreError> {
    let Some(to) = user.attributes.get("email") else {
        return Ok(());
    };
    let templates = &site.pool.settings.messages;
    let (body, html) = mail::body(WELCOME_MESSAGE, &user.username, "");
    let email = Email {
        from: templates.email_from.clone(),
        reply_to: templates.reply_to.clone(),
        to: to.to_owned(),
        subject: WELCOME_SUBJECT.to_owned(),
        html,
        body,
    };
    store::mail_outbox::enqueue(conn, site.pool_id(), &email, now)?;
    Ok(())
}
