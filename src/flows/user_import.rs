//! Importing users from a CSV file, for the API's import jobs and `gatehouse users import`
//! (docs/migrating.md, "From any system with password hashes"; Cognito's rules:
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html>).
//!
//! The file has `GetCSVHeader`'s columns in any order, plus an optional `password_hash` column
//! (a PHC string, `secrets::legacy`). A row with a hash becomes a `CONFIRMED` user who signs in
//! with their old password; a row without one becomes `RESET_REQUIRED`, as in Cognito. Each row
//! ends `SUCCEEDED`, `SKIPPED` (the user exists) or `FAILED`, with a message that quotes no value
//! of the row. Rows are written in batches, one short transaction each; no password is hashed
//! here (an imported hash is stored as it is, and replaced at the first sign-in).

use crate::model::attributes::Attributes;
use crate::model::pool::MfaConfiguration;
use crate::model::{User, UserPool, UserStatus};
use crate::secrets::legacy;
use crate::store::{self, AnyConnection, StoreError, import_jobs};
use std::collections::HashMap;
use std::sync::Arc;

/// Cognito's `GetCSVHeader` columns, in its order; the pool's `custom:*` columns follow.
pub const COGNITO_COLUMNS: [&str; 21] = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
    USERNAME,
    MFA_ENABLED,
];

pub const USERNAME: &str = "cognito:username";
pub const MFA_ENABLED: &str = "cognito:mfa_enabled";
/// This server's addition: the user's password hash as a PHC string.
pub const PASSWORD_HASH: &str = "password_hash";

pub const MAX_FILE_BYTES: usize = 100 * 1024 * 1024;
pub const MAX_ROWS: usize = 500_000;
const MAX_LINE_CHARS: usize = 16_000;
/// Rows per transaction.
pub const BATCH: usize = 100;

/// The header `GetCSVHeader` returns for `pool`.
pub fn header(pool: &UserPool) -> Vec<String> {
    let mut columns: Vec<String> = COGNITO_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    columns.extend(
        pool.settings
            .custom_attributes
            .iter()
            .map(|a| format!("custom:{}", a.name)),
    );
    columns
}

/// A file that cannot be imported at all: the whole job fails with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

/// One data row: its line number in the file and its values, in the header's order (one
/// buffer per row; the header is shared by every row of the file).
#[derive(Debug, Clone)]
pub struct Row {
    pub line: i64,
    columns: Arc<[String]>,
    values: Result<csv::StringRecord, &'static str>,
}

/// Reads a whole file: the header's columns checked against the pool's, then every row.
pub fn read(data: &[u8], pool: &UserPool) -> Result<Vec<Row>, FileError> {
    if data.len() > MAX_FILE_BYTES {
        return Err(FileError("The CSV file is larger than 100 MB.".into()));
    }
    let text = std::str::from_utf8(data)
        .map_err(|_| FileError("The CSV file is not valid UTF-8.".into()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let columns: Arc<[String]> = reader
        .headers()
        .map_err(|_| FileError("The CSV header cannot be read.".into()))?
        .iter()
        .map(str::to_owned)
        .collect();
    check_columns(&columns, pool)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            FileError(format!("The CSV file cannot be read at line {line}."))
        })?;
        let line = record.position().map_or(0, |p| p.line()) as i64;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileError(
                "The CSV file has more than 500,000 users.".into(),
            ));
        }
        let values = if record.as_slice().chars().count() > MAX_LINE_CHARS {
            Err("The line is longer than 16,000 characters.")
        } else if record.len() != columns.len() {
            Err("The line does not have as many values as the header has columns.")
        } else {
            Ok(record)
        };
        let columns = columns.clone();
        rows.push(Row {
            line,
            columns,
            values,
        });
    }
    Ok(rows)
}

