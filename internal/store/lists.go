package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// List is one of an account's lists.
type List struct {
	ID            int64
	AccountID     int64
	Title         string
	RepliesPolicy string // followed, list or none (Mastodon's names)
	Exclusive     bool
	CreatedAt     time.Time
}

// Errors of the lists, endorsements and domain blocks an account keeps.
var (
	// ErrNotFollowed: the account is not followed by the list's owner (or
	// the endorser), which lists and endorsements require.
	ErrNotFollowed = errors.New("account is not followed")
	// ErrAlreadyThere: the account is on the list already.
	ErrAlreadyThere = errors.New("account is on the list already")
	// ErrLimitReached: the account has as many as it may.
	ErrLimitReached = errors.New("limit reached")
)

const listCols = `l.id, l.account_id, l.title, l.replies_policy, l.exclusive, l.created_at`

func scanList(row interface{ Scan(...any) error }) (List, error) {
	var l List
	var created int64
	err := row.Scan(&l.ID, &l.AccountID, &l.Title, &l.RepliesPolicy, &l.Exclusive, &created)
	l.CreatedAt = fromMs(created)
	return l, err
}

func (s *Store) queryLists(ctx context.Context, what, q string, args ...any) ([]List, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []List{}
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// CreateList stores a new list unless its owner has max lists already
// (ErrLimitReached).
func (s *Store) CreateList(ctx context.Context, l *List, max int) error {
	res, err := s.write.ExecContext(ctx, `INSERT INTO lists (id, account_id, title, replies_policy, exclusive, created_at)
		SELECT ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM lists WHERE account_id = ?) < ?`,
		l.ID, l.AccountID, l.Title, l.RepliesPolicy, boolInt(l.Exclusive), ms(l.CreatedAt), l.AccountID, max)
	if err != nil {
		return fmt.Errorf("create list: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLimitReached
	}
	return nil
}

// Lists are owner's lists, oldest first.
func (s *Store) Lists(ctx context.Context, owner int64) ([]List, error) {
	return s.queryLists(ctx, "lists", `SELECT `+listCols+` FROM lists l WHERE l.account_id = ? ORDER BY l.id`, owner)
}

// ListByID loads one of owner's lists; another's is ErrNotFound.
func (s *Store) ListByID(ctx context.Context, owner, id int64) (*List, error) {
	l, err := scanList(s.read.QueryRowContext(ctx, `SELECT `+listCols+` FROM lists l WHERE l.id = ? AND l.account_id = ?`, id, owner))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("list %d: %w", id, err)
	}
	return &l, nil
}

// UpdateList saves a list's title and settings (l.AccountID must own it).
func (s *Store) UpdateList(ctx context.Context, l *List) error {
	res, err := s.write.ExecContext(ctx, `UPDATE lists SET title = ?, replies_policy = ?, exclusive = ? WHERE id = ? AND account_id = ?`,
		l.Title, l.RepliesPolicy, boolInt(l.Exclusive), l.ID, l.AccountID)
	return expectOne(res, err, "update list")
}

// DeleteList deletes one of owner's lists (its members with it).
func (s *Store) DeleteList(ctx context.Context, owner, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM lists WHERE id = ? AND account_id = ?`, id, owner)
	return expectOne(res, err, "delete list")
}

// AddListAccounts puts accounts on one of owner's lists, all or none: each
// must be followed by owner (ErrNotFollowed) and not on it already
// (ErrAlreadyThere), and the list may hold at most max
// (ErrLimitReached). ids are the memberships' ids, one per account.
func (s *Store) AddListAccounts(ctx context.Context, owner, list int64, accounts, ids []int64, max int) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add to list: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM lists WHERE id = ? AND account_id = ?`, list, owner).Scan(&n); err != nil {
		return fmt.Errorf("add to list: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	for i, a := range accounts {
		res, err := tx.ExecContext(ctx, `INSERT INTO list_accounts (id, list_id, account_id)
			SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM follows WHERE account_id = ? AND target_account_id = ?)
			ON CONFLICT (list_id, account_id) DO NOTHING`, ids[i], list, a, owner, a)
		if err != nil {
			return fmt.Errorf("add to list: %w", err)
		}
		if added, _ := res.RowsAffected(); added == 0 {
			var member int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM list_accounts WHERE list_id = ? AND account_id = ?`, list, a).Scan(&member); err != nil {
				return fmt.Errorf("add to list: %w", err)
			}
			if member > 0 {
				return ErrAlreadyThere
			}
			return ErrNotFollowed
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM list_accounts WHERE list_id = ?`, list).Scan(&n); err != nil {
		return fmt.Errorf("add to list: %w", err)
	}
	if n > max {
		return ErrLimitReached
	}
	return tx.Commit()
}

// RemoveListAccounts takes accounts off one of owner's lists (those not on
// it are ignored).
func (s *Store) RemoveListAccounts(ctx context.Context, owner, list int64, accounts []int64) error {
	if _, err := s.ListByID(ctx, owner, list); err != nil {
		return err
	}
	for chunk := range slices.Chunk(accounts, maxPaddedList) {
		in, args := inList(chunk)
		if _, err := s.write.ExecContext(ctx, `DELETE FROM list_accounts WHERE list_id = ? AND account_id IN `+in, append([]any{list}, args...)...); err != nil {
			return fmt.Errorf("remove from list: %w", err)
		}
	}
	return nil
}

// ListAccounts pages the members of one of owner's lists, newest
// membership first (cursors are the memberships' ids); all ignores the
// page and returns every member. Disabled and pending accounts are left
// out, as everywhere.
func (s *Store) ListAccounts(ctx context.Context, owner, list int64, p Page, all bool) (accounts, cursors []int64, err error) {
	where, args, order := pageSQL("la.id", p)
	limit := limitArg(p)
	if all {
		p = Page{}
		where, args, order, limit = "1 = 1", nil, "la.id DESC", maxListAccountsRead
	}
	q := `SELECT la.id, la.account_id FROM lists l CROSS JOIN list_accounts la INDEXED BY list_accounts_page
		WHERE l.id = ? AND l.account_id = ? AND la.list_id = l.id AND ` + where + `
		AND ` + accountShownSQL("la.account_id") + `
		ORDER BY ` + order + limitSQL
	rows, err := s.read.QueryContext(ctx, q, append(append([]any{list, owner}, args...), limit)...)
	if err != nil {
		return nil, nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, a int64
		if err := rows.Scan(&c, &a); err != nil {
			return nil, nil, err
		}
		cursors, accounts = append(cursors, c), append(accounts, a)
	}
	return newestFirst(p, accounts), newestFirst(p, cursors), rows.Err()
}

// maxListAccountsRead bounds an unpaged read of a list's members; the
// service's limit on a list's size is below it.
const maxListAccountsRead = 1000

// AccountLists are those of owner's lists that hold account, oldest first.
func (s *Store) AccountLists(ctx context.Context, owner, account int64) ([]List, error) {
	return s.queryLists(ctx, "account lists", `SELECT `+listCols+` FROM list_accounts la CROSS JOIN lists l
		WHERE la.account_id = ? AND l.id = la.list_id AND l.account_id = ? ORDER BY l.id`, account, owner)
}

// ListTimeline lists the statuses (and reblogs) of the members of one of
// viewer's lists, newest first; another's list is ErrNotFound. It is read
// from the members' statuses (each a walk of statuses_account from the
// page's bound, as the home timeline reads the accounts it pulls), held to
// what the home timeline holds a followee's status to (pulledOnlySQL: a
// member is followed), to the list's replies policy, and to the
// visibility and mute rules.
func (s *Store) ListTimeline(ctx context.Context, viewer, list int64, p Page) ([]int64, error) {
	// The list and its members, in one statement: a list without members
	// is one row with member 0.
	rows, err := s.read.QueryContext(ctx, `SELECT COALESCE(la.account_id, 0) FROM lists l
		LEFT JOIN list_accounts la ON la.list_id = l.id WHERE l.id = ? AND l.account_id = ?`, list, viewer)
	if err != nil {
		return nil, fmt.Errorf("list timeline: %w", err)
	}
	var members []int64
	found := false
	for rows.Next() {
		var m int64
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list timeline: %w", err)
		}
		found = true
		if m != 0 {
			members = append(members, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list timeline: %w", err)
	}
	if !found {
		return nil, ErrNotFound
	}
	var out []int64
	for chunk := range slices.Chunk(members, pulledPerStatement) {
		q, args := listTimelineSQL(viewer, list, padded(chunk), p)
		ids, err := s.queryIDs(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list timeline: %w", err)
		}
		out = mergePage(out, ids, p)
	}
	return newestFirst(p, out), nil
}

// listRepliesSQLFor is the replies policy of list l (an SQL expression)
// for a status s on viewer v's (an SQL expression) list timeline, as
// Mastodon's FeedManager applies it: a status that is no reply, a reply to
// its own author (a thread) or to the list's owner always passes;
// otherwise a reply passes under "followed" when the owner follows whom it
// answers, under "list" when that account is on the list, and never under
// "none". The policy is read from the list's row, not bound: a bound value
// compared with a constant would make SQLite prepare the statement again
// whenever it changed.
func listRepliesSQLFor(v, l string) string {
	return `(s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id OR s.in_reply_to_account_id = ` + v + `
		OR EXISTS (SELECT 1 FROM lists rp CROSS JOIN list_accounts rl WHERE rp.id = ` + l + ` AND rp.replies_policy = 'list'
			AND rl.list_id = rp.id AND rl.account_id = s.in_reply_to_account_id)
		OR EXISTS (SELECT 1 FROM lists rp CROSS JOIN follows rf WHERE rp.id = ` + l + ` AND rp.replies_policy = 'followed'
			AND rf.account_id = ` + v + ` AND rf.target_account_id = s.in_reply_to_account_id))`
}

func listTimelineSQL(viewer, list int64, members []int64, p Page) (string, []any) {
	where, pargs, order := pageSQL("s.id", p)
	vis, vargs := visibleSQL("s", viewer)
	mute, margs := notMutedSQL("s", viewer)
	var q strings.Builder
	var args []any
	for i, id := range members {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(`SELECT id FROM (SELECT s.id FROM follows f CROSS JOIN statuses s INDEXED BY statuses_account
			WHERE f.account_id = ? AND f.target_account_id = ? AND s.account_id = f.target_account_id
			AND ` + where + ` AND ` + pulledOnlySQL + ` AND ` + listRepliesSQLFor("?", "?") + ` AND ` + vis + ` AND ` + mute + ` ORDER BY ` + order + limitSQL + `) p`)
		args = append(append(args, viewer, id), pargs...)
		args = append(args, viewer, list, list, viewer)
		args = append(append(append(args, vargs...), margs...), limitArg(p))
	}
	return q.String(), args
}

// ListAudience lists those of viewers whose list timeline list has status
// id: the list stream's question, ListTimeline's rule (a member's status
// as a followee's, the replies policy, visibility and mutes) for all its
// subscribers in one statement (only the list's owner can pass).
func (s *Store) ListAudience(ctx context.Context, id, list int64, viewers []int64) ([]int64, error) {
	if len(viewers) == 0 {
		return nil, nil
	}
	who, err := json.Marshal(viewers)
	if err != nil {
		return nil, err
	}
	ids, err := s.queryIDs(ctx, `SELECT v.value FROM statuses s CROSS JOIN json_each(?) v CROSS JOIN lists l WHERE s.id = ? AND l.id = ?
		AND l.account_id = v.value AND EXISTS (SELECT 1 FROM list_accounts la WHERE la.list_id = l.id AND la.account_id = s.account_id)
		AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = v.value AND f.target_account_id = s.account_id AND `+pulledOnlySQL+`)
		AND `+listRepliesSQLFor("v.value", "l.id")+` AND `+visibleSQLFor("s", "v.value")+` AND `+notMutedSQLFor("s", "v.value"), string(who), id, list)
	if err != nil {
		return nil, fmt.Errorf("list audience: %w", err)
	}
	return ids, nil
}

// notExclusiveSQLFor keeps a status s out of viewer v's (an SQL
// expression) home timeline when its author is on one of v's exclusive
// lists (Mastodon 4.2): the one predicate both of the home timeline's
// paths (home_feed's rows and the pulled accounts) and its stream hold
// statuses to. Like the mute rule, the accounts are read once per
// statement.
func notExclusiveSQLFor(s, v string) string {
	return s + `.account_id NOT IN (SELECT xa.account_id FROM lists xl CROSS JOIN list_accounts xa
		WHERE xl.account_id = ` + v + ` AND xl.exclusive = 1 AND xa.list_id = xl.id)`
}
