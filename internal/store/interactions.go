package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Mark is a favourite, bookmark or pin.
type Mark string

const (
	Favourite Mark = "favourites"
	Bookmark  Mark = "bookmarks"
	Pin       Mark = "pins"
)

// AddMark records a mark; created is false when it already existed. A
// favourite also counts on the status. uri names a remote favourite (its
// Like's id); jobs are enqueued with a new mark.
func (s *Store) AddMark(ctx context.Context, m Mark, id, account, status int64, at time.Time, jobs ...NewJob) (created bool, err error) {
	return s.addMark(ctx, m, id, account, status, "", at, jobs)
}

// AddRemoteFavourite records a remote account's favourite, named by its
// Like's id.
func (s *Store) AddRemoteFavourite(ctx context.Context, id, account, status int64, uri string, at time.Time) (created bool, err error) {
	return s.addMark(ctx, Favourite, id, account, status, uri, at, nil)
}

func (s *Store) addMark(ctx context.Context, m Mark, id, account, status int64, uri string, at time.Time, jobs []NewJob) (created bool, err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", m, err)
	}
	defer tx.Rollback()
	q, args := `INSERT INTO `+string(m)+` (id, account_id, status_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, []any{id, account, status, ms(at)}
	if uri != "" {
		q, args = `INSERT INTO favourites (id, account_id, status_id, created_at, uri) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, append(args, uri)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("%s: %w", m, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if m == Favourite {
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET favourites_count = favourites_count + 1 WHERE id = ?`, status); err != nil {
			return false, fmt.Errorf("%s: %w", m, err)
		}
	}
	if err := enqueueAll(ctx, tx, jobs, at); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// RemoveMark deletes a mark if present; jobs are enqueued when it was.
func (s *Store) RemoveMark(ctx context.Context, m Mark, account, status int64, jobs ...NewJob) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", m, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM `+string(m)+` WHERE account_id = ? AND status_id = ?`, account, status)
	if err != nil {
		return fmt.Errorf("%s: %w", m, err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		return tx.Commit()
	}
	if m == Favourite {
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET favourites_count = CASE WHEN favourites_count > 0 THEN favourites_count - 1 ELSE 0 END WHERE id = ?`, status); err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE from_account_id = ? AND status_id = ? AND type = 'favourite'`, account, status); err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
	}
	if err := enqueueAll(ctx, tx, jobs, time.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

// CountPins counts an account's pinned statuses.
func (s *Store) CountPins(ctx context.Context, account int64) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM pins WHERE account_id = ?`, account).Scan(&n)
	return n, err
}

// ReblogBy finds account's reblog of status (ErrNotFound when none).
func (s *Store) ReblogBy(ctx context.Context, account, status int64) (*Status, error) {
	return scanStatus(s.read.QueryRowContext(ctx, `SELECT `+statusCols+` FROM statuses s WHERE s.reblog_of_id = ? AND s.account_id = ?`, status, account))
}

// ReblogsOf lists up to limit reblogs of status (id, author, visibility),
// which its deletion takes with it.
func (s *Store) ReblogsOf(ctx context.Context, status int64, limit int) ([]Status, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, account_id, visibility FROM statuses INDEXED BY statuses_reblog
		WHERE reblog_of_id = ? LIMIT ?`, status, limit)
	if err != nil {
		return nil, fmt.Errorf("reblogs of %d: %w", status, err)
	}
	defer rows.Close()
	var out []Status
	for rows.Next() {
		var st Status
		if err := rows.Scan(&st.ID, &st.AccountID, &st.Visibility); err != nil {
			return nil, err
		}
		st.ReblogOfID = status
		out = append(out, st)
	}
	return out, rows.Err()
}

// ViewerFlags are what one viewer has done to a status.
type ViewerFlags struct {
	Favourited, Reblogged, Bookmarked, Pinned, Muted bool
}

// mark sets the flag a flags query's kind column names ('f', 'b', 'p', 'r',
// 'm').
func (f *ViewerFlags) mark(kind string) {
	switch kind {
	case "f":
		f.Favourited = true
	case "b":
		f.Bookmarked = true
	case "p":
		f.Pinned = true
	case "r":
		f.Reblogged = true
	case "m":
		f.Muted = true
	}
}

// ViewerFlagsFor reports viewer's marks on each status id.
func (s *Store) ViewerFlagsFor(ctx context.Context, viewer int64, ids []int64) (map[int64]ViewerFlags, error) {
	out := map[int64]ViewerFlags{}
	if viewer == 0 || len(ids) == 0 {
		return out, nil
	}
	in, list := inList(ids)
	// Muted: a status in a thread viewer muted (mutedThreadsCTE).
	with, args := mutedThreadsCTE(in, list)
	q := with + `SELECT status_id, 'f' FROM favourites WHERE account_id = ? AND status_id IN ` + in + `
		UNION ALL SELECT status_id, 'b' FROM bookmarks WHERE account_id = ? AND status_id IN ` + in + `
		UNION ALL SELECT status_id, 'p' FROM pins WHERE account_id = ? AND status_id IN ` + in + `
		UNION ALL SELECT reblog_of_id, 'r' FROM statuses WHERE account_id = ? AND reblog_of_id IN ` + in + `
		UNION ALL ` + mutedFlagSQL
	for range 4 {
		args = append(append(args, viewer), list...)
	}
	args = append(args, viewer)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("viewer flags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind string
		if err := rows.Scan(&id, &kind); err != nil {
			return nil, err
		}
		f := out[id]
		f.mark(kind)
		out[id] = f
	}
	return out, rows.Err()
}

