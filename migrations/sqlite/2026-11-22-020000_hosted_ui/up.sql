-- Hosted UI state: one-time codes sent by email (sign-up confirmation, password reset) and each
-- user's TOTP authenticator. Codes are stored as digests and die after use or too many misses.
CREATE TABLE user_codes (
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    user_sub TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,
    -- 'signup' or 'reset'; a new code of the same purpose replaces the old one
    purpose TEXT NOT NULL,
    code_digest TEXT NOT NULL,
    destination TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, user_sub, purpose)
);

CREATE TABLE user_mfa (
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    user_sub TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,
    -- base32 shared secret; TOTP needs it in clear to compute codes
    totp_secret TEXT,
    -- true once a first code proved the authenticator
    totp_enabled BOOLEAN NOT NULL,
    -- the last 30-second step a code was accepted for: no code is accepted twice
    last_step BIGINT NOT NULL,
    -- failed code entries since the last success (the challenge locks after too many)
    failures INTEGER NOT NULL,
    -- an OPTIONAL pool offers set-up once; declining is remembered
    declined BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, user_sub)
);
