package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	sqlitedriver "github.com/ncruces/go-sqlite3/driver"
)

// timelineQuery is one timeline's SQL as the store runs it.
type timelineQuery struct {
	name  string
	index string // the index its walk must use
	sql   func(viewer int64, p Page) (string, []any)
}

func timelineQueries(author int64) []timelineQuery {
	public := func(f PublicFilter) func(int64, Page) (string, []any) {
		return func(v int64, p Page) (string, []any) { return publicTimelineSQL(v, f, p) }
	}
	return []timelineQuery{
		{"public", "statuses_public_timeline", public(PublicFilter{})},
		{"local", "statuses_local_timeline", public(PublicFilter{LocalOnly: true})},
		{"remote", "statuses_local_timeline", public(PublicFilter{RemoteOnly: true})},
		{"tag", "sqlite_autoindex_status_tags_1", public(PublicFilter{Tag: "rampart"})},
		{"home", "PRIMARY KEY", homeTimelineSQL},
		{"account", "statuses_account", func(v int64, p Page) (string, []any) {
			return accountStatusesSQL(v, author, AccountFilter{}, p)
		}},
	}
}

var planPages = []Page{{Limit: 20}, {Limit: 20, MaxID: 1 << 60}, {Limit: 20, MinID: 1}, {Limit: 20, SinceID: 1}}

// Every timeline reads an index range in its own order: the plan walks the
// index and never sorts (a sort means every matching row was read first).
func TestTimelinePlansSeekAndNeverSort(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 3)
	for _, q := range timelineQueries(f.accounts[0]) {
		for _, p := range planPages {
			for _, viewer := range []int64{0, f.accounts[1]} {
				sqlText, args := q.sql(viewer, p)
				plan := explain(t, f.s, sqlText, args)
				if strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("%s %+v: the plan sorts:\n%s", q.name, p, plan)
				}
				first := strings.SplitN(plan, "\n", 2)[0]
				if !strings.Contains(first, q.index) || !(strings.Contains(first, "SEARCH") || strings.Contains(first, "SCAN")) {
					t.Errorf("%s %+v: the plan does not start by walking %s:\n%s", q.name, p, q.index, plan)
				}
				if strings.Contains(first, "SCAN") && !strings.Contains(first, "USING") {
					t.Errorf("%s %+v: a full table scan:\n%s", q.name, p, plan)
				}
			}
		}
	}
}

// explain returns the plan's lines of the outer loop, outermost first.
func explain(t *testing.T, s *Store, q string, args []any) string {
	t.Helper()
	return planLines(t, s, q, args, true)
}

// explainAll returns every line of the plan, subqueries' included.
func explainAll(t *testing.T, s *Store, q string, args []any) string {
	t.Helper()
	return planLines(t, s, q, args, false)
}

func planLines(t *testing.T, s *Store, q string, args []any, outerOnly bool) string {
	t.Helper()
	rows, err := s.read.db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		if parent == 0 || !outerOnly {
			lines = append(lines, detail)
		}
	}
	return strings.Join(lines, "\n")
}

// vmSteps runs q to the end on one connection and returns how many virtual
// machine steps SQLite took: a count of the work done (rows visited,
// subqueries run), not of time, so it is the same on any machine.
func vmSteps(t *testing.T, s *Store, q string, args []any) (steps, rows int) {
	t.Helper()
	conn, err := s.read.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(sqlitedriver.Conn).Raw()
		st, _, err := c.Prepare(q)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := bindAll(st, args); err != nil {
			return err
		}
		for st.Step() {
			rows++
		}
		if err := st.Err(); err != nil {
			return err
		}
		steps = st.Status(sqlite3.STMTSTATUS_VM_STEP, false)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return steps, rows
}

