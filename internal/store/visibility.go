package store

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
// A status is visible when its author is usable (not disabled or pending),
// neither side blocks the other, and: it is public or unlisted, or the
// viewer wrote it, or it is private and the viewer follows the author, or the
// viewer is mentioned in it. A reblog is visible only when the reblogged
// status is visible too.
func visibleSQL(s string, viewer int64) (string, []any) {
	one := `(` + s + `.visibility IN (0, 1)
		OR ` + s + `.account_id = ?
		OR (` + s + `.visibility = 2 AND EXISTS (SELECT 1 FROM follows vf WHERE vf.account_id = ? AND vf.target_account_id = ` + s + `.account_id))
		OR EXISTS (SELECT 1 FROM mentions vm WHERE vm.status_id = ` + s + `.id AND vm.account_id = ?))
		AND ` + s + `.account_id NOT IN ` + unseenAccountsSQL
	args := []any{viewer, viewer, viewer, viewer, viewer}
	// The reblogged status, when there is one, must pass the same rule.
	orig := `(` + s + `.reblog_of_id IS NULL OR EXISTS (SELECT 1 FROM statuses vo WHERE vo.id = ` + s + `.reblog_of_id AND ` +
		`(vo.visibility IN (0, 1) OR vo.account_id = ? OR (vo.visibility = 2 AND EXISTS (SELECT 1 FROM follows vf2 WHERE vf2.account_id = ? AND vf2.target_account_id = vo.account_id)))
		AND vo.account_id NOT IN ` + unseenAccountsSQL + `))`
	args = append(args, viewer, viewer, viewer, viewer)
	return "(" + one + ") AND " + orig, args
}

// unseenAccountsSQL is the accounts whose statuses the viewer (both ? are
// the viewer) never sees: those the viewer blocks or is blocked by, and
// disabled or pending ones. It is not correlated with the row, so SQLite
// builds it once per statement (a few index seeks, usually empty) and checks
// each row against it, rather than seeking blocks and users again for every
// status a timeline walks.
const unseenAccountsSQL = `(SELECT vb.target_account_id FROM blocks vb WHERE vb.account_id = ?
		UNION ALL SELECT vb.account_id FROM blocks vb WHERE vb.target_account_id = ?
		UNION ALL SELECT vu.account_id FROM users vu INDEXED BY users_hidden WHERE vu.disabled = 1 OR vu.approved = 0)`

// notMutedSQL hides statuses (and reblogs) by accounts the viewer mutes, in
// lists: timelines, context, search. A muted account's status stays
// reachable by its own URL. Like unseenAccountsSQL, the muted accounts are
// read once per statement.
func notMutedSQL(s string, viewer int64) (string, []any) {
	muted := `(SELECT mm.target_account_id FROM mutes mm WHERE mm.account_id = ?)`
	return s + `.account_id NOT IN ` + muted + ` AND (` + s + `.reblog_of_id IS NULL
		OR (SELECT mo.account_id FROM statuses mo WHERE mo.id = ` + s + `.reblog_of_id) NOT IN ` + muted + `)`, []any{viewer, viewer}
}
