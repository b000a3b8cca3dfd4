-- Follows of remote accounts made before Rampart sent activities (before
-- migration 0014) were never confirmed by the followed account's server,
-- yet they passed the visibility rule: a followers-only post arriving for
-- another follower would have been shown to them. They become requests,
-- and a Follow is sent for each (an ap.publish job, as social.Follow
-- writes it); the server's Accept makes them follows again.
-- SQLite's json_object is json_build_object here, and its
-- strftime('%s', 'now') (whole seconds) the floor of now()'s epoch.
INSERT INTO follow_requests (id, account_id, target_account_id, show_reblogs, notify, created_at, uri)
    SELECT f.id, f.account_id, f.target_account_id, f.show_reblogs, f.notify, f.created_at, a.uri || '#follows/' || f.id
    FROM follows f JOIN accounts a ON a.id = f.account_id JOIN accounts t ON t.id = f.target_account_id
    WHERE a.domain = '' AND t.domain != '' AND f.uri = ''
    ON CONFLICT (account_id, target_account_id) DO NOTHING;
INSERT INTO jobs (kind, payload, host, run_at, created_at)
    SELECT 'ap.publish',
        CAST(json_build_object('activity', 'Follow', 'actor', f.account_id, 'target', f.target_account_id,
            'uri', a.uri || '#follows/' || f.id, 'at', CAST(floor(extract(epoch FROM now())) AS BIGINT) * 1000) AS TEXT),
        '', CAST(floor(extract(epoch FROM now())) AS BIGINT) * 1000, CAST(floor(extract(epoch FROM now())) AS BIGINT) * 1000
    FROM follows f JOIN accounts a ON a.id = f.account_id JOIN accounts t ON t.id = f.target_account_id
    WHERE a.domain = '' AND t.domain != '' AND f.uri = '';
DELETE FROM follows WHERE uri = ''
    AND account_id IN (SELECT id FROM accounts WHERE domain = '')
    AND target_account_id IN (SELECT id FROM accounts WHERE domain != '');