fn check_columns(columns: &[String], pool: &UserPool) -> Result<(), FileError> {
    let expected = header(pool);
    for (i, column) in columns.iter().enumerate() {
        if columns[..i].contains(column) {
            return Err(FileError(format!(
                "The CSV header has the column {column} twice."
            )));
        }
        if column != PASSWORD_HASH && !expected.contains(column) {
            return Err(FileError(format!(
                "The CSV header has a column the user pool does not have: {column}."
            )));
        }
    }
    if let Some(missing) = expected.iter().find(|c| !columns.contains(c)) {
        return Err(FileError(format!(
            "The CSV header lacks the column {missing} (use the header GetCSVHeader returns)."
        )));
    }
    Ok(())
}

/// How one row ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Skipped(&'static str),
    Failed(String),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Succeeded => "SUCCEEDED",
            Outcome::Skipped(_) => "SKIPPED",
            Outcome::Failed(_) => "FAILED",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Outcome::Succeeded => "The import succeeded.",
            Outcome::Skipped(message) => message,
            Outcome::Failed(message) => message,
        }
    }
}

/// Cognito's log line: `[SUCCEEDED] Line Number 2 - The import succeeded.`
pub fn log_line(line: i64, outcome: &Outcome) -> String {
    format!(
        "[{}] Line Number {line} - {}",
        outcome.label(),
        outcome.message()
    )
}

const USER_EXISTS: &str = "The user already exists.";
const NO_AUTO_VERIFIED: &str = "The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true).";

fn failed(message: impl Into<String>) -> Outcome {
    Outcome::Failed(message.into())
}

/// The user a row describes, under the pool's rules (no database): `Err` is the row's outcome.
pub fn user_of_row(
    pool: &UserPool,
    providers: &[String],
    row: &Row,
    now: i64,
) -> Result<User, Outcome> {
    let values = row.values.as_ref().map_err(|m| failed(*m))?;
    let value = |name: &str| {
        let at = row.columns.iter().position(|c| c == name);
        at.and_then(|i| values.get(i)).unwrap_or_default()
    };
    let settings = &pool.settings;
    let typed = value(USERNAME);
    if typed.is_empty() {
        return Err(failed("The User Record does not set cognito:username."));
    }
    match (settings.mfa_configuration, value(MFA_ENABLED)) {
        (MfaConfiguration::On, "true")
        | (MfaConfiguration::Off, "false")
        | (MfaConfiguration::Optional, "true" | "false") => {}
        (MfaConfiguration::On, _) => {
            return Err(failed(
                "cognito:mfa_enabled must be true: the user pool requires MFA.",
            ));
        }
        (MfaConfiguration::Off, _) => {
            return Err(failed(
                "cognito:mfa_enabled must be false: the user pool has MFA off.",
            ));
        }
        (MfaConfiguration::Optional, _) => {
            return Err(failed("cognito:mfa_enabled must be true or false."));
        }
    }
    let mut attributes = Attributes::new();
    for (name, raw) in row.columns.iter().zip(values.iter()) {
        if name.starts_with("cognito:") || name == PASSWORD_HASH || raw.is_empty() {
            continue;
        }
        let converted = match name.as_str() {
            "birthdate" => birthdate_from_csv(raw),
            _ => Some(raw.to_owned()),
        };
        let valid = converted.is_some_and(|v| {
            crate::flows::signup::check_attribute(&mut attributes, name, &v).is_ok()
        });
        if !valid {
            return Err(failed(format!(
                "The User Record does not conform to the schema: the value of {name} is not valid."
            )));
        }
    }
    for (flag, attribute) in [
        ("email_verified", "email"),
        ("phone_number_verified", "phone_number"),
    ] {
        if value(flag) == "true" && value(attribute).is_empty() {
            return Err(failed(format!(
                "The User Record sets {flag} to true but has no {attribute}."
            )));
        }
    }
    let hash = match value(PASSWORD_HASH) {
        "" => None,
        hash => match legacy::parse(hash) {
            Ok(_) => Some(hash.to_owned()),
            Err(problem @ legacy::Unsupported::Format) => {
                return Err(failed(format!(
                    "The User Record's password_hash cannot be used: {problem} (argon2id, argon2i, bcrypt, scrypt or pbkdf2-sha256 in PHC string format)."
                )));
            }
            Err(problem @ legacy::Unsupported::Cost) => {
                return Err(failed(format!(
                    "The User Record's password_hash cannot be used: {problem}."
                )));
            }
        },
    };
    // Without a hash the user must reset, so a code needs a verified place to go.
    let verified = |attribute: &String| value(&format!("{attribute}_verified")) == "true";
    if hash.is_none() && !settings.auto_verified_attributes.iter().any(verified) {
        return Err(failed(NO_AUTO_VERIFIED));
    }
    if let Some(missing) = settings
        .required_attributes
        .iter()
        .find(|name| attributes.get(name).is_none())
    {
        return Err(failed(format!(
            "The User Record does not set the required attribute {missing}."
        )));
    }
    let sub = uuid::Uuid::new_v4();
    let username = if settings.username_attributes.is_empty() {
        if crate::flows::signup::username_error(settings, providers, typed).is_some() {
            return Err(failed(
                "The cognito:username value is not valid: it is too long, has spaces, looks like an alias, or names an identity provider.",
            ));
        }
        typed.to_owned()
    } else {
        // Pools that sign in by email or phone: the name is one of those; the username is the sub.
        let signs_in = settings
            .username_attributes
            .iter()
            .any(|kind| attributes.get(kind) == Some(typed));
        if !signs_in {
            return Err(failed(
                "The cognito:username value must be the user's email or phone number: the user pool signs in with it.",
            ));
        }
        sub.to_string()
    };
    let status = if hash.is_some() {
        UserStatus::Confirmed
    } else {
        UserStatus::ResetRequired
    };
    Ok(User {
        sub,
        pool_id: pool.id.clone(),
        username,
        status,
        enabled: true,
        password_hash: hash,
        attributes,
        created_at: now,
        updated_at: now,
        srp_verifier: None,
    })
}

