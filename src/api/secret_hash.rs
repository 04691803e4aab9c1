//! `SECRET_HASH`, which Cognito asks of a confidential client's sign-in, sign-up and
//! password-recovery calls: Base64(HMAC-SHA256(client secret, username ‖ client id))
//! (https://docs.aws.amazon.com/cognito/latest/developerguide/signing-up-users-in-your-app.html#cognito-user-pools-computing-secret-hash).
//! The secret is read from its sealed copy (docs/deployment.md, "Encryption key").

use super::ApiError;
use crate::flows::Services;
use crate::model::AppClient;
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Checks `given` for `username` at `client`. A public client needs none (and one given is
/// ignored, as Cognito does).
pub fn check(
    services: &Services,
    client: &AppClient,
    username: &str,
    given: Option<&str>,
) -> Result<(), ApiError> {
    if !client.is_confidential() {
        return Ok(());
    }
    let id = client.id.as_str();
    let Some(given) = given else {
        return Err(ApiError::not_authorized(format!(
            "Client {id} is configured for secret but secret was not received"
        )));
    };
    let Some(sealed) = client.sealed_secret.as_deref() else {
        tracing::warn!(
            client = id,
            "SECRET_HASH cannot be checked: the client's secret was declared before secrets were \
             sealed; restart the server with the configuration file to re-apply it"
        );
        return Err(ApiError::not_authorized(format!(
            "Unable to verify secret hash for client {id}: the client secret must be re-applied \
             from the configuration file"
        )));
    };
    let secret = services
        .sealer
        .open(&crate::sealing::purpose::client_secret(id), sealed)
        .map_err(|e| ApiError::internal(format!("client {id}: sealed secret: {e}")))?;
    let wrong =
        || ApiError::not_authorized(format!("Unable to verify secret hash for client {id}"));
    let tag = STANDARD.decode(given.trim()).map_err(|_| wrong())?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &secret);
    hmac::verify(&key, &message(username, id), &tag).map_err(|_| wrong())
}

/// The `SECRET_HASH` a client computes.
pub fn compute(secret: &str, username: &str, client_id: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    STANDARD.encode(hmac::sign(&key, &message(username, client_id)).as_ref())
}

fn message(username: &str, client_id: &str) -> Vec<u8> {
    [username.as_bytes(), client_id.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientId, ClientSettings, PoolId};
    use crate::secrets::SecretDigest;
    use crate::ui::i18n::Catalogue;

    const ID: &str = "exampleclientid0000000000a";
    const SECRET: &str = "the-client-secret";

    fn services() -> Services {
        Services::new(Catalogue::built_in(), Default::default())
    }

    fn client(services: &Services, secret: Option<&str>) -> AppClient {
        AppClient {
            id: ClientId::parse(ID).unwrap(),
            pool_id: PoolId::parse("local_Example01").unwrap(),
            name: "web".into(),
            secret: secret.map(SecretDigest::of),
            sealed_secret: secret.map(|s| {
                services
                    .sealer
                    .seal_str(&crate::sealing::purpose::client_secret(ID), s)
            }),
            settings: ClientSettings::default(),
        }
    }

    #[test]
    fn the_hash_is_cognitos() {
        // Computed independently: base64(hmac_sha256(secret, username + client_id)) in Python.
        assert_eq!(
            compute(SECRET, "alice", ID),
            "VY3oqTOtBc6hq7ei6UMkwO7rfuWKFknztybeQoEb7eI="
        );
    }

    #[test]
    fn a_confidential_client_needs_the_right_hash() {
        let services = services();
        let client = client(&services, Some(SECRET));
        let right = compute(SECRET, "alice", ID);
        assert!(check(&services, &client, "alice", Some(&right)).is_ok());
        let missing = check(&services, &client, "alice", None).unwrap_err();
        assert_eq!(missing.code, crate::api::error::NOT_AUTHORIZED);
        assert_eq!(
            missing.message,
            format!("Client {ID} is configured for secret but secret was not received")
        );
        for wrong in [
            compute(SECRET, "bob", ID),
            compute("another", "alice", ID),
            "not base64!".to_owned(),
            String::new(),
        ] {
            let error = check(&services, &client, "alice", Some(&wrong)).unwrap_err();
            assert_eq!(error.code, crate::api::error::NOT_AUTHORIZED);
            assert_eq!(
                error.message,
                format!("Unable to verify secret hash for client {ID}")
            );
        }
    }

    #[test]
    fn a_public_client_ignores_the_hash() {
        let services = services();
        let client = client(&services, None);
        assert!(check(&services, &client, "alice", None).is_ok());
        assert!(check(&services, &client, "alice", Some("anything")).is_ok());
    }

    #[test]
    fn a_secret_never_sealed_asks_for_the_file_again() {
        let services = services();
        let mut client = client(&services, Some(SECRET));
        client.sealed_secret = None;
        let right = compute(SECRET, "alice", ID);
        let error = check(&services, &client, "alice", Some(&right)).unwrap_err();
        assert_eq!(error.code, crate::api::error::NOT_AUTHORIZED);
        assert!(error.message.contains("re-applied"), "{}", error.message);
    }
}
