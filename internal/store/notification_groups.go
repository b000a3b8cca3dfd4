package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// LatestNotificationGroupKey returns the greatest of account's group keys
// that are prefix followed by "-" and a bucket ("" when none). Buckets are
// hour numbers of the same width, so the greatest key is the latest bucket.
func (s *Store) LatestNotificationGroupKey(ctx context.Context, account int64, prefix string) (string, error) {
	var key sql.NullString
	// prefix+"." is the first string past every prefix+"-…" ('.' follows '-').
	err := s.read.QueryRowContext(ctx, `SELECT MAX(group_key) FROM notifications WHERE account_id = ? AND group_key > ? AND group_key < ?`,
		account, prefix+"-", prefix+".").Scan(&key)
	if err != nil {
		return "", fmt.Errorf("latest notification group: %w", err)
	}
	return key.String, nil
}

// NotificationGroup is what a page shows of one group of notifications:
// those shown to the viewer with ids up to the page's upper bound.
type NotificationGroup struct {
	Count        int64
	MostRecentID int64
	LatestAt     time.Time
	PageMinID    int64   // the oldest at or above the page's lower bound
	Samples      []int64 // the senders of the most recent, newest first
}

// NotificationGroupSamples is how many senders a group names (Mastodon's
// SAMPLE_ACCOUNTS_SIZE).
const NotificationGroupSamples = 8

// NotificationGroups loads the groups with these keys for viewer, counting
// the notifications shown (notificationShownSQL) with ids in [minID, maxID]
// (PageMinID) and up to maxID (the rest), in one statement whatever the
// number of keys.
func (s *Store) NotificationGroups(ctx context.Context, viewer int64, keys []string, minID, maxID int64) (map[string]*NotificationGroup, error) {
	out := map[string]*NotificationGroup{}
	if len(keys) == 0 {
		return out, nil
	}
	in, kargs := stringList(keys)
	shown, sargs := notificationShownSQL(viewer)
	q := `SELECT group_key, id, from_account_id, created_at, cnt, COALESCE(page_min, 0) FROM (
		SELECT n.group_key, n.id, n.from_account_id, n.created_at,
			ROW_NUMBER() OVER (PARTITION BY n.group_key ORDER BY n.id DESC) AS rn,
			COUNT(*) OVER (PARTITION BY n.group_key) AS cnt,
			MIN(CASE WHEN n.id >= ? THEN n.id END) OVER (PARTITION BY n.group_key) AS page_min
		FROM notifications n LEFT JOIN statuses s ON s.id = n.status_id
		WHERE n.account_id = ? AND n.group_key IN ` + in + ` AND n.id <= ? AND n.filtered = 0 AND ` + shown + `) g
		WHERE rn <= ? ORDER BY group_key, id DESC`
	args := append(append(append([]any{minID, viewer}, kargs...), maxID), sargs...)
	rows, err := s.read.QueryContext(ctx, q, append(args, NotificationGroupSamples)...)
	if err != nil {
		return nil, fmt.Errorf("notification groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var id, from, created, count, pageMin int64
		if err := rows.Scan(&key, &id, &from, &created, &count, &pageMin); err != nil {
			return nil, err
		}
		g := out[key]
		if g == nil { // the first row of a group is its most recent
			g = &NotificationGroup{Count: count, MostRecentID: id, LatestAt: fromMs(created), PageMinID: pageMin}
			out[key] = g
		}
		g.Samples = append(g.Samples, from)
	}
	return out, rows.Err()
}

// UnreadNotification is what counting unread groups needs of one.
type UnreadNotification struct {
	ID       int64
	Type     string
	GroupKey string
}

// UnreadNotifications lists, oldest first, at most limit of viewer's
// notifications shown under f with ids above after.
func (s *Store) UnreadNotifications(ctx context.Context, viewer int64, f NotificationFilter, after int64, limit int) ([]UnreadNotification, error) {
	shown, sargs := notificationShownSQL(viewer)
	fq, fargs := notificationFilterSQL(f)
	q := `SELECT n.id, n.type, COALESCE(n.group_key, '') FROM notifications n LEFT JOIN statuses s ON s.id = n.status_id
		WHERE n.account_id = ? AND n.id > ? AND ` + shown + fq + ` ORDER BY n.id ASC LIMIT CAST(? AS INTEGER)`
	args := append(append(append([]any{viewer, after}, sargs...), fargs...), limit)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("unread notifications: %w", err)
	}
	defer rows.Close()
	var out []UnreadNotification
	for rows.Next() {
		var u UnreadNotification
		if err := rows.Scan(&u.ID, &u.Type, &u.GroupKey); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DismissNotificationGroup deletes viewer's notifications of a group:
// those with the key, or (id != 0) the one ungrouped notification.
func (s *Store) DismissNotificationGroup(ctx context.Context, viewer int64, key string, id int64) error {
	q, args := `DELETE FROM notifications WHERE account_id = ? AND group_key = ?`, []any{viewer, key}
	if id != 0 {
		q, args = `DELETE FROM notifications WHERE account_id = ? AND id = ?`, []any{viewer, id}
	}
	if _, err := s.write.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("dismiss notification group: %w", err)
	}
	return nil
}
