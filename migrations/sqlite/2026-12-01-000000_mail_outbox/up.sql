-- The transactional outbox: a message row is written in the same transaction as the state it
-- announces (an account, a code), and a background sender delivers it after the commit, with
-- retries. `lease_owner` / `lease_until` let several processes share one database: a process
-- claims a due message for a while, and a message whose claimant died is claimed again once
-- the lease has run out.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    pool_id TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
