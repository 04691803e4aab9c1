-- Secrets of the installation itself, shared by every process on the database: the key that
-- signs the hosted pages' CSRF tokens. Created on first start.
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
