package store

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Deferred fan-outs wait together: posts (of any author) while a job waits
// unclaimed add no job, one run writes them all into the followers' home
// timelines (not a reblog to a follower who hides reblogs), in batches, and
// running it again writes nothing new.
func TestDeferredFanOutsWaitTogether(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 4)
	author, fan, quiet, third := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3]
	now := time.Now()
	if _, err := f.s.Follow(ctx, f.id(), fan, author, FollowOptions{ShowReblogs: true}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Follow(ctx, f.id(), quiet, author, FollowOptions{ShowReblogs: false}, now); err != nil {
		t.Fatal(err)
	}
	orig := &Status{ID: f.id(), URI: "https://example.test/s/orig", AccountID: fan, Local: true, Visibility: Public, CreatedAt: now}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: orig}); err != nil {
		t.Fatal(err)
	}
	var posted []*Status
	for i, v := range []Visibility{Public, Private, Public} {
		st := &Status{ID: f.id(), URI: "https://example.test/s/" + string(rune('a'+i)), AccountID: author, Local: true, Visibility: v, CreatedAt: now}
		if i == 2 {
			st.ReblogOfID = orig.ID
		}
		words := []string{"word" + strconv.Itoa(i), "shared"}
		if err := f.s.CreateStatus(ctx, NewStatus{Status: st, DeferFanOut: true, Words: words}); err != nil {
			t.Fatal(err)
		}
		posted = append(posted, st)
	}
	// Their search words wait with them; an edit meanwhile writes its own
	// at once, and the waiting ones (the old text's) are dropped.
	words := func(id int64) []string { t.Helper(); return pendingWordsOf(t, f, id) }
	if w := words(posted[0].ID); len(w) != 0 {
		t.Errorf("a deferred post's words before its fan-out: %v", w)
	}
	edited := *posted[1]
	edited.Text, edited.EditedAt = "edited", now
	if err := f.s.EditStatus(ctx, &edited, f.id(), nil, nil, []string{"edited"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Another author's, with enough of them that one batch cannot hold
	// them all (fanOutBatch).
	var others []*Status
	for i := range fanOutBatch + 3 {
		st := &Status{ID: f.id(), URI: "https://example.test/s/other" + strconv.Itoa(i), AccountID: third, Local: true, Visibility: Public, CreatedAt: now}
		if err := f.s.CreateStatus(ctx, NewStatus{Status: st, DeferFanOut: true}); err != nil {
			t.Fatal(err)
		}
		others = append(others, st)
	}
	if _, err := f.s.Follow(ctx, f.id(), author, third, FollowOptions{ShowReblogs: true}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.write.ExecContext(ctx, `DELETE FROM home_feed WHERE account_id = ? AND author_id = ?`, author, third); err != nil {
		t.Fatal(err) // the follow's backfill: the fan-out must write them
	}
	if js, _ := f.s.JobStats(ctx); js.Pending != 1 {
		t.Fatalf("%d jobs for %d deferred posts of two authors; want one", js.Pending, 3+len(others))
	}
	// A job backing off after a failure holds no post back: the next
	// post's fan-out gets a job of its own, due as soon as ever.
	if _, err := f.s.write.ExecContext(ctx, `UPDATE jobs SET run_at = run_at + 3600000, attempts = 3 WHERE kind = ?`, KindFanOut); err != nil {
		t.Fatal(err)
	}
	late := &Status{ID: f.id(), URI: "https://example.test/s/late", AccountID: third, Local: true, Visibility: Public, CreatedAt: now}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: late, DeferFanOut: true}); err != nil {
		t.Fatal(err)
	}
	others = append(others, late)
	if js, _ := f.s.JobStats(ctx); js.Pending != 2 {
		t.Fatalf("%d jobs after a post beside a job backing off for an hour; want a second one", js.Pending)
	}
	home := func(who int64) map[int64]bool {
		ids, err := f.s.HomeTimeline(ctx, who, Page{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]bool{}
		for _, id := range ids {
			out[id] = true
		}
		return out
	}
	// An author's follower count (by which batches are cut) larger than a
	// batch may hold still gets its status written, alone.
	if _, err := f.s.write.ExecContext(ctx, `UPDATE account_stats SET followers_count = ? WHERE account_id = ?`, fanOutRows+1, author); err != nil {
		t.Fatal(err)
	}
	if err := f.s.FanOutPending(ctx); err != nil { // one run: every batch
		t.Fatal(err)
	}
	if err := f.s.FanOutPending(ctx); err != nil { // again: nothing new
		t.Fatal(err)
	}
	if w := words(posted[0].ID); !slices.Equal(w, []string{"shared", "word0"}) {
		t.Errorf("a deferred post's words after its fan-out: %v", w)
	}
	if w := words(posted[1].ID); !slices.Equal(w, []string{"edited"}) {
		t.Errorf("the words of a post edited before its fan-out: %v; want the edit's only", w)
	}
	h, q := home(fan), home(quiet)
	if !h[posted[0].ID] || !h[posted[1].ID] || !h[posted[2].ID] {
		t.Errorf("the follower's home: %v; want all three", h)
	}
	if !q[posted[0].ID] || !q[posted[1].ID] || q[posted[2].ID] {
		t.Errorf("the home of the follower who hides reblogs: %v; want the posts, not the reblog", q)
	}
	var got int
	if err := f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM home_feed WHERE account_id = ? AND author_id = ?`, author, third).Scan(&got); err != nil || got != len(others) {
		t.Errorf("the other author's follower has %d of their %d posts (%v)", got, len(others), err)
	}
	var pending int
	if err := f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM fanout_pending`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("pending after the fan-out: %d %v", pending, err)
	}
}

// A thread's ancestors come in the chain's order, the furthest first, even
// when a reply's id sorts before its parent's (remote statuses take their
// ids from their publication time, in seconds, with a random sequence).
func TestAncestorsFollowTheChainNotTheIds(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	author := f.accounts[0]
	now := time.Now()
	root := &Status{ID: 900, URI: "https://example.test/s/root", AccountID: author, Local: true, Visibility: Public, CreatedAt: now}
	mid := &Status{ID: 800, URI: "https://example.test/s/mid", AccountID: author, Local: true, Visibility: Public, CreatedAt: now,
		InReplyToID: root.ID, InReplyToAccountID: author}
	leaf := &Status{ID: 1000, URI: "https://example.test/s/leaf", AccountID: author, Local: true, Visibility: Public, CreatedAt: now,
		InReplyToID: mid.ID, InReplyToAccountID: author}
	for _, st := range []*Status{root, mid, leaf} {
		if err := f.s.CreateStatus(ctx, NewStatus{Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.s.Ancestors(ctx, author, leaf.ID, 40)
	if err != nil || len(got) != 2 || got[0] != root.ID || got[1] != mid.ID {
		t.Errorf("ancestors: %v %v; want [%d %d]", got, err, root.ID, mid.ID)
	}
}
