package store

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

// An account whose following reaches the threshold has its statuses read
// into its followers' home timelines instead of written to each: the home
// timeline still shows each follower what a written row would have (no
// direct post unless mentioned, no reblog for one who hides them, nothing
// after a mute or an unfollow), in order, without duplicates, on every page.
func TestLargeAccountsAreReadIntoHomeTimelines(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 7)
	f.s.fanOutOnRead = 3
	// accounts[4] is a pending user; leave it out.
	author, fan, quiet, muter, stranger, other := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3], f.accounts[5], f.accounts[6]
	now := time.Now()
	at := func(i int) time.Time { return now.Add(time.Duration(i) * time.Second) }
	n := 0
	post := func(who int64, v Visibility, o func(*NewStatus)) *Status {
		t.Helper()
		n++
		st := &Status{ID: f.id(), URI: "https://example.test/s/" + strconv.Itoa(n), AccountID: who, Local: true, Visibility: v, CreatedAt: at(n)}
		ns := NewStatus{Status: st}
		if o != nil {
			o(&ns)
		}
		if err := f.s.CreateStatus(ctx, ns); err != nil {
			t.Fatal(err)
		}
		return st
	}
	follow := func(who, target int64, reblogs bool) {
		t.Helper()
		if _, err := f.s.Follow(ctx, f.id(), who, target, FollowOptions{ShowReblogs: reblogs}, now); err != nil {
			t.Fatal(err)
		}
	}
	// other stays below the threshold: its posts are written.
	follow(fan, other, true)
	follow(stranger, other, true)
	follow(fan, author, true)
	before := post(author, Public, nil) // one follower yet: written
	follow(quiet, author, false)
	follow(muter, author, true) // the third: the mark
	var marked bool
	if err := f.s.read.QueryRowContext(ctx, `SELECT fanout_on_read FROM accounts WHERE id = ?`, author).Scan(&marked); err != nil || !marked {
		t.Fatalf("an account with 3 followers (threshold 3) is not marked: %v %v", marked, err)
	}
	if err := f.s.Mute(ctx, f.id(), muter, author, true, now); err != nil {
		t.Fatal(err)
	}
	var want []*Status // fan's home, oldest first
	want = append(want, before)
	for i := range 6 {
		// Another account's written rows between the read ones, so that
		// pages end on either kind.
		want = append(want, post(other, Public, nil))
		switch i {
		case 0:
			want = append(want, post(author, Private, nil))
		case 1:
			post(author, Direct, func(ns *NewStatus) { ns.MentionIDs, ns.FeedAccounts = []int64{stranger}, []int64{stranger} })
		case 2:
			rb := post(author, Public, func(ns *NewStatus) { ns.Status.ReblogOfID = want[1].ID })
			want = append(want, rb)
		case 3:
			// Two in a row: a page's bound then decides what it holds.
			want = append(want, post(author, Public, nil))
			want = append(want, post(author, Unlisted, nil))
		default:
			want = append(want, post(author, Public, func(ns *NewStatus) { ns.DeferFanOut = true }))
		}
	}
	var written int
	if err := f.s.read.QueryRowContext(ctx, `SELECT count(*) FROM home_feed WHERE author_id = ? AND account_id NOT IN (?, ?) AND status_id != ?`,
		author, author, stranger, before.ID).Scan(&written); err != nil || written != 0 {
		t.Errorf("%d home_feed rows written to followers of a marked account (%v)", written, err)
	}
	if js, _ := f.s.JobStats(ctx); js.Pending != 0 {
		t.Errorf("%d jobs pending: a marked account's post needs no fan-out", js.Pending)
	}
	ids := func(sts []*Status, keep func(*Status) bool) []int64 {
		var out []int64
		for i := len(sts) - 1; i >= 0; i-- {
			if keep == nil || keep(sts[i]) {
				out = append(out, sts[i].ID)
			}
		}
		return out
	}
	home := func(who int64, p Page) []int64 {
		t.Helper()
		got, err := f.s.HomeTimeline(ctx, who, p)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	wantFan := ids(want, nil)
	if got := home(fan, Page{Limit: 40}); !slices.Equal(got, wantFan) {
		t.Errorf("the follower's home:\n got %v\nwant %v", got, wantFan)
	}
	// Every page size and every kind of page agrees with the whole list.
	for limit := 1; limit <= 4; limit++ {
		var got []int64
		for p := (Page{Limit: limit}); ; {
			page := home(fan, p)
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			p.MaxID = page[len(page)-1]
		}
		if !slices.Equal(got, wantFan) {
			t.Errorf("max_id pages of %d:\n got %v\nwant %v", limit, got, wantFan)
		}
		var up []int64
		for p := (Page{Limit: limit, MinID: 1}); ; {
			page := home(fan, p)
			if len(page) == 0 {
				break
			}
			up = append(slices.Clone(page), up...)
			p.MinID = page[0]
		}
		if !slices.Equal(up, wantFan) {
			t.Errorf("min_id pages of %d:\n got %v\nwant %v", limit, up, wantFan)
		}
		if got := home(fan, Page{Limit: limit, SinceID: wantFan[5]}); !slices.Equal(got, wantFan[:min(limit, 5)]) {
			t.Errorf("since_id page of %d: got %v, want %v", limit, got, wantFan[:min(limit, 5)])
		}
	}
	wantQuiet := ids(want, func(st *Status) bool { return st.ReblogOfID == 0 && st.AccountID == author })
	if got := home(quiet, Page{Limit: 40}); !slices.Equal(got, wantQuiet) {
		t.Errorf("the follower who hides reblogs:\n got %v\nwant %v", got, wantQuiet)
	}
	if got := home(muter, Page{Limit: 40}); len(got) != 0 {
		t.Errorf("the follower who muted the author sees %v", got)
	}
	wantOthers := ids(want, func(st *Status) bool { return st.AccountID == other })
	if got := home(stranger, Page{Limit: 40}); len(got) != len(wantOthers)+1 || slices.Contains(got, want[2].ID) {
		t.Errorf("a non-follower mentioned in a direct post sees %v; want only that post and the other account's %v", got, wantOthers)
	}
	// A follow of a marked account copies nothing into home_feed: its
	// statuses are all read, even those older than everything home_feed holds.
	late := f.addUser(t, "late", true)
	follow(late, author, true)
	own := post(late, Public, nil)
	wantLate := append([]int64{own.ID}, ids(want, func(st *Status) bool { return st.AccountID == author })...)
	if got := home(late, Page{Limit: 40}); !slices.Equal(got, wantLate) {
		t.Errorf("a new follower's home:\n got %v\nwant %v", got, wantLate)
	}
	if err := f.s.read.QueryRowContext(ctx, `SELECT count(*) FROM home_feed WHERE account_id = ? AND author_id = ?`, late, author).Scan(&written); err != nil || written != 0 {
		t.Errorf("the follow copied %d of a marked account's statuses into home_feed (%v)", written, err)
	}
	if err := f.s.Unfollow(ctx, fan, author); err != nil {
		t.Fatal(err)
	}
	if got := home(fan, Page{Limit: 40}); !slices.Equal(got, wantOthers) {
		t.Errorf("after unfollowing:\n got %v\nwant %v", got, wantOthers)
	}
}

