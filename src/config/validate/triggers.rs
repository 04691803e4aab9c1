//! `[pool.triggers]` (docs/triggers.md, "Declaring hooks"): known trigger names, http(s) URLs,
//! Standard Webhooks secrets and the pre token generation event version.

use super::Checker;
use crate::config::file::TriggerFile;
use crate::hooks::signature;
use crate::model::triggers::{EventVersion, HookTarget, TriggerKind, Triggers};
use std::collections::BTreeMap;

/// The longest a hook may be given to answer.
const MAX_TIMEOUT_MS: u64 = 30_000;

pub(super) fn triggers(
    c: &mut Checker,
    path: &str,
    raw: &BTreeMap<String, TriggerFile>,
) -> Triggers {
    let mut out = Triggers::new();
    for (key, hook) in raw {
        let at = format!("{path}.triggers.{key}");
        let Some(kind) = TriggerKind::from_key(key) else {
            let known: Vec<&str> = TriggerKind::ALL.iter().map(|k| k.key()).collect();
            c.fail(&at, format!("unknown trigger; known: {}", known.join(", ")));
            continue;
        };
        match url::Url::parse(&hook.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => c.fail(format!("{at}.url"), "must be an http:// or https:// URL"),
        }
        let secret = c.secret(format!("{at}.secret"), &hook.secret);
        if let Some(secret) = &secret
            && let Err(problem) = signature::parse_secret(secret)
        {
            c.fail(format!("{at}.secret"), problem);
        }
        let version = match (kind, hook.version.as_deref()) {
            (_, None) => EventVersion::V1,
            (TriggerKind::PreTokenGeneration, Some("V1_0")) => EventVersion::V1,
            (TriggerKind::PreTokenGeneration, Some("V2_0")) => EventVersion::V2,
            (TriggerKind::PreTokenGeneration, Some("V3_0")) => EventVersion::V3,
            (TriggerKind::PreTokenGeneration, Some(other)) => {
                c.fail(
                    format!("{at}.version"),
                    format!("`{other}` is not V1_0, V2_0 or V3_0"),
                );
                EventVersion::V1
            }
            (_, Some(_)) => {
                c.fail(
                    format!("{at}.version"),
                    "only pre_token_generation has event versions",
                );
                EventVersion::V1
            }
        };
        let timeout_ms = hook
            .timeout_ms
            .unwrap_or(crate::model::triggers::DEFAULT_TIMEOUT_MS);
        if !(1..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
            c.fail(
                format!("{at}.timeout_ms"),
                format!("must be between 1 and {MAX_TIMEOUT_MS}"),
            );
        }
        out.insert(
            kind,
            HookTarget {
                url: hook.url.clone(),
                sealed_secret: String::new(),
                clear_secret: secret,
                version,
                timeout_ms,
            },
        );
    }
    if out.contains_key(&TriggerKind::DefineAuthChallenge)
        != out.contains_key(&TriggerKind::CreateAuthChallenge)
        || out.contains_key(&TriggerKind::DefineAuthChallenge)
            != out.contains_key(&TriggerKind::VerifyAuthChallengeResponse)
    {
        c.fail(
            format!("{path}.triggers"),
            "define_auth_challenge, create_auth_challenge and verify_auth_challenge_response \
             are declared together (the custom authentication flow needs all three)",
        );
    }
    out
}
