//! The lifecycle triggers (docs/triggers.md, "Pre sign-up", "Post confirmation", "Pre
//! authentication", "Post authentication";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-sign-up.html>):
//! one function per trigger point, called by the use cases every front door shares. Each builds
//! Cognito's event, calls the pool's hook with the connection released (`triggers::call`) and
//! reads back the only fields Cognito acts on.

use super::{Services, Site, triggers};
use crate::hooks::HookError;
use crate::hooks::event::{self, Event, attribute_map};
use crate::model::User;
use crate::model::attributes::Attributes;
use crate::model::triggers::TriggerKind;
use crate::store::Lease;
use serde_json::Value;
use std::collections::BTreeMap;

/// Who asked for an operation: the app client (none for admin actions without one) and the
/// caller's `ClientMetadata`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller<'a> {
    pub client_id: Option<&'a str>,
    pub metadata: Option<&'a BTreeMap<String, String>>,
}

impl<'a> Caller<'a> {
    pub fn new(client_id: &'a str, metadata: Option<&'a BTreeMap<String, String>>) -> Self {
        Self::client(client_id).with_metadata(metadata)
    }

    pub fn client(client_id: &'a str) -> Self {
        Self {
            client_id: Some(client_id),
            metadata: None,
        }
    }

    pub fn with_metadata(mut self, metadata: Option<&'a BTreeMap<String, String>>) -> Self {
        self.metadata = metadata;
        self
    }
}

/// How a user is being created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpSource {
    /// Self-service sign-up: the hosted page and `SignUp`.
    SignUp,
    /// `AdminCreateUser`.
    AdminCreateUser,
    /// A federated identity's first sign-in.
    ExternalProvider,
}

impl SignUpSource {
    fn trigger_source(self) -> &'static str {
        match self {
            Self::SignUp => "PreSignUp_SignUp",
            Self::AdminCreateUser => "PreSignUp_AdminCreateUser",
            Self::ExternalProvider => "PreSignUp_ExternalProvider",
        }
    }
}

/// What a pre sign-up hook decided; all `false` when the pool has no hook.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignUpAnswer {
    pub auto_confirm: bool,
    pub auto_verify_email: bool,
    pub auto_verify_phone: bool,
}

impl SignUpAnswer {
    /// Marks the attributes the hook verified (the values' presence was checked).
    pub fn verify(&self, attributes: &mut Attributes) {
        for (on, flag) in [
            (self.auto_verify_email, "email_verified"),
            (self.auto_verify_phone, "phone_number_verified"),
        ] {
            if on {
                // A flag is a valid attribute name and value: this cannot fail.
                let _ = attributes.set(flag, "true");
            }
        }
    }
}

/// Why a creation stops at its pre sign-up hook: the hook failed or refused, or it asked to
/// verify an attribute the user does not have (Cognito refuses the sign-up then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUpStop {
    Hook(HookError),
    /// `email` or `phone_number`.
    NothingToVerify(&'static str),
}

impl SignUpStop {
    /// What a hosted page says.
    pub fn page_text(&self) -> crate::ui::i18n::Text {
        match self {
            Self::Hook(error) => triggers::page_text(error),
            Self::NothingToVerify(_) => crate::ui::i18n::Text::new("error.hook_failed"),
        }
    }
}

/// Pre sign-up: called before anything is written (no connection held), with the attributes
/// the new user would have. `validation_data` is the caller's `ValidationData`.
#[allow(clippy::too_many_arguments)]
pub fn pre_sign_up(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    source: SignUpSource,
    user_name: &str,
    attributes: &Attributes,
    validation_data: Option<&BTreeMap<String, String>>,
    caller: Caller,
) -> Result<SignUpAnswer, SignUpStop> {
    if !triggers::declared(site, TriggerKind::PreSignUp) {
        return Ok(SignUpAnswer::default());
    }
    let mut event = Event::new(
        source.trigger_source(),
        site.pool_id(),
        user_name,
        caller.client_id,
    )
    .attributes(attribute_map(attributes))
    .request(
        "validationData",
        validation_data.map_or(Value::Null, event::string_map_value),
    )
    .client_metadata(caller.metadata);
    for field in ["autoConfirmUser", "autoVerifyEmail", "autoVerifyPhone"] {
        event = event.response(field, false);
    }
    let kind = TriggerKind::PreSignUp;
    let response = triggers::call(db, services, site, kind, event)
        .map_err(SignUpStop::Hook)?
        .unwrap_or_default();
    let flag = |name| {
        event::bool_field(&response, name)
            .map(Option::unwrap_or_default)
            .map_err(|detail| SignUpStop::Hook(HookError::invalid(kind, detail)))
    };
    let answer = SignUpAnswer {
        auto_confirm: flag("autoConfirmUser")?,
        auto_verify_email: flag("autoVerifyEmail")?,
        auto_verify_phone: flag("autoVerifyPhone")?,
    };
    for (on, attribute) in [
        (answer.auto_verify_email, "email"),
        (answer.auto_verify_phone, "phone_number"),
    ] {
        if on && attributes.get(attribute).is_none_or(str::is_empty) {
            return Err(SignUpStop::NothingToVerify(attribute));
        }
    }
    Ok(answer)
}

/// How a user was confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmSource {
    /// `ConfirmSignUp`, `AdminConfirmSignUp`, the hosted confirmation page.
    SignUp,
    /// `ConfirmForgotPassword` and the hosted reset page.
    ForgotPassword,
}

/// Post confirmation: called after the confirmation has committed, with the user's current
/// attributes. A failure does not undo the confirmation; the caller reports it.
pub fn post_confirmation(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    source: ConfirmSource,
    user: &User,
    caller: Caller,
) -> Result<(), HookError> {
    let trigger_source = match source {
        ConfirmSource::SignUp => "PostConfirmation_ConfirmSignUp",
        ConfirmSource::ForgotPassword => "PostConfirmation_ConfirmForgotPassword",
    };
    let event = Event::new(
        trigger_source,
        site.pool_id(),
        &user.username,
        caller.client_id,
    )
    .user(user)
    .client_metadata(caller.metadata);
    triggers::call(db, services, site, TriggerKind::PostConfirmation, event).map(|_| ())
}

/// Pre authentication: called once the user is found, before the password's (or SRP proof's)
/// result is acted on. `validationData` is the sign-in's `ClientMetadata`. `Err` denies the
/// sign-in.
pub fn pre_authentication(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    user: &User,
    caller: Caller,
) -> Result<(), HookError> {
    let event = Event::new(
        "PreAuthentication_Authentication",
        site.pool_id(),
        &user.username,
        caller.client_id,
    )
    .user(user)
    .request(
        "validationData",
        caller
            .metadata
            .map_or(Value::Object(Default::default()), event::string_map_value),
    )
    .request("userNotFound", false);
    triggers::call(db, services, site, TriggerKind::PreAuthentication, event).map(|_| ())
}

/// Post authentication: called when every factor has passed, before the session, code or
/// tokens are issued. `Err` fails the sign-in (as Cognito does).
pub fn post_authentication(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    user: &User,
    caller: Caller,
) -> Result<(), HookError> {
    let event = Event::new(
        "PostAuthentication_Authentication",
        site.pool_id(),
        &user.username,
        caller.client_id,
    )
    .user(user)
    .request("newDeviceUsed", false)
    .client_metadata(caller.metadata);
    triggers::call(db, services, site, TriggerKind::PostAuthentication, event).map(|_| ())
}
