package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// HomeTimeline lists status ids of viewer's home timeline, newest first.
// Its rows are home_feed's (a walk of its primary key from the page's
// bound), merged with the statuses of the followed accounts whose posts are
// read here rather than written to every follower (fanOutOnReadFollowers).
func (s *Store) HomeTimeline(ctx context.Context, viewer int64, p Page) ([]int64, error) {
	q, args := homeTimelineSQL(viewer, p)
	ids, err := s.queryIDs(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("home timeline: %w", err)
	}
	var more []int64
	if len(ids) == int(limitArg(p)) {
		// home_feed filled the page, so nothing past its last row can be on
		// it: the pulled accounts are read only up to there, which is
		// usually one seek each that finds nothing.
		q, args := pulledWithinSQL(viewer, ids[len(ids)-1], p)
		more, err = s.queryIDs(ctx, q, args...)
	} else {
		more, err = s.pulledPages(ctx, viewer, p)
	}
	if err != nil {
		return nil, fmt.Errorf("home timeline: %w", err)
	}
	if len(more) > 0 {
		ids = mergePage(ids, more, p)
	}
	return newestFirst(p, ids), nil
}

func homeTimelineSQL(viewer int64, p Page) (string, []any) {
	where, args, order := pageSQL("h.status_id", p)
	vis, vargs := visibleSQL("s", viewer)
	mute, margs := notMutedSQL("s", viewer)
	q := `SELECT h.status_id FROM home_feed h JOIN statuses s ON s.id = h.status_id
		WHERE h.account_id = ? AND ` + where + ` AND ` + vis + ` AND ` + mute + ` AND ` + notExclusiveSQLFor("s", "?") + ` ORDER BY ` + order + limitSQL
	return q, append(append(append(append(append([]any{viewer}, args...), vargs...), margs...), viewer), limitArg(p))
}

// pulledFilterSQL is what keeps a pulled followee's status out of a
// follower's home timeline, as the written rows would have: a direct status
// (it reaches its mentioned accounts' home_feed), a reblog for a follower
// who hides them, and whatever the visibility, mute and exclusive-list
// rules hide. Read now, show_reblogs also decides for reblogs made before
// it changed.
func pulledFilterSQL(viewer int64) (string, []any) {
	vis, vargs := visibleSQL("s", viewer)
	mute, margs := notMutedSQL("s", viewer)
	return pulledOnlySQL + ` AND ` + vis + ` AND ` + mute + ` AND ` + notExclusiveSQLFor("s", "?"), append(append(vargs, margs...), viewer)
}

// pulledOnlySQL is what keeps a pulled followee's status s (followed
// through f) out of a home timeline beyond the visibility and mute rules.
const pulledOnlySQL = `s.visibility != 3 AND (s.reblog_of_id IS NULL OR f.show_reblogs = 1)`

// HomeAudience lists those of viewers whose home timeline has status id:
// the streams' question, for all their subscribers in one statement. It is
// HomeTimeline's rule: a written home_feed row, or a marked followee's
// status as pulledFilterSQL lets it through; visible, not muted, not by a
// member of an exclusive list.
func (s *Store) HomeAudience(ctx context.Context, id int64, viewers []int64) ([]int64, error) {
	if len(viewers) == 0 {
		return nil, nil
	}
	who, err := json.Marshal(viewers)
	if err != nil {
		return nil, err
	}
	ids, err := s.queryIDs(ctx, `SELECT v.value FROM statuses s CROSS JOIN json_each(?) v WHERE s.id = ?
		AND (EXISTS (SELECT 1 FROM home_feed h WHERE h.account_id = v.value AND h.status_id = s.id)
			OR EXISTS (SELECT 1 FROM accounts a CROSS JOIN follows f WHERE a.id = s.account_id AND a.fanout_on_read = 1
				AND f.account_id = v.value AND f.target_account_id = a.id AND `+pulledOnlySQL+`))
		AND `+visibleSQLFor("s", "v.value")+` AND `+notMutedSQLFor("s", "v.value")+` AND `+notExclusiveSQLFor("s", "v.value"), string(who), id)
	if err != nil {
		return nil, fmt.Errorf("home audience: %w", err)
	}
	return ids, nil
}

