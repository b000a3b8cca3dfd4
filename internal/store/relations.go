package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Relation tables.
type Relation string

const (
	Follows        Relation = "follows"
	FollowRequests Relation = "follow_requests"
	Blocks         Relation = "blocks"
	Mutes          Relation = "mutes"
)

// FollowOptions are the settings of a follow.
type FollowOptions struct {
	ShowReblogs bool
	Notify      bool
	// URI is the id of the Follow activity that made a follow across
	// servers: the one a remote Follow came with, or the one sent for a
	// local account's. "" between local accounts.
	URI string
}

// backfillLimit is how many of a newly followed account's statuses enter the follower's home timeline.
const backfillLimit = 40

// Follow makes account follow target (or updates the options of an existing
// follow), removes any pending request, and fills the follower's home
// timeline with the target's recent statuses. created is false when the
// follow existed already.
//
// jobs are enqueued in the same transaction (the activities it sends).
func (s *Store) Follow(ctx context.Context, id, account, target int64, o FollowOptions, at time.Time, jobs ...NewJob) (created bool, err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("follow: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO follows (id, account_id, target_account_id, show_reblogs, notify, created_at, uri, remote)
		VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT CASE WHEN domain != '' THEN 1 ELSE 0 END FROM accounts WHERE id = ?))
		ON CONFLICT (account_id, target_account_id) DO NOTHING`, id, account, target, boolInt(o.ShowReblogs), boolInt(o.Notify), ms(at), o.URI, account)
	if err != nil {
		return false, fmt.Errorf("follow: %w", err)
	}
	n, _ := res.RowsAffected()
	created = n > 0
	if !created {
		if _, err := tx.ExecContext(ctx, `UPDATE follows SET show_reblogs = ?, notify = ? WHERE account_id = ? AND target_account_id = ?`,
			boolInt(o.ShowReblogs), boolInt(o.Notify), account, target); err != nil {
			return false, fmt.Errorf("follow: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM follow_requests WHERE account_id = ? AND target_account_id = ?`, account, target); err != nil {
		return false, fmt.Errorf("follow: %w", err)
	}
	if created {
		// The follow that brings a local account to fanOutOnReadFollowers
		// turns its fan-out around for good.
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET fanout_on_read = 1
			WHERE id = ? AND domain = '' AND fanout_on_read = 0
			AND (SELECT followers_count FROM account_stats WHERE account_id = ?) >= ?`, target, target, s.fanOutOnRead); err != nil {
			return false, fmt.Errorf("follow: %w", err)
		}
		// A marked account's statuses are read at home time, all of them:
		// nothing to copy.
		q := `INSERT INTO home_feed (account_id, status_id, author_id)
			SELECT ?, s.id, s.account_id FROM statuses s WHERE s.account_id = ? AND s.visibility IN (0, 1, 2)
			AND (SELECT fanout_on_read FROM accounts WHERE id = s.account_id) = 0`
		if !o.ShowReblogs {
			q += ` AND s.reblog_of_id IS NULL`
		}
		q += ` ORDER BY s.id DESC LIMIT ? ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, account, target, backfillLimit); err != nil {
			return false, fmt.Errorf("follow: home feed: %w", err)
		}
	}
	if err := enqueueAll(ctx, tx, jobs, at); err != nil {
		return false, err
	}
	return created, tx.Commit()
}

