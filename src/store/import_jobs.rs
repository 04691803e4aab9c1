//! CSV user import jobs (`user_import_jobs`, `user_import_rejections`): Cognito's job record
//! (docs/api.md, "Import jobs";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool.html>),
//! the uploaded file, the run's position and the lines it rejected.

use super::schema::{user_import_jobs, user_import_rejections};
use super::{AnyConnection, StoreError, StoreResult};
use diesel::prelude::*;

pub const CREATED: &str = "Created";
pub const PENDING: &str = "Pending";
pub const IN_PROGRESS: &str = "InProgress";
pub const STOPPING: &str = "Stopping";
pub const STOPPED: &str = "Stopped";
pub const SUCCEEDED: &str = "Succeeded";
pub const FAILED: &str = "Failed";
/// The states of a job that has started and not ended.
pub const ACTIVE: [&str; 3] = [PENDING, IN_PROGRESS, STOPPING];

/// A job as Cognito's `UserImportJobType` shows it (the file itself is read apart).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = user_import_jobs)]
pub struct Job {
    pub job_id: String,
    pub pool_id: String,
    pub job_name: String,
    pub role_arn: String,
    pub status: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub completion_message: Option<String>,
    pub imported_users: i64,
    pub skipped_users: i64,
    pub failed_users: i64,
    pub uploaded_at: Option<i64>,
    pub etag: Option<String>,
    pub next_line: i64,
}

/// A new job in `Created`.
pub fn create(
    conn: &mut AnyConnection,
    job_id: &str,
    pool_id: &str,
    job_name: &str,
    role_arn: &str,
    now: i64,
) -> StoreResult<Job> {
    diesel::insert_into(user_import_jobs::table)
        .values((
            user_import_jobs::job_id.eq(job_id),
            user_import_jobs::pool_id.eq(pool_id),
            user_import_jobs::job_name.eq(job_name),
            user_import_jobs::role_arn.eq(role_arn),
            user_import_jobs::status.eq(CREATED),
            user_import_jobs::created_at.eq(now),
        ))
        .execute(conn)
        .map_err(|e| StoreError::from_write(e, format!("import job {job_id}")))?;
    get(conn, pool_id, job_id)?.ok_or(StoreError::NotFound)
}

pub fn get(conn: &mut AnyConnection, pool_id: &str, job_id: &str) -> StoreResult<Option<Job>> {
    Ok(user_import_jobs::table
        .find(job_id)
        .filter(user_import_jobs::pool_id.eq(pool_id))
        .select(Job::as_select())
        .get_result(conn)
        .optional()?)
}

/// A pool's jobs, newest first, after the job `after` of the previous page.
pub fn list(
    conn: &mut AnyConnection,
    pool_id: &str,
    after: Option<(i64, &str)>,
    limit: usize,
) -> StoreResult<Vec<Job>> {
    let mut query = user_import_jobs::table
        .filter(user_import_jobs::pool_id.eq(pool_id))
        .order((
            user_import_jobs::created_at.desc(),
            user_import_jobs::job_id.desc(),
        ))
        .limit(limit as i64)
        .select(Job::as_select())
        .into_boxed();
    if let Some((created, id)) = after {
        query = query.filter(
            user_import_jobs::created_at
                .lt(created)
                .or(user_import_jobs::created_at
                    .eq(created)
                    .and(user_import_jobs::job_id.lt(id.to_owned()))),
        );
    }
    Ok(query.load(conn)?)
}

