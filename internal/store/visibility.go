package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Visibility of a status.
type Visibility int

const (
	Public   Visibility = 0
	Unlisted Visibility = 1
	Private  Visibility = 2 // followers and mentioned accounts
	Direct   Visibility = 3 // mentioned accounts only
)

// The visibility rule lives here, once, as SQL, and every read path of
// statuses — single status, context, timelines, account statuses, search,
// notifications, favourites, bookmarks — filters with it. viewer 0 is an
// anonymous visitor.
//
// A status is visible when its author is usable (not disabled, pending or
// suspended), neither side blocks the other, and: it is public or unlisted,
// or the viewer wrote it, or it is private and the viewer follows the author, or the
// viewer is mentioned in it. A reblog is visible only when the reblogged
// status is visible too.
func visibleSQL(s string, viewer int64) (string, []any) {
	q := visibleSQLFor(s, "?")
	args := make([]any, strings.Count(q, "?"))
	for i := range args {
		args[i] = viewer
	}
	return q, args
}

// visibleSQLFor is the rule with the viewer as the SQL expression v (a
// bound parameter, or a column when one statement asks for many viewers).
func visibleSQLFor(s, v string) string {
	unseen := strings.ReplaceAll(unseenAccountsSQL, "?", v)
	one := `(` + s + `.visibility IN (0, 1)
		OR ` + s + `.account_id = ` + v + `
		OR (` + s + `.visibility = 2 AND EXISTS (SELECT 1 FROM follows vf WHERE vf.account_id = ` + v + ` AND vf.target_account_id = ` + s + `.account_id))
		OR EXISTS (SELECT 1 FROM mentions vm WHERE vm.status_id = ` + s + `.id AND vm.account_id = ` + v + `))
		AND ` + s + `.account_id NOT IN ` + unseen
	// The reblogged status, when there is one, must pass the same rule.
	orig := `(` + s + `.reblog_of_id IS NULL OR EXISTS (SELECT 1 FROM statuses vo WHERE vo.id = ` + s + `.reblog_of_id AND ` +
		`(vo.visibility IN (0, 1) OR vo.account_id = ` + v + ` OR (vo.visibility = 2 AND EXISTS (SELECT 1 FROM follows vf2 WHERE vf2.account_id = ` + v + ` AND vf2.target_account_id = vo.account_id)))
		AND vo.account_id NOT IN ` + unseen + `))`
	return "(" + one + ") AND " + orig
}

// GoneStatus is what the visibility rule needs of a deleted status, taken
// before its row went.
type GoneStatus struct {
	Author     int64
	Visibility Visibility
	Mentioned  []int64
	// For a reblog, the reblogged status's id, author and visibility: it
	// may be gone too (its deletion takes its reblogs).
	ReblogOf       int64
	OrigAuthor     int64
	OrigVisibility Visibility
}

// MaySeeGone lists those of viewers who could see a status that is now
// deleted: the same rule, applied to what the deletion kept of it (its
// mentions, and for a reblog the reblogged status, stand in for the
// tables' rows, which went with it).
func (s *Store) MaySeeGone(ctx context.Context, g GoneStatus, viewers []int64) ([]int64, error) {
	return s.maySeeGone(ctx, g, viewers, "")
}

// MayHaveHadGoneAtHome is MaySeeGone narrowed to the home timelines the
// status could have been on: its author's, the accounts it mentioned, and
// its author's followers' (a deletion on a home stream goes to those, not
// to everyone who could have looked the status up).
func (s *Store) MayHaveHadGoneAtHome(ctx context.Context, g GoneStatus, viewers []int64) ([]int64, error) {
	return s.maySeeGone(ctx, g, viewers, ` AND (v.value = g.account_id
		OR EXISTS (SELECT 1 FROM mentions m WHERE m.account_id = v.value)
		OR EXISTS (SELECT 1 FROM follows f WHERE f.account_id = v.value AND f.target_account_id = g.account_id))`)
}

