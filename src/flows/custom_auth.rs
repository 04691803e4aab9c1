//! Cognito's custom authentication flow as a use case (docs/triggers.md, "Custom authentication
//! challenges";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-challenge.html>):
//! the define, create and verify hooks, the session history they see, and what the server does
//! with their answers. Storage and the wire format are the caller's.

use super::{Services, Site, triggers};
use crate::hooks::event::{bool_field, string_field, string_map, string_map_value};
use crate::hooks::{Event, HookError};
use crate::model::User;
use crate::model::triggers::TriggerKind;
use crate::store::Lease;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The challenge name of a hook-made challenge.
pub const CUSTOM_CHALLENGE: &str = "CUSTOM_CHALLENGE";

/// Custom challenges one sign-in may show; a define hook asking for one more fails the sign-in
/// (Cognito stops long sequences too; its number is not published).
pub const MAX_CHALLENGES: usize = 8;

/// One element of `request.session`: a challenge shown and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeResult {
    pub challenge_name: String,
    pub challenge_result: bool,
    pub challenge_metadata: Option<String>,
}

impl ChallengeResult {
    /// The first entry when the client started with `SRP_A` (the define hook decides what it
    /// means; the server has verified nothing yet).
    pub fn srp_a() -> Self {
        Self {
            challenge_name: "SRP_A".into(),
            challenge_result: true,
            challenge_metadata: None,
        }
    }
}

/// A challenge waiting for its answer: what the server keeps and the client never sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub history: Vec<ChallengeResult>,
    pub private: BTreeMap<String, String>,
    pub metadata: Option<String>,
}

/// Who is signing in, as the hooks are told.
pub struct Subject<'a> {
    /// `None` for a name no user has (`userNotFound`).
    pub user: Option<&'a User>,
    /// The name the caller typed.
    pub typed: &'a str,
    pub client_id: &'a str,
    pub client_metadata: Option<&'a BTreeMap<String, String>>,
}

impl Subject<'_> {
    fn event(&self, site: &Site, trigger_source: &str) -> Event {
        let name = self.user.map_or(self.typed, |u| u.username.as_str());
        let event = Event::new(trigger_source, site.pool_id(), name, Some(self.client_id));
        let event = match self.user {
            Some(user) => event.user(user),
            None => event,
        };
        event
            .request("userNotFound", self.user.is_none())
            .client_metadata(self.client_metadata)
    }
}

/// What the define hook decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// The sign-in failed (the hook said so, or the sequence grew too long).
    Fail,
    /// Enough challenges: the caller goes on to the account's checks, MFA and tokens.
    Issue,
    /// A new challenge: its public parameters for the client and what to keep.
    Challenge {
        public: BTreeMap<String, String>,
        pending: Pending,
    },
}

/// Whether the pool declares the three hooks (the configuration accepts all or none).
pub fn enabled(site: &Site) -> bool {
    triggers::declared(site, TriggerKind::DefineAuthChallenge)
}

fn invalid(kind: TriggerKind) -> impl Fn(String) -> HookError {
    move |detail| HookError::invalid(kind, detail)
}

/// Asks the define hook what comes after `history`, and the create hook for the challenge.
pub fn next(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    subject: &Subject<'_>,
    history: Vec<ChallengeResult>,
) -> Result<Next, HookError> {
    let sequence = serde_json::to_value(&history).unwrap_or_default();
    let define = subject
        .event(site, "DefineAuthChallenge_Authentication")
        .request("session", sequence.clone())
        .response("challengeName", Value::Null)
        .response("issueTokens", false)
        .response("failAuthentication", false);
    let kind = TriggerKind::DefineAuthChallenge;
    let answer = answer_of(kind, triggers::call(db, services, site, kind, define)?)?;
    let decision = decide(&answer).map_err(invalid(kind))?;
    let name = match decision {
        Decision::Fail => return Ok(Next::Fail),
        // No tokens for a name no user has, whatever the hook says.
        Decision::Issue if subject.user.is_none() => return Ok(Next::Fail),
        Decision::Issue => return Ok(Next::Issue),
        Decision::Challenge(_) if shown(&history) >= MAX_CHALLENGES => return Ok(Next::Fail),
        Decision::Challenge(name) => name,
    };
    let create = subject
        .event(site, "CreateAuthChallenge_Authentication")
        .request("challengeName", name.as_str())
        .request("session", sequence)
        .response("publicChallengeParameters", Value::Null)
        .response("privateChallengeParameters", Value::Null)
        .response("challengeMetadata", Value::Null);
    let kind = TriggerKind::CreateAuthChallenge;
    let answer = answer_of(kind, triggers::call(db, services, site, kind, create)?)?;
    let public = string_map(&answer, "publicChallengeParameters")
        .map_err(invalid(kind))?
        .unwrap_or_default();
    let private = string_map(&answer, "privateChallengeParameters")
        .map_err(invalid(kind))?
        .unwrap_or_default();
    let metadata = string_field(&answer, "challengeMetadata").map_err(invalid(kind))?;
    Ok(Next::Challenge {
        public,
        pending: Pending {
            history,
            private,
            metadata,
        },
    })
}

