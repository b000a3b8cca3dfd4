package store

// Page selects a slice of a newest-first list, as Mastodon's API does:
// MaxID is an exclusive upper bound; SinceID an exclusive lower bound giving
// the newest items above it; MinID an exclusive lower bound giving the items
// immediately above it (oldest first, returned newest first).
type Page struct {
	MaxID   int64
	SinceID int64
	MinID   int64
	Limit   int
}

// pageSQL renders the page's bounds on col and its order. The caller appends
// "ORDER BY … LIMIT ?" with the returned order and the limit.
func pageSQL(col string, p Page) (where string, args []any, order string) {
	where = "1 = 1"
	if p.MaxID > 0 {
		where += " AND " + col + " < ?"
		args = append(args, p.MaxID)
	}
	if p.SinceID > 0 {
		where += " AND " + col + " > ?"
		args = append(args, p.SinceID)
	}
	order = col + " DESC"
	if p.MinID > 0 {
		where += " AND " + col + " > ?"
		args = append(args, p.MinID)
		order = col + " ASC"
	}
	return where, args, order
}

// newestFirst puts a min_id page (read oldest first) back in newest-first order.
func newestFirst[T any](p Page, items []T) []T {
	if p.MinID > 0 {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	return items
}

// limitSQL is a page's LIMIT, bound rather than written into the text, so
// the page size a client asks for makes no new statement (the prepared
// statements are cached by text); limitArg is its argument. The CAST
// matters: SQLite reads a bare "LIMIT ?" as a value the plan depends on and
// re-prepares the statement whenever it is bound again, which is every
// time (19% of the home timeline's CPU went to the parser).
const limitSQL = " LIMIT CAST(? AS INTEGER)"

func limitArg(p Page) int64 { return int64(max(1, min(p.Limit, 200))) }