// DirectAudience lists those of viewers who may see status id when it is
// direct (its author and the accounts it mentions, under the one rule).
func (s *Store) DirectAudience(ctx context.Context, id int64, viewers []int64) ([]int64, error) {
	if len(viewers) == 0 {
		return nil, nil
	}
	who, err := json.Marshal(viewers)
	if err != nil {
		return nil, err
	}
	ids, err := s.queryIDs(ctx, `SELECT v.value FROM statuses s CROSS JOIN json_each(?) v WHERE s.id = ? AND s.visibility = 3
		AND `+visibleSQLFor("s", "v.value"), string(who), id)
	if err != nil {
		return nil, fmt.Errorf("direct audience: %w", err)
	}
	return ids, nil
}

// pulledWithinSQL reads viewer's pulled followees' statuses on the page and
// beyond bound (the last of home_feed's rows on it) in one statement of
// fixed text: for each marked account (the partial index
// accounts_fanout_on_read: an instance has few), a seek into viewer's
// follows, and one into that account's statuses.
func pulledWithinSQL(viewer, bound int64, p Page) (string, []any) {
	where, pargs, order := pageSQL("s.id", p)
	if p.MinID > 0 {
		where += " AND s.id < ?"
	} else {
		where += " AND s.id > ?"
	}
	filter, fargs := pulledFilterSQL(viewer)
	q := `SELECT s.id FROM accounts a INDEXED BY accounts_fanout_on_read
		CROSS JOIN follows f CROSS JOIN statuses s INDEXED BY statuses_account
		WHERE a.fanout_on_read = 1 AND f.account_id = ? AND f.target_account_id = a.id AND s.account_id = a.id
		AND ` + where + ` AND ` + filter + ` ORDER BY ` + order + limitSQL
	return q, append(append(append(append([]any{viewer}, pargs...), bound), fargs...), limitArg(p))
}

// pulledPages reads a page of each of viewer's pulled followees' statuses,
// for a page home_feed did not fill: then nothing bounds how far back they
// go, and each followee's walk stops at the page's size instead.
func (s *Store) pulledPages(ctx context.Context, viewer int64, p Page) ([]int64, error) {
	followees, err := s.queryIDs(ctx, `SELECT a.id FROM accounts a INDEXED BY accounts_fanout_on_read
		CROSS JOIN follows f WHERE a.fanout_on_read = 1 AND f.account_id = ? AND f.target_account_id = a.id`, viewer)
	if err != nil || len(followees) == 0 {
		return nil, err
	}
	var out []int64
	for chunk := range slices.Chunk(followees, pulledPerStatement) {
		q, args := pulledPagesSQL(viewer, padded(chunk), p)
		ids, err := s.queryIDs(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, ids...)
	}
	return out, nil
}

// pulledPerStatement bounds the followees one statement of pulledPages
// reads: SQLite allows 500 terms in a compound SELECT, and each count is
// a statement text of its own to prepare and keep.
const pulledPerStatement = 32

// padded repeats ids' last element up to the next power of two, so that a
// statement built on it comes in a few texts (the duplicates' rows are
// merged away).
func padded(ids []int64) []int64 {
	n := 1
	for n < len(ids) {
		n *= 2
	}
	for len(ids) < n {
		ids = append(ids, ids[len(ids)-1])
	}
	return ids
}

func pulledPagesSQL(viewer int64, followees []int64, p Page) (string, []any) {
	where, pargs, order := pageSQL("s.id", p)
	filter, fargs := pulledFilterSQL(viewer)
	var q strings.Builder
	var args []any
	for i, id := range followees {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(`SELECT id FROM (SELECT s.id FROM follows f CROSS JOIN statuses s INDEXED BY statuses_account
			WHERE f.account_id = ? AND f.target_account_id = ? AND s.account_id = f.target_account_id
			AND ` + where + ` AND ` + filter + ` ORDER BY ` + order + limitSQL + `) p`)
		args = append(append(append(append(args, viewer, id), pargs...), fargs...), limitArg(p))
	}
	return q.String(), args
}

// mergePage merges two lists of a page, each in the page's order (newest
// first, or oldest first for a min_id page), into one without duplicates
// (home_feed may hold a pulled account's older statuses), cut to the page.
func mergePage(a, b []int64, p Page) []int64 {
	seen := make(map[int64]bool, len(a)+len(b))
	out := make([]int64, 0, len(a)+len(b))
	for _, id := range append(a, b...) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if p.MinID > 0 {
		slices.Sort(out)
	} else {
		slices.SortFunc(out, func(x, y int64) int { return cmp.Compare(y, x) })
	}
	return out[:min(len(out), int(limitArg(p)))]
}

// hasMediaSQL keeps statuses with at least one attachment.
const hasMediaSQL = `EXISTS (SELECT 1 FROM media_attachments ma WHERE ma.status_id = s.id)`