// Unfollow ends a follow (and a pending request) and takes the target's
// statuses out of the former follower's home timeline; jobs are enqueued
// with it.
func (s *Store) Unfollow(ctx context.Context, account, target int64, jobs ...NewJob) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("unfollow: %w", err)
	}
	defer tx.Rollback()
	if err := unlink(ctx, tx, account, target); err != nil {
		return err
	}
	if err := enqueueAll(ctx, tx, jobs, time.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

func unlink(ctx context.Context, tx *writeTx, account, target int64) error {
	for _, q := range []string{
		`DELETE FROM follows WHERE account_id = ? AND target_account_id = ?`,
		`DELETE FROM follow_requests WHERE account_id = ? AND target_account_id = ?`,
		`DELETE FROM home_feed WHERE account_id = ? AND author_id = ?`,
		// Lists and endorsements hold only followed accounts (Mastodon's
		// Follow takes them with it).
		`DELETE FROM list_accounts WHERE list_id IN (SELECT id FROM lists WHERE account_id = ?) AND account_id = ?`,
		`DELETE FROM account_pins WHERE account_id = ? AND target_account_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, account, target); err != nil {
			return fmt.Errorf("unfollow: %w", err)
		}
	}
	// A follow that no longer exists leaves no notification behind.
	if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE account_id = ? AND from_account_id = ? AND type IN ('follow', 'follow_request')`,
		target, account); err != nil {
		return fmt.Errorf("unfollow: %w", err)
	}
	return nil
}

// RequestFollow records a follow request to a locked account; created is
// false when one was pending already.
// false when one was pending already. jobs are enqueued with a new request
// only.
func (s *Store) RequestFollow(ctx context.Context, id, account, target int64, o FollowOptions, at time.Time, jobs ...NewJob) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("follow request: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO follow_requests (id, account_id, target_account_id, show_reblogs, notify, created_at, uri)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, target_account_id) DO NOTHING`,
		id, account, target, boolInt(o.ShowReblogs), boolInt(o.Notify), ms(at), o.URI)
	if err != nil {
		return false, fmt.Errorf("follow request: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := enqueueAll(ctx, tx, jobs, at); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// FollowRequest loads a pending request from account to target.
func (s *Store) FollowRequest(ctx context.Context, account, target int64) (FollowOptions, error) {
	var o FollowOptions
	err := s.read.QueryRowContext(ctx, `SELECT show_reblogs, notify, uri FROM follow_requests WHERE account_id = ? AND target_account_id = ?`,
		account, target).Scan(&o.ShowReblogs, &o.Notify, &o.URI)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

// RejectFollowRequest deletes a pending request, with jobs.
func (s *Store) RejectFollowRequest(ctx context.Context, account, target int64, jobs ...NewJob) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reject follow request: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM follow_requests WHERE account_id = ? AND target_account_id = ?`, account, target); err != nil {
		return fmt.Errorf("reject follow request: %w", err)
	}
	if err := enqueueAll(ctx, tx, jobs, time.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

// Block makes account block target: follows both ways, requests and home
// timeline entries between them end.
func (s *Store) Block(ctx context.Context, id, account, target int64, at time.Time, jobs ...NewJob) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("block: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO blocks (id, account_id, target_account_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, target_account_id) DO NOTHING`, id, account, target, ms(at)); err != nil {
		return fmt.Errorf("block: %w", err)
	}
	if err := unlink(ctx, tx, account, target); err != nil {
		return err
	}
	if err := unlink(ctx, tx, target, account); err != nil {
		return err
	}
	if err := enqueueAll(ctx, tx, jobs, at); err != nil {
		return err
	}
	return tx.Commit()
}

// Mute makes account mute target (notifications: also their notifications).
func (s *Store) Mute(ctx context.Context, id, account, target int64, notifications bool, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO mutes (id, account_id, target_account_id, notifications, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account_id, target_account_id) DO UPDATE SET notifications = excluded.notifications`,
		id, account, target, boolInt(notifications), ms(at))
	if err != nil {
		return fmt.Errorf("mute: %w", err)
	}
	return nil
}

// Unrelate deletes a block or mute, with jobs.
func (s *Store) Unrelate(ctx context.Context, r Relation, account, target int64, jobs ...NewJob) error {
	if r != Blocks && r != Mutes {
		return fmt.Errorf("unrelate: %q", r)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("unrelate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+string(r)+` WHERE account_id = ? AND target_account_id = ?`, account, target); err != nil {
		return fmt.Errorf("unrelate: %w", err)
	}
	if err := enqueueAll(ctx, tx, jobs, time.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

// Relationship is how viewer and another account relate.
type Relationship struct {
	Following, ShowingReblogs, Notifying, FollowedBy, Blocking, BlockedBy bool
	Muting, MutingNotifications, Requested, RequestedBy                   bool
	// Note is viewer's private note on the account ("" for none).
	Note                     string
	Endorsed, DomainBlocking bool
}

// Relationships reports viewer's relationship to each target.
func (s *Store) Relationships(ctx context.Context, viewer int64, targets []int64) (map[int64]Relationship, error) {
	out := map[int64]Relationship{}
	if len(targets) == 0 {
		return out, nil
	}
	in, list := inList(targets)
	q := `SELECT target_account_id, 'following', show_reblogs, notify, '' FROM follows WHERE account_id = ? AND target_account_id IN ` + in + `
		UNION ALL SELECT account_id, 'followed_by', 0, 0, '' FROM follows WHERE target_account_id = ? AND account_id IN ` + in + `
		UNION ALL SELECT target_account_id, 'blocking', 0, 0, '' FROM blocks WHERE account_id = ? AND target_account_id IN ` + in + `
		UNION ALL SELECT account_id, 'blocked_by', 0, 0, '' FROM blocks WHERE target_account_id = ? AND account_id IN ` + in + `
		UNION ALL SELECT target_account_id, 'muting', notifications, 0, '' FROM mutes WHERE account_id = ? AND target_account_id IN ` + in + `
		UNION ALL SELECT target_account_id, 'requested', 0, 0, '' FROM follow_requests WHERE account_id = ? AND target_account_id IN ` + in + `
		UNION ALL SELECT account_id, 'requested_by', 0, 0, '' FROM follow_requests WHERE target_account_id = ? AND account_id IN ` + in + `
		UNION ALL SELECT target_account_id, 'note', 0, 0, comment FROM account_notes WHERE account_id = ? AND target_account_id IN ` + in + `
		UNION ALL SELECT target_account_id, 'endorsed', 0, 0, '' FROM account_pins WHERE account_id = ? AND target_account_id IN ` + in + `
		UNION ALL SELECT a.id, 'domain_blocking', 0, 0, '' FROM account_domain_blocks d JOIN accounts a ON a.domain = d.domain WHERE d.account_id = ? AND a.id IN ` + in
	var args []any
	for range 10 {
		args = append(append(args, viewer), list...)
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("relationships: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind string
		var a, b bool
		var note string
		if err := rows.Scan(&id, &kind, &a, &b, &note); err != nil {
			return nil, err
		}
		r := out[id]
		switch kind {
		case "following":
			r.Following, r.ShowingReblogs, r.Notifying = true, a, b
		case "followed_by":
			r.FollowedBy = true
		case "blocking":
			r.Blocking = true
		case "blocked_by":
			r.BlockedBy = true
		case "muting":
			r.Muting, r.MutingNotifications = true, a
		case "requested":
			r.Requested = true
		case "requested_by":
			r.RequestedBy = true
		case "note":
			r.Note = note
		case "endorsed":
			r.Endorsed = true
		case "domain_blocking":
			r.DomainBlocking = true
		}
		out[id] = r
	}
	return out, rows.Err()
}

// RelatedAccounts lists accounts on one side of a relation, newest first by
// the relation row's id (the cursor). incoming lists who relates to account
// (followers, follow requests); otherwise whom account relates to.
// Accounts blocked either way by viewer are hidden.
func (s *Store) RelatedAccounts(ctx context.Context, r Relation, account int64, incoming bool, viewer int64, p Page) (accountIDs, cursors []int64, err error) {
	mine, other := "account_id", "target_account_id"
	if incoming {
		mine, other = other, mine
	}
	where, args, order := pageSQL("x.id", p)
	q := `SELECT x.id, x.` + other + ` FROM ` + string(r) + ` x WHERE x.` + mine + ` = ? AND ` + where + `
		AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = x.` + other + ` AND b.target_account_id = ?) OR (b.account_id = ? AND b.target_account_id = x.` + other + `))
		AND ` + accountShownSQL("x."+other) + `
		ORDER BY ` + order + limitSQL
	all := append(append([]any{account}, args...), viewer, viewer)
	if r == Blocks || r == Mutes {
		// One's own block and mute lists show the blocked accounts, of course.
		q = `SELECT x.id, x.` + other + ` FROM ` + string(r) + ` x WHERE x.` + mine + ` = ? AND ` + where + ` ORDER BY ` + order + limitSQL
		all = append([]any{account}, args...)
	}
	rows, err := s.read.QueryContext(ctx, q, append(all, limitArg(p))...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", r, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, a int64
		if err := rows.Scan(&c, &a); err != nil {
			return nil, nil, err
		}
		cursors, accountIDs = append(cursors, c), append(accountIDs, a)
	}
	return newestFirst(p, accountIDs), newestFirst(p, cursors), rows.Err()
}

// Blocked reports whether either account blocks the other.
func (s *Store) Blocked(ctx context.Context, a, b int64) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM blocks WHERE (account_id = ? AND target_account_id = ?) OR (account_id = ? AND target_account_id = ?)`,
		a, b, b, a).Scan(&n)
	return n > 0, err
}

// FollowsAccount reports whether account follows target.
func (s *Store) FollowsAccount(ctx context.Context, account, target int64) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM follows WHERE account_id = ? AND target_account_id = ?`, account, target).Scan(&n)
	return n > 0, err
}

// FollowersToNotify lists the followers of target who asked to be notified of its posts.
// followersToNotifySQL reads the partial index follows_notify: its cost is
// the followers who asked, not all of them.
const followersToNotifySQL = `SELECT account_id FROM follows INDEXED BY follows_notify WHERE target_account_id = ? AND notify = 1`

func (s *Store) FollowersToNotify(ctx context.Context, target int64) ([]int64, error) {
	return s.queryIDs(ctx, followersToNotifySQL, target)
}