// StatusAccounts lists who favourited or reblogged a status, newest first by
// the row's id (the cursor), hiding accounts that block or are blocked by
// viewer and disabled or pending ones.
func (s *Store) StatusAccounts(ctx context.Context, viewer, status int64, reblogs bool, p Page) (accountIDs, cursors []int64, err error) {
	table, statusCol := "favourites", "status_id"
	if reblogs {
		table, statusCol = "statuses", "reblog_of_id"
	}
	where, args, order := pageSQL("x.id", p)
	q := `SELECT x.id, x.account_id FROM ` + table + ` x WHERE x.` + statusCol + ` = ? AND ` + where + `
		AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = x.account_id AND b.target_account_id = ?) OR (b.account_id = ? AND b.target_account_id = x.account_id))
		AND ` + accountShownSQL("x.account_id")
	all := append(append([]any{status}, args...), viewer, viewer)
	if reblogs {
		// A reblog is a status of its own: a followers-only reblog is listed only to whom it is visible.
		vis, vargs := visibleSQL("x", viewer)
		q += ` AND ` + vis
		all = append(all, vargs...)
	}
	q += ` ORDER BY ` + order + limitSQL
	rows, err := s.read.QueryContext(ctx, q, append(all, limitArg(p))...)
	if err != nil {
		return nil, nil, fmt.Errorf("status accounts: %w", err)
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

// MentionedAccounts returns the accounts mentioned in each status.
func (s *Store) MentionedAccounts(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT status_id, account_id FROM mentions WHERE status_id IN `+in+` ORDER BY status_id, account_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("mentions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st, a int64
		if err := rows.Scan(&st, &a); err != nil {
			return nil, err
		}
		out[st] = append(out[st], a)
	}
	return out, rows.Err()
}

// StatusTags returns the tag names of each status.
func (s *Store) StatusTags(ctx context.Context, ids []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT st.status_id, t.name FROM status_tags st JOIN tags t ON t.id = st.tag_id
		WHERE st.status_id IN `+in+` ORDER BY st.status_id, t.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("status tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st int64
		var name string
		if err := rows.Scan(&st, &name); err != nil {
			return nil, err
		}
		out[st] = append(out[st], name)
	}
	return out, rows.Err()
}

// AccountStats are the counters of the Account entity.
type AccountStats struct {
	Statuses, Followers, Following int64
	LastStatusAt                   time.Time // zero when none
	FollowRequests                 int64
}

// StatsFor reads the counters of accounts. They are kept on write (the
// account_stats triggers), so this is one primary-key lookup per account,
// whatever the accounts have posted.
func (s *Store) StatsFor(ctx context.Context, ids []int64) (map[int64]AccountStats, error) {
	out := map[int64]AccountStats{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT account_id, statuses_count, followers_count, following_count, last_status_at,
		follow_requests_count FROM account_stats WHERE account_id IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("account stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, last int64
		var st AccountStats
		if err := rows.Scan(&id, &st.Statuses, &st.Followers, &st.Following, &last, &st.FollowRequests); err != nil {
			return nil, err
		}
		if last > 0 {
			st.LastStatusAt = fromMs(last)
		}
		out[id] = st
	}
	return out, rows.Err()
}

// ViewerFlagsForMany is ViewerFlagsFor for many viewers at once (a
// streamed status's subscribers): one statement, a seek per viewer and
// table, viewer → status → flags. Viewers with no flag are absent.
func (s *Store) ViewerFlagsForMany(ctx context.Context, viewers, ids []int64) (map[int64]map[int64]ViewerFlags, error) {
	out := map[int64]map[int64]ViewerFlags{}
	if len(viewers) == 0 || len(ids) == 0 {
		return out, nil
	}
	who, err := json.Marshal(viewers)
	if err != nil {
		return nil, err
	}
	in, list := inList(ids)
	with, args := mutedThreadsCTE(in, list)
	q := with + `SELECT v.value, x.status_id, 'f' FROM json_each(?) v JOIN favourites x ON x.account_id = v.value AND x.status_id IN ` + in + `
		UNION ALL SELECT v.value, x.status_id, 'b' FROM json_each(?) v JOIN bookmarks x ON x.account_id = v.value AND x.status_id IN ` + in + `
		UNION ALL SELECT v.value, x.status_id, 'p' FROM json_each(?) v JOIN pins x ON x.account_id = v.value AND x.status_id IN ` + in + `
		UNION ALL SELECT v.value, x.reblog_of_id, 'r' FROM json_each(?) v JOIN statuses x ON x.account_id = v.value AND x.reblog_of_id IN ` + in + `
		UNION ALL ` + mutedFlagsManySQL
	for range 4 {
		args = append(append(args, string(who)), list...)
	}
	args = append(args, string(who))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("viewers' flags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var viewer, id int64
		var kind string
		if err := rows.Scan(&viewer, &id, &kind); err != nil {
			return nil, err
		}
		m := out[viewer]
		if m == nil {
			m = map[int64]ViewerFlags{}
			out[viewer] = m
		}
		f := m[id]
		f.mark(kind)
		m[id] = f
	}
	return out, rows.Err()
}
