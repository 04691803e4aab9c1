//! CSV user import (docs/api.md, "Import jobs"; docs/migrating.md, "From any system with
//! password hashes"): a file built from `GetCSVHeader`'s header, uploaded with curl to the
//! pre-signed URL this server serves, the job polled to its end, users with bcrypt, PBKDF2,
//! scrypt and argon2i hashes (made by Python's implementations) signing in with their old
//! passwords, and the `gatehouse users import` / `export` commands on the same file format.

use crate::api_support::{Api, assert_error, test_env};
use crate::hosted::{CALLBACK, authorize_query, browser, input_value, location};
use crate::on_both_backends_with;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

pub(crate) const CONFIG: &str = r#"
[[api_credentials]]
access_key_id = "AKIAGATEHOUSETEST001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["*"]

[[pool]]
id = "local_ImportOn1"
name = "import-one"
auto_verified_attributes = ["email"]
alias_attributes = ["email"]
custom_attributes = [{ name = "team" }]

[[pool.client]]
id = "importclient00000000000001"
name = "app"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pool.user]]
username = "alice"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "alice@example.com", email_verified = "true", "custom:team" = "blue" }

[[pool]]
id = "local_ImportTw2"
name = "import-two"
auto_verified_attributes = ["email"]
alias_attributes = ["email"]
custom_attributes = [{ name = "team" }]

[[pool.client]]
id = "importclient00000000000002"
name = "app"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#;

pub(crate) const POOL: &str = "local_ImportOn1";
pub(crate) const OTHER: &str = "local_ImportTw2";
pub(crate) const CLIENT: &str = "importclient00000000000001";
const OTHER_CLIENT: &str = "importclient00000000000002";
/// What a test server writes in the URLs it hands out (`support::spawn_server_with`).
const PUBLIC_URL: &str = "http://localhost:7070";

pub(crate) struct Import;

impl Import {
    pub(crate) async fn start(db: crate::support::TestDb) -> Api {
        Api::start_with(db, CONFIG)
    }
}

on_both_backends_with!(
    Import;
    an_import_job_brings_users_who_sign_in_with_their_old_hashes,
    forged_or_expired_urls_and_early_starts_are_refused,
    users_export_and_import_round_trip_on_the_command_line,
);

/// Legacy hashes of `password` from Python's `bcrypt` package and `hashlib` (PBKDF2, scrypt):
/// an implementation independent of the server's.
fn python_hashes(password: &str) -> (String, String, String) {
    let pydeps = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api-clients/.pydeps");
    let script = r#"
import sys, bcrypt, hashlib, base64, os
pw = sys.argv[1].encode()
b64 = lambda b: base64.b64encode(b).decode().rstrip("=")
salt = os.urandom(16)
print(bcrypt.hashpw(pw, bcrypt.gensalt(5)).decode())
print("$pbkdf2-sha256$i=20000,l=32$%s$%s" % (b64(salt), b64(hashlib.pbkdf2_hmac("sha256", pw, salt, 20000, 32))))
print("$scrypt$ln=12,r=8,p=1$%s$%s" % (b64(salt), b64(hashlib.scrypt(pw, salt=salt, n=4096, r=8, p=1, dklen=32))))
"#;
    let output = Command::new("python3")
        .env("PYTHONPATH", pydeps)
        .args(["-c", script, password])
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines().map(str::to_owned);
    (
        lines.next().unwrap(),
        lines.next().unwrap(),
        lines.next().unwrap(),
    )
}

fn argon2i_hash(password: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(8 * 1024, 2, 1, None).unwrap();
    argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes())
        .unwrap()
        .to_string()
}

/// A CSV file in `header`'s column order, each row given as (column, value) pairs.
pub(crate) fn csv_file(header: &[String], rows: &[Vec<(&str, &str)>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).unwrap();
    for row in rows {
        let values: Vec<&str> = header
            .iter()
            .map(|column| {
                row.iter()
                    .find(|(name, _)| name == column)
                    .map_or("", |(_, value)| *value)
            })
            .collect();
        writer.write_record(values).unwrap();
    }
    writer.into_inner().unwrap()
}

