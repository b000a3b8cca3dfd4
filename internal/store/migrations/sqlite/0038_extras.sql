-- Private notes on accounts (POST /api/v1/accounts/:id/note): one per
-- viewer and account, shown to the viewer alone as Relationship.note.
CREATE TABLE account_notes (
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    comment           TEXT NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
) STRICT, WITHOUT ROWID;

-- Muted conversations (POST /api/v1/statuses/:id/mute): the thread is
-- named by its root, the furthest status its reply chain reaches. A status
-- is in a muted thread when its chain reaches a muted root
-- (store.threadMutedSQL); such a thread notifies its muter of nothing.
CREATE TABLE conversation_mutes (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, status_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX conversation_mutes_status ON conversation_mutes (status_id);
