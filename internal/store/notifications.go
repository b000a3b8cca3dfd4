package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Notification is something that happened to an account.
type Notification struct {
	ID            int64
	AccountID     int64 // the recipient
	FromAccountID int64
	Type          string
	StatusID      int64 // 0 when none
	CreatedAt     time.Time
}

// CreateNotification stores one, unless the recipient blocks the sender or
// mutes the sender's notifications, or the sender is silenced (its domain
// is) and the recipient does not follow it. It reports whether it was
// stored.
func (s *Store) CreateNotification(ctx context.Context, n *Notification) (bool, error) {
	res, err := s.write.ExecContext(ctx, `INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at)
		SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = ? AND b.target_account_id = ?) OR (b.account_id = ? AND b.target_account_id = ?))
		AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ? AND m.target_account_id = ? AND m.notifications = 1)
		AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = ? AND a.silenced = 1
			AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.account_id = ? AND f.target_account_id = a.id))`,
		n.ID, n.AccountID, n.FromAccountID, n.Type, nullID(n.StatusID), ms(n.CreatedAt),
		n.AccountID, n.FromAccountID, n.FromAccountID, n.AccountID, n.AccountID, n.FromAccountID, n.FromAccountID, n.AccountID)
	if err != nil {
		return false, fmt.Errorf("notification: %w", err)
	}
	stored, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("notification: %w", err)
	}
	return stored == 1, nil
}

// NotificationFilter selects notification types.
type NotificationFilter struct {
	Types        []string
	ExcludeTypes []string
	FromAccount  int64
	ID           int64 // a single notification
}

const notificationCols = `n.id, n.account_id, n.from_account_id, n.type, COALESCE(n.status_id, 0), n.created_at`

// Notifications lists viewer's notifications, newest first, hiding those
// from accounts viewer now blocks or mutes, from disabled or pending
// accounts, from the accounts of a domain viewer blocks unless viewer
// follows them (as Mastodon), and those whose status viewer can no longer
// see.
func (s *Store) Notifications(ctx context.Context, viewer int64, f NotificationFilter, p Page) ([]Notification, error) {
	where, args, order := pageSQL("n.id", p)
	vis, vargs := visibleSQL("s", viewer)
	q := `SELECT ` + notificationCols + ` FROM notifications n LEFT JOIN statuses s ON s.id = n.status_id
		WHERE n.account_id = ? AND ` + where + `
		AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = n.account_id AND b.target_account_id = n.from_account_id) OR (b.account_id = n.from_account_id AND b.target_account_id = n.account_id))
		AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = n.account_id AND m.target_account_id = n.from_account_id AND m.notifications = 1)
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.account_id = n.from_account_id AND (u.disabled = 1 OR u.approved = 0))
		AND (n.from_account_id NOT IN ` + domainBlockedAccountsSQL("?") + `
			OR EXISTS (SELECT 1 FROM follows df WHERE df.account_id = n.account_id AND df.target_account_id = n.from_account_id))
		AND (n.status_id IS NULL OR (` + vis + `))`
	all := append(append(append([]any{viewer}, args...), viewer), vargs...)
	if len(f.Types) > 0 {
		in, targs := stringList(f.Types)
		q += ` AND n.type IN ` + in
		all = append(all, targs...)
	}
	if len(f.ExcludeTypes) > 0 {
		in, targs := stringList(f.ExcludeTypes)
		q += ` AND n.type NOT IN ` + in
		all = append(all, targs...)
	}
	if f.FromAccount != 0 {
		q += ` AND n.from_account_id = ?`
		all = append(all, f.FromAccount)
	}
	if f.ID != 0 {
		q += ` AND n.id = ?`
		all = append(all, f.ID)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY `+order+limitSQL, append(all, limitArg(p))...)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var created int64
		if err := rows.Scan(&n.ID, &n.AccountID, &n.FromAccountID, &n.Type, &n.StatusID, &created); err != nil {
			return nil, err
		}
		n.CreatedAt = fromMs(created)
		out = append(out, n)
	}
	return newestFirst(p, out), rows.Err()
}

// DismissNotifications deletes one (id != 0) or all of viewer's notifications.
func (s *Store) DismissNotifications(ctx context.Context, viewer, id int64) (int64, error) {
	q, args := `DELETE FROM notifications WHERE account_id = ?`, []any{viewer}
	if id != 0 {
		q += ` AND id = ?`
		args = append(args, id)
	}
	res, err := s.write.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("dismiss notifications: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteNotificationsOfType removes from→recipient notifications of one type (a settled follow request).
func (s *Store) DeleteNotificationsOfType(ctx context.Context, recipient, from int64, typ string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM notifications WHERE account_id = ? AND from_account_id = ? AND type = ?`, recipient, from, typ)
	return err
}

// AccountsWhoInteracted lists local accounts that favourited or reblogged a status (for "update" notifications).
func (s *Store) AccountsWhoInteracted(ctx context.Context, status int64) ([]int64, error) {
	return s.queryIDs(ctx, `SELECT account_id FROM favourites WHERE status_id = ? UNION SELECT account_id FROM statuses WHERE reblog_of_id = ?`, status, status)
}

// stringList renders a list of strings as "(?, ?, …)" and its arguments,
// without duplicates and padded to the next power of two by repeating the
// last, as inList does for ids: a client's choice of filter makes one of a
// few statement texts, not one per combination.
func stringList(v []string) (string, []any) {
	v = slices.Compact(slices.Sorted(slices.Values(v)))
	n := 1
	for n < len(v) {
		n *= 2
	}
	out := make([]any, n)
	for i := range out {
		out[i] = v[min(i, len(v)-1)]
	}
	return "(" + placeholders(n) + ")", out
}
