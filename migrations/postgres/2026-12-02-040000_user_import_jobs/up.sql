-- CSV user import jobs (docs/api.md, "Import jobs"): the job as Cognito describes it, the
-- uploaded file until the job has run, where the run is (next_line), and the rejected lines.
CREATE TABLE user_import_jobs (
    job_id TEXT PRIMARY KEY NOT NULL,
    pool_id TEXT NOT NULL,
    job_name TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT,
    completion_message TEXT,
    imported_users BIGINT NOT NULL DEFAULT 0,
    skipped_users BIGINT NOT NULL DEFAULT 0,
    failed_users BIGINT NOT NULL DEFAULT 0,
    uploaded_at BIGINT,
    etag TEXT,
    data BYTEA,
    next_line BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX user_import_jobs_pool ON user_import_jobs (pool_id, created_at);
-- One active job per pool, kept by the database.
CREATE UNIQUE INDEX user_import_jobs_one_active ON user_import_jobs (pool_id)
    WHERE status IN ('Pending', 'InProgress', 'Stopping');

CREATE TABLE user_import_rejections (
    job_id TEXT NOT NULL,
    line BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (job_id, line)
);
