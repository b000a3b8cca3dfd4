-- Account counters (statuses_count, last_status_at) are computed per author
-- on every rendered status; this index answers both from the index alone,
-- instead of reading every status row of every author on the page.
CREATE INDEX statuses_account_stats ON statuses (account_id, visibility, created_at);
