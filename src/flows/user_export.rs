//! Exporting a pool's users as the CSV file `user_import` reads (docs/migrating.md, "From any
//! system with password hashes"): `GetCSVHeader`'s columns, and `password_hash` only when asked
//! for. No lock-in: a pool's users move to another pool, or another system, with their
//! passwords.

use super::user_import::{self, MFA_ENABLED, PASSWORD_HASH, USERNAME};
use crate::model::pool::MfaConfiguration;
use crate::model::{User, UserPool, UserStatus};
use crate::store::{self, AnyConnection, StoreError};

/// Users read per query.
const PAGE: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the CSV file: {0}")]
    Write(#[from] csv::Error),
}

/// Writes every user of `pool` but federated ones; with `hashes`, the password hash of each
/// confirmed user (a temporary password's hash is left out: such users import as
/// `RESET_REQUIRED`). Returns how many users were written.
pub fn export(
    conn: &mut AnyConnection,
    pool: &UserPool,
    hashes: bool,
    out: impl std::io::Write,
) -> Result<usize, ExportError> {
    let mut writer = csv::Writer::from_writer(out);
    let mut columns = user_import::header(pool);
    if hashes {
        columns.push(PASSWORD_HASH.to_owned());
    }
    writer.write_record(&columns)?;
    let mut after: Option<(String, String)> = None;
    let mut written = 0;
    loop {
        let position = after.as_ref().map(|(k, s)| (k.as_str(), s.as_str()));
        let page = store::users::search(conn, pool.id.as_str(), None, position, PAGE)?;
        let Some((key, last)) = page.last() else {
            break;
        };
        after = Some((key.clone(), last.sub.to_string()));
        for (_, user) in &page {
            if user.status == UserStatus::ExternalProvider {
                continue;
            }
            let row: Vec<String> = columns
                .iter()
                .map(|column| value(pool, user, column))
                .collect();
            writer.write_record(&row)?;
            written += 1;
        }
        if page.len() < PAGE {
            break;
        }
    }
    writer.flush().map_err(csv::Error::from)?;
    Ok(written)
}

fn value(pool: &UserPool, user: &User, column: &str) -> String {
    let attribute = |name: &str| user.attributes.get(name).unwrap_or_default().to_owned();
    match column {
        // Pools that sign in by email or phone name users by that attribute in the file.
        USERNAME => pool
            .settings
            .username_attributes
            .iter()
            .find_map(|kind| user.attributes.get(kind))
            .unwrap_or(&user.username)
            .to_owned(),
        MFA_ENABLED => (pool.settings.mfa_configuration == MfaConfiguration::On).to_string(),
        "email_verified" | "phone_number_verified" => match user.attributes.get(column) {
            Some("true") => "true".to_owned(),
            _ => "false".to_owned(),
        },
        "birthdate" => user_import::birthdate_to_csv(&attribute("birthdate")),
        PASSWORD_HASH if user.status == UserStatus::Confirmed => {
            user.password_hash.clone().unwrap_or_default()
        }
        PASSWORD_HASH => String::new(),
        other => attribute(other),
    }
}
