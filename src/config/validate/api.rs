//! `[[api_credentials]]`: the keys that may sign calls to the Cognito JSON API
//! (docs/api.md, "Credentials"; docs/configuration.md).

use super::Checker;
use crate::api::ApiCredential;
use crate::config::file::ApiCredentialFile;
use crate::model::PoolId;
use std::collections::HashSet;
use std::sync::Arc;

pub(super) fn credentials(
    c: &mut Checker,
    raw: Vec<ApiCredentialFile>,
    pool_ids: &HashSet<PoolId>,
) -> Vec<Arc<ApiCredential>> {
    let mut seen = HashSet::new();
    let mut keys = Vec::new();
    for (i, key) in raw.into_iter().enumerate() {
        let path = format!("api_credentials[{i}]");
        let id = &key.access_key_id;
        if !(16..=128).contains(&id.len())
            || !id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            c.fail(
                format!("{path}.access_key_id"),
                "must be 16 to 128 capital letters and digits, like an AWS access key id",
            );
        }
        if !seen.insert(id.clone()) {
            c.fail(
                format!("{path}.access_key_id"),
                format!("`{id}` is declared twice"),
            );
        }
        let secret = c.secret(format!("{path}.secret_access_key"), &key.secret_access_key);
        if let Some(secret) = &secret
            && secret.len() < 16
        {
            c.fail(
                format!("{path}.secret_access_key"),
                "must be at least 16 characters (AWS secret keys have 40)",
            );
        }
        if key.pools.is_empty() {
            c.fail(
                format!("{path}.pools"),
                "list the pool ids this key may act on, or [\"*\"]",
            );
        }
        for (j, pool) in key.pools.iter().enumerate() {
            if pool != "*" && !pool_ids.iter().any(|p| p.as_str() == pool) {
                c.fail(
                    format!("{path}.pools[{j}]"),
                    format!("`{pool}` is not a pool declared in this file"),
                );
            }
        }
        let actions = key
            .actions
            .unwrap_or_else(|| vec!["cognito-idp:*".to_owned()]);
        for (j, action) in actions.iter().enumerate() {
            let name = action.strip_prefix("cognito-idp:");
            if !name.is_some_and(|n| {
                !n.is_empty()
                    && n.trim_end_matches('*')
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric())
            }) {
                c.fail(
                    format!("{path}.actions[{j}]"),
                    "must be `cognito-idp:<Action>`, optionally ending in `*` (e.g. `cognito-idp:Admin*`)",
                );
            }
        }
        if let Some(secret) = secret {
            keys.push(Arc::new(ApiCredential {
                access_key_id: id.clone(),
                secret_access_key: secret,
                pools: key.pools,
                actions,
            }));
        }
    }
    keys
}
