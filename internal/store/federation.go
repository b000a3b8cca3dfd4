package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The job kinds of federation, and their payloads. They are declared here,
// beside the tables, because the services that enqueue them (social) sit
// below the packages that run them (outbox, delivery, inbox).
const (
	// KindPublish renders one local action as its activity and enqueues
	// its deliveries (outbox); payload Publish.
	KindPublish = "ap.publish"
	// KindDeliver sends one activity to one inbox (delivery); payload
	// Delivery.
	KindDeliver = "ap.deliver"
	// KindInbox processes one activity accepted at the inbox (inbox);
	// payload Received.
	KindInbox = "ap.inbox"
)

// Publish is a local action that peers must hear of. What the activity
// says is read when the job runs, except what will be gone by then.
type Publish struct {
	// Activity is what happened: Create, Update, Delete, Announce, Like, Vote,
	// Follow, Accept, Reject, Block, UpdateActor, DeleteActor, or Undo
	// followed by what is undone (UndoFollow, UndoLike, UndoAnnounce,
	// UndoBlock).
	Activity string `json:"activity"`
	// Actor is the local account that acted.
	Actor int64 `json:"actor"`
	// Status is the status concerned (the reblog itself for Announce).
	Status int64 `json:"status,omitempty"`
	// Target is the account concerned (followed, accepted, blocked), or the
	// author of the status liked.
	Target int64 `json:"target,omitempty"`
	// URI is the object's id when the object is gone by the time the job
	// runs (a deleted status, an undone reblog), or the activity answered
	// or undone (the Follow an Accept names).
	URI string `json:"uri,omitempty"`
	// Object is the id of what an undone Like or Announce was of.
	Object string `json:"object,omitempty"`
	// ID is the row an activity is named after (a favourite, a block).
	ID int64 `json:"id,omitempty"`
	// Visibility and Audience are a deleted status's: who had it.
	Visibility Visibility `json:"visibility,omitempty"`
	Audience   []int64    `json:"audience,omitempty"`
	// Inboxes are where a deleted account's Delete goes: the servers that
	// knew it, read before its follows went.
	Inboxes []string `json:"inboxes,omitempty"`
	// Choice is the option a Vote (in a remote poll: Status, its author
	// Target, its poll ID) names.
	Choice int `json:"choice,omitempty"`
	// At is when it happened (ms), which activity ids are made from.
	At int64 `json:"at"`
}

// Delivery is one activity for one inbox, signed as Signer (a local
// account; 0 for the instance actor).
type Delivery struct {
	Inbox    string          `json:"inbox"`
	Signer   int64           `json:"signer"`
	Activity json.RawMessage `json:"activity"`
}

// Received is an activity that passed the inbox's gate: its body, its
// verified signer (the actor's id), and the local account whose inbox it
// came to (0: the shared inbox).
type Received struct {
	Activity json.RawMessage `json:"activity"`
	Signer   string          `json:"signer"`
	Inbox    int64           `json:"inbox,omitempty"`
}

// NewPublish makes the job for p.
func NewPublish(p Publish) NewJob {
	b, _ := json.Marshal(p)
	return NewJob{Kind: KindPublish, Payload: b}
}

// enqueueAll writes jobs in tx.
func enqueueAll(ctx context.Context, tx *writeTx, jobs []NewJob, now time.Time) error {
	for _, j := range jobs {
		if err := enqueue(ctx, tx, j, now); err != nil {
			return err
		}
	}
	return nil
}

