-- Scheduled statuses: a post's parameters kept until scheduled_at, when the
-- job store.KindPublishScheduled (run_at = scheduled_at) posts them through
-- the ordinary posting rules and deletes the row in the same transaction.
-- params is the API's params object as JSON, the poll's among them, opaque
-- to the store; idempotency is the request's Idempotency-Key, if any.
CREATE TABLE scheduled_statuses (
    id           BIGINT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at BIGINT NOT NULL,
    params       TEXT COLLATE "C" NOT NULL,
    idempotency  TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, id);
CREATE INDEX scheduled_statuses_day ON scheduled_statuses (account_id, scheduled_at);
-- A repeated request (its Idempotency-Key) answers the status it scheduled.
CREATE INDEX scheduled_statuses_idempotency ON scheduled_statuses (account_id, idempotency) WHERE idempotency <> '';
-- An upload held for a scheduled status: the sweep leaves it, and no other
-- post takes it. (No foreign key, so that the column can be dropped: the
-- store clears it when the scheduled status goes.)
ALTER TABLE media_attachments ADD COLUMN scheduled_status_id BIGINT;
CREATE INDEX media_scheduled ON media_attachments (scheduled_status_id) WHERE scheduled_status_id IS NOT NULL;
-- When a deleted status let go of its upload (delete and re-draft): the
-- sweep's day counts from then, not from the upload.
ALTER TABLE media_attachments ADD COLUMN detached_at BIGINT NOT NULL DEFAULT 0;

-- Conversations (direct threads), as Mastodon's account_conversations: one
-- row per local participant per thread. root_id names the thread (its first
-- direct status) and is the conversation's id in the API; participants are the other accounts' ids, comma-separated.
-- The status a row shows is chosen at read time, through the visibility
-- rule, among conversation_statuses of its thread.
CREATE TABLE conversation_statuses (
    status_id BIGINT PRIMARY KEY REFERENCES statuses (id) ON DELETE CASCADE,
    root_id   BIGINT NOT NULL
);
CREATE INDEX conversation_statuses_root ON conversation_statuses (root_id, status_id);
CREATE TABLE account_conversations (
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_id        BIGINT NOT NULL,
    participants   TEXT COLLATE "C" NOT NULL DEFAULT '',
    last_status_id BIGINT NOT NULL,
    unread         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, root_id)
);
CREATE INDEX account_conversations_recent ON account_conversations (account_id, last_status_id);