// A follower of more marked accounts than one statement reads
// (pulledPerStatement), whose home_feed does not fill a page, still sees
// each one's statuses, newest first.
func TestManyMarkedFolloweesAreAllRead(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 3)
	f.s.fanOutOnRead = 3
	viewer, a, b := f.accounts[0], f.accounts[1], f.accounts[2]
	now := time.Now()
	var want []int64
	for i := range pulledPerStatement + 3 {
		star := f.addUser(t, "star"+strconv.Itoa(i), true)
		for _, who := range []int64{viewer, a, b} {
			if _, err := f.s.Follow(ctx, f.id(), who, star, FollowOptions{ShowReblogs: true}, now); err != nil {
				t.Fatal(err)
			}
		}
		st := &Status{ID: f.id(), URI: "https://example.test/s/star" + strconv.Itoa(i), AccountID: star, Local: true, Visibility: Public, CreatedAt: now}
		if err := f.s.CreateStatus(ctx, NewStatus{Status: st}); err != nil {
			t.Fatal(err)
		}
		want = append([]int64{st.ID}, want...)
	}
	got, err := f.s.HomeTimeline(ctx, viewer, Page{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("home of a follower of %d marked accounts:\n got %v\nwant %v", len(want), got, want)
	}
	if got, _ := f.s.HomeTimeline(ctx, viewer, Page{Limit: 5}); !slices.Equal(got, want[:5]) {
		t.Errorf("a page of 5: got %v, want %v", got, want[:5])
	}
}
