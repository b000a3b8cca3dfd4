-- When each local user last used the instance (signed in, or used a token),
-- kept to the day: it is written at most once a day per user. NodeInfo's
-- activeMonth and activeHalfyear are counted from it by the hourly janitor
-- into instance_stats, so that reading them stays one row.
ALTER TABLE users ADD COLUMN last_active_at BIGINT NOT NULL DEFAULT 0;
-- What an existing instance knows already: the newest of sign-up, token,
-- session and post.
UPDATE users SET last_active_at = GREATEST(created_at,
    COALESCE((SELECT MAX(t.created_at) FROM oauth_tokens t WHERE t.account_id = users.account_id), 0),
    COALESCE((SELECT MAX(s.created_at) FROM sessions s WHERE s.account_id = users.account_id), 0),
    COALESCE((SELECT st.last_status_at FROM account_stats st WHERE st.account_id = users.account_id), 0));
CREATE INDEX users_last_active ON users (last_active_at) WHERE approved = 1 AND disabled = 0;
ALTER TABLE instance_stats ADD COLUMN active_month BIGINT NOT NULL DEFAULT 0;
ALTER TABLE instance_stats ADD COLUMN active_halfyear BIGINT NOT NULL DEFAULT 0;
