-- Half-finished sign-ins of the JSON API (docs/api.md, "Sign-in flows"): a `Session` or an SRP
-- `SECRET_BLOCK`, kept by digest only, single use, with the challenge it answers.
CREATE TABLE api_auth_sessions (
    id_digest TEXT PRIMARY KEY NOT NULL,
    pool_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_sub TEXT,
    username TEXT NOT NULL,
    challenge TEXT NOT NULL,
    state TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX api_auth_sessions_expires ON api_auth_sessions (expires_at);