// enqueueIfRemoteAudience writes j in tx when st reaches another server: a
// remote account is mentioned in it, or follows its author and it is not
// direct. One statement: posting to local people only costs no job.
func enqueueIfRemoteAudience(ctx context.Context, tx *writeTx, j NewJob, st *Status) error {
	now := time.Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, payload, host, run_at, created_at)
		SELECT ?, ?, '', ?, ? WHERE EXISTS (SELECT 1 FROM mentions m JOIN accounts a ON a.id = m.account_id WHERE m.status_id = ? AND a.domain != '')
		OR (? != 3 AND EXISTS (SELECT 1 FROM follows f INDEXED BY follows_remote WHERE f.target_account_id = ? AND f.remote = 1))`,
		j.Kind, string(j.Payload), ms(now), ms(now), st.ID, int(st.Visibility), st.AccountID)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", j.Kind, err)
	}
	return nil
}

// InboxHost is the host (and port) of an inbox URL, lower case; "" for one
// that does not parse.
func InboxHost(inbox string) string {
	u, err := url.Parse(inbox)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// EnqueueDeliveries enqueues one delivery of activity per inbox, signed as
// signer, in one transaction: each inbox once, none to a host marked
// unavailable. It returns how many were enqueued.
func (s *Store) EnqueueDeliveries(ctx context.Context, signer int64, activity []byte, inboxes []string) (int, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	defer tx.Rollback()
	now := time.Now()
	seen := map[string]bool{}
	skip := map[string]bool{}
	n := 0
	for _, inbox := range inboxes {
		host := InboxHost(inbox)
		if seen[inbox] || host == "" {
			continue
		}
		seen[inbox] = true
		unavailable, known := skip[host]
		if !known {
			err := tx.QueryRowContext(ctx, `SELECT unavailable FROM federation_hosts WHERE host = ?`, host).Scan(&unavailable)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, fmt.Errorf("enqueue deliveries: %w", err)
			}
			skip[host] = unavailable
		}
		if unavailable {
			continue
		}
		payload, err := json.Marshal(Delivery{Inbox: inbox, Signer: signer, Activity: activity})
		if err != nil {
			return 0, fmt.Errorf("enqueue deliveries: %w", err)
		}
		if err := enqueue(ctx, tx, NewJob{Kind: KindDeliver, Payload: payload, Host: host}, now); err != nil {
			return 0, err
		}
		n++
	}
	return n, tx.Commit()
}

// ReceiveActivity records an activity's id as received and enqueues its
// processing in one transaction; fresh is false (and nothing is enqueued)
// when that id was received before.
func (s *Store) ReceiveActivity(ctx context.Context, uri string, job NewJob) (fresh bool, err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("receive activity: %w", err)
	}
	defer tx.Rollback()
	now := time.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO inbox_activities (uri, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, uri, ms(now))
	if err != nil {
		return false, fmt.Errorf("receive activity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := enqueue(ctx, tx, job, now); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// PruneReceivedActivities forgets the ids of activities received, and of
// objects gone, before before; and the buried jobs created before it.
func (s *Store) PruneReceivedActivities(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM inbox_activities WHERE received_at < ?`,
		`DELETE FROM gone_objects WHERE gone_at < ?`,
		`DELETE FROM jobs WHERE state = 'dead' AND created_at < ?`,
	} {
		res, err := s.write.ExecContext(ctx, q, ms(before))
		if err != nil {
			return total, fmt.Errorf("prune received activities: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// MarkGone records that an Undo or a Delete named uri.
func (s *Store) MarkGone(ctx context.Context, uri string, at time.Time) error {
	if _, err := s.write.ExecContext(ctx, `INSERT INTO gone_objects (uri, gone_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, uri, ms(at)); err != nil {
		return fmt.Errorf("mark %s gone: %w", uri, err)
	}
	return nil
}

// Gone reports whether an Undo or a Delete named uri (within 7 days).
func (s *Store) Gone(ctx context.Context, uri string) (bool, error) {
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM gone_objects WHERE uri = ?`, uri).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("gone %s: %w", uri, err)
	}
	return true, nil
}

// MarkMoved records a remote account's move at at, unless it moved after
// since: false then (a move again too soon).
func (s *Store) MarkMoved(ctx context.Context, id int64, at, since time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE accounts SET moved_at = ? WHERE id = ? AND domain != '' AND moved_at <= ?`, ms(at), id, ms(since))
	if err != nil {
		return false, fmt.Errorf("mark %d moved: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FollowerInboxes are the inboxes of account's remote followers, a
// server's shared inbox once for all its followers.
func (s *Store) FollowerInboxes(ctx context.Context, account int64) ([]string, error) {
	return s.queryStrings(ctx, `SELECT DISTINCT CASE WHEN a.shared_inbox_url != '' THEN a.shared_inbox_url ELSE a.inbox_url END
		FROM follows f JOIN accounts a ON a.id = f.account_id WHERE f.target_account_id = ? AND a.domain != '' AND a.inbox_url != ''`, account)
}

// AccountInboxes are the inboxes of the given remote accounts (their own
// inbox, not the shared one: a direct message is for them alone).
func (s *Store) AccountInboxes(ctx context.Context, ids []int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := inList(ids)
	return s.queryStrings(ctx, `SELECT DISTINCT inbox_url FROM accounts WHERE id IN `+in+` AND domain != '' AND inbox_url != ''`, args...)
}

func (s *Store) queryStrings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// HostState is what is known of a host deliveries go to.
type HostState struct {
	Host         string
	FailingSince time.Time // zero: its last delivery succeeded
	LastFailure  time.Time
	Failures     int64 // in the current run of failures
	Unavailable  bool
}

// unavailableAfter is how long a host fails before it is unavailable.
const unavailableAfter = 7 * 24 * time.Hour

// HostDelivered records a delivery that a host accepted: its run of
// failures ends, and it is available again.
func (s *Store) HostDelivered(ctx context.Context, host string, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO federation_hosts (host, last_success) VALUES (?, ?)
		ON CONFLICT (host) DO UPDATE SET failing_since = 0, failures = 0, unavailable = 0, last_success = excluded.last_success`, host, ms(now))
	if err != nil {
		return fmt.Errorf("host %s delivered: %w", host, err)
	}
	return nil
}

// HostFailed records a delivery that failed for the host's fault (down,
// 5xx, timeout), and reports whether the host has now failed for 7 days,
// which marks it unavailable.
func (s *Store) HostFailed(ctx context.Context, host string, now time.Time) (unavailable bool, err error) {
	err = s.write.QueryRowContext(ctx, `INSERT INTO federation_hosts (host, failing_since, last_failure, failures) VALUES (?, ?, ?, 1)
		ON CONFLICT (host) DO UPDATE SET
			failing_since = CASE WHEN federation_hosts.failing_since = 0 THEN excluded.failing_since ELSE federation_hosts.failing_since END,
			last_failure = excluded.last_failure, failures = federation_hosts.failures + 1,
			unavailable = CASE WHEN federation_hosts.failing_since != 0 AND federation_hosts.failing_since <= ? THEN 1 ELSE federation_hosts.unavailable END
		RETURNING unavailable`, host, ms(now), ms(now), ms(now.Add(-unavailableAfter))).Scan(&unavailable)
	if err != nil {
		return false, fmt.Errorf("host %s failed: %w", host, err)
	}
	return unavailable, nil
}

// HostHeardFrom clears a host's unavailable mark: it sent something.
func (s *Store) HostHeardFrom(ctx context.Context, host string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE federation_hosts SET unavailable = 0, failing_since = 0, failures = 0 WHERE host = ? AND unavailable = 1`, host)
	if err != nil {
		return fmt.Errorf("host %s heard from: %w", host, err)
	}
	return nil
}

// HostUnavailable reports whether host is marked unavailable.
func (s *Store) HostUnavailable(ctx context.Context, host string) (bool, error) {
	var u bool
	err := s.read.QueryRowContext(ctx, `SELECT unavailable FROM federation_hosts WHERE host = ?`, host).Scan(&u)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("host %s: %w", host, err)
	}
	return u, nil
}

// FailingHosts lists the hosts whose deliveries are failing or that are
// unavailable, longest failing first.
func (s *Store) FailingHosts(ctx context.Context, limit int) ([]HostState, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT host, failing_since, last_failure, failures, unavailable FROM federation_hosts
		WHERE failing_since != 0 OR unavailable = 1 ORDER BY unavailable DESC, failing_since LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("failing hosts: %w", err)
	}
	defer rows.Close()
	var out []HostState
	for rows.Next() {
		var h HostState
		var since, last int64
		if err := rows.Scan(&h.Host, &since, &last, &h.Failures, &h.Unavailable); err != nil {
			return nil, fmt.Errorf("failing hosts: %w", err)
		}
		if since != 0 {
			h.FailingSince = fromMs(since)
		}
		if last != 0 {
			h.LastFailure = fromMs(last)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// FollowURI is the id of the Follow activity behind account's follow of
// (or request to follow) target: "" for a local follow; ErrNotFound when
// there is neither.
func (s *Store) FollowURI(ctx context.Context, account, target int64) (string, error) {
	var uri string
	err := s.read.QueryRowContext(ctx, `SELECT uri FROM follows WHERE account_id = ? AND target_account_id = ?
		UNION ALL SELECT uri FROM follow_requests WHERE account_id = ? AND target_account_id = ? LIMIT 1`,
		account, target, account, target).Scan(&uri)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("follow uri: %w", err)
	}
	return uri, nil
}

// RelationID is the row id of account's block or mute of target, or of
// its favourite of a status (r "favourites", target the status): what its
// activity's id is made from. ErrNotFound when there is none.
func (s *Store) RelationID(ctx context.Context, table string, account, target int64) (int64, error) {
	col := "target_account_id"
	switch table {
	case string(Blocks), string(Mutes):
	case string(Favourite):
		col = "status_id"
	default:
		return 0, fmt.Errorf("relation id: %q", table)
	}
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT id FROM `+table+` WHERE account_id = ? AND `+col+` = ?`, account, target).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("relation id: %w", err)
	}
	return id, nil
}

