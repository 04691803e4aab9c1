//! What keeps a CSV user import from hurting the server (docs/migrating.md, "From any system
//! with password hashes"; docs/api.md, "Import jobs"): hashes beyond the work caps, uploads
//! beyond the size limit or without a valid signature, stops racing a batch, and runs that
//! died.

use crate::api_import::{
    CLIENT, Import, POOL, create_job, csv_file, curl_upload, describe, finished, header, here,
    signs_in, stored_user,
};
use crate::api_support::Api;
use crate::on_both_backends_with;
use gatehouse::flows::user_import;
use gatehouse::store::import_jobs;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends_with!(
    Import;
    a_hash_beyond_the_work_caps_fails_its_row_and_never_runs,
    an_upload_is_refused_before_its_body_is_read,
    a_stop_during_a_batch_rolls_it_back_and_nothing_revives_the_job,
    a_job_whose_run_died_ends_and_frees_the_pool,
);

/// A job of `pool` with `file` uploaded to its pre-signed URL: its id.
async fn uploaded_job(api: &Api, pool: &str, file: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.csv");
    std::fs::write(&path, file).unwrap();
    let job = create_job(api, pool).await;
    let url = here(api, job["PreSignedUrl"].as_str().unwrap());
    let (status, headers, body) = curl_upload(&path, &url);
    assert_eq!(status, 200, "{headers}{body}");
    job["JobId"].as_str().unwrap().to_owned()
}

