-- Counters kept on write, so reads never count. account_stats holds the
-- Account entity's counters; instance_stats the instance's own (one row).
-- Triggers keep both in the same transaction as the rows they count, on
-- every insert, delete and update of the columns they count: the store's
-- operations, cascades of a deleted account or status, and any future write
-- path alike. Each SQLite trigger is a row trigger here of the same name,
-- timing, events, columns and WHEN condition, running a function of that
-- name; SQLite's two-argument max() is GREATEST, and a condition used as a
-- number is cast to integer (SQLite's true is 1, PostgreSQL's is a boolean).
CREATE TABLE account_stats (
    account_id            BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    statuses_count        BIGINT NOT NULL DEFAULT 0, -- public, unlisted and followers-only, reblogs included
    last_status_at        BIGINT NOT NULL DEFAULT 0, -- created_at of the newest of those; 0: none
    followers_count       BIGINT NOT NULL DEFAULT 0,
    following_count       BIGINT NOT NULL DEFAULT 0,
    follow_requests_count BIGINT NOT NULL DEFAULT 0
);

INSERT INTO account_stats (account_id, statuses_count, last_status_at, followers_count, following_count, follow_requests_count)
SELECT a.id,
    (SELECT COUNT(*) FROM statuses s WHERE s.account_id = a.id AND s.visibility IN (0, 1, 2)),
    (SELECT COALESCE(MAX(s.created_at), 0) FROM statuses s WHERE s.account_id = a.id AND s.visibility IN (0, 1, 2)),
    (SELECT COUNT(*) FROM follows f WHERE f.target_account_id = a.id),
    (SELECT COUNT(*) FROM follows f WHERE f.account_id = a.id),
    (SELECT COUNT(*) FROM follow_requests r WHERE r.target_account_id = a.id)
FROM accounts a;