// PendingJobs counts the pending jobs of kind for host, up to limit (a
// walk of the jobs_host index of at most limit entries).
func (s *Store) PendingJobs(ctx context.Context, host, kind string, limit int) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM jobs INDEXED BY jobs_host
		WHERE host = ? AND kind = ? AND state = 'pending' LIMIT ?) j`, host, kind, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pending jobs of %s: %w", host, err)
	}
	return n, nil
}

// KnownInboxes are the inboxes of the remote accounts that follow account,
// are followed by it, or asked to: the servers that know it (each
// server's shared inbox once).
func (s *Store) KnownInboxes(ctx context.Context, account int64) ([]string, error) {
	return s.queryStrings(ctx, `SELECT DISTINCT CASE WHEN a.shared_inbox_url != '' THEN a.shared_inbox_url ELSE a.inbox_url END
		FROM accounts a WHERE a.domain != '' AND a.inbox_url != '' AND a.id IN (
			SELECT account_id FROM follows WHERE target_account_id = ? UNION SELECT target_account_id FROM follows WHERE account_id = ?
			UNION SELECT account_id FROM follow_requests WHERE target_account_id = ? UNION SELECT target_account_id FROM follow_requests WHERE account_id = ?)`,
		account, account, account, account)
}

// DeleteLocalAccount deletes a local account: its statuses, uploads,
// relations, marks, notifications, sessions and tokens go, the counters
// of what stays are corrected, its profile is emptied and its user
// disabled; the row stays (deleted_at set) with its key, which signs the
// Delete that jobs carry to other servers, and its username. ErrNotFound
// for an account that is not local or is deleted already.
func (s *Store) DeleteLocalAccount(ctx context.Context, id int64, at time.Time, jobs ...NewJob) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete account %d: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET display_name = '', note = '', fields = '[]', avatar_key = '', header_key = '',
		locked = 0, discoverable = 0, indexable = 0, deleted_at = ?, updated_at = ? WHERE id = ? AND domain = '' AND deleted_at = 0`, ms(at), ms(at), id)
	if err := expectOne(res, err, "delete account"); err != nil {
		return err
	}
	if err := uncountAccounts(ctx, tx, []int64{id}); err != nil {
		return fmt.Errorf("delete account %d: %w", id, err)
	}
	for _, q := range []string{
		`DELETE FROM statuses WHERE account_id = ?1`,
		`DELETE FROM follows WHERE account_id = ?1 OR target_account_id = ?1`,
		`DELETE FROM follow_requests WHERE account_id = ?1 OR target_account_id = ?1`,
		`DELETE FROM blocks WHERE account_id = ?1 OR target_account_id = ?1`,
		`DELETE FROM mutes WHERE account_id = ?1 OR target_account_id = ?1`,
		`DELETE FROM favourites WHERE account_id = ?1`,
		`DELETE FROM bookmarks WHERE account_id = ?1`,
		`DELETE FROM pins WHERE account_id = ?1`,
		`DELETE FROM tag_follows WHERE account_id = ?1`,
		`DELETE FROM featured_tags WHERE account_id = ?1`,
		`DELETE FROM account_notes WHERE account_id = ?1 OR target_account_id = ?1`,
		`DELETE FROM conversation_mutes WHERE account_id = ?1`,
		`DELETE FROM lists WHERE account_id = ?1`,
		`DELETE FROM list_accounts WHERE account_id = ?1`,
		`DELETE FROM account_pins WHERE account_id = ?1 OR target_account_id = ?1`,
		`DELETE FROM account_domain_blocks WHERE account_id = ?1`,
		`DELETE FROM home_feed WHERE account_id = ?1 OR author_id = ?1`,
		`DELETE FROM notifications WHERE account_id = ?1 OR from_account_id = ?1`,
		`DELETE FROM media_attachments WHERE account_id = ?1`,
		`DELETE FROM oauth_tokens WHERE account_id = ?1`,
		`DELETE FROM oauth_codes WHERE account_id = ?1`,
		`DELETE FROM sessions WHERE account_id = ?1`,
		`DELETE FROM idempotency_keys WHERE account_id = ?1`,
		`DELETE FROM scheduled_statuses WHERE account_id = ?1`,
		`DELETE FROM account_conversations WHERE account_id = ?1`,
		`DELETE FROM filters WHERE account_id = ?1`,
		`DELETE FROM markers WHERE account_id = ?1`,
		`DELETE FROM announcement_reactions WHERE account_id = ?1`,
		`DELETE FROM announcement_dismissals WHERE account_id = ?1`,
		`DELETE FROM notification_policies WHERE account_id = ?1`,
		`DELETE FROM notification_requests WHERE account_id = ?1 OR from_account_id = ?1`,
		`DELETE FROM notification_permissions WHERE account_id = ?1 OR from_account_id = ?1`,
		`DELETE FROM suggestion_dismissals WHERE account_id = ?1 OR target_account_id = ?1`,
		`DELETE FROM passkeys WHERE account_id = ?1`,
		`DELETE FROM passkey_handles WHERE account_id = ?1`,
		`UPDATE users SET disabled = 1 WHERE account_id = ?1`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete account %d: %w", id, err)
		}
	}
	if err := enqueueAll(ctx, tx, jobs, at); err != nil {
		return err
	}
	return tx.Commit()
}

// AccountDeleted reports whether a local account was deleted.
func (s *Store) AccountDeleted(ctx context.Context, id int64) (bool, error) {
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT deleted_at FROM accounts WHERE id = ?`, id).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("account %d deleted: %w", id, err)
	}
	return at != 0, nil
}

// LocalFollowers lists the local accounts that follow account, at most
// limit.
func (s *Store) LocalFollowers(ctx context.Context, account int64, limit int) ([]int64, error) {
	return s.queryIDs(ctx, `SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id
		WHERE f.target_account_id = ? AND a.domain = '' ORDER BY f.id LIMIT ?`, account, limit)
}
