//! Where the operator's encryption key comes from (docs/deployment.md, "Encryption key";
//! docs/configuration.md, "Flags and environment"): a key file, the key itself in a variable,
//! or, on SQLite with neither, a `gatehouse.key` file created beside the database.

use super::{Sealer, parse_key};
use crate::store::DatabaseUrl;
use std::path::{Path, PathBuf};

/// The file name of the key created beside a SQLite database.
pub const DEFAULT_FILE_NAME: &str = "gatehouse.key";

/// What the operator gave.
#[derive(Debug, Clone, Default)]
pub struct KeyConfig {
    /// `--encryption-key-file`.
    pub key_file: Option<PathBuf>,
    /// `GATEHOUSE_ENCRYPTION_KEY`: the key itself.
    pub key: Option<String>,
    /// `--previous-encryption-key-file`: keys that only open.
    pub previous_files: Vec<PathBuf>,
}

/// The sealer built from a `KeyConfig`, and where its key came from (for the log).
#[derive(Debug)]
pub struct Loaded {
    pub sealer: Sealer,
    pub current: [u8; 32],
    pub previous: Vec<[u8; 32]>,
    pub origin: String,
    /// Set when the key file was created just now.
    pub created: Option<PathBuf>,
}

/// Reads a key file (64 hex digits or base64 of 32 bytes; surrounding whitespace ignored).
pub fn read_key_file(path: &Path) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("encryption key file {}: {e}", path.display()))?;
    parse_key(&text).map_err(|e| format!("encryption key file {}: {e}", path.display()))
}

/// The key file beside a SQLite database file (`None` for PostgreSQL and `:memory:`).
pub fn default_path(database_url: &str) -> Option<PathBuf> {
    match DatabaseUrl::parse(database_url).ok()? {
        DatabaseUrl::Sqlite(path) if path != ":memory:" && !path.starts_with("file::memory") => {
            let path = Path::new(path.split('?').next().unwrap_or(&path));
            let dir = path.parent().unwrap_or(Path::new(""));
            Some(dir.join(DEFAULT_FILE_NAME))
        }
        _ => None,
    }
}

/// Builds the sealer. Without a key: on a SQLite file, the key beside it (created, mode 0600,
/// on first start); on PostgreSQL, an error, because several servers share that database and
/// a key one of them invented would be unknown to the others and lost with its disk.
pub fn load(config: &KeyConfig, database_url: &str) -> Result<Loaded, String> {
    let previous = config
        .previous_files
        .iter()
        .map(|path| read_key_file(path))
        .collect::<Result<Vec<_>, _>>()?;
    let (current, origin, created) = match (&config.key_file, &config.key) {
        (Some(_), Some(_)) => {
            return Err(
                "give the encryption key as --encryption-key-file or as GATEHOUSE_ENCRYPTION_KEY, \
                 not both"
                    .into(),
            );
        }
        (Some(path), None) => (
            read_key_file(path)?,
            format!("file {}", path.display()),
            None,
        ),
        (None, Some(key)) => (
            parse_key(key).map_err(|e| format!("GATEHOUSE_ENCRYPTION_KEY: {e}"))?,
            "GATEHOUSE_ENCRYPTION_KEY".to_owned(),
            None,
        ),
        (None, None) => match default_path(database_url) {
            Some(path) => {
                let created = create_if_missing(&path)?;
                (
                    read_key_file(&path)?,
                    format!("file {}", path.display()),
                    created.then_some(path),
                )
            }
            None if database_url.starts_with("sqlite") => (
                super::new_key(),
                "a key for this process only (in-memory database)".to_owned(),
                None,
            ),
            None => {
                return Err(
                    "a PostgreSQL database needs an encryption key: give --encryption-key-file \
                     PATH (or GATEHOUSE_ENCRYPTION_KEY_FILE, or the key in \
                     GATEHOUSE_ENCRYPTION_KEY); create one with `openssl rand -base64 32 > \
                     gatehouse.key` and give every server the same key (docs/deployment.md, \
                     \"Encryption key\")"
                        .into(),
                );
            }
        },
    };
    Ok(Loaded {
        sealer: Sealer::new(&current, &previous),
        current,
        previous,
        origin,
        created,
    })
}

/// Writes a new random key to `path` unless a file is there; `true` when it wrote one. Two
/// servers starting at once on one file: only one creates it, the other reads it.
fn create_if_missing(path: &Path) -> Result<bool, String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            let text = format!("{}\n", super::format_key(&super::new_key()));
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("writing encryption key file {}: {e}", path.display()))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // A file created a moment ago by another process may still be empty.
            for _ in 0..50 {
                if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Ok(false)
        }
        Err(e) => Err(format!(
            "creating encryption key file {}: {e}",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_lives_beside_a_sqlite_file_only() {
        assert_eq!(
            default_path("sqlite://data/gh.db"),
            Some(PathBuf::from("data/gatehouse.key"))
        );
        assert_eq!(
            default_path("sqlite://gh.db"),
            Some(PathBuf::from("gatehouse.key"))
        );
        assert_eq!(default_path("sqlite://:memory:"), None);
        assert_eq!(default_path("postgres://u:p@h/db"), None);
        let refused = load(&KeyConfig::default(), "postgres://u:p@h/db").unwrap_err();
        assert!(refused.contains("--encryption-key-file"), "{refused}");
    }

    #[test]
    fn a_key_is_created_once_with_owner_only_access() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("gh.db").display());
        let first = load(&KeyConfig::default(), &url).unwrap();
        let path = dir.path().join(DEFAULT_FILE_NAME);
        assert_eq!(first.created.as_deref(), Some(path.as_path()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = load(&KeyConfig::default(), &url).unwrap();
        assert!(second.created.is_none());
        assert_eq!(first.current, second.current);
        let both = KeyConfig {
            key_file: Some(path),
            key: Some(super::super::format_key(&first.current)),
            previous_files: Vec::new(),
        };
        assert!(load(&both, &url).unwrap_err().contains("not both"));
    }
}