// PublicFilter narrows the public and tag timelines.
type PublicFilter struct {
	LocalOnly  bool
	RemoteOnly bool
	OnlyMedia  bool   // only statuses with attachments
	Tag        string // lower case; "" for the public timeline
}

// PublicTimeline lists public (not unlisted) original statuses, newest first.
// It walks an index newest first and stops at the page's end: the partial
// indexes statuses_public_timeline and statuses_local_timeline hold only
// public originals, and a tag's statuses are the range of its status_tags
// key. The cost is the page (plus the rows the viewer may not see), whatever
// the number of statuses.
func (s *Store) PublicTimeline(ctx context.Context, viewer int64, f PublicFilter, p Page) ([]int64, error) {
	q, args := publicTimelineSQL(viewer, f, p)
	ids, err := s.queryIDs(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("public timeline: %w", err)
	}
	return newestFirst(p, ids), nil
}

func publicTimelineSQL(viewer int64, f PublicFilter, p Page) (string, []any) {
	col := "s.id"
	// INDEXED BY holds SQLite's planner to the walk: without statistics it
	// would take reblog_of_id IS NULL for a selective seek of statuses_reblog
	// and sort every public status to keep twenty.
	q := `SELECT s.id FROM statuses s INDEXED BY statuses_public_timeline`
	if f.LocalOnly || f.RemoteOnly {
		q = `SELECT s.id FROM statuses s INDEXED BY statuses_local_timeline`
	}
	var args []any
	if f.Tag != "" {
		col = "st.status_id"
		q = `SELECT st.status_id FROM status_tags st JOIN statuses s ON s.id = st.status_id`
	}
	where, pargs, order := pageSQL(col, p)
	q += ` WHERE ` + where
	args = append(args, pargs...)
	if f.Tag != "" {
		q += ` AND st.tag_id = (SELECT t.id FROM tags t WHERE t.name = ?)`
		args = append(args, f.Tag)
	}
	rules := publicRulesSQL(f, "?")
	for range strings.Count(rules, "?") {
		args = append(args, viewer)
	}
	q += ` AND ` + rules + ` ORDER BY ` + order + limitSQL
	return q, append(args, limitArg(p))
}

// publicRulesSQL is what puts a status s on the viewer v's (an SQL
// expression) public timeline f, but for its tag: a public original, with
// media or of a kind of author when f asks, not by a silenced account,
// and visible and not muted. PublicTimeline and PublicAudience both hold
// statuses to it.
func publicRulesSQL(f PublicFilter, v string) string {
	q := `s.visibility = 0 AND s.reblog_of_id IS NULL`
	if f.OnlyMedia {
		q += ` AND ` + hasMediaSQL
	}
	if f.LocalOnly {
		q += ` AND s.local = 1`
	}
	if f.RemoteOnly {
		q += ` AND s.local = 0`
	}
	// A silenced domain's accounts stay out of the public timelines (the
	// subquery is one walk of a partial index, made once per query).
	q += ` AND s.account_id NOT IN (SELECT id FROM accounts WHERE silenced = 1)`
	return q + ` AND ` + visibleSQLFor("s", v) + ` AND ` + notMutedSQLFor("s", v)
}

// PublicAudience lists those of viewers whose public timeline f has status
// id: the streams' question, for all their subscribers in one statement.
func (s *Store) PublicAudience(ctx context.Context, id int64, f PublicFilter, viewers []int64) ([]int64, error) {
	if len(viewers) == 0 {
		return nil, nil
	}
	who, err := json.Marshal(viewers)
	if err != nil {
		return nil, err
	}
	q := `SELECT v.value FROM statuses s CROSS JOIN json_each(?) v WHERE s.id = ?`
	args := []any{string(who), id}
	if f.Tag != "" {
		q += ` AND EXISTS (SELECT 1 FROM status_tags st WHERE st.status_id = s.id AND st.tag_id = (SELECT t.id FROM tags t WHERE t.name = ?))`
		args = append(args, f.Tag)
	}
	ids, err := s.queryIDs(ctx, q+` AND `+publicRulesSQL(f, "v.value"), args...)
	if err != nil {
		return nil, fmt.Errorf("public audience: %w", err)
	}
	return ids, nil
}

// AccountFilter narrows an account's statuses.
type AccountFilter struct {
	Pinned         bool
	ExcludeReplies bool
	ExcludeReblogs bool
	OnlyMedia      bool
	Tag            string
	PublicOnly     bool // for public pages: public and unlisted, no replies to others
}