async fn start_job(api: &Api, pool: &str, job: &str) -> Value {
    let (status, answer) = api
        .admin(
            "StartUserImportJob",
            json!({"UserPoolId": pool, "JobId": job}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["UserImportJob"].clone()
}

/// The rejected lines, through the signed URL the completion message names.
async fn log_of(api: &Api, job: &Value) -> String {
    let message = job["CompletionMessage"].as_str().unwrap();
    let url = message
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap_or_else(|| panic!("a log URL in {message}"));
    reqwest::get(here(api, url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn user_row<'a>(name: &'a str, email: &'a str, hash: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("cognito:username", name),
        ("cognito:mfa_enabled", "false"),
        ("email", email),
        ("email_verified", "true"),
        ("password_hash", hash),
    ]
}

async fn columns_with_hash(api: &Api) -> Vec<String> {
    let mut columns = header(api, POOL).await;
    columns.push("password_hash".to_owned());
    columns
}

/// Memory within 256 MiB, but a quarter of an hour of scrypt per check.
const HOSTILE_SCRYPT: &str =
    "$scrypt$ln=20,r=2,p=1024$c2FsdHNhbHRzYWx0c2FsdA$swSZKX5jqTQc7gOpwdSeC/9qbBTm1JxFpfWQKdI2MZM";

async fn a_hash_beyond_the_work_caps_fails_its_row_and_never_runs(api: Api) {
    let columns = columns_with_hash(&api).await;
    let rows = vec![
        user_row("mallory", "mallory@example.com", HOSTILE_SCRYPT),
        user_row("oscar", "oscar@example.com", ""),
    ];
    let job = uploaded_job(&api, POOL, &csv_file(&columns, &rows)).await;
    start_job(&api, POOL, &job).await;
    let done = finished(&api, POOL, &job).await;
    assert_eq!(done["Status"], "Succeeded", "{done}");
    assert_eq!(done["ImportedUsers"], 1, "{done}");
    assert_eq!(done["FailedUsers"], 1, "{done}");
    let log = log_of(&api, &done).await;
    assert!(
        log.contains("[FAILED] Line Number 2 - The User Record's password_hash cannot be used: the password hash's cost is beyond this server's limits"),
        "{log}"
    );
    assert!(!log.contains("ln=20"), "{log}");

    // Stored some other way: refused at sign-in as a wrong password, without running it.
    {
        use diesel::prelude::*;
        use gatehouse::store::schema::users;
        let mut conn = api.db.store.conn().unwrap();
        let changed = diesel::update(users::table.filter(users::username.eq("oscar")))
            .set((
                users::password_hash.eq(HOSTILE_SCRYPT),
                users::status.eq("CONFIRMED"),
            ))
            .execute(&mut *conn)
            .unwrap();
        assert_eq!(changed, 1);
    }
    let started = std::time::Instant::now();
    assert!(!signs_in(&api, CLIENT, "oscar", "Any-Password-1").await);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// Sends a `PUT` of `url` that declares `length` bytes but sends only `sent` of them, and
/// reads the answer (the status line and the body); panics when none comes within 5 s.
fn put_declaring(url: &str, length: u64, sent: &[u8]) -> (String, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/csv\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(sent).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if got.is_empty() => panic!("no answer before the body was sent: {e}"),
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

async fn an_upload_is_refused_before_its_body_is_read(api: Api) {
    let job = create_job(&api, POOL).await;
    let job_id = job["JobId"].as_str().unwrap().to_owned();
    let url = here(&api, job["PreSignedUrl"].as_str().unwrap());
    let forged = format!("{}A", url.trim_end_matches(|c: char| c != '='));
    let other_job = url.replace(&job_id, "import-AAAAAAAAAA");
    // 50 MB declared, a few bytes sent: the URL is judged on its own.
    for bad in [forged, other_job] {
        let (status, body) = actix_web::rt::task::spawn_blocking(move || {
            put_declaring(&bad, 50_000_000, b"cognito:username")
        })
        .await
        .unwrap();
        assert!(status.starts_with("HTTP/1.1 403"), "{status}: {body}");
        assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    }
    // Over 100 MB by its Content-Length: S3's EntityTooLarge, in its XML, before reading.
    let valid = url.clone();
    let (status, body) = actix_web::rt::task::spawn_blocking(move || {
        put_declaring(&valid, 100 * 1024 * 1024 + 1, b"cognito:username")
    })
    .await
    .unwrap();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}: {body}");
    assert!(body.contains("<Code>EntityTooLarge</Code>"), "{body}");

    // A file within the limit is stored whole, its ETag the digest of what arrived.
    let columns = columns_with_hash(&api).await;
    let file = csv_file(&columns, &[user_row("pat", "pat@example.com", "")]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.csv");
    std::fs::write(&path, &file).unwrap();
    let (status, headers, body) = curl_upload(&path, &url);
    assert_eq!(status, 200, "{headers}{body}");
    use sha2::Digest;
    let digest = sha2::Sha256::digest(&file);
    let etag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        headers
            .to_lowercase()
            .contains(&format!("etag: \"{etag}\"")),
        "{headers}"
    );
    let mut conn = api.db.store.conn().unwrap();
    let stored = gatehouse::store::import_jobs::data(&mut conn, &job_id).unwrap();
    assert_eq!(stored.as_deref(), Some(file.as_slice()));
    drop(conn);
    // Once started, the job takes no upload: refused before the body too.
    start_job(&api, POOL, &job_id).await;
    let (status, body) = actix_web::rt::task::spawn_blocking(move || {
        put_declaring(&url, 50_000_000, b"cognito:username")
    })
    .await
    .unwrap();
    assert!(status.starts_with("HTTP/1.1 403"), "{status}: {body}");
    finished(&api, POOL, &job_id).await;
}

async fn a_stop_during_a_batch_rolls_it_back_and_nothing_revives_the_job(api: Api) {
    let columns = columns_with_hash(&api).await;
    let file = csv_file(&columns, &[user_row("quinn", "quinn@example.com", "")]);
    let job = uploaded_job(&api, POOL, &file).await;
    let mut conn = api.db.store.conn().unwrap();
    let now = gatehouse::store::now();
    let pool = gatehouse::store::pools::get(&mut conn, POOL).unwrap();
    let rows = user_import::read(&file, &pool).unwrap();
    // Started (without a run of its own here), then a stop commits while a batch is under way:
    // the batch's end finds the job `Stopping` and writes nothing.
    assert!(import_jobs::start(&mut conn, POOL, &job, now).unwrap());
    assert!(import_jobs::request_stop(&mut conn, POOL, &job).unwrap());
    let batch = user_import::import_batch(&mut conn, &pool, &[], &rows, Some(&job), now).unwrap();
    assert!(batch.is_none());
    let mid = import_jobs::get(&mut conn, POOL, &job).unwrap().unwrap();
    assert_eq!(mid.status, import_jobs::STOPPING);
    assert_eq!((mid.imported_users, mid.next_line), (0, 0));
    let quinn = {
        let pool = gatehouse::store::pools::get(&mut conn, POOL).unwrap();
        gatehouse::store::users::find_by_username(&mut conn, &pool, "quinn").unwrap()
    };
    assert!(quinn.is_none());
    // Stopped (by an instance that does not run it): a run elsewhere cannot bring it back.
    let stopped = import_jobs::STOPPED;
    assert!(import_jobs::finish(&mut conn, &job, &import_jobs::ACTIVE, stopped, "s", now).unwrap());
    let still = [import_jobs::PENDING, import_jobs::IN_PROGRESS];
    let succeeded = import_jobs::SUCCEEDED;
    assert!(!import_jobs::finish(&mut conn, &job, &still, succeeded, "done", now).unwrap());
    assert!(
        user_import::import_batch(&mut conn, &pool, &[], &rows, Some(&job), now)
            .unwrap()
            .is_none()
    );
    drop(conn);
    let shown = describe(&api, POOL, &job).await;
    assert_eq!(shown["Status"], "Stopped", "{shown}");
    assert_eq!(shown["ImportedUsers"], 0, "{shown}");
}

/// Moves a job as a run elsewhere would.
fn set_next_line(api: &Api, job: &str, line: i64) {
    use diesel::prelude::*;
    use gatehouse::store::schema::user_import_jobs as jobs;
    let mut conn = api.db.store.conn().unwrap();
    diesel::update(jobs::table.find(job))
        .set(jobs::next_line.eq(line))
        .execute(&mut *conn)
        .unwrap();
}

async fn a_job_whose_run_died_ends_and_frees_the_pool(api: Api) {
    // Columns in any order: values are read by their header's position.
    let mut columns = columns_with_hash(&api).await;
    columns.reverse();
    let file = csv_file(&columns, &[user_row("rita", "rita@example.com", "")]);
    // Started by a process that died before its run ended: no run anywhere.
    let dead = uploaded_job(&api, POOL, &file).await;
    let now = gatehouse::store::now();
    let mut conn = api.db.store.conn().unwrap();
    assert!(import_jobs::start(&mut conn, POOL, &dead, now).unwrap());
    drop(conn);
    let next = uploaded_job(&api, POOL, &file).await;
    let blocked = api
        .admin(
            "StartUserImportJob",
            json!({"UserPoolId": POOL, "JobId": next}),
        )
        .await;
    crate::api_support::assert_error(&blocked, "PreconditionNotMetException");

    // Watched: a job that moves is left alone; one that stays still for five minutes ends.
    let mut watched = user_import::Watched::new();
    let mut sweep = |at: i64| {
        let mut conn = api.db.store.conn().unwrap();
        user_import::end_abandoned(&mut conn, &mut watched, at).unwrap()
    };
    assert_eq!(sweep(now), 0);
    set_next_line(&api, &dead, 102);
    assert_eq!(sweep(now + 200), 0);
    assert_eq!(sweep(now + 450), 0);
    assert_eq!(sweep(now + 501), 1);
    let ended = describe(&api, POOL, &dead).await;
    assert_eq!(ended["Status"], "Failed", "{ended}");
    assert!(
        ended["CompletionMessage"]
            .as_str()
            .unwrap()
            .contains("interrupted"),
        "{ended}"
    );
    // The pool imports again.
    start_job(&api, POOL, &next).await;
    let done = finished(&api, POOL, &next).await;
    assert_eq!(done["Status"], "Succeeded", "{done}");
    assert_eq!(done["ImportedUsers"], 1, "{done}");
    let rita = stored_user(&api, POOL, "rita");
    assert_eq!(rita.attributes.get("email"), Some("rita@example.com"));
    assert_eq!(rita.status.as_str(), "RESET_REQUIRED");

    // A stop whose run died: asked again, it ends the job at once.
    let stuck = uploaded_job(&api, POOL, &file).await;
    let mut conn = api.db.store.conn().unwrap();
    assert!(import_jobs::start(&mut conn, POOL, &stuck, now).unwrap());
    assert!(import_jobs::request_stop(&mut conn, POOL, &stuck).unwrap());
    drop(conn);
    let (status, stopped) = api
        .admin(
            "StopUserImportJob",
            json!({"UserPoolId": POOL, "JobId": stuck}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stopped}");
    assert_eq!(stopped["UserImportJob"]["Status"], "Stopped", "{stopped}");
    // An ended job still cannot be stopped.
    let again = api
        .admin(
            "StopUserImportJob",
            json!({"UserPoolId": POOL, "JobId": stuck}),
        )
        .await;
    crate::api_support::assert_error(&again, "PreconditionNotMetException");
}