func (s *Store) maySeeGone(ctx context.Context, g GoneStatus, viewers []int64, and string) ([]int64, error) {
	if len(viewers) == 0 {
		return nil, nil
	}
	mentioned, err := json.Marshal(append([]int64{}, g.Mentioned...))
	if err != nil {
		return nil, err
	}
	who, err := json.Marshal(viewers)
	if err != nil {
		return nil, err
	}
	// The reblogged status stands in for its row too, which may be gone.
	ids, err := s.queryIDs(ctx, `WITH mentions(status_id, account_id) AS (SELECT 0, m.value FROM json_each(?) m),
			statuses(id, account_id, visibility) AS (SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))
		SELECT v.value FROM json_each(?) v,
			(SELECT 0 AS id, CAST(? AS BIGINT) AS account_id, CAST(? AS BIGINT) AS visibility, NULLIF(CAST(? AS BIGINT), 0) AS reblog_of_id) g
		WHERE `+visibleSQLFor("g", "v.value")+and, string(mentioned), g.ReblogOf, g.OrigAuthor, int(g.OrigVisibility),
		string(who), g.Author, int(g.Visibility), g.ReblogOf)
	if err != nil {
		return nil, fmt.Errorf("who saw a deleted status: %w", err)
	}
	return ids, nil
}

// unseenAccountsSQL is the accounts whose statuses the viewer (both ? are
// the viewer) never sees: those the viewer blocks or is blocked by, and
// disabled, pending or suspended ones. It is not correlated with the row, so SQLite
// builds it once per statement (a few index seeks, usually empty) and checks
// each row against it, rather than seeking blocks and users again for every
// status a timeline walks.
const unseenAccountsSQL = `(SELECT vb.target_account_id FROM blocks vb WHERE vb.account_id = ?
		UNION ALL SELECT vb.account_id FROM blocks vb WHERE vb.target_account_id = ?
		UNION ALL SELECT vu.account_id FROM users vu INDEXED BY users_hidden WHERE vu.disabled = 1 OR vu.approved = 0
		UNION ALL ` + suspendedAccountsSelect + `)`

// suspendedAccountsSelect is the accounts the staff suspended, local or
// remote: hidden from everyone, with all they wrote and did, until
// unsuspended (a seek of the partial index accounts_suspended).
const suspendedAccountsSelect = `SELECT vs.id FROM accounts vs INDEXED BY accounts_suspended WHERE vs.suspended_at <> 0`

// accountShownSQL is the same rule for one account (the SQL expression
// col) where a list shows accounts or what they did (followers, favourites,
// notifications, search...): not disabled, pending or suspended.
func accountShownSQL(col string) string {
	return `NOT EXISTS (SELECT 1 FROM users u WHERE u.account_id = ` + col + ` AND (u.disabled = 1 OR u.approved = 0))
		AND NOT EXISTS (SELECT 1 FROM accounts su WHERE su.id = ` + col + ` AND su.suspended_at <> 0)`
}

// notMutedSQL hides statuses (and reblogs) by accounts the viewer mutes,
// and by the accounts of domains the viewer blocks (Mastodon's user-level
// domain blocks), in lists: timelines, context, search. Such a status stays
// reachable by its own URL, as on Mastodon. Like unseenAccountsSQL, the
// hidden accounts are read once per statement.
func notMutedSQL(s string, viewer int64) (string, []any) {
	q := notMutedSQLFor(s, "?")
	args := make([]any, strings.Count(q, "?"))
	for i := range args {
		args[i] = viewer
	}
	return q, args
}

// domainBlockedAccountsSQL is the accounts of the domains viewer v (an SQL
// expression) blocks: a seek of v's blocks, then of each domain's accounts
// (accounts_domain_username). INDEXED BY keeps SQLite from weighing the
// accounts' partial indexes against the bound viewer, which made it
// prepare the timelines again whenever the viewer changed.
func domainBlockedAccountsSQL(v string) string { return `(` + domainBlockedSelect(v) + `)` }

func domainBlockedSelect(v string) string {
	return `SELECT da.id FROM accounts da INDEXED BY accounts_domain_username WHERE da.domain IN (SELECT db.domain FROM account_domain_blocks db WHERE db.account_id = ` + v + `)`
}

// notMutedSQLFor is notMutedSQL with the viewer as the SQL expression v.
func notMutedSQLFor(s, v string) string {
	muted := `(SELECT mm.target_account_id FROM mutes mm WHERE mm.account_id = ` + v + `
		UNION ALL ` + domainBlockedSelect(v) + `)`
	return s + `.account_id NOT IN ` + muted + ` AND (` + s + `.reblog_of_id IS NULL
		OR (SELECT mo.account_id FROM statuses mo WHERE mo.id = ` + s + `.reblog_of_id) NOT IN ` + muted + `)`
}