/// Asks the verify hook about `answer`; the history with this challenge's result appended.
pub fn verify(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    subject: &Subject<'_>,
    pending: Pending,
    answer: &str,
) -> Result<Vec<ChallengeResult>, HookError> {
    let event = subject
        .event(site, "VerifyAuthChallengeResponse_Authentication")
        .request(
            "privateChallengeParameters",
            string_map_value(&pending.private),
        )
        .request("challengeAnswer", answer)
        .response("answerCorrect", false);
    let kind = TriggerKind::VerifyAuthChallengeResponse;
    let response = answer_of(kind, triggers::call(db, services, site, kind, event)?)?;
    let correct = bool_field(&response, "answerCorrect")
        .map_err(invalid(kind))?
        .unwrap_or(false);
    let mut history = pending.history;
    history.push(ChallengeResult {
        challenge_name: CUSTOM_CHALLENGE.into(),
        challenge_result: correct,
        challenge_metadata: pending.metadata,
    });
    Ok(history)
}

/// A hook the pool stopped declaring between two steps answers nothing usable.
fn answer_of(
    kind: TriggerKind,
    answer: Option<Map<String, Value>>,
) -> Result<Map<String, Value>, HookError> {
    answer.ok_or_else(|| HookError::invalid(kind, "the pool declares no such hook"))
}

/// How many custom challenges the history holds (`SRP_A` is no challenge shown).
fn shown(history: &[ChallengeResult]) -> usize {
    history
        .iter()
        .filter(|c| c.challenge_name == CUSTOM_CHALLENGE)
        .count()
}

#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Fail,
    Issue,
    Challenge(String),
}

/// The define hook's answer: failing wins over issuing, issuing over a challenge; the only
/// challenge it may ask for here is `CUSTOM_CHALLENGE`.
fn decide(response: &Map<String, Value>) -> Result<Decision, String> {
    let fail = bool_field(response, "failAuthentication")?.unwrap_or(false);
    let issue = bool_field(response, "issueTokens")?.unwrap_or(false);
    let name = string_field(response, "challengeName")?;
    if fail {
        return Ok(Decision::Fail);
    }
    if issue {
        return Ok(Decision::Issue);
    }
    match name.as_deref() {
        Some(CUSTOM_CHALLENGE) => Ok(Decision::Challenge(CUSTOM_CHALLENGE.into())),
        Some(other) => Err(format!(
            "`challengeName` {other} is not a challenge this server runs in CUSTOM_AUTH"
        )),
        None => Err("neither tokens, failure nor a challenge".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decide_json(value: Value) -> Result<Decision, String> {
        let Value::Object(map) = value else {
            unreachable!()
        };
        decide(&map)
    }

    #[test]
    fn failing_wins_and_only_custom_challenges_are_run() {
        let both = json!({"failAuthentication": true, "issueTokens": true});
        assert_eq!(decide_json(both), Ok(Decision::Fail));
        let issue = json!({"issueTokens": "true", "challengeName": "CUSTOM_CHALLENGE"});
        assert_eq!(decide_json(issue), Ok(Decision::Issue));
        let ask = json!({"issueTokens": false, "challengeName": "CUSTOM_CHALLENGE"});
        assert_eq!(
            decide_json(ask),
            Ok(Decision::Challenge(CUSTOM_CHALLENGE.into()))
        );
        assert!(decide_json(json!({"issueTokens": "maybe"})).is_err());
        assert!(decide_json(json!({"challengeName": "PASSWORD_VERIFIER"})).is_err());
        assert!(decide_json(json!({})).is_err());
    }

    #[test]
    fn only_custom_challenges_count_towards_the_cap() {
        let custom = ChallengeResult {
            challenge_name: CUSTOM_CHALLENGE.into(),
            challenge_result: true,
            challenge_metadata: None,
        };
        let mut history = vec![ChallengeResult::srp_a()];
        history.extend(std::iter::repeat_n(custom, MAX_CHALLENGES - 1));
        assert_eq!(shown(&history), MAX_CHALLENGES - 1);
    }

    #[test]
    fn the_session_history_has_cognitos_field_names() {
        let history = vec![
            ChallengeResult::srp_a(),
            ChallengeResult {
                challenge_name: CUSTOM_CHALLENGE.into(),
                challenge_result: false,
                challenge_metadata: Some("QUESTION_1".into()),
            },
        ];
        assert_eq!(
            serde_json::to_value(&history).unwrap(),
            json!([
                {"challengeName": "SRP_A", "challengeResult": true, "challengeMetadata": null},
                {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false,
                 "challengeMetadata": "QUESTION_1"},
            ])
        );
    }
}
