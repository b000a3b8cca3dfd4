-- Activities both ways (issue 12).
--
-- A follow across servers is named by its Follow activity's id: the one a
-- remote Follow came with (answered by that id in Accept or Reject), or the
-- one Rampart sent (which the remote Accept names). '' for local follows.
ALTER TABLE follows ADD COLUMN uri TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE follow_requests ADD COLUMN uri TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX follow_requests_uri ON follow_requests (uri) WHERE uri != '';
CREATE INDEX follows_uri ON follows (uri) WHERE uri != '';
-- A remote favourite is named by its Like's id, which its Undo names.
ALTER TABLE favourites ADD COLUMN uri TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX favourites_uri ON favourites (uri) WHERE uri != '';

-- The ids of activities accepted at the inbox: one id is processed once,
-- however often it is delivered (peers retry, and deliver one activity to
-- several inboxes here). Kept 7 days, longer than any peer retries.
CREATE TABLE inbox_activities (
    uri         TEXT COLLATE "C" PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE INDEX inbox_activities_received ON inbox_activities (received_at);

-- The hosts deliveries go to, as far as they failed: failing_since is the
-- first failure of the current run (0: the last delivery succeeded), and a
-- host failing for 7 days is unavailable: deliveries to it are dropped
-- until it is heard from again.
CREATE TABLE federation_hosts (
    host          TEXT COLLATE "C" PRIMARY KEY,
    failing_since BIGINT NOT NULL DEFAULT 0,
    last_failure  BIGINT NOT NULL DEFAULT 0,
    failures      BIGINT NOT NULL DEFAULT 0,
    unavailable   BIGINT NOT NULL DEFAULT 0,
    last_success  BIGINT NOT NULL DEFAULT 0
);
