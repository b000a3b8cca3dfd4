-- A post by an account with hundreds of followers wrote a home_feed row for
-- each of them, and no machine writes those fast enough for such an
-- account that posts often. Its statuses are read into its followers' home
-- timelines instead (store.fanOutOnReadFollowers: 500, as here). The mark
-- is never taken back: statuses posted while it stood are in no home_feed.
ALTER TABLE accounts ADD COLUMN fanout_on_read BIGINT NOT NULL DEFAULT 0;
UPDATE accounts SET fanout_on_read = 1
    WHERE domain = '' AND id IN (SELECT account_id FROM account_stats WHERE followers_count >= 500);
CREATE INDEX accounts_fanout_on_read ON accounts (id) WHERE fanout_on_read = 1;
