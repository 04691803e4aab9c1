//! A pool's triggers (docs/triggers.md): Cognito's `LambdaConfig` hooks, each a webhook URL
//! with the secret its requests are signed with.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every trigger a pool may declare, named as in the file (`[pool.triggers]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    PreTokenGeneration,
    UserMigration,
    CustomMessage,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
    CustomEmailSender,
    CustomSmsSender,
}

impl TriggerKind {
    pub const ALL: [TriggerKind; 12] = [
        Self::PreSignUp,
        Self::PostConfirmation,
        Self::PreAuthentication,
        Self::PostAuthentication,
        Self::PreTokenGeneration,
        Self::UserMigration,
        Self::CustomMessage,
        Self::DefineAuthChallenge,
        Self::CreateAuthChallenge,
        Self::VerifyAuthChallengeResponse,
        Self::CustomEmailSender,
        Self::CustomSmsSender,
    ];

    /// The key in `[pool.triggers]`.
    pub fn key(self) -> &'static str {
        match self {
            Self::PreSignUp => "pre_sign_up",
            Self::PostConfirmation => "post_confirmation",
            Self::PreAuthentication => "pre_authentication",
            Self::PostAuthentication => "post_authentication",
            Self::PreTokenGeneration => "pre_token_generation",
            Self::UserMigration => "user_migration",
            Self::CustomMessage => "custom_message",
            Self::DefineAuthChallenge => "define_auth_challenge",
            Self::CreateAuthChallenge => "create_auth_challenge",
            Self::VerifyAuthChallengeResponse => "verify_auth_challenge_response",
            Self::CustomEmailSender => "custom_email_sender",
            Self::CustomSmsSender => "custom_sms_sender",
        }
    }

    /// Cognito's `LambdaConfig` name, used in error messages ("PreSignUp failed with error …")
    /// and the `X-Gatehouse-Trigger` header.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Self::PreSignUp => "PreSignUp",
            Self::PostConfirmation => "PostConfirmation",
            Self::PreAuthentication => "PreAuthentication",
            Self::PostAuthentication => "PostAuthentication",
            Self::PreTokenGeneration => "PreTokenGeneration",
            Self::UserMigration => "UserMigration",
            Self::CustomMessage => "CustomMessage",
            Self::DefineAuthChallenge => "DefineAuthChallenge",
            Self::CreateAuthChallenge => "CreateAuthChallenge",
            Self::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
            Self::CustomEmailSender => "CustomEmailSender",
            Self::CustomSmsSender => "CustomSMSSender",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.key() == key)
    }
}

/// The event format a pre token generation hook receives (Cognito's `LambdaVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum EventVersion {
    /// ID token claims and groups only.
    #[default]
    #[serde(rename = "V1_0")]
    V1,
    /// ID and access token claims, scopes and groups.
    #[serde(rename = "V2_0")]
    V2,
    /// As V2, and also for the `client_credentials` grant.
    #[serde(rename = "V3_0")]
    V3,
}

impl EventVersion {
    /// The event's `version` field.
    pub fn event_field(self) -> &'static str {
        match self {
            Self::V1 => "1",
            Self::V2 => "2",
            Self::V3 => "3",
        }
    }
}

/// Default time a hook has to answer, as Lambda's trigger limit.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;

/// One declared hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookTarget {
    pub url: String,
    /// The Standard Webhooks signing secret, sealed with the server's key (provisioning seals
    /// `clear_secret` into it).
    #[serde(default)]
    pub sealed_secret: String,
    /// The secret as declared, only between reading the file and provisioning.
    #[serde(skip)]
    pub clear_secret: Option<String>,
    #[serde(default)]
    pub version: EventVersion,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}

/// A pool's hooks by trigger.
pub type Triggers = BTreeMap<TriggerKind, HookTarget>;
