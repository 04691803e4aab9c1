//! CSV user import jobs (../docs/api.md, "Import jobs";
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserImportJob.html>
//! and its siblings): the header, the job's life (Created → Pending → InProgress → Succeeded,
//! Failed or Stopped), its upload URL served by this server, and its progress. The rows are
//! imported by `flows::user_import`, on a thread of its own once the start has committed.

use super::Action;
use crate::api::wire::{check_length, input, page_size, page_token, read_page_token, timestamp};
use crate::api::{ApiError, Ctx};
use crate::flows::{import_links, user_import};
use crate::store::{StoreError, import_jobs};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "GetCSVHeader" => get_csv_header,
        "CreateUserImportJob" => create_user_import_job,
        "StartUserImportJob" => start_user_import_job,
        "StopUserImportJob" => stop_user_import_job,
        "DescribeUserImportJob" => describe_user_import_job,
        "ListUserImportJobs" => list_user_import_jobs,
        _ => return None,
    })
}

pub const PRECONDITION_NOT_MET: &str = "PreconditionNotMetException";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolInput {
    user_pool_id: String,
}

fn get_csv_header(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let PoolInput { user_pool_id } = input(body)?;
    let site = ctx.site(&user_pool_id)?;
    Ok(json!({
        "UserPoolId": user_pool_id,
        "CSVHeader": user_import::header(&site.pool),
    }))
}

/// Cognito's `UserImportJobType`. A finished job with rejected lines names, in its
/// `CompletionMessage`, a signed URL where they can be read for 15 minutes.
fn job_json(ctx: &mut Ctx, job: &import_jobs::Job) -> Result<Value, ApiError> {
    let now = ctx.now;
    let key = import_links::key(ctx.conn()?, now)?;
    let public = ctx.env.public_url.clone();
    let url = import_links::upload_url(&key, &public, &job.pool_id, &job.job_id, job.created_at);
    let mut answer = json!({
        "JobName": job.job_name,
        "JobId": job.job_id,
        "UserPoolId": job.pool_id,
        "PreSignedUrl": url,
        "CreationDate": timestamp(job.created_at),
        "Status": job.status,
        "CloudWatchLogsRoleArn": job.role_arn,
        "ImportedUsers": job.imported_users,
        "SkippedUsers": job.skipped_users,
        "FailedUsers": job.failed_users,
    });
    if let Some(started) = job.started_at {
        answer["StartDate"] = timestamp(started);
    }
    if let Some(completed) = job.completed_at {
        answer["CompletionDate"] = timestamp(completed);
    }
    if let Some(message) = &job.completion_message {
        let rejected = job.skipped_users + job.failed_users;
        answer["CompletionMessage"] = if rejected > 0 {
            let log = import_links::log_url(&key, &public, &job.pool_id, &job.job_id, now);
            json!(format!("{message} Rejected lines ({rejected}): {log}"))
        } else {
            json!(message)
        };
    }
    Ok(answer)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    job_name: String,
    user_pool_id: String,
    cloud_watch_logs_role_arn: String,
}

fn create_user_import_job(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: CreateInput = input(body)?;
    check_length("JobName", &given.job_name, 1, 128)?;
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_+=,.@-".contains(c);
    if !given.job_name.chars().all(allowed) {
        return Err(ApiError::invalid_parameter(
            "1 validation error detected: Value at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
        ));
    }
    // Required by the model; there is no CloudWatch here to write to.
    check_length(
        "CloudWatchLogsRoleArn",
        &given.cloud_watch_logs_role_arn,
        20,
        2048,
    )?;
    let site = ctx.site(&given.user_pool_id)?;
    let job_id = new_job_id();
    let now = ctx.now;
    let job = import_jobs::create(
        ctx.conn()?,
        &job_id,
        site.pool_id(),
        &given.job_name,
        &given.cloud_watch_logs_role_arn,
        now,
    )?;
    Ok(json!({ "UserImportJob": job_json(ctx, &job)? }))
}

/// `import-` and ten random letters and digits, like Cognito's job ids.
fn new_job_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rngs::OsRng;
    let tail: String = (0..10)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("import-{tail}")
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JobInput {
    user_pool_id: String,
    job_id: String,
}