// AccountStatuses lists an author's statuses visible to viewer, newest
// first: a walk of statuses_account from the page's bound.
func (s *Store) AccountStatuses(ctx context.Context, viewer, author int64, f AccountFilter, p Page) ([]int64, error) {
	q, args := accountStatusesSQL(viewer, author, f, p)
	ids, err := s.queryIDs(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("account statuses: %w", err)
	}
	return newestFirst(p, ids), nil
}

func accountStatusesSQL(viewer, author int64, f AccountFilter, p Page) (string, []any) {
	where, args, order := pageSQL("s.id", p)
	vis, vargs := visibleSQL("s", viewer)
	q := `SELECT s.id FROM statuses s WHERE s.account_id = ? AND ` + where
	if f.OnlyMedia {
		q += ` AND ` + hasMediaSQL
	}
	args = append([]any{author}, args...)
	if f.Pinned {
		q += ` AND s.id IN (SELECT pn.status_id FROM pins pn WHERE pn.account_id = s.account_id)`
	}
	if f.ExcludeReplies {
		// Replies to oneself (threads) stay, as on Mastodon.
		q += ` AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)`
	}
	if f.ExcludeReblogs {
		q += ` AND s.reblog_of_id IS NULL`
	}
	if f.PublicOnly {
		q += ` AND s.visibility IN (0, 1)`
	}
	if f.Tag != "" {
		q += ` AND s.id IN (SELECT st.status_id FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE t.name = ?)`
		args = append(args, f.Tag)
	}
	q += ` AND ` + vis + ` ORDER BY ` + order + limitSQL
	return q, append(append(args, vargs...), limitArg(p))
}

// Ancestors returns the visible statuses above id in its thread, oldest
// first: a walk up the reply chain, one lookup per step, at most limit steps.
func (s *Store) Ancestors(ctx context.Context, viewer, id int64, limit int) ([]int64, error) {
	q, args := ancestorsSQL(viewer, id, limit)
	ids, err := s.queryIDs(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("ancestors: %w", err)
	}
	return ids, nil
}

// ancestorsSQL walks from the chain to the statuses: CROSS JOIN keeps
// SQLite from reading every status and matching each against the chain (a
// full scan, 7.6 million VM steps on 100,000 statuses). The thread's order
// is the chain's, the furthest first: not the ids', since remote statuses
// take their ids from their publication time, and a reply published in the
// same second as its parent may sort before it.
func ancestorsSQL(viewer, id int64, limit int) (string, []any) {
	vis, vargs := visibleSQL("s", viewer)
	mute, margs := notMutedSQL("s", viewer)
	q := `WITH RECURSIVE up(id, depth) AS (
			SELECT in_reply_to_id, 1 FROM statuses WHERE id = ? AND in_reply_to_id IS NOT NULL
			UNION ALL
			SELECT p.in_reply_to_id, up.depth + 1 FROM statuses p JOIN up ON p.id = up.id WHERE p.in_reply_to_id IS NOT NULL AND up.depth < ?)
		SELECT s.id FROM up CROSS JOIN statuses s WHERE s.id = up.id AND ` + vis + ` AND ` + mute + ` ORDER BY up.depth DESC`
	return q, append(append([]any{id, int64(limit)}, vargs...), margs...)
}

// Descendants returns the visible replies below id, in thread order (by id):
// the first limit of them. A reply whose parent is hidden from the viewer is
// hidden too. The walk takes replies from its queue in id order (a reply's
// id is above its parent's, so the first limit taken are the first limit of
// the thread) and stops there, however large the thread; each reply taken
// reads its own direct replies, so the worst case is limit times the widest
// reply's fan-out.
func (s *Store) Descendants(ctx context.Context, viewer, id int64, limit int) ([]int64, error) {
	q, args := descendantsSQL(viewer, id, limit)
	if s.dialect == dialectPostgres {
		q, args = descendantsPostgres(viewer, id, limit)
	}
	ids, err := s.queryIDs(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("descendants: %w", err)
	}
	return ids, nil
}

func descendantsSQL(viewer, id int64, limit int) (string, []any) {
	vis, vargs := visibleSQL("s", viewer)
	mute, margs := notMutedSQL("s", viewer)
	q := `WITH RECURSIVE down(id, depth) AS (
			SELECT id, 1 FROM (SELECT s.id FROM statuses s WHERE s.in_reply_to_id = ? AND ` + vis + ` AND ` + mute + ` ORDER BY s.id LIMIT ?) r
			UNION ALL
			SELECT s.id, down.depth + 1 FROM statuses s JOIN down ON s.in_reply_to_id = down.id WHERE down.depth < 100 AND ` + vis + ` AND ` + mute + `
			ORDER BY 1 LIMIT ?)
		SELECT id FROM down ORDER BY id ASC`
	n := int64(limit)
	args := append(append(append([]any{id}, vargs...), margs...), n)
	return q, append(append(append(args, vargs...), margs...), n)
}

