-- Federation: sign-ins waiting for an upstream provider's answer, and the upstream identities
-- (provider + subject) each user signs in with. The state is stored as a digest; the PKCE
-- verifier must be kept in clear to finish the exchange, and dies with the row.
CREATE TABLE federation_requests (
    state_digest TEXT PRIMARY KEY NOT NULL,
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    -- digest of the browser's binding cookie: the answer must come back to the same browser
    browser_digest TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    -- the app's authorization request, resumed when the provider answers
    request_query TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE user_identities (
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_sub TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,
    provider_type TEXT NOT NULL,
    issuer TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, provider, subject)
);
CREATE INDEX user_identities_user ON user_identities(user_sub);