fn job_of(ctx: &mut Ctx, given: &JobInput) -> Result<import_jobs::Job, ApiError> {
    check_length("JobId", &given.job_id, 1, 55)?;
    let site = ctx.site(&given.user_pool_id)?;
    import_jobs::get(ctx.conn()?, site.pool_id(), &given.job_id)?
        .ok_or_else(|| ApiError::resource_not_found("Import job not found."))
}

fn start_user_import_job(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: JobInput = input(body)?;
    let job = job_of(ctx, &given)?;
    if job.status != import_jobs::CREATED {
        return Err(ApiError::new(
            PRECONDITION_NOT_MET,
            format!("The import job is {} and cannot be started.", job.status),
        ));
    }
    if job.uploaded_at.is_none() {
        return Err(ApiError::new(
            PRECONDITION_NOT_MET,
            "No CSV file has been uploaded to the job's pre-signed URL.",
        ));
    }
    let now = ctx.now;
    match import_jobs::start(ctx.conn()?, &job.pool_id, &job.job_id, now) {
        Ok(true) => {}
        Ok(false) => {
            return Err(ApiError::new(
                PRECONDITION_NOT_MET,
                "The import job cannot be started.",
            ));
        }
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                PRECONDITION_NOT_MET,
                "Another import job of this user pool is running: only one runs at a time.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    // Committed: the run starts now, on a thread of its own, in batches of short transactions.
    if !user_import::spawn(ctx.db.store(), job.pool_id.clone(), job.job_id.clone()) {
        let conn = ctx.conn()?;
        let message = "The import job could not start.";
        let from = import_jobs::ACTIVE;
        import_jobs::finish(conn, &job.job_id, &from, import_jobs::FAILED, message, now)?;
    }
    let job = job_of(ctx, &given)?;
    Ok(json!({ "UserImportJob": job_json(ctx, &job)? }))
}

fn stop_user_import_job(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: JobInput = input(body)?;
    let job = job_of(ctx, &given)?;
    // A stop already asked for whose run is not here (it may have died): asked again, it ends.
    let again = job.status == import_jobs::STOPPING && !user_import::runs_here(&job.job_id);
    if !again && !import_jobs::request_stop(ctx.conn()?, &job.pool_id, &job.job_id)? {
        return Err(ApiError::new(
            PRECONDITION_NOT_MET,
            format!("The import job is {} and cannot be stopped.", job.status),
        ));
    }
    // No run to see the request (the server restarted since the start): it ends now. A run
    // in another process stops at its next batch.
    if !user_import::runs_here(&job.job_id) {
        let (now, message) = (ctx.now, user_import::STOPPED_MESSAGE);
        let (from, stopped) = ([import_jobs::STOPPING], import_jobs::STOPPED);
        import_jobs::finish(ctx.conn()?, &job.job_id, &from, stopped, message, now)?;
    }
    let job = job_of(ctx, &given)?;
    Ok(json!({ "UserImportJob": job_json(ctx, &job)? }))
}

fn describe_user_import_job(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: JobInput = input(body)?;
    let job = job_of(ctx, &given)?;
    Ok(json!({ "UserImportJob": job_json(ctx, &job)? }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    user_pool_id: String,
    max_results: i64,
    pagination_token: Option<String>,
}

fn list_user_import_jobs(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: ListInput = input(body)?;
    if given.max_results < 1 {
        return Err(ApiError::invalid_parameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ));
    }
    let limit = page_size("MaxResults", Some(given.max_results), 60, 60)?;
    let site = ctx.site(&given.user_pool_id)?;
    let after: Option<(i64, String)> = given
        .pagination_token
        .as_deref()
        .map(read_page_token)
        .transpose()?;
    let position = after.as_ref().map(|(c, id)| (*c, id.as_str()));
    let mut jobs = import_jobs::list(ctx.conn()?, site.pool_id(), position, limit + 1)?;
    let more = jobs.len() > limit;
    jobs.truncate(limit);
    let mut listed = Vec::with_capacity(jobs.len());
    for job in &jobs {
        listed.push(job_json(ctx, job)?);
    }
    let mut answer = json!({ "UserImportJobs": listed });
    if let (true, Some(last)) = (more, jobs.last()) {
        answer["PaginationToken"] = json!(page_token(&(last.created_at, &last.job_id)));
    }
    Ok(answer)
}