/// Cognito's CSV writes birthdates `mm/dd/yyyy`; users hold OpenID Connect's `YYYY-MM-DD`
/// (which the file may also use).
fn birthdate_from_csv(raw: &str) -> Option<String> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = raw.split('/').collect();
    match parts.as_slice() {
        [m, d, y] if digits(m, 2) && digits(d, 2) && digits(y, 4) => Some(format!("{y}-{m}-{d}")),
        _ if raw.len() == 10 && raw.split('-').count() == 3 => Some(raw.to_owned()),
        _ => None,
    }
}

/// `YYYY-MM-DD` as the CSV's `mm/dd/yyyy`.
pub fn birthdate_to_csv(stored: &str) -> String {
    match stored.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => format!("{m}/{d}/{y}"),
        _ => stored.to_owned(),
    }
}

/// Writes one row's user, in the caller's transaction (a savepoint of its own, so a failed
/// insert leaves the batch usable on PostgreSQL).
fn import_row(
    conn: &mut AnyConnection,
    pool: &UserPool,
    user: &User,
) -> Result<Outcome, StoreError> {
    let exists = store::users::find_by_username(conn, pool, &user.username)?.is_some()
        || (!pool.settings.username_attributes.is_empty()
            && pool.settings.username_attributes.iter().any(|kind| {
                user.attributes.get(kind).is_some_and(|name| {
                    matches!(
                        store::users::find_for_sign_in(conn, pool, name),
                        Ok(Some(_))
                    )
                })
            }));
    if exists {
        return Ok(Outcome::Skipped(USER_EXISTS));
    }
    for (kind, key) in store::users::aliases_of(pool, &user.attributes) {
        if store::users::alias_owner(conn, pool.id.as_str(), &kind, &key)?.is_some() {
            let what = if kind == "phone_number" {
                "phone number"
            } else {
                kind.as_str()
            };
            return Ok(failed(format!(
                "An account with the given {what} already exists."
            )));
        }
    }
    match store::users::create(conn, pool, user) {
        Ok(()) => Ok(Outcome::Succeeded),
        Err(StoreError::Conflict(what)) if what.starts_with("username") => {
            Ok(Outcome::Skipped(USER_EXISTS))
        }
        Err(StoreError::Conflict(_)) => Ok(failed("An alias of the user is already taken.")),
        Err(e) => Err(e),
    }
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub imported: i64,
    pub skipped: i64,
    pub failed: i64,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Succeeded => self.imported += 1,
            Outcome::Skipped(_) => self.skipped += 1,
            Outcome::Failed(_) => self.failed += 1,
        }
    }
}

