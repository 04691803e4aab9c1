-- ListUsers' searchable attributes (docs/api.md, "Admin actions"): one row per user and
-- attribute, so equality and prefix filters read an index instead of every user's JSON.
-- Kept in step by store::users on every write; existing users are filled in here. The "C"
-- collation lets a btree serve `LIKE 'x%'` prefix searches.
CREATE TABLE user_search (
    pool_id TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value_key TEXT COLLATE "C" NOT NULL,
    user_sub TEXT COLLATE "C" NOT NULL REFERENCES users(sub) ON DELETE CASCADE,
    PRIMARY KEY (pool_id, attribute, value_key, user_sub)
);
CREATE INDEX user_search_user ON user_search(user_sub);

INSERT INTO user_search (pool_id, attribute, value_key, user_sub)
SELECT pool_id, 'username', username_key, sub FROM users;
INSERT INTO user_search (pool_id, attribute, value_key, user_sub)
SELECT pool_id, 'sub', sub, sub FROM users;
INSERT INTO user_search (pool_id, attribute, value_key, user_sub)
SELECT pool_id, 'cognito:user_status', status, sub FROM users;
INSERT INTO user_search (pool_id, attribute, value_key, user_sub)
SELECT pool_id, 'status', CASE WHEN enabled THEN 'Enabled' ELSE 'Disabled' END, sub FROM users;
INSERT INTO user_search (pool_id, attribute, value_key, user_sub)
SELECT u.pool_id, a.name, u.attributes::jsonb ->> a.name, u.sub
FROM users u,
     (VALUES ('email'), ('phone_number'), ('name'), ('given_name'), ('family_name'),
             ('preferred_username')) AS a(name)
WHERE u.attributes::jsonb ->> a.name IS NOT NULL;

-- Groups created through the API may be changed through it; declared ones belong to the file.
ALTER TABLE user_groups ADD COLUMN source TEXT NOT NULL DEFAULT 'file';
