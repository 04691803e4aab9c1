//! Secrets kept usable but encrypted (docs/deployment.md, "Encryption key"): what the database
//! holds is sealed, opens with the same key after a restart, is refused under another key, and
//! a rotation re-seals all of it so the old key can go.

use crate::binary::{Running, TEST_ENCRYPTION_KEY, gatehouse};
use crate::on_both_backends;
use crate::support::TestDb;
use diesel::prelude::*;
use gatehouse::api::secret_hash;
use gatehouse::config::Declaration;
use gatehouse::provision;
use gatehouse::sealing::{self, Sealer, new_key, rotate};
use gatehouse::store::{self, mfa, schema};
use std::path::Path;

const POOL: &str = "local_Sealed001";
const CLIENT: &str = "sealedclient00000000000000";
const CLIENT_SECRET: &str = "the-confidential-client-secret";
const IDP_SECRET: &str = "the-upstream-client-secret";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

const CONFIG: &str = r#"
[[pool]]
id = "local_Sealed001"
name = "sealed"

[[pool.client]]
id = "sealedclient00000000000000"
name = "backend"
secret = "the-confidential-client-secret"
callback_urls = ["https://app.example/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]

[[pool.identity_provider]]
name = "Upstream"
type = "OIDC"
attribute_mapping = { email = "email", username = "sub" }
[pool.identity_provider.details]
client_id = "gatehouse"
client_secret = "the-upstream-client-secret"
authorize_scopes = "openid email"
oidc_issuer = "https://upstream.example"

[[pool.user]]
username = "dana"
password = "Dana-Passw0rd!"
attributes = { email = "dana@example.com", email_verified = "true" }
"#;

fn declaration() -> Declaration {
    gatehouse::config::parse(CONFIG, Path::new("t.toml"), Path::new("."), &|_| None).unwrap()
}

fn raw_client_secret(conn: &mut store::AnyConnection) -> Option<String> {
    schema::app_clients::table
        .find(CLIENT)
        .select(schema::app_clients::secret_sealed)
        .first(conn)
        .unwrap()
}

fn raw_details(conn: &mut store::AnyConnection) -> String {
    schema::identity_providers::table
        .select(schema::identity_providers::details)
        .first(conn)
        .unwrap()
}

fn raw_totp(conn: &mut store::AnyConnection) -> Option<String> {
    schema::user_mfa::table
        .select(schema::user_mfa::totp_secret)
        .first(conn)
        .unwrap()
}

fn services(sealer: Sealer) -> gatehouse::flows::Services {
    let mut services = gatehouse::flows::Services::new(
        gatehouse::ui::i18n::Catalogue::built_in(),
        Default::default(),
    );
    services.sealer = std::sync::Arc::new(sealer);
    services
}

fn secrets_are_sealed_at_rest_and_a_rotation_lets_the_old_key_go(db: &TestDb) {
    let (old, new) = (new_key(), new_key());
    let first = Sealer::new(&old, &[]);
    let mut conn = db.store.conn().unwrap();
    provision::apply_and_invite(&mut conn, &declaration(), false, &first).unwrap();

    // In the database: sealed, never in clear.
    let sealed = raw_client_secret(&mut conn).expect("the client secret is sealed");
    assert!(sealing::is_sealed(&sealed) && !sealed.contains(CLIENT_SECRET));
    let details = raw_details(&mut conn);
    assert!(!details.contains(IDP_SECRET), "{details}");
    assert!(details.contains("gh1:"), "{details}");
    let pool = store::pools::get(&mut conn, POOL).unwrap();
    let dana = store::users::find_by_username(&mut conn, &pool, "dana")
        .unwrap()
        .unwrap();
    let sub = dana.sub.to_string();
    let mut row = mfa::MfaRow::empty(POOL, &sub, store::now());
    row.totp_secret = Some(TOTP_SECRET.into());
    row.totp_enabled = true;
    mfa::save(&mut conn, &first, &row).unwrap();
    let totp = raw_totp(&mut conn).unwrap();
    assert!(sealing::is_sealed(&totp) && !totp.contains(TOTP_SECRET));

    // They open with the key; re-applying the file changes nothing.
    assert_eq!(
        mfa::find(&mut conn, &first, POOL, &sub).unwrap(),
        Some(row.clone())
    );
    let providers = store::directory::list_identity_providers(&mut conn, &first, POOL).unwrap();
    assert_eq!(providers[0].details["client_secret"], IDP_SECRET);
    let again = provision::apply_and_invite(&mut conn, &declaration(), false, &first).unwrap();
    assert_eq!(again.created + again.updated, 0, "{again}");
    assert_eq!(raw_client_secret(&mut conn).unwrap(), sealed);
    let client = store::clients::find_by_id(&mut conn, CLIENT)
        .unwrap()
        .unwrap();
    let hash = secret_hash::compute(CLIENT_SECRET, "dana", CLIENT);
    assert!(
        secret_hash::check(
            &services(Sealer::new(&old, &[])),
            &client,
            "dana",
            Some(&hash)
        )
        .is_ok()
    );

    // Another key is told apart before anything fails.
    assert!(rotate::unknown_keys(&mut conn, &first).unwrap().is_empty());
    let stranger = Sealer::new(&new, &[]);
    assert_eq!(
        rotate::unknown_keys(&mut conn, &stranger).unwrap(),
        vec![first.current_key_id().to_owned()]
    );
    assert!(mfa::find(&mut conn, &stranger, POOL, &sub).is_err());

    // A value stored before sealing still reads, and the rotation seals it.
    diesel::update(schema::user_mfa::table)
        .set(schema::user_mfa::totp_secret.eq(TOTP_SECRET))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        mfa::find(&mut conn, &first, POOL, &sub).unwrap(),
        Some(row.clone())
    );

    let rotating = Sealer::new(&new, &[old]);
    let report = rotate::rotate(&mut conn, &rotating).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.resealed["client secrets"], 1, "{report:?}");
    assert_eq!(report.resealed["TOTP secrets"], 1, "{report:?}");
    assert_eq!(
        report.resealed["identity provider secrets"], 1,
        "{report:?}"
    );
    // Safe to run again: nothing left to do.
    let rerun = rotate::rotate(&mut conn, &rotating).unwrap();
    assert_eq!((rerun.total(), rerun.failed.len()), (0, 0), "{rerun:?}");

    // The old key can go.
    let only_new = Sealer::new(&new, &[]);
    assert!(
        rotate::unknown_keys(&mut conn, &only_new)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        mfa::find(&mut conn, &only_new, POOL, &sub).unwrap(),
        Some(row)
    );
    let providers = store::directory::list_identity_providers(&mut conn, &only_new, POOL).unwrap();
    assert_eq!(providers[0].details["client_secret"], IDP_SECRET);
    let client = store::clients::find_by_id(&mut conn, CLIENT)
        .unwrap()
        .unwrap();
    let services = services(only_new);
    assert!(secret_hash::check(&services, &client, "dana", Some(&hash)).is_ok());
    let wrong = secret_hash::check(&services, &client, "dana", Some("d3Jvbmc=")).unwrap_err();
    assert_eq!(wrong.code, "NotAuthorizedException");
    let after =
        provision::apply_and_invite(&mut conn, &declaration(), false, &services.sealer).unwrap();
    assert_eq!(after.created + after.updated, 0, "{after}");

    // A value that does not open is reported and kept.
    let foreign = Sealer::ephemeral().seal_str("x", "y");
    diesel::update(schema::app_clients::table.find(CLIENT))
        .set(schema::app_clients::secret_sealed.eq(&foreign))
        .execute(&mut conn)
        .unwrap();
    let report = rotate::rotate(&mut conn, &Sealer::new(&new_key(), &[new])).unwrap();
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(raw_client_secret(&mut conn).unwrap(), foreign);
}