/// The names of the pool's identity providers (a username may not start with `<name>_`).
pub fn provider_names(
    conn: &mut AnyConnection,
    pool: &UserPool,
) -> Result<Vec<String>, StoreError> {
    Ok(
        store::directory::list_identity_providers_sealed(conn, pool.id.as_str())?
            .into_iter()
            .map(|p| p.name)
            .collect(),
    )
}

/// Why a batch's transaction was rolled back.
enum BatchError {
    Store(StoreError),
    /// The job is no longer `Pending` or `InProgress`.
    Ended,
}

impl From<StoreError> for BatchError {
    fn from(error: StoreError) -> Self {
        BatchError::Store(error)
    }
}

impl From<diesel::result::Error> for BatchError {
    fn from(error: diesel::result::Error) -> Self {
        BatchError::Store(error.into())
    }
}

/// Imports one batch of rows in one transaction; with `job`, the job's counts, position and
/// rejected lines are recorded in the same transaction. `None`, with nothing written, when the
/// job was stopped or ended while the batch ran.
pub fn import_batch(
    conn: &mut AnyConnection,
    pool: &UserPool,
    providers: &[String],
    rows: &[Row],
    job: Option<&str>,
    now: i64,
) -> Result<Option<Vec<(i64, Outcome)>>, StoreError> {
    let done = store::write_transaction(conn, |conn| {
        let mut outcomes = Vec::with_capacity(rows.len());
        for row in rows {
            let outcome = match user_of_row(pool, providers, row, now) {
                Ok(user) => import_row(conn, pool, &user)?,
                Err(outcome) => outcome,
            };
            outcomes.push((row.line, outcome));
        }
        if let Some(job_id) = job {
            let mut counts = Counts::default();
            let mut rejected = Vec::new();
            for (line, outcome) in &outcomes {
                counts.add(outcome);
                if *outcome != Outcome::Succeeded {
                    rejected.push((*line, outcome.label(), outcome.message().to_owned()));
                }
            }
            let progress = import_jobs::Progress {
                next_line: rows.last().map_or(0, |r| r.line + 1),
                imported: counts.imported,
                skipped: counts.skipped,
                failed: counts.failed,
                rejected: &rejected,
            };
            if !import_jobs::advance(conn, job_id, &progress)? {
                return Err(BatchError::Ended);
            }
        }
        Ok(outcomes)
    });
    match done {
        Ok(outcomes) => Ok(Some(outcomes)),
        Err(BatchError::Ended) => Ok(None),
        Err(BatchError::Store(error)) => Err(error),
    }
}

/// Imports a whole file without a job (the command line): every row's outcome goes to
/// `each` as it is decided.
pub fn import_file(
    conn: &mut AnyConnection,
    pool: &UserPool,
    data: &[u8],
    mut each: impl FnMut(i64, &Outcome),
) -> Result<Result<Counts, FileError>, StoreError> {
    let rows = match read(data, pool) {
        Ok(rows) => rows,
        Err(error) => return Ok(Err(error)),
    };
    let providers = provider_names(conn, pool)?;
    let mut counts = Counts::default();
    for batch in rows.chunks(BATCH) {
        let outcomes = import_batch(conn, pool, &providers, batch, None, store::now())?;
        for (line, outcome) in outcomes.unwrap_or_default() {
            counts.add(&outcome);
            each(line, &outcome);
        }
    }
    Ok(Ok(counts))
}

pub const STOPPED_MESSAGE: &str = "The Import Job was stopped by the developer.";

/// The jobs this process is running.
static RUNNING: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<String>>> =
    std::sync::LazyLock::new(Default::default);

fn running() -> std::sync::MutexGuard<'static, std::collections::HashSet<String>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether this process runs the job (one that no process runs any more, after a restart, is
/// ended at once by a stop request).
pub fn runs_here(job_id: &str) -> bool {
    running().contains(job_id)
}

