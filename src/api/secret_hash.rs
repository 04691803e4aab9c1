//! SECRET_HASH (docs/api.md, "Credentials"). Temporary: replaced by the real check.
pub fn check(
    _services: &crate::flows::Services,
    client: &crate::model::AppClient,
    _username: &str,
    given: Option<&str>,
) -> Result<(), crate::api::ApiError> {
    if client.is_confidential() && given.is_none() {
        return Err(crate::api::ApiError::not_authorized(format!(
            "Client {} is configured for secret but secret was not received",
            client.id.as_str()
        )));
    }
    Ok(())
}
