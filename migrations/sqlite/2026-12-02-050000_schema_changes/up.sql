-- Values of custom attributes a pool no longer declares (docs/migrating.md, "Changing the
-- schema after creation"): moved here from the user's attributes when the declaration drops the
-- attribute, so no reader shows them, and moved back when it is declared again.
CREATE TABLE retired_attributes (
    pool_id TEXT NOT NULL,
    user_sub TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    retired_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, user_sub, name)
);
CREATE INDEX retired_attributes_name ON retired_attributes(pool_id, name);
CREATE INDEX retired_attributes_user ON retired_attributes(user_sub);
