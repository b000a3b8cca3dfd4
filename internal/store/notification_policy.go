package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// NotificationPolicy is what an account does with notifications from
// senders it may not want to hear from (Mastodon 4.3): each field is
// "accept", "filter" or "drop".
type NotificationPolicy struct {
	ForNotFollowing    string
	ForNotFollowers    string
	ForNewAccounts     string
	ForPrivateMentions string
	ForLimitedAccounts string
}

// NotificationPolicyOf returns the account's policy; found is false when it
// never set one (the caller applies the defaults).
func (s *Store) NotificationPolicyOf(ctx context.Context, account int64) (p NotificationPolicy, found bool, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT for_not_following, for_not_followers, for_new_accounts, for_private_mentions, for_limited_accounts
		FROM notification_policies WHERE account_id = ?`, account).
		Scan(&p.ForNotFollowing, &p.ForNotFollowers, &p.ForNewAccounts, &p.ForPrivateMentions, &p.ForLimitedAccounts)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("notification policy: %w", err)
	}
	return p, true, nil
}

// SetNotificationPolicy stores the account's whole policy.
func (s *Store) SetNotificationPolicy(ctx context.Context, account int64, p NotificationPolicy, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO notification_policies (account_id, for_not_following, for_not_followers, for_new_accounts, for_private_mentions, for_limited_accounts, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET for_not_following = excluded.for_not_following,
		for_not_followers = excluded.for_not_followers, for_new_accounts = excluded.for_new_accounts,
		for_private_mentions = excluded.for_private_mentions, for_limited_accounts = excluded.for_limited_accounts, updated_at = excluded.updated_at`,
		account, p.ForNotFollowing, p.ForNotFollowers, p.ForNewAccounts, p.ForPrivateMentions, p.ForLimitedAccounts, ms(at))
	if err != nil {
		return fmt.Errorf("set notification policy: %w", err)
	}
	return nil
}

// NotificationFacts is what the notification policy weighs about one
// notification, read in one statement.
type NotificationFacts struct {
	Policy       NotificationPolicy
	PolicyFound  bool
	Permitted    bool      // the recipient accepted the sender's request
	Following    bool      // the recipient follows the sender
	FollowerAt   time.Time // since when the sender follows the recipient; zero: not
	SenderSince  time.Time // the sender account's creation
	Limited      bool      // the sender is silenced (limited by a moderator)
	Direct       bool      // the status is a direct (private) mention
	RepliesToDMs bool      // the status answers, within its thread, a private mention of the recipient's to the sender
}

// notificationFactsDepth bounds the thread walked up for RepliesToDMs, as
// Mastodon does.
const notificationFactsDepth = 100

// NotificationFactsFor reads the facts about a notification from sender to
// recipient, about status (0: none).
func (s *Store) NotificationFactsFor(ctx context.Context, recipient, sender, status int64) (NotificationFacts, error) {
	var f NotificationFacts
	var p [5]sql.NullString
	var permitted, following, limited, direct, replies int64
	var followerAt, since int64
	err := s.read.QueryRowContext(ctx, `WITH RECURSIVE up (id, depth) AS (
			SELECT in_reply_to_id, 0 FROM statuses WHERE id = ? AND in_reply_to_id IS NOT NULL
			UNION ALL
			SELECT st.in_reply_to_id, up.depth + 1 FROM up JOIN statuses st ON st.id = up.id
			WHERE st.in_reply_to_id IS NOT NULL AND up.depth < ?)
		SELECT p.for_not_following, p.for_not_followers, p.for_new_accounts, p.for_private_mentions, p.for_limited_accounts,
			CASE WHEN EXISTS (SELECT 1 FROM notification_permissions np WHERE np.account_id = ? AND np.from_account_id = a.id) THEN 1 ELSE 0 END,
			CASE WHEN EXISTS (SELECT 1 FROM follows f WHERE f.account_id = ? AND f.target_account_id = a.id) THEN 1 ELSE 0 END,
			COALESCE((SELECT f.created_at FROM follows f WHERE f.account_id = a.id AND f.target_account_id = ?), 0),
			a.created_at, a.silenced,
			CASE WHEN EXISTS (SELECT 1 FROM statuses ds WHERE ds.id = ? AND ds.visibility = 3) THEN 1 ELSE 0 END,
			CASE WHEN EXISTS (SELECT 1 FROM up JOIN statuses us ON us.id = up.id
				JOIN mentions um ON um.status_id = us.id AND um.account_id = a.id
				WHERE us.account_id = ? AND us.visibility = 3) THEN 1 ELSE 0 END
		FROM accounts a LEFT JOIN notification_policies p ON p.account_id = ? WHERE a.id = ?`,
		status, notificationFactsDepth, recipient, recipient, recipient, status, recipient, recipient, sender).
		Scan(&p[0], &p[1], &p[2], &p[3], &p[4], &permitted, &following, &followerAt, &since, &limited, &direct, &replies)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("notification facts: %w", err)
	}
	if p[0].Valid {
		f.PolicyFound = true
		f.Policy = NotificationPolicy{p[0].String, p[1].String, p[2].String, p[3].String, p[4].String}
	}
	f.Permitted, f.Following, f.Limited, f.Direct, f.RepliesToDMs = permitted == 1, following == 1, limited == 1, direct == 1, replies == 1
	if followerAt != 0 {
		f.FollowerAt = fromMs(followerAt)
	}
	f.SenderSince = fromMs(since)
	return f, nil
}

