//! The aliases a user takes from other users when created or changed with Cognito's
//! `ForceAliasCreation`
//! (<https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html>):
//! `AdminCreateUser`, `AdminUpdateUserAttributes` and user migration (docs/triggers.md, "User
//! migration") share this one rule.

use super::Site;
use crate::model::User;
use crate::store::{self, AnyConnection, StoreError};

/// Frees the aliases `user`'s attributes give it. An alias another user holds is moved to
/// `user` when `force` is set (the other user's address becomes unverified, so it no longer
/// signs in with it); otherwise nothing more changes and the alias's kind (`email`,
/// `phone_number`, `preferred_username`) comes back. Run it in the transaction that saves `user`.
pub fn claim(
    conn: &mut AnyConnection,
    site: &Site,
    user: &User,
    force: bool,
    now: i64,
) -> Result<Option<String>, StoreError> {
    for (kind, key) in store::users::aliases_of(&site.pool, &user.attributes) {
        let Some(owner) = store::users::alias_owner(conn, site.pool_id(), &kind, &key)? else {
            continue;
        };
        if owner == user.sub {
            continue;
        }
        let flag = match kind.as_str() {
            "email" => "email_verified",
            "phone_number" => "phone_number_verified",
            _ => "",
        };
        if !force || flag.is_empty() {
            return Ok(Some(kind));
        }
        let mut other = store::users::get(conn, site.pool_id(), &owner)?;
        other
            .attributes
            .set(flag, "false")
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        other.updated_at = now;
        store::users::update(conn, &site.pool, &other)?;
    }
    Ok(None)
}