/// A URL the server handed out, pointed at the test server.
pub(crate) fn here(api: &Api, url: &str) -> String {
    url.replacen(PUBLIC_URL, &api.root, 1)
}

/// `curl -T file -H "x-amz-server-side-encryption:aws:kms" URL`, as the AWS guide shows:
/// the status and the response headers.
pub(crate) fn curl_upload(file: &Path, url: &str) -> (u16, String, String) {
    let output = Command::new("curl")
        .args(["-sS", "-D", "-", "-o", "/dev/stderr", "-T"])
        .arg(file)
        .args(["-H", "x-amz-server-side-encryption:aws:kms", url])
        .output()
        .expect("curl runs");
    let headers = String::from_utf8_lossy(&output.stdout).into_owned();
    let body = String::from_utf8_lossy(&output.stderr).into_owned();
    // The last status line: curl sends `Expect: 100-continue` first.
    let status = headers
        .lines()
        .rfind(|l| l.starts_with("HTTP/"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, headers, body)
}

pub(crate) async fn header(api: &Api, pool: &str) -> Vec<String> {
    let (status, answer) = api.admin("GetCSVHeader", json!({"UserPoolId": pool})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["UserPoolId"], pool);
    serde_json::from_value(answer["CSVHeader"].clone()).unwrap()
}

pub(crate) async fn create_job(api: &Api, pool: &str) -> Value {
    let (status, answer) = api
        .admin(
            "CreateUserImportJob",
            json!({
                "JobName": "legacy users",
                "UserPoolId": pool,
                "CloudWatchLogsRoleArn": "arn:aws:iam::000000000000:role/CognitoImport",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["UserImportJob"].clone()
}

pub(crate) async fn describe(api: &Api, pool: &str, job: &str) -> Value {
    let (status, answer) = api
        .admin(
            "DescribeUserImportJob",
            json!({"UserPoolId": pool, "JobId": job}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["UserImportJob"].clone()
}

/// Polls the job until it has ended.
pub(crate) async fn finished(api: &Api, pool: &str, job: &str) -> Value {
    for _ in 0..300 {
        let job = describe(api, pool, job).await;
        match job["Status"].as_str().unwrap() {
            "Pending" | "InProgress" => {}
            _ => return job,
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import job did not end in 30 s");
}

pub(crate) fn password_auth(client: &str, username: &str, password: &str) -> Value {
    json!({
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client,
        "AuthParameters": { "USERNAME": username, "PASSWORD": password },
    })
}

pub(crate) async fn signs_in(api: &Api, client: &str, username: &str, password: &str) -> bool {
    let answer = api
        .call("InitiateAuth", password_auth(client, username, password))
        .await;
    if answer.0 == StatusCode::OK {
        assert!(answer.1["AuthenticationResult"]["AccessToken"].is_string());
        return true;
    }
    assert_error(&answer, "NotAuthorizedException");
    false
}

pub(crate) fn stored_user(api: &Api, pool: &str, username: &str) -> gatehouse::model::User {
    let mut conn = api.db.store.conn().unwrap();
    let pool = gatehouse::store::pools::get(&mut conn, pool).unwrap();
    gatehouse::store::users::find_by_username(&mut conn, &pool, username)
        .unwrap()
        .unwrap_or_else(|| panic!("{username} exists"))
}

const CURRENT_ARGON2ID: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

async fn an_import_job_brings_users_who_sign_in_with_their_old_hashes(api: Api) {
    let columns = header(&api, POOL).await;
    assert_eq!(columns[..3], ["name", "given_name", "family_name"]);
    assert_eq!(columns[19..21], ["cognito:username", "cognito:mfa_enabled"]);
    assert_eq!(columns[21], "custom:team");
    let mut columns = columns;
    columns.push("password_hash".to_owned());
    let (bcrypt, pbkdf2, scrypt) = python_hashes("Old-Bcrypt-Pass1");
    let (_, pbkdf2_carol, _) = python_hashes("Old-Pbkdf2-Pass1");
    let (_, _, scrypt_dave) = python_hashes("Old-Scrypt-Pass1");
    assert!(bcrypt.starts_with("$2b$05$") && pbkdf2.starts_with("$pbkdf2-sha256$"));
    assert!(scrypt.starts_with("$scrypt$"));
    let argon2i = argon2i_hash("Old-Argon2i-Pass1");
    let bad_hash = "$2b$05$not-a-real-bcrypt-hash-but-secret-looking-value-xyz";
    let user = |name: &'static str, hash: &'static str| -> Vec<(&'static str, &'static str)> {
        let email: &'static str = Box::leak(format!("{name}@example.com").into_boxed_str());
        vec![
            ("cognito:username", name),
            ("cognito:mfa_enabled", "false"),
            ("email", email),
            ("email_verified", "true"),
            ("given_name", "Imported"),
            ("birthdate", "02/29/1996"),
            ("custom:team", "red"),
            ("password_hash", hash),
        ]
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let rows = vec![
        user("bob", leak(bcrypt.clone())),         // line 2
        user("carol", leak(pbkdf2_carol.clone())), // line 3
        user("dave", leak(scrypt_dave.clone())),   // line 4
        user("erin", leak(argon2i.clone())),       // line 5
        user("frank", ""),                         // line 6: RESET_REQUIRED
        user("", ""),                              // line 7: no username
        {
            // line 8: nothing verified and no hash
            let mut row = user("gina", "");
            row[3] = ("email_verified", "false");
            row
        },
        user("hank", bad_hash), // line 9: unusable hash
        user("alice", ""),      // line 10: exists
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, csv_file(&columns, &rows)).unwrap();

    let job = create_job(&api, POOL).await;
    let job_id = job["JobId"].as_str().unwrap().to_owned();
    assert!(job_id.starts_with("import-"), "{job}");
    assert_eq!(job["Status"], "Created");
    assert_eq!(job["ImportedUsers"], 0);
    assert_eq!(job["JobName"], "legacy users");
    assert!(job["CreationDate"].is_number());
    let url = job["PreSignedUrl"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{PUBLIC_URL}/_import/{POOL}/{job_id}?X-Amz-Expires=900&X-Gatehouse-Signature="
        )),
        "{url}"
    );
    // Nothing uploaded yet.
    let early = api
        .admin(
            "StartUserImportJob",
            json!({"UserPoolId": POOL, "JobId": job_id}),
        )
        .await;
    assert_error(&early, "PreconditionNotMetException");

    let (status, headers, body) = curl_upload(&file, &here(&api, url));
    assert_eq!(status, 200, "{headers}{body}");
    assert!(headers.to_lowercase().contains("etag: \""), "{headers}");

    let (status, started) = api
        .admin(
            "StartUserImportJob",
            json!({"UserPoolId": POOL, "JobId": job_id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert!(started["UserImportJob"]["StartDate"].is_number());
    let job = finished(&api, POOL, &job_id).await;
    assert_eq!(job["Status"], "Succeeded", "{job}");
    assert_eq!(job["ImportedUsers"], 5, "{job}");
    assert_eq!(job["SkippedUsers"], 1, "{job}");
    assert_eq!(job["FailedUsers"], 3, "{job}");
    assert!(job["CompletionDate"].is_number());
    let again = api
        .admin(
            "StartUserImportJob",
            json!({"UserPoolId": POOL, "JobId": job_id}),
        )
        .await;
    assert_error(&again, "PreconditionNotMetException");

    // The rejected lines, through the signed URL the completion message names.
    let message = job["CompletionMessage"].as_str().unwrap();
    let log_url = message
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap_or_else(|| panic!("a log URL in {message}"));
    let log = reqwest::get(here(&api, log_url)).await.unwrap();
    assert_eq!(log.status(), StatusCode::OK);
    let log = log.text().await.unwrap();
    assert!(log.contains("[FAILED] Line Number 7 - "), "{log}");
    assert!(log.contains("[FAILED] Line Number 8 - The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true)."), "{log}");
    assert!(log.contains("[FAILED] Line Number 9 - "), "{log}");
    assert!(
        log.contains("[SKIPPED] Line Number 10 - The user already exists."),
        "{log}"
    );
    assert!(
        !log.contains("Line Number 2 "),
        "only rejected lines: {log}"
    );
    for secret in [bad_hash, "gina@example.com", "$2b$"] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
    let forged_log = here(&api, log_url).replace("X-Amz-Date=", "X-Amz-Date=1");
    assert_eq!(
        reqwest::get(forged_log).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // Imported attributes: the birthdate in OpenID Connect's form.
    let bob = stored_user(&api, POOL, "bob");
    assert_eq!(bob.status.as_str(), "CONFIRMED");
    assert_eq!(bob.attributes.get("birthdate"), Some("1996-02-29"));
    assert_eq!(bob.attributes.get("custom:team"), Some("red"));
    assert_eq!(bob.password_hash.as_deref(), Some(bcrypt.as_str()));

    // Old passwords sign in; a wrong one does not; hashes become argon2id with a verifier.
    assert!(!signs_in(&api, CLIENT, "bob", "Old-Bcrypt-Pass2").await);
    assert_eq!(stored_user(&api, POOL, "bob").password_hash, Some(bcrypt));
    for (name, password) in [
        ("bob", "Old-Bcrypt-Pass1"),
        ("carol", "Old-Pbkdf2-Pass1"),
        ("dave", "Old-Scrypt-Pass1"),
    ] {
        assert!(signs_in(&api, CLIENT, name, password).await, "{name}");
        let user = stored_user(&api, POOL, name);
        let hash = user.password_hash.unwrap();
        assert!(hash.starts_with(CURRENT_ARGON2ID), "{name}: {hash}");
        assert!(user.srp_verifier.is_some(), "{name}");
        // And again, now against argon2id.
        assert!(signs_in(&api, CLIENT, name, password).await, "{name}");
    }
    // The hosted sign-in page, for the argon2i user.
    let b = browser();
    // Public clients must use PKCE; the challenge of any verifier will do here.
    let page = format!(
        "{}/{POOL}/login?{}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        api.root,
        authorize_query(CLIENT)
    );
    let shown = b.get(&page).send().await.unwrap();
    assert_eq!(shown.status(), StatusCode::OK, "{:?}", shown.headers());
    let html = shown.text().await.unwrap();
    let csrf = input_value(&html, "_csrf");
    let response = b
        .post(&page)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "erin"),
            ("password", "Old-Argon2i-Pass1"),
        ])
        .send()
        .await
        .unwrap();
    let callback = location(&response);
    assert!(
        callback.starts_with(&format!("{CALLBACK}?code=")),
        "{callback}"
    );
    let erin = stored_user(&api, POOL, "erin").password_hash.unwrap();
    assert!(erin.starts_with(CURRENT_ARGON2ID), "{erin}");

    // Without a hash: RESET_REQUIRED, and a sign-in says so whatever the password.
    let (_, frank) = api
        .admin(
            "AdminGetUser",
            json!({"UserPoolId": POOL, "Username": "frank"}),
        )
        .await;
    assert_eq!(frank["UserStatus"], "RESET_REQUIRED");
    let answer = api
        .call("InitiateAuth", password_auth(CLIENT, "frank", "Anything-1"))
        .await;
    assert_error(&answer, "PasswordResetRequiredException");
    assert!(stored_user(&api, POOL, "frank").password_hash.is_none());
    // The reset Cognito's guide describes: a code to the verified email, a new password.
    let (status, _) = api
        .call(
            "ForgotPassword",
            json!({"ClientId": CLIENT, "Username": "frank"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let code = api.last_code("frank@example.com").await;
    let (status, answer) = api
        .call(
            "ConfirmForgotPassword",
            json!({"ClientId": CLIENT, "Username": "frank", "ConfirmationCode": code, "Password": "New-Frank-Pass1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(signs_in(&api, CLIENT, "frank", "New-Frank-Pass1").await);

    // Listed, newest first.
    let second = create_job(&api, POOL).await;
    let (status, listed) = api
        .admin(
            "ListUserImportJobs",
            json!({"UserPoolId": POOL, "MaxResults": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["UserImportJobs"][0]["JobId"], second["JobId"]);
    let token = listed["PaginationToken"].as_str().unwrap();
    let (_, rest) = api
        .admin(
            "ListUserImportJobs",
            json!({"UserPoolId": POOL, "MaxResults": 5, "PaginationToken": token}),
        )
        .await;
    assert_eq!(
        rest["UserImportJobs"][0]["JobId"],
        job_id.as_str(),
        "{rest}"
    );
    assert!(rest.get("PaginationToken").is_none());
    let missing = api
        .admin("ListUserImportJobs", json!({"UserPoolId": POOL}))
        .await;
    assert_eq!(missing.0, StatusCode::BAD_REQUEST, "{missing:?}");
}

async fn forged_or_expired_urls_and_early_starts_are_refused(api: Api) {
    let columns = header(&api, OTHER).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let row = vec![
        ("cognito:username", "zed"),
        ("cognito:mfa_enabled", "false"),
        ("email", "zed@example.com"),
        ("email_verified", "true"),
        ("custom:team", "green"),
    ];
    std::fs::write(&file, csv_file(&columns, &[row])).unwrap();
    let job = create_job(&api, OTHER).await;
    let job_id = job["JobId"].as_str().unwrap().to_owned();
    let url = here(&api, job["PreSignedUrl"].as_str().unwrap());

    // A forged signature, another job's id, a longer validity: S3's AccessDenied.
    let forged = format!("{}A", url.trim_end_matches(|c: char| c != '='));
    let other_job = url.replace(&job_id, "import-AAAAAAAAAA");
    let longer = url.replace("X-Amz-Expires=900", "X-Amz-Expires=90000");
    for bad in [forged, other_job, longer] {
        let (status, _, body) = curl_upload(&file, &bad);
        assert_eq!(status, 403, "{bad}: {body}");
        assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    }
    // Only PUT.
    let get = reqwest::get(&url).await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Stopping a job that has not started.
    let stop = api
        .admin(
            "StopUserImportJob",
            json!({"UserPoolId": OTHER, "JobId": job_id}),
        )
        .await;
    assert_error(&stop, "PreconditionNotMetException");
    let unknown = api
        .admin(
            "DescribeUserImportJob",
            json!({"UserPoolId": OTHER, "JobId": "import-nope"}),
        )
        .await;
    assert_error(&unknown, "ResourceNotFoundException");

    // Fifteen minutes after the job was made, its URL has expired.
    {
        use diesel::prelude::*;
        use gatehouse::store::schema::user_import_jobs as jobs;
        let mut conn = api.db.store.conn().unwrap();
        let then = gatehouse::store::now() - 901;
        diesel::update(jobs::table.find(&job_id))
            .set(jobs::created_at.eq(then))
            .execute(&mut *conn)
            .unwrap();
    }
    let job = describe(&api, OTHER, &job_id).await;
    let (status, _, body) = curl_upload(&file, &here(&api, job["PreSignedUrl"].as_str().unwrap()));
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>AccessDenied</Code>") && body.contains("expired"),
        "{body}"
    );
    let start = api
        .admin(
            "StartUserImportJob",
            json!({"UserPoolId": OTHER, "JobId": job_id}),
        )
        .await;
    assert_error(&start, "PreconditionNotMetException");
}

fn gatehouse(api: &Api, args: &[&str]) -> std::process::Output {
    crate::binary::gatehouse(std::env::temp_dir().as_path())
        .args(args)
        .args(["--database-url", &api.db.url])
        .output()
        .expect("gatehouse runs")
}

async fn users_export_and_import_round_trip_on_the_command_line(api: Api) {
    // A user with a legacy hash in the first pool, from the API's import.
    let columns: Vec<String> = header(&api, POOL)
        .await
        .into_iter()
        .chain(["password_hash".to_owned()])
        .collect();
    let (bcrypt, _, _) = python_hashes("Old-Bcrypt-Pass1");
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.csv");
    let rows = vec![
        vec![
            ("cognito:username", "bob"),
            ("cognito:mfa_enabled", "false"),
            ("email", "bob@example.com"),
            ("email_verified", "true"),
            ("password_hash", bcrypt.as_str()),
        ],
        vec![
            ("cognito:username", "frank"),
            ("cognito:mfa_enabled", "false"),
            ("email", "frank@example.com"),
            ("email_verified", "true"),
        ],
    ];
    std::fs::write(&first, csv_file(&columns, &rows)).unwrap();
    let out = gatehouse(
        &api,
        &["users", "import", "--pool", POOL, first.to_str().unwrap()],
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        printed.contains("[SUCCEEDED] Line Number 2 - The import succeeded."),
        "{printed}"
    );
    assert!(
        printed.contains("[SUCCEEDED] Line Number 3 - The import succeeded."),
        "{printed}"
    );
    assert!(
        printed.contains("Imported: 2, Skipped: 0, Failed: 0"),
        "{printed}"
    );

    // Without the flag, no hash leaves the server.
    let out = gatehouse(&api, &["users", "export", "--pool", POOL]);
    assert!(out.status.success(), "{out:?}");
    let plain = String::from_utf8(out.stdout).unwrap();
    assert!(
        !plain.contains("password_hash") && !plain.contains("$argon2id$"),
        "{plain}"
    );
    assert!(!plain.contains("$2b$"), "{plain}");
    assert!(plain.starts_with("name,given_name,family_name,"), "{plain}");
    assert_eq!(plain.lines().count(), 4, "{plain}");
    // With it: alice's argon2id and bob's bcrypt; frank has none.
    let out = gatehouse(
        &api,
        &[
            "users",
            "export",
            "--pool",
            POOL,
            "--include-password-hashes",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let exported = String::from_utf8(out.stdout).unwrap();
    assert!(exported.lines().next().unwrap().ends_with(",password_hash"));
    assert!(
        exported.contains(CURRENT_ARGON2ID) && exported.contains(&bcrypt),
        "{exported}"
    );

    // Into the second pool: everyone signs in there with the passwords they had.
    let file = dir.path().join("export.csv");
    std::fs::write(&file, &exported).unwrap();
    let out = gatehouse(
        &api,
        &["users", "import", "--pool", OTHER, file.to_str().unwrap()],
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        printed.contains("Imported: 3, Skipped: 0, Failed: 0"),
        "{printed}"
    );
    let alice_password = test_env("TEST_USER_PASSWORD").unwrap();
    assert!(signs_in(&api, OTHER_CLIENT, "alice", &alice_password).await);
    assert!(signs_in(&api, OTHER_CLIENT, "bob", "Old-Bcrypt-Pass1").await);
    let frank = api
        .call(
            "InitiateAuth",
            password_auth(OTHER_CLIENT, "frank", "Whatever-1"),
        )
        .await;
    assert_error(&frank, "PasswordResetRequiredException");
    let alice = stored_user(&api, OTHER, "alice");
    assert_eq!(alice.attributes.get("custom:team"), Some("blue"));

    // Again: every user exists now; then a file with a bad line fails the command.
    let out = gatehouse(
        &api,
        &["users", "import", "--pool", OTHER, file.to_str().unwrap()],
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        printed.contains("[SKIPPED] Line Number 2 - The user already exists."),
        "{printed}"
    );
    let bad = dir.path().join("bad.csv");
    let rows = vec![vec![
        ("cognito:username", "ivy"),
        ("cognito:mfa_enabled", "maybe"),
        ("email", "ivy@example.com"),
        ("email_verified", "true"),
    ]];
    std::fs::write(&bad, csv_file(&columns, &rows)).unwrap();
    let out = gatehouse(
        &api,
        &["users", "import", "--pool", OTHER, bad.to_str().unwrap()],
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        printed.contains("[FAILED] Line Number 2 - cognito:mfa_enabled"),
        "{printed}"
    );
    assert!(
        printed.contains("Imported: 0, Skipped: 0, Failed: 1"),
        "{printed}"
    );
    // A header this pool does not have fails the whole file.
    let wrong = dir.path().join("wrong.csv");
    std::fs::write(&wrong, "cognito:username,email\nx,x@example.com\n").unwrap();
    let out = gatehouse(
        &api,
        &["users", "import", "--pool", OTHER, wrong.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lacks the column"),
        "{out:?}"
    );
}