// bindAll binds a store query's arguments to a statement of the driver's
// own API.
func bindAll(st *sqlite3.Stmt, args []any) error {
	for i, a := range args {
		var err error
		switch v := a.(type) {
		case int64:
			err = st.BindInt64(i+1, v)
		case int:
			err = st.BindInt64(i+1, int64(v))
		case string:
			err = st.BindText(i+1, v)
		default:
			err = fmt.Errorf("argument %d: %T", i+1, a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var _ driver.Conn = (sqlitedriver.Conn)(nil)

// seedTimelines adds n statuses by the fixture's accounts: public, unlisted
// and followers-only, local and remote, some tagged, some reblogs.
func seedTimelines(t *testing.T, f *counterFixture, n int) {
	t.Helper()
	ctx := context.Background()
	rng := mrand.New(mrand.NewPCG(uint64(n), 3))
	var originals []int64
	for range n {
		id := f.id()
		st := &Status{ID: id, URI: fmt.Sprintf("https://example.test/s/%d", id), AccountID: f.accounts[rng.IntN(len(f.accounts))],
			Local: rng.IntN(3) != 0, Visibility: Visibility(rng.IntN(3)), Text: "x", CreatedAt: time.UnixMilli(id)}
		ns := NewStatus{Status: st}
		if rng.IntN(2) == 0 {
			ns.Tags = []string{"rampart"}
		}
		if len(originals) > 0 && rng.IntN(10) == 0 {
			st.ReblogOfID = originals[rng.IntN(len(originals))]
			st.Visibility, ns.Tags = Public, nil
		} else {
			originals = append(originals, id)
		}
		if err := f.s.CreateStatus(ctx, ns); err != nil && !strings.Contains(err.Error(), "reblog") {
			t.Fatal(err)
		}
	}
}

// A timeline page costs the same whatever the number of statuses: the VM
// steps of each timeline's first page, and of a page further back, stay
// within a small factor when the instance grows tenfold.
func TestTimelineCostIndependentOfInstanceSize(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 6)
	ctx := context.Background()
	viewer := f.accounts[1]
	for _, b := range f.accounts[2:] {
		if _, err := f.s.Follow(ctx, f.id(), viewer, b, FollowOptions{ShowReblogs: true}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.Block(ctx, f.id(), viewer, f.accounts[5], time.Now()); err != nil {
		t.Fatal(err)
	}
	measure := func() map[string]int {
		out := map[string]int{}
		for _, q := range timelineQueries(f.accounts[2]) {
			for _, v := range []int64{0, viewer} {
				sqlText, args := q.sql(v, Page{Limit: 20})
				steps, rows := vmSteps(t, f.s, sqlText, args)
				if rows != 20 && !(q.name == "home" && v == 0) {
					t.Fatalf("%s as %d: %d rows, want a full page of 20", q.name, v, rows)
				}
				out[fmt.Sprintf("%s as %d", q.name, v)] = steps
			}
		}
		return out
	}
	seedTimelines(t, f, 400)
	small := measure()
	seedTimelines(t, f, 3600)
	large := measure()
	for k, s := range small {
		if l := large[k]; float64(l) > 1.5*float64(s)+200 {
			t.Errorf("%s: %d VM steps at 400 statuses, %d at 4,000: the cost grows with the instance", k, s, l)
		} else {
			t.Logf("%s: %d VM steps at 400 statuses, %d at 4,000", k, s, l)
		}
	}
}

// The instance's figures are one row, whatever the size.
func TestInstanceStatsCostIndependentOfInstanceSize(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 4)
	const q = instanceStatsSQL
	seedTimelines(t, f, 100)
	small, _ := vmSteps(t, f.s, q, nil)
	seedTimelines(t, f, 1000)
	large, rows := vmSteps(t, f.s, q, nil)
	if rows != 1 || large != small {
		t.Errorf("instance stats: %d VM steps at 100 statuses, %d at 1,100 (%d rows)", small, large, rows)
	}
	st, err := f.s.InstanceStats(context.Background())
	if err != nil || st.LocalPosts == 0 {
		t.Errorf("InstanceStats = %+v, %v", st, err)
	}
}

// The followers to tell of a post cost what they are, not what all the
// author's followers are.
func TestFollowersToNotifyCostsOnlyThoseWhoAsked(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	star := f.accounts[0]
	now := time.Now()
	steps := func() (int, int) { return vmSteps(t, f.s, followersToNotifySQL, []any{star}) }
	follow := func(notify bool) {
		fan := f.addUser(t, "fan"+strconv.FormatInt(f.id(), 10), true)
		if _, err := f.s.Follow(ctx, f.id(), fan, star, FollowOptions{Notify: notify}, now); err != nil {
			t.Fatal(err)
		}
	}
	follow(true)
	follow(true)
	for range 10 {
		follow(false)
	}
	small, rows := steps()
	for range 200 {
		follow(false)
	}
	large, rows2 := steps()
	if rows != 2 || rows2 != 2 || large != small {
		t.Errorf("%d VM steps (%d rows) with 10 silent followers, %d (%d rows) with 210", small, rows, large, rows2)
	}
}

// A status's context costs what its page does, however many replies the
// thread has, and is still the thread's first replies by id, nested ones
// included.
func TestContextCostBoundedByItsLimit(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 2)
	ctx := context.Background()
	root := &Status{ID: f.id(), URI: "https://example.test/s/root", AccountID: f.accounts[0], Local: true, Text: "root", CreatedAt: time.Now()}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: root}); err != nil {
		t.Fatal(err)
	}
	reply := func(n int) {
		for range n {
			id := f.id()
			st := &Status{ID: id, URI: fmt.Sprintf("https://example.test/s/%d", id), AccountID: f.accounts[1], Local: true,
				InReplyToID: root.ID, InReplyToAccountID: root.AccountID, Text: "re", CreatedAt: time.Now()}
			if err := f.s.CreateStatus(ctx, NewStatus{Status: st}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const limit = 10
	first := &Status{ID: f.id(), URI: "https://example.test/s/first", AccountID: f.accounts[1], Local: true,
		InReplyToID: root.ID, InReplyToAccountID: root.AccountID, Text: "first", CreatedAt: time.Now()}
	nested := &Status{ID: f.id(), URI: "https://example.test/s/nested", AccountID: f.accounts[0], Local: true,
		InReplyToID: first.ID, InReplyToAccountID: first.AccountID, Text: "nested", CreatedAt: time.Now()}
	for _, st := range []*Status{first, nested} {
		if err := f.s.CreateStatus(ctx, NewStatus{Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	reply(100)
	q, args := descendantsSQL(f.accounts[0], root.ID, limit)
	small, rows := vmSteps(t, f.s, q, args)
	if rows != limit {
		t.Fatalf("%d descendants, want %d", rows, limit)
	}
	aq, aargs := ancestorsSQL(f.accounts[0], nested.ID, 40)
	smallUp, rowsUp := vmSteps(t, f.s, aq, aargs)
	if rowsUp != 2 {
		t.Fatalf("%d ancestors of the nested reply, want 2", rowsUp)
	}
	reply(1000)
	large, _ := vmSteps(t, f.s, q, args)
	if float64(large) > 1.5*float64(small) {
		t.Errorf("context of a thread: %d VM steps with 100 replies, %d with 1,100", small, large)
	}
	if largeUp, _ := vmSteps(t, f.s, aq, aargs); float64(largeUp) > 1.5*float64(smallUp) {
		t.Errorf("ancestors: %d VM steps with 100 replies, %d with 1,100", smallUp, largeUp)
	}
	ids, err := f.s.Descendants(ctx, f.accounts[0], root.ID, limit)
	if err != nil || len(ids) != limit {
		t.Fatalf("Descendants = %d ids, %v", len(ids), err)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("descendants out of thread order: %v", ids)
		}
	}
	if ids[0] != first.ID || ids[1] != nested.ID {
		t.Errorf("the thread's first replies are %d and the nested %d; got %v", first.ID, nested.ID, ids[:2])
	}
}

// What an anonymous search may cost: a walk of the username or tag-name index
// from the prefix, the same with 100 accounts and tags as with 1,100.
func TestAnonymousSearchCostIndependentOfInstanceSize(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 1)
	ctx := context.Background()
	grow := func(n int) {
		for range n {
			id := f.id()
			name := fmt.Sprintf("a%d", id)
			f.accounts = append(f.accounts, f.addUser(t, name, true))
			st := &Status{ID: f.id(), URI: fmt.Sprintf("https://example.test/s/%d", id), AccountID: f.accounts[0], Local: true,
				Text: "x", CreatedAt: time.Now()}
			if err := f.s.CreateStatus(ctx, NewStatus{Status: st, Tags: []string{name}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	queries := map[string]func() (string, []any){
		"accounts": func() (string, []any) {
			return searchAccountsSQL(0, AccountSearch{Query: "a", DiscoverableOnly: true, Limit: 5})
		},
		"tags": func() (string, []any) { return searchTagsSQL(0, "a", 5, 0) },
		"accounts of a domain": func() (string, []any) {
			return searchAccountsSQL(0, AccountSearch{Query: "a", Domain: "nowhere.example", DiscoverableOnly: true, Limit: 5})
		},
	}
	grow(100)
	small := map[string]int{}
	for name, q := range queries {
		sqlText, args := q()
		if plan := explain(t, f.s, sqlText, args); strings.Contains(plan, "TEMP B-TREE") || !strings.HasPrefix(plan, "SEARCH") {
			t.Errorf("%s: the plan does not seek the index, or sorts:\n%s", name, plan)
		}
		steps, rows := vmSteps(t, f.s, sqlText, args)
		if want := map[bool]int{true: 0, false: 5}[name == "accounts of a domain"]; rows != want {
			t.Fatalf("%s: %d rows, want %d", name, rows, want)
		}
		small[name] = steps
	}
	grow(1000)
	for name, q := range queries {
		sqlText, args := q()
		if large, _ := vmSteps(t, f.s, sqlText, args); float64(large) > 1.5*float64(small[name]) {
			t.Errorf("%s: %d VM steps with 100, %d with 1,100", name, small[name], large)
		}
	}
}

// A prepared statement is only worth keeping if running it again with other
// values does not make SQLite prepare it again: SQLite re-prepares a
// statement whose plan depends on a bound value (a bare LIMIT ?, a LIKE
// pattern) each time that value is bound. Every timeline, run for two viewers
// and pages, is prepared once.
func TestTimelineStatementsAreNotReprepared(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 3)
	seedTimelines(t, f, 50)
	for _, q := range timelineQueries(f.accounts[0]) {
		sqlText, _ := q.sql(f.accounts[1], Page{Limit: 20})
		conn, err := f.s.read.db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			st, _, err := dc.(sqlitedriver.Conn).Raw().Prepare(sqlText)
			if err != nil {
				return err
			}
			defer st.Close()
			viewers := []int64{f.accounts[1], f.accounts[2], f.accounts[1]}
			if q.name != "home" { // home is never read anonymously
				viewers = append(viewers, 0, 0)
			}
			for i, viewer := range viewers {
				_, args := q.sql(viewer, Page{Limit: 10 + i})
				if err := bindAll(st, args); err != nil {
					return err
				}
				for st.Step() {
				}
				if err := st.Reset(); err != nil {
					return err
				}
			}
			if n := st.Status(sqlite3.STMTSTATUS_REPREPARE, false); n != 0 {
				t.Errorf("%s: prepared again %d times as its bindings changed", q.name, n)
			}
			return nil
		})
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The pulled accounts' part of a home timeline seeks: from the few marked
// accounts into the viewer's follows and into each one's statuses within
// the page (a bounded sort of what that finds), or, for a page home_feed did
// not fill, a walk of each one's statuses in order that stops at the page.
// The statement read on every page is prepared once.
func TestPulledHomeStatementsSeek(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 3)
	seedTimelines(t, f, 50)
	viewer := f.accounts[1]
	for _, p := range planPages {
		q, args := pulledWithinSQL(viewer, 1<<40, p)
		plan := explain(t, f.s, q, args)
		lines := strings.Split(plan, "\n")
		idRange := "id>?"
		if p.MinID > 0 {
			idRange = "id>? AND id<?"
		}
		if !strings.Contains(lines[0], "accounts_fanout_on_read") || len(lines) < 3 ||
			!strings.Contains(lines[1], "sqlite_autoindex_follows_1 (account_id=? AND target_account_id=?)") ||
			!strings.Contains(lines[2], "statuses_account (account_id=? AND "+idRange) {
			t.Errorf("within home_feed's page %+v:\n%s", p, plan)
		}
		q, args = pulledPagesSQL(viewer, []int64{f.accounts[0], f.accounts[2]}, p)
		plan = explainAll(t, f.s, q, args)
		if strings.Contains(plan, "TEMP B-TREE") || strings.Count(plan, "statuses_account (account_id=?") != 2 {
			t.Errorf("a page of each pulled followee %+v:\n%s", p, plan)
		}
	}
	sqlText, _ := pulledWithinSQL(viewer, 1, Page{Limit: 20})
	conn, err := f.s.read.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		st, _, err := dc.(sqlitedriver.Conn).Raw().Prepare(sqlText)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, v := range []int64{f.accounts[1], f.accounts[2], f.accounts[1]} {
			_, args := pulledWithinSQL(v, int64(1+i), Page{Limit: 10 + i})
			if err := bindAll(st, args); err != nil {
				return err
			}
			for st.Step() {
			}
			if err := st.Reset(); err != nil {
				return err
			}
		}
		if n := st.Status(sqlite3.STMTSTATUS_REPREPARE, false); n != 0 {
			t.Errorf("prepared again %d times as its bindings changed", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The fan-out job's batch is the oldest pending statuses: a walk of
// fanout_pending_status, never a sort of the whole backlog.
func TestPendingFanOutBatchWalksItsIndex(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 1)
	plan := explainAll(t, f.s, pendingBatchSQL, []any{fanOutBatch})
	if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "fanout_pending_status") {
		t.Errorf("the pending batch's plan:\n%s", plan)
	}
}
