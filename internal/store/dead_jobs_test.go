package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A buried job of what other servers sent (or what was to go to them)
// keeps no body, and the janitor's prune removes buried jobs after their
// time: one server whose activities keep failing cannot grow the table
// without end.
func TestBuriedJobsKeepNoBodyAndArePruned(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "db.sqlite"))
	defer s.Close()
	big := `{"activity":"` + strings.Repeat("x", 200<<10) + `"}`
	for _, kind := range []string{KindInbox, KindDeliver, KindFanOut} {
		if err := s.Enqueue(ctx, NewJob{Kind: kind, Payload: []byte(big), Host: "b.example"}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.ClaimJobs(ctx, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatal(claimed, err)
	}
	for _, j := range claimed {
		if err := s.BuryJob(ctx, j.ID, "status 500"); err != nil {
			t.Fatal(err)
		}
	}
	sizes := map[string]int{}
	rows, err := s.read.QueryContext(ctx, `SELECT kind, length(payload) FROM jobs WHERE state = 'dead'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind string
		var n int
		rows.Scan(&kind, &n)
		sizes[kind] = n
	}
	rows.Close()
	if sizes[KindInbox] > 2 || sizes[KindDeliver] > 2 || sizes[KindFanOut] != len(big) {
		t.Errorf("buried payload sizes: %v; want the inbox's and the delivery's dropped, the local one kept", sizes)
	}
	if n, err := s.PruneReceivedActivities(ctx, time.Now().Add(time.Minute)); err != nil || n != 3 {
		t.Errorf("prune: %d %v; want the 3 buried jobs", n, err)
	}
	if st, _ := s.JobStats(ctx); st.Dead != 0 {
		t.Errorf("dead jobs after the prune: %d", st.Dead)
	}
}
