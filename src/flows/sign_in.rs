//! Password sign-in as a step machine whose steps carry Cognito's challenge names
//! (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html,
//! `ChallengeName`): after the password comes `NEW_PASSWORD_REQUIRED` for a temporary password,
//! then `MFA_SETUP` or `SOFTWARE_TOKEN_MFA` as the pool's MFA setting asks, then tokens (on the
//! hosted pages, after a form for required attributes the user lacks: docs/migrating.md,
//! "Changing the schema after creation"). The decisions here are pure; the hosted pages (`login`, `hosted::after_first_factor`) and the JSON
//! API run the same steps and only render them differently.

use crate::model::UserStatus;
use crate::model::attributes::Attributes;
use crate::model::pool::{MfaConfiguration, PoolSettings};
use crate::store::grants::{SESSION_MFA, SESSION_MFA_SETUP, SESSION_NEW_PASSWORD};

/// A step the user must take before tokens are issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// The password was temporary: choose a new one (and give missing required attributes).
    NewPasswordRequired,
    /// The pool wants an authenticator the user has not set up; `optional` when it may be
    /// declined (MFA `OPTIONAL`).
    MfaSetup { optional: bool },
    /// Enter the authenticator's current code.
    SoftwareTokenMfa,
}

impl Challenge {
    /// Cognito's `ChallengeName`.
    pub fn name(self) -> &'static str {
        match self {
            Self::NewPasswordRequired => "NEW_PASSWORD_REQUIRED",
            Self::MfaSetup { .. } => "MFA_SETUP",
            Self::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
        }
    }

    /// The kind of the pending session that remembers where the user is.
    pub fn session_kind(self) -> &'static str {
        match self {
            Self::NewPasswordRequired => SESSION_NEW_PASSWORD,
            Self::MfaSetup { .. } => SESSION_MFA_SETUP,
            Self::SoftwareTokenMfa => SESSION_MFA,
        }
    }
}

/// Where a sign-in stands after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Challenge(Challenge),
    /// Every factor is in: sign the user in and issue tokens (or the app's code).
    Authenticated,
}

/// Why a right password still does not sign in (Cognito's exceptions in brackets). Only told
/// once the password is known to be right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// (NotAuthorizedException: User is disabled.)
    Disabled,
    /// (UserNotConfirmedException)
    NotConfirmed,
    /// (PasswordResetRequiredException)
    ResetRequired,
    /// (NotAuthorizedException: Temporary password has expired …)
    TemporaryPasswordExpired,
}

/// The pending session of a hosted sign-in that waits for required attributes.
pub const SESSION_ATTRIBUTES: &str = "attributes";

/// The pool's required attributes the user has no value for: the pool required them after the
/// user was created. Every factor passed, the hosted pages ask for these before the app gets
/// its code.
pub fn missing_attributes<'a>(settings: &'a PoolSettings, attributes: &Attributes) -> Vec<&'a str> {
    (settings.required_attributes.iter())
        .map(String::as_str)
        .filter(|name| attributes.get(name).is_none_or(str::is_empty))
        .collect()
}

/// The first factor passed: a refusal, the new-password challenge, or on to `second_factor`.
pub fn after_password(
    enabled: bool,
    status: UserStatus,
    temporary_password_expired: bool,
) -> Result<Option<Challenge>, Refusal> {
    if !enabled {
        return Err(Refusal::Disabled);
    }
    match status {
        UserStatus::Unconfirmed => Err(Refusal::NotConfirmed),
        UserStatus::ResetRequired => Err(Refusal::ResetRequired),
        UserStatus::ForceChangePassword if temporary_password_expired => {
            Err(Refusal::TemporaryPasswordExpired)
        }
        UserStatus::ForceChangePassword => Ok(Some(Challenge::NewPasswordRequired)),
        UserStatus::Confirmed | UserStatus::ExternalProvider => Ok(None),
    }
}

/// After the first factor (a password, a new password, a confirmation code): the second factor
/// the pool's MFA setting asks of this user, or done. `declined`: the user turned down the
/// optional set-up before.
pub fn second_factor(mode: MfaConfiguration, has_totp: bool, declined: bool) -> Step {
    match mode {
        MfaConfiguration::Off => Step::Authenticated,
        _ if has_totp => Step::Challenge(Challenge::SoftwareTokenMfa),
        MfaConfiguration::On => Step::Challenge(Challenge::MfaSetup { optional: false }),
        MfaConfiguration::Optional if declined => Step::Authenticated,
        MfaConfiguration::Optional => Step::Challenge(Challenge::MfaSetup { optional: true }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_carry_cognitos_names() {
        assert_eq!(
            Challenge::NewPasswordRequired.name(),
            "NEW_PASSWORD_REQUIRED"
        );
        assert_eq!(Challenge::MfaSetup { optional: true }.name(), "MFA_SETUP");
        assert_eq!(Challenge::SoftwareTokenMfa.name(), "SOFTWARE_TOKEN_MFA");
    }

    #[test]
    fn a_right_password_is_refused_only_for_the_accounts_state() {
        use UserStatus::*;
        assert_eq!(
            after_password(false, Confirmed, false),
            Err(Refusal::Disabled)
        );
        assert_eq!(
            after_password(true, Unconfirmed, false),
            Err(Refusal::NotConfirmed)
        );
        assert_eq!(
            after_password(true, ResetRequired, false),
            Err(Refusal::ResetRequired)
        );
        assert_eq!(
            after_password(true, ForceChangePassword, true),
            Err(Refusal::TemporaryPasswordExpired)
        );
        assert_eq!(
            after_password(true, ForceChangePassword, false),
            Ok(Some(Challenge::NewPasswordRequired))
        );
        assert_eq!(after_password(true, Confirmed, false), Ok(None));
        assert_eq!(after_password(true, ExternalProvider, false), Ok(None));
    }

    #[test]
    fn required_attributes_without_a_value_are_missing() {
        let settings = PoolSettings {
            required_attributes: vec!["email".into(), "given_name".into()],
            ..PoolSettings::default()
        };
        let mut attributes = Attributes::from_pairs([("email", "a@example.com")]).unwrap();
        assert_eq!(missing_attributes(&settings, &attributes), ["given_name"]);
        attributes.set("given_name", "").unwrap();
        assert_eq!(missing_attributes(&settings, &attributes), ["given_name"]);
        attributes.set("given_name", "Ann").unwrap();
        assert!(missing_attributes(&settings, &attributes).is_empty());
    }

    #[test]
    fn the_second_factor_follows_the_pools_mfa_setting() {
        use MfaConfiguration::*;
        assert_eq!(second_factor(Off, true, false), Step::Authenticated);
        assert_eq!(
            second_factor(On, true, false),
            Step::Challenge(Challenge::SoftwareTokenMfa)
        );
        assert_eq!(
            second_factor(On, false, true),
            Step::Challenge(Challenge::MfaSetup { optional: false })
        );
        assert_eq!(
            second_factor(Optional, false, false),
            Step::Challenge(Challenge::MfaSetup { optional: true })
        );
        assert_eq!(second_factor(Optional, false, true), Step::Authenticated);
        assert_eq!(
            second_factor(Optional, true, true),
            Step::Challenge(Challenge::SoftwareTokenMfa)
        );
    }
}