/// A run in `RUNNING`: leaves it however the run ends, and fails the job if the run did not
/// get to end it (a panic), so that the pool can import again.
struct RunGuard {
    store: store::Store,
    job_id: String,
    ended: bool,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        running().remove(&self.job_id);
        if self.ended {
            return;
        }
        let failed = self
            .store
            .conn()
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                let (from, status) = (import_jobs::ACTIVE, import_jobs::FAILED);
                import_jobs::finish(
                    &mut conn,
                    &self.job_id,
                    &from,
                    status,
                    INTERRUPTED,
                    store::now(),
                )
                .map_err(|e| e.to_string())
            });
        if let Err(error) = failed {
            tracing::warn!(job = self.job_id, %error, "the interrupted import job could not be recorded");
        }
    }
}

/// Starts a job's run on a thread of its own: call it after the commit that made the job
/// `Pending`. `false` when no thread could be made.
pub fn spawn(store: store::Store, pool_id: String, job_id: String) -> bool {
    running().insert(job_id.clone());
    let name = format!("import {job_id}");
    let guard = RunGuard {
        store,
        job_id,
        ended: false,
    };
    // Without a thread, the closure and its guard are dropped here: the job fails at once.
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let mut guard = guard;
            run_job(&guard.store, &pool_id, &guard.job_id);
            guard.ended = true;
            drop(guard);
        })
        .is_ok()
}

/// The completion message of a job whose run died.
pub const INTERRUPTED: &str = "The import job was interrupted: the server running it stopped or failed. The users imported so far stay; import the rest with a new job.";

/// How long a started job may go without progress, and without a run in this process, before
/// it is taken for abandoned (a live run records a batch every few seconds).
pub const ABANDONED_AFTER_SECONDS: i64 = 300;

/// What `end_abandoned` saw of each active job no run here holds: its position and state, and
/// since when.
pub type Watched = HashMap<String, (String, i64, i64)>;

/// Ends the jobs that no process runs any more (the server restarted or died mid-run): an
/// active job that no run in this process holds and that has not moved for
/// `ABANDONED_AFTER_SECONDS` ends `Stopped` if a stop was asked for, `Failed` otherwise. A run
/// in another instance moves it, and is left alone. Call it periodically with the same
/// `watched`; returns how many jobs it ended.
pub fn end_abandoned(
    conn: &mut AnyConnection,
    watched: &mut Watched,
    now: i64,
) -> Result<usize, StoreError> {
    let jobs = import_jobs::active(conn)?;
    watched.retain(|id, _| jobs.iter().any(|job| &job.job_id == id));
    let mut ended = 0;
    for job in jobs {
        if runs_here(&job.job_id) {
            watched.remove(&job.job_id);
            continue;
        }
        let seen = (job.status.clone(), job.next_line);
        match watched.get(&job.job_id) {
            Some((status, line, since)) if (status, *line) == (&seen.0, seen.1) => {
                if now - since < ABANDONED_AFTER_SECONDS {
                    continue;
                }
            }
            _ => {
                watched.insert(job.job_id.clone(), (seen.0, seen.1, now));
                continue;
            }
        }
        let (status, message) = if job.status == import_jobs::STOPPING {
            (import_jobs::STOPPED, STOPPED_MESSAGE)
        } else {
            (import_jobs::FAILED, INTERRUPTED)
        };
        let from = [job.status.as_str()];
        if import_jobs::finish(conn, &job.job_id, &from, status, message, now)? {
            tracing::warn!(
                pool = job.pool_id,
                job = job.job_id,
                status,
                "abandoned import job ended"
            );
            ended += 1;
        }
        watched.remove(&job.job_id);
    }
    Ok(ended)
}

/// Runs a started job to its end: batches of rows, each its own transaction; a stop request
/// is seen between batches.
fn run_job(store: &store::Store, pool_id: &str, job_id: &str) {
    if let Err(error) = run(store, pool_id, job_id) {
        tracing::warn!(pool = pool_id, job = job_id, %error, "user import job failed");
        let finished = store
            .conn()
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                import_jobs::finish(
                    &mut conn,
                    job_id,
                    &import_jobs::ACTIVE,
                    import_jobs::FAILED,
                    "The import job failed on an internal error.",
                    store::now(),
                )
                .map_err(|e| e.to_string())
            });
        if let Err(error) = finished {
            tracing::warn!(job = job_id, %error, "the failed import job could not be recorded");
        }
    }
}