// descendantsPostgres is descendantsSQL for PostgreSQL, which allows no
// ORDER BY or LIMIT in a recursive query. Its recursion runs level by level
// and stops once the outer LIMIT has its rows (PostgreSQL reads a WITH query
// only as far as its reader fetches), so the cost stays bounded by limit
// the same way. Where a thread has more than limit replies, the replies kept
// are the nearest levels' rather than the lowest ids.
func descendantsPostgres(viewer, id int64, limit int) (string, []any) {
	vis, vargs := visibleSQL("s", viewer)
	mute, margs := notMutedSQL("s", viewer)
	q := `WITH RECURSIVE down(id, depth) AS (
			SELECT id, 1 FROM (SELECT s.id FROM statuses s WHERE s.in_reply_to_id = ? AND ` + vis + ` AND ` + mute + ` ORDER BY s.id LIMIT ?) r
			UNION ALL
			SELECT s.id, down.depth + 1 FROM statuses s JOIN down ON s.in_reply_to_id = down.id WHERE down.depth < 100 AND ` + vis + ` AND ` + mute + `)
		SELECT id FROM (SELECT id FROM down LIMIT ?) d ORDER BY id ASC`
	n := int64(limit)
	args := append(append(append([]any{id}, vargs...), margs...), n)
	return q, append(append(append(args, vargs...), margs...), n)
}

// MarkedStatuses lists statuses viewer favourited or bookmarked, newest mark
// first; cursors are the mark's id (returned alongside).
func (s *Store) MarkedStatuses(ctx context.Context, viewer int64, table string, p Page) (statusIDs, markIDs []int64, err error) {
	if table != "favourites" && table != "bookmarks" {
		return nil, nil, fmt.Errorf("marked statuses: unknown table %q", table)
	}
	where, args, order := pageSQL("m.id", p)
	vis, vargs := visibleSQL("s", viewer)
	q := `SELECT m.id, m.status_id FROM ` + table + ` m JOIN statuses s ON s.id = m.status_id WHERE m.account_id = ? AND ` + where +
		` AND ` + vis + ` ORDER BY ` + order + limitSQL
	rows, err := s.read.QueryContext(ctx, q, append(append(append([]any{viewer}, args...), vargs...), limitArg(p))...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m, st int64
		if err := rows.Scan(&m, &st); err != nil {
			return nil, nil, err
		}
		markIDs, statusIDs = append(markIDs, m), append(statusIDs, st)
	}
	return newestFirst(p, statusIDs), newestFirst(p, markIDs), rows.Err()
}

// maxSearchWords is how many of a query's words a status must hold.
const maxSearchWords = 8

// SearchStatuses finds statuses containing every word (the first
// maxSearchWords of them), visible to viewer, newest first.
func (s *Store) SearchStatuses(ctx context.Context, viewer int64, words []string, p Page) ([]int64, error) {
	if len(words) == 0 {
		return nil, nil
	}
	where, args, order := pageSQL("s.id", p)
	vis, vargs := visibleSQL("s", viewer)
	mute, margs := notMutedSQL("s", viewer)
	// A status must hold every word; past maxSearchWords, the first ones.
	// The list is padded to a power of two by repeating its last word, so the
	// statement is one of four texts whatever the query.
	words = words[:min(len(words), maxSearchWords)]
	n := 1
	for n < len(words) {
		n *= 2
	}
	var conds []string
	var wargs []any
	for i := range n {
		conds = append(conds, `EXISTS (SELECT 1 FROM status_words sw WHERE sw.word = ? AND sw.status_id = s.id)`)
		wargs = append(wargs, words[min(i, len(words)-1)])
	}
	// The rarest word would be the best driver; the first is good enough at this size.
	q := `SELECT s.id FROM status_words w0 JOIN statuses s ON s.id = w0.status_id WHERE w0.word = ? AND ` + strings.Join(conds, " AND ") +
		` AND ` + where + ` AND ` + vis + ` AND ` + mute + ` ORDER BY ` + order + limitSQL
	all := append([]any{words[0]}, wargs...)
	all = append(append(append(append(all, args...), vargs...), margs...), limitArg(p))
	ids, err := s.queryIDs(ctx, q, all...)
	if err != nil {
		return nil, fmt.Errorf("search statuses: %w", err)
	}
	return newestFirst(p, ids), nil
}