// CreateFilteredNotification stores a notification the recipient's policy
// holds back (unless CreateNotification's own rule refuses it) and opens, or
// brings up to date, the recipient's request for the sender: requestID is
// the id a new request takes. It reports whether it was stored.
func (s *Store) CreateFilteredNotification(ctx context.Context, n *Notification, requestID int64) (bool, error) {
	n.Filtered, n.GroupKey = true, ""
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("filtered notification: %w", err)
	}
	defer tx.Rollback()
	stored, err := s.createNotification(ctx, tx, n)
	if err != nil || !stored {
		return false, err
	}
	// A notification without a status keeps the request's last status.
	if _, err := tx.ExecContext(ctx, `INSERT INTO notification_requests (id, account_id, from_account_id, last_status_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, from_account_id) DO UPDATE SET
		last_status_id = COALESCE(excluded.last_status_id, notification_requests.last_status_id), updated_at = excluded.updated_at`,
		requestID, n.AccountID, n.FromAccountID, nullID(n.StatusID), ms(n.CreatedAt), ms(n.CreatedAt)); err != nil {
		return false, fmt.Errorf("notification request: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("filtered notification: %w", err)
	}
	return true, nil
}

// NotificationRequest is a sender whose notifications an account's policy
// held back.
type NotificationRequest struct {
	ID            int64
	AccountID     int64
	FromAccountID int64
	LastStatusID  int64 // 0: none, or one the account may no longer see
	Count         int64 // the held-back notifications
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// requestShownSQL hides requests from senders the account blocks, is
// blocked by or mutes the notifications of, and from disabled or pending
// accounts, as notificationShownSQL hides their notifications.
var requestShownSQL = `NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = r.account_id AND b.target_account_id = r.from_account_id) OR (b.account_id = r.from_account_id AND b.target_account_id = r.account_id))
		AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = r.account_id AND m.target_account_id = r.from_account_id AND m.notifications = 1)
		AND ` + accountShownSQL("r.from_account_id")

// NotificationRequests lists the account's requests, newest first (id == 0),
// or the one with that id.
func (s *Store) NotificationRequests(ctx context.Context, account, id int64, p Page) ([]NotificationRequest, error) {
	where, args, order := pageSQL("r.id", p)
	vis, vargs := visibleSQL("s", account)
	q := `SELECT r.id, r.account_id, r.from_account_id, CASE WHEN s.id IS NOT NULL AND ` + vis + ` THEN s.id ELSE 0 END,
		(SELECT COUNT(*) FROM notifications n WHERE n.account_id = r.account_id AND n.from_account_id = r.from_account_id AND n.filtered = 1),
		r.created_at, r.updated_at
		FROM notification_requests r LEFT JOIN statuses s ON s.id = r.last_status_id
		WHERE r.account_id = ? AND ` + where + ` AND ` + requestShownSQL
	all := append(append(vargs, account), args...)
	if id != 0 {
		q += ` AND r.id = ?`
		all = append(all, id)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY `+order+limitSQL, append(all, limitArg(p))...)
	if err != nil {
		return nil, fmt.Errorf("notification requests: %w", err)
	}
	defer rows.Close()
	var out []NotificationRequest
	for rows.Next() {
		var r NotificationRequest
		var created, updated int64
		if err := rows.Scan(&r.ID, &r.AccountID, &r.FromAccountID, &r.LastStatusID, &r.Count, &created, &updated); err != nil {
			return nil, err
		}
		r.CreatedAt, r.UpdatedAt = fromMs(created), fromMs(updated)
		out = append(out, r)
	}
	return newestFirst(p, out), rows.Err()
}

// maxMeaningfulCount caps the policy summary's counts, as Mastodon does:
// past it, a number says nothing more.
const maxMeaningfulCount = 100

// NotificationRequestsSummary counts the account's pending requests (at
// most 100) and the notifications those hold back.
func (s *Store) NotificationRequestsSummary(ctx context.Context, account int64) (requests, notifications int64, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(c), 0) FROM (
			SELECT (SELECT COUNT(*) FROM notifications n WHERE n.account_id = r.account_id AND n.from_account_id = r.from_account_id AND n.filtered = 1) AS c
			FROM notification_requests r WHERE r.account_id = ? AND `+requestShownSQL+` LIMIT ?) y`,
		account, maxMeaningfulCount).Scan(&requests, &notifications)
	if err != nil {
		return 0, 0, fmt.Errorf("notification requests summary: %w", err)
	}
	return requests, notifications, nil
}

// AcceptNotificationRequests accepts the account's requests with these ids:
// their senders' held-back notifications join the list, the policy no
// longer holds theirs back, and the requests go. It returns how many of
// the ids were the account's requests.
func (s *Store) AcceptNotificationRequests(ctx context.Context, account int64, ids []int64, at time.Time) (int64, error) {
	return s.settleNotificationRequests(ctx, account, ids, at, true)
}

// DismissNotificationRequests dismisses the account's requests with these
// ids: the requests and the notifications they held back go. A later
// notification from the sender opens a new request.
func (s *Store) DismissNotificationRequests(ctx context.Context, account int64, ids []int64) (int64, error) {
	return s.settleNotificationRequests(ctx, account, ids, time.Time{}, false)
}

func (s *Store) settleNotificationRequests(ctx context.Context, account int64, ids []int64, at time.Time, accept bool) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	in, iargs := inList(ids)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("settle notification requests: %w", err)
	}
	defer tx.Rollback()
	senders := `SELECT r.from_account_id FROM notification_requests r WHERE r.account_id = ? AND r.id IN ` + in
	sargs := append([]any{account}, iargs...)
	if accept {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notification_permissions (account_id, from_account_id, created_at)
			SELECT ?, r.from_account_id, ? FROM notification_requests r WHERE r.account_id = ? AND r.id IN `+in+`
			ON CONFLICT (account_id, from_account_id) DO NOTHING`, append([]any{account, ms(at)}, sargs...)...); err != nil {
			return 0, fmt.Errorf("accept notification requests: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notifications SET filtered = 0 WHERE account_id = ? AND filtered = 1 AND from_account_id IN (`+senders+`)`,
			append([]any{account}, sargs...)...); err != nil {
			return 0, fmt.Errorf("accept notification requests: %w", err)
		}
	} else if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE account_id = ? AND filtered = 1 AND from_account_id IN (`+senders+`)`,
		append([]any{account}, sargs...)...); err != nil {
		return 0, fmt.Errorf("dismiss notification requests: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM notification_requests WHERE account_id = ? AND id IN `+in, sargs...)
	if err != nil {
		return 0, fmt.Errorf("settle notification requests: %w", err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("settle notification requests: %w", err)
	}
	return n, nil
}