/// Ends a job whose stop was asked for (a no-op when it has ended otherwise meanwhile).
fn end_stopped(conn: &mut AnyConnection, job_id: &str) -> Result<(), StoreError> {
    let from = [import_jobs::STOPPING];
    import_jobs::finish(
        conn,
        job_id,
        &from,
        import_jobs::STOPPED,
        STOPPED_MESSAGE,
        store::now(),
    )?;
    Ok(())
}

fn run(store: &store::Store, pool_id: &str, job_id: &str) -> Result<(), StoreError> {
    let mut conn = store.conn()?;
    let pool = store::pools::get(&mut conn, pool_id)?;
    let data = import_jobs::data(&mut conn, job_id)?.unwrap_or_default();
    let providers = provider_names(&mut conn, &pool)?;
    drop(conn);
    let rows = match read(&data, &pool) {
        Ok(rows) => rows,
        Err(FileError(message)) => {
            let mut conn = store.conn()?;
            let (from, now) = (import_jobs::ACTIVE, store::now());
            import_jobs::finish(&mut conn, job_id, &from, import_jobs::FAILED, &message, now)?;
            return Ok(());
        }
    };
    drop(data);
    for batch in rows.chunks(BATCH) {
        let mut conn = store.conn()?;
        let job = import_jobs::get(&mut conn, pool_id, job_id)?.ok_or(StoreError::NotFound)?;
        match job.status.as_str() {
            import_jobs::PENDING | import_jobs::IN_PROGRESS => {}
            import_jobs::STOPPING => return end_stopped(&mut conn, job_id),
            // Ended meanwhile (stopped while no process seemed to run it).
            _ => return Ok(()),
        }
        if batch.last().is_some_and(|r| r.line < job.next_line) {
            continue;
        }
        let done = store::patiently(&mut conn, |conn| {
            import_batch(conn, &pool, &providers, batch, Some(job_id), store::now())
        })?;
        // A stop committed while the batch ran: the batch was rolled back.
        if done.is_none() {
            return end_stopped(&mut conn, job_id);
        }
    }
    let mut conn = store.conn()?;
    // Only a job still running succeeds: a stop after the last batch still stops it.
    let from = [import_jobs::PENDING, import_jobs::IN_PROGRESS];
    let message = "Import Job Completed Successfully.";
    let (status, now) = (import_jobs::SUCCEEDED, store::now());
    if !import_jobs::finish(&mut conn, job_id, &from, status, message, now)? {
        end_stopped(&mut conn, job_id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_panics_leaves_running_and_fails_its_job() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = store::Store::connect(&url).unwrap();
        store.migrate().unwrap();
        let mut conn = store.conn().unwrap();
        let job_id = "import-guarded";
        import_jobs::create(&mut conn, job_id, "local_Pool", "n", "arn", 1).unwrap();
        import_jobs::upload(&mut conn, "local_Pool", job_id, b"x", "\"e\"", 1).unwrap();
        assert!(import_jobs::start(&mut conn, "local_Pool", job_id, 1).unwrap());
        drop(conn);
        running().insert(job_id.to_owned());
        let guarded = store.clone();
        let outcome = std::thread::spawn(move || {
            let _guard = RunGuard {
                store: guarded,
                job_id: job_id.to_owned(),
                ended: false,
            };
            panic!("a bug in the run");
        })
        .join();
        assert!(outcome.is_err());
        assert!(!runs_here(job_id));
        let mut conn = store.conn().unwrap();
        let job = import_jobs::get(&mut conn, "local_Pool", job_id)
            .unwrap()
            .unwrap();
        assert_eq!(job.status, import_jobs::FAILED);
        assert_eq!(job.completion_message.as_deref(), Some(INTERRUPTED));
    }
}