CREATE FUNCTION account_stats_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_stats (account_id) VALUES (NEW.id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_account AFTER INSERT ON accounts
FOR EACH ROW EXECUTE FUNCTION account_stats_account();

CREATE FUNCTION account_stats_status_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_stats SET statuses_count = statuses_count + 1, last_status_at = GREATEST(last_status_at, NEW.created_at)
    WHERE account_id = NEW.account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_status_created AFTER INSERT ON statuses
FOR EACH ROW WHEN (NEW.visibility IN (0, 1, 2)) EXECUTE FUNCTION account_stats_status_created();

-- Only deleting the newest status moves last_status_at: three seeks of
-- statuses_account_stats (account_id, visibility, created_at) find the next.
CREATE FUNCTION account_stats_status_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_stats SET statuses_count = GREATEST(statuses_count - 1, 0),
        last_status_at = CASE WHEN OLD.created_at < last_status_at THEN last_status_at ELSE GREATEST(
            (SELECT COALESCE(MAX(created_at), 0) FROM statuses WHERE account_id = OLD.account_id AND visibility = 0),
            (SELECT COALESCE(MAX(created_at), 0) FROM statuses WHERE account_id = OLD.account_id AND visibility = 1),
            (SELECT COALESCE(MAX(created_at), 0) FROM statuses WHERE account_id = OLD.account_id AND visibility = 2)) END
    WHERE account_id = OLD.account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_status_deleted AFTER DELETE ON statuses
FOR EACH ROW WHEN (OLD.visibility IN (0, 1, 2)) EXECUTE FUNCTION account_stats_status_deleted();

-- No write path changes these columns today; one that does (moderation, an
-- edit of visibility) keeps the counters right all the same: the row leaves
-- its old account's counts and joins its new one's.
CREATE FUNCTION account_stats_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_stats SET statuses_count = GREATEST(statuses_count - CAST(OLD.visibility IN (0, 1, 2) AS INTEGER), 0),
        last_status_at = GREATEST(
            (SELECT COALESCE(MAX(created_at), 0) FROM statuses WHERE account_id = OLD.account_id AND visibility = 0),
            (SELECT COALESCE(MAX(created_at), 0) FROM statuses WHERE account_id = OLD.account_id AND visibility = 1),
            (SELECT COALESCE(MAX(created_at), 0) FROM statuses WHERE account_id = OLD.account_id AND visibility = 2))
    WHERE account_id = OLD.account_id;
    UPDATE account_stats SET statuses_count = statuses_count + CAST(NEW.visibility IN (0, 1, 2) AS INTEGER),
        last_status_at = GREATEST(
            (SELECT COALESCE(MAX(created_at), 0) FROM statuses WHERE account_id = NEW.account_id AND visibility = 0),
            (SELECT COALESCE(MAX(created_at), 0) FROM statuses WHERE account_id = NEW.account_id AND visibility = 1),
            (SELECT COALESCE(MAX(created_at), 0) FROM statuses WHERE account_id = NEW.account_id AND visibility = 2))
    WHERE account_id = NEW.account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_status_changed AFTER UPDATE OF visibility, account_id, created_at ON statuses
FOR EACH ROW EXECUTE FUNCTION account_stats_status_changed();

CREATE FUNCTION account_stats_follow_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_stats SET following_count = following_count + 1 WHERE account_id = NEW.account_id;
    UPDATE account_stats SET followers_count = followers_count + 1 WHERE account_id = NEW.target_account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_follow_created AFTER INSERT ON follows
FOR EACH ROW EXECUTE FUNCTION account_stats_follow_created();

CREATE FUNCTION account_stats_follow_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_stats SET following_count = GREATEST(following_count - 1, 0) WHERE account_id = OLD.account_id;
    UPDATE account_stats SET followers_count = GREATEST(followers_count - 1, 0) WHERE account_id = OLD.target_account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_follow_deleted AFTER DELETE ON follows
FOR EACH ROW EXECUTE FUNCTION account_stats_follow_deleted();

CREATE FUNCTION account_stats_follow_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_stats SET following_count = GREATEST(following_count - 1, 0) WHERE account_id = OLD.account_id;
    UPDATE account_stats SET followers_count = GREATEST(followers_count - 1, 0) WHERE account_id = OLD.target_account_id;
    UPDATE account_stats SET following_count = following_count + 1 WHERE account_id = NEW.account_id;
    UPDATE account_stats SET followers_count = followers_count + 1 WHERE account_id = NEW.target_account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_follow_changed AFTER UPDATE OF account_id, target_account_id ON follows
FOR EACH ROW EXECUTE FUNCTION account_stats_follow_changed();

CREATE FUNCTION account_stats_request_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_stats SET follow_requests_count = follow_requests_count + 1 WHERE account_id = NEW.target_account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_request_created AFTER INSERT ON follow_requests
FOR EACH ROW EXECUTE FUNCTION account_stats_request_created();

CREATE FUNCTION account_stats_request_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_stats SET follow_requests_count = GREATEST(follow_requests_count - 1, 0) WHERE account_id = OLD.target_account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_request_deleted AFTER DELETE ON follow_requests
FOR EACH ROW EXECUTE FUNCTION account_stats_request_deleted();

CREATE FUNCTION account_stats_request_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_stats SET follow_requests_count = GREATEST(follow_requests_count - 1, 0) WHERE account_id = OLD.target_account_id;
    UPDATE account_stats SET follow_requests_count = follow_requests_count + 1 WHERE account_id = NEW.target_account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER account_stats_request_changed AFTER UPDATE OF target_account_id ON follow_requests
FOR EACH ROW EXECUTE FUNCTION account_stats_request_changed();

-- The instance's figures: usable local users, local original posts.
CREATE TABLE instance_stats (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    local_users BIGINT NOT NULL,
    local_posts BIGINT NOT NULL
);

INSERT INTO instance_stats (id, local_users, local_posts) VALUES (1,
    (SELECT COUNT(*) FROM users WHERE approved = 1 AND disabled = 0),
    (SELECT COUNT(*) FROM statuses WHERE local = 1 AND reblog_of_id IS NULL));

CREATE FUNCTION instance_stats_user_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE instance_stats SET local_users = local_users + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER instance_stats_user_created AFTER INSERT ON users
FOR EACH ROW WHEN (NEW.approved = 1 AND NEW.disabled = 0) EXECUTE FUNCTION instance_stats_user_created();

CREATE FUNCTION instance_stats_user_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE instance_stats SET local_users = GREATEST(local_users - 1, 0);
    RETURN NULL;
END;
$$;
CREATE TRIGGER instance_stats_user_deleted AFTER DELETE ON users
FOR EACH ROW WHEN (OLD.approved = 1 AND OLD.disabled = 0) EXECUTE FUNCTION instance_stats_user_deleted();

CREATE FUNCTION instance_stats_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE instance_stats SET local_users = local_users + CASE WHEN NEW.approved = 1 AND NEW.disabled = 0 THEN 1 ELSE -1 END;
    RETURN NULL;
END;
$$;
CREATE TRIGGER instance_stats_user_changed AFTER UPDATE OF approved, disabled ON users
FOR EACH ROW WHEN ((OLD.approved = 1 AND OLD.disabled = 0) <> (NEW.approved = 1 AND NEW.disabled = 0))
EXECUTE FUNCTION instance_stats_user_changed();

CREATE FUNCTION instance_stats_post_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE instance_stats SET local_posts = local_posts + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER instance_stats_post_created AFTER INSERT ON statuses
FOR EACH ROW WHEN (NEW.local = 1 AND NEW.reblog_of_id IS NULL) EXECUTE FUNCTION instance_stats_post_created();

CREATE FUNCTION instance_stats_post_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE instance_stats SET local_posts = local_posts
        + CAST(NEW.local = 1 AND NEW.reblog_of_id IS NULL AS INTEGER) - CAST(OLD.local = 1 AND OLD.reblog_of_id IS NULL AS INTEGER);
    RETURN NULL;
END;
$$;
CREATE TRIGGER instance_stats_post_changed AFTER UPDATE OF local, reblog_of_id ON statuses
FOR EACH ROW EXECUTE FUNCTION instance_stats_post_changed();

CREATE FUNCTION instance_stats_post_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE instance_stats SET local_posts = GREATEST(local_posts - 1, 0);
    RETURN NULL;
END;
$$;
CREATE TRIGGER instance_stats_post_deleted AFTER DELETE ON statuses
FOR EACH ROW WHEN (OLD.local = 1 AND OLD.reblog_of_id IS NULL) EXECUTE FUNCTION instance_stats_post_deleted();

-- The public, local and tag timelines read an index range bounded by the
-- page, newest first, whatever the number of statuses: only public originals
-- are in these indexes.
CREATE INDEX statuses_public_timeline ON statuses (id) WHERE visibility = 0 AND reblog_of_id IS NULL;
CREATE INDEX statuses_local_timeline ON statuses (local, id) WHERE visibility = 0 AND reblog_of_id IS NULL;
DROP INDEX statuses_public;

-- The few users whose statuses nobody sees (disabled or pending), read once
-- per statement by the visibility rule.
CREATE INDEX users_hidden ON users (account_id) WHERE disabled = 1 OR approved = 0;

-- An anonymous account search names a domain or not: either way a walk of
-- a username index from the prefix (accounts_acct, or this one per domain).
CREATE INDEX accounts_domain_username ON accounts (domain, lower(username));
