package store

import (
	"fmt"
	"strings"
	"testing"
)

// The statements of followed and featured tags, familiar followers and the
// directory each start with a seek (or an ordered walk) of the index their
// cost was designed on; the paged ones never sort what they walk.
func TestTagAndDirectoryPlans(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 2)
	in, args := inList([]int64{1, 2})
	for _, q := range []struct {
		name, first string
		sql         string
		args        []any
		noSort      bool
	}{
		{"tag fan-out", "SEARCH s USING INTEGER PRIMARY KEY", fmt.Sprintf(tagFanOutSelect, in), args, false},
		{"followed tags", "SEARCH tf USING INDEX tag_follows_account", followedTagsSQL(Page{Limit: 20, MaxID: 5}), []any{1, 5, 20}, true},
		{"followed tags, min_id", "SEARCH tf USING INDEX tag_follows_account", followedTagsSQL(Page{Limit: 20, MinID: 5}), []any{1, 5, 20}, true},
		{"featured tags", "MATERIALIZE u", featuredTagsSQL, []any{1, 1, 1}, false},
		{"tag suggestions", "CO-ROUTINE r", suggestionsSQL, []any{1, 1000, 1, 10}, false},
		{"tag history", "SCAN v VIRTUAL TABLE", historySQL, []any{"[1,2]", 0}, false},
		{"familiar followers", "CO-ROUTINE r", familiarSQL, []any{"[1,2]", 1, 1, 1, 1, 1, 10}, false},
		{"directory", "SCAN ast USING COVERING INDEX account_stats_last_status", directorySQL(DirectoryFilter{}), []any{1, 1, 1, 1, 20, 0}, true},
		{"local directory", "SCAN ast USING COVERING INDEX account_stats_last_status", directorySQL(DirectoryFilter{LocalOnly: true}), []any{1, 1, 1, 1, 20, 0}, true},
		{"directory, new", "SCAN a", directorySQL(DirectoryFilter{New: true}), []any{1, 1, 1, 1, 20, 0}, true},
		{"local directory, new", "SCAN a", directorySQL(DirectoryFilter{New: true, LocalOnly: true}), []any{1, 1, 1, 1, 20, 0}, true},
	} {
		plan := explainAll(t, f.s, q.sql, q.args)
		if first := strings.SplitN(plan, "\n", 2)[0]; !strings.HasPrefix(first, q.first) {
			t.Errorf("%s: the plan starts %q, want %q:\n%s", q.name, first, q.first, plan)
		}
		if q.noSort && strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: the plan sorts what it walks:\n%s", q.name, plan)
		}
		for _, line := range strings.Split(plan, "\n") {
			if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "USING") && !strings.HasPrefix(line, "SCAN v ") &&
				!strings.HasPrefix(line, "SCAN (") && !strings.HasPrefix(line, "SCAN r") && !(q.first == "SCAN a" && line == "SCAN a") {
				t.Errorf("%s: a full scan (%s):\n%s", q.name, line, plan)
			}
		}
	}
}