/// Stores the uploaded file of a job still in `Created` (a later upload replaces it); `false`
/// when the job is gone or has started.
pub fn upload(
    conn: &mut AnyConnection,
    pool_id: &str,
    job_id: &str,
    data: &[u8],
    etag: &str,
    now: i64,
) -> StoreResult<bool> {
    let changed = diesel::update(
        user_import_jobs::table
            .find(job_id)
            .filter(user_import_jobs::pool_id.eq(pool_id))
            .filter(user_import_jobs::status.eq(CREATED)),
    )
    .set((
        user_import_jobs::data.eq(Some(data)),
        user_import_jobs::etag.eq(etag),
        user_import_jobs::uploaded_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// `Created` with a file → `Pending`. `Conflict` when another job of the pool is active (the
/// unique index on active jobs), `false` when the job is not in `Created` with a file.
pub fn start(conn: &mut AnyConnection, pool_id: &str, job_id: &str, now: i64) -> StoreResult<bool> {
    let changed = diesel::update(
        user_import_jobs::table
            .find(job_id)
            .filter(user_import_jobs::pool_id.eq(pool_id))
            .filter(user_import_jobs::status.eq(CREATED))
            .filter(user_import_jobs::uploaded_at.is_not_null()),
    )
    .set((
        user_import_jobs::status.eq(PENDING),
        user_import_jobs::started_at.eq(now),
    ))
    .execute(conn)
    .map_err(|e| StoreError::from_write(e, format!("active import job in {pool_id}")))?;
    Ok(changed == 1)
}

/// Every pool's jobs that have started and not ended.
pub fn active(conn: &mut AnyConnection) -> StoreResult<Vec<Job>> {
    Ok(user_import_jobs::table
        .filter(user_import_jobs::status.eq_any(ACTIVE))
        .select(Job::as_select())
        .load(conn)?)
}

/// `Pending` or `InProgress` → `Stopping` (the run stops at its next batch); `false` otherwise.
pub fn request_stop(conn: &mut AnyConnection, pool_id: &str, job_id: &str) -> StoreResult<bool> {
    let changed = diesel::update(
        user_import_jobs::table
            .find(job_id)
            .filter(user_import_jobs::pool_id.eq(pool_id))
            .filter(user_import_jobs::status.eq_any([PENDING, IN_PROGRESS])),
    )
    .set(user_import_jobs::status.eq(STOPPING))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The uploaded file.
pub fn data(conn: &mut AnyConnection, job_id: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(user_import_jobs::table
        .find(job_id)
        .select(user_import_jobs::data)
        .get_result::<Option<Vec<u8>>>(conn)
        .optional()?
        .flatten())
}

/// What one batch adds to a running job.
pub struct Progress<'a> {
    pub next_line: i64,
    pub imported: i64,
    pub skipped: i64,
    pub failed: i64,
    /// `(line, outcome, message)` of the rejected lines.
    pub rejected: &'a [(i64, &'static str, String)],
}

/// Records a batch: counts, position, rejected lines, and `InProgress`. `false`, with nothing
/// written, when the job is no longer `Pending` or `InProgress` (a stop came during the batch):
/// the caller rolls the batch back.
pub fn advance(conn: &mut AnyConnection, job_id: &str, progress: &Progress) -> StoreResult<bool> {
    let changed = diesel::update(
        user_import_jobs::table
            .find(job_id)
            .filter(user_import_jobs::status.eq_any([PENDING, IN_PROGRESS])),
    )
    .set((
        user_import_jobs::status.eq(IN_PROGRESS),
        user_import_jobs::next_line.eq(progress.next_line),
        user_import_jobs::imported_users.eq(user_import_jobs::imported_users + progress.imported),
        user_import_jobs::skipped_users.eq(user_import_jobs::skipped_users + progress.skipped),
        user_import_jobs::failed_users.eq(user_import_jobs::failed_users + progress.failed),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    let rows: Vec<_> = progress
        .rejected
        .iter()
        .map(|(line, outcome, message)| {
            (
                user_import_rejections::job_id.eq(job_id),
                user_import_rejections::line.eq(*line),
                user_import_rejections::outcome.eq(*outcome),
                user_import_rejections::message.eq(message),
            )
        })
        .collect();
    if !rows.is_empty() {
        super::on_backend!(conn, |c| diesel::insert_into(user_import_rejections::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(true)
}

/// Ends a job that is in one of the states `from` in `status` with its completion message; the
/// file is dropped. `false` when the job was in none of them (it ended otherwise meanwhile).
pub fn finish(
    conn: &mut AnyConnection,
    job_id: &str,
    from: &[&str],
    status: &str,
    message: &str,
    now: i64,
) -> StoreResult<bool> {
    let changed = diesel::update(
        user_import_jobs::table
            .find(job_id)
            .filter(user_import_jobs::status.eq_any(from)),
    )
    .set((
        user_import_jobs::status.eq(status),
        user_import_jobs::completion_message.eq(message),
        user_import_jobs::completed_at.eq(now),
        user_import_jobs::data.eq(None::<Vec<u8>>),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The rejected lines of a job, in line order.
pub fn rejections(
    conn: &mut AnyConnection,
    job_id: &str,
) -> StoreResult<Vec<(i64, String, String)>> {
    Ok(user_import_rejections::table
        .filter(user_import_rejections::job_id.eq(job_id))
        .order(user_import_rejections::line)
        .select((
            user_import_rejections::line,
            user_import_rejections::outcome,
            user_import_rejections::message,
        ))
        .load(conn)?)
}