on_both_backends!(secrets_are_sealed_at_rest_and_a_rotation_lets_the_old_key_go);

fn serve(dir: &Path, config: &Path) -> std::process::Command {
    let mut command = gatehouse(dir);
    command
        .env_remove("GATEHOUSE_ENCRYPTION_KEY")
        .args(["serve", "--database-url", "sqlite://gh.db", "--config"])
        .arg(config);
    command
}

#[test]
fn the_binary_keeps_its_key_beside_the_sqlite_file_refuses_another_and_rotates() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gatehouse.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let key_file = dir.path().join("gatehouse.key");

    // Zero configuration: a key is created beside the database, readable by its owner only.
    let running = Running::start(serve(dir.path(), &config));
    assert!(running.stop().success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let store =
        store::Store::connect(&format!("sqlite://{}", dir.path().join("gh.db").display())).unwrap();
    let sealed = raw_client_secret(&mut store.conn().unwrap()).unwrap();
    assert!(sealing::is_sealed(&sealed) && !sealed.contains(CLIENT_SECRET));

    // The same key opens it after a restart: the file applies unchanged.
    let running = Running::start(serve(dir.path(), &config));
    assert!(running.stop().success());
    assert_eq!(
        raw_client_secret(&mut store.conn().unwrap()).unwrap(),
        sealed
    );

    // Another key is refused with a message that says which.
    let refused = serve(dir.path(), &config)
        .env("GATEHOUSE_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("sealed with encryption key"), "{stderr}");

    // Rotation, then the new key alone starts the server.
    let new_key = dir.path().join("new.key");
    std::fs::write(&new_key, sealing::format_key(&new_key_bytes())).unwrap();
    let rotated = gatehouse(dir.path())
        .env_remove("GATEHOUSE_ENCRYPTION_KEY")
        .args([
            "encryption",
            "rotate",
            "--database-url",
            "sqlite://gh.db",
            "--new-key-file",
        ])
        .arg(&new_key)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&rotated.stdout);
    assert!(
        rotated.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(stdout.contains("client secrets: 1"), "{stdout}");
    assert!(
        stdout.contains("--previous-encryption-key-file"),
        "{stdout}"
    );
    std::fs::remove_file(&key_file).unwrap();
    let mut command = serve(dir.path(), &config);
    command.arg("--encryption-key-file").arg(&new_key);
    let running = Running::start(command);
    assert!(running.stop().success());
    assert!(!key_file.exists(), "no default key once one is given");
}

fn new_key_bytes() -> [u8; 32] {
    new_key()
}

#[test]
fn postgres_without_a_key_refuses_to_start_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let output = gatehouse(dir.path())
        .env_remove("GATEHOUSE_ENCRYPTION_KEY")
        .args([
            "serve",
            "--database-url",
            "postgres://nobody:secret@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--encryption-key-file"), "{stderr}");
}
