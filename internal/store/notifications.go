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
	// GroupKey is the group a favourite, reblog or follow joins ("" for
	// the other types, and for filtered ones); Filtered: held back by the
	// recipient's notification policy.
	GroupKey string
	Filtered bool
}

// CreateNotification stores one, unless the recipient blocks the sender or
// mutes the sender's notifications, or its status is in a thread the
// recipient muted. (Whom the recipient's notification
// policy holds back or drops is the social service's decision, made
// before.) It reports whether it was stored.
func (s *Store) CreateNotification(ctx context.Context, n *Notification) (bool, error) {
	return s.createNotification(ctx, s.write, n)
}

// notificationInsert inserts a notification unless either side blocks the
// other, the recipient mutes the sender's notifications, or the status is in
// a thread the recipient muted.
const notificationInsert = `INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at, group_key, filtered)
		SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = ? AND b.target_account_id = ?) OR (b.account_id = ? AND b.target_account_id = ?))
		AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ? AND m.target_account_id = ? AND m.notifications = 1)
		AND NOT ` + threadMutedSQL

func (s *Store) createNotification(ctx context.Context, x execer, n *Notification) (bool, error) {
	var key any
	if n.GroupKey != "" {
		key = n.GroupKey
	}
	res, err := x.ExecContext(ctx, notificationInsert, append([]any{
		n.ID, n.AccountID, n.FromAccountID, n.Type, nullID(n.StatusID), ms(n.CreatedAt), key, boolInt(n.Filtered),
		n.AccountID, n.FromAccountID, n.FromAccountID, n.AccountID, n.AccountID, n.FromAccountID},
		threadMutedArgs(n.StatusID, n.AccountID)...)...)
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
	// IncludeFiltered lists those the notification policy held back too.
	IncludeFiltered bool
	GroupKey        string // one group's
}

const notificationCols = `n.id, n.account_id, n.from_account_id, n.type, COALESCE(n.status_id, 0), n.created_at, COALESCE(n.group_key, ''), n.filtered`

// notificationShownSQL is the rule for which of viewer's notifications
// (n, with its status s LEFT JOINed) are shown: not from accounts viewer
// now blocks, is blocked by, or mutes the notifications of, nor from
// disabled or pending accounts, nor from the accounts of a domain viewer
// blocks unless viewer follows them (as Mastodon), nor about a status
// viewer can no longer see. Every read of notifications (the list, groups,
// counts, requests) filters with it.
func notificationShownSQL(viewer int64) (string, []any) {
	vis, vargs := visibleSQL("s", viewer)
	return `NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = n.account_id AND b.target_account_id = n.from_account_id) OR (b.account_id = n.from_account_id AND b.target_account_id = n.account_id))
		AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = n.account_id AND m.target_account_id = n.from_account_id AND m.notifications = 1)
		AND ` + accountShownSQL("n.from_account_id") + `
		AND (n.from_account_id NOT IN ` + domainBlockedAccountsSQL("?") + `
			OR EXISTS (SELECT 1 FROM follows df WHERE df.account_id = n.account_id AND df.target_account_id = n.from_account_id))
		AND (n.status_id IS NULL OR (` + vis + `))`, append([]any{viewer}, vargs...)
}

// notificationFilterSQL renders f's conditions on n.
func notificationFilterSQL(f NotificationFilter) (string, []any) {
	var q string
	var all []any
	if !f.IncludeFiltered && f.ID == 0 {
		q += ` AND n.filtered = 0`
	}
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
	if f.GroupKey != "" {
		q += ` AND n.group_key = ?`
		all = append(all, f.GroupKey)
	}
	return q, all
}

func scanNotification(rows interface{ Scan(...any) error }) (Notification, error) {
	var n Notification
	var created, filtered int64
	if err := rows.Scan(&n.ID, &n.AccountID, &n.FromAccountID, &n.Type, &n.StatusID, &created, &n.GroupKey, &filtered); err != nil {
		return n, err
	}
	n.CreatedAt, n.Filtered = fromMs(created), filtered == 1
	return n, nil
}

// Notifications lists viewer's notifications, newest first, as
// notificationShownSQL shows them, and without those the notification
// policy held back unless f asks for them.
func (s *Store) Notifications(ctx context.Context, viewer int64, f NotificationFilter, p Page) ([]Notification, error) {
	where, args, order := pageSQL("n.id", p)
	shown, sargs := notificationShownSQL(viewer)
	fq, fargs := notificationFilterSQL(f)
	q := `SELECT ` + notificationCols + ` FROM notifications n LEFT JOIN statuses s ON s.id = n.status_id
		WHERE n.account_id = ? AND ` + where + ` AND ` + shown + fq
	all := append(append(append([]any{viewer}, args...), sargs...), fargs...)
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY `+order+limitSQL, append(all, limitArg(p))...)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, err
		}
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
