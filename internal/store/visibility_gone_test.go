package store

import (
	"context"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestMaySeeGoneIsTheVisibilityRule: for statuses of every visibility,
// reblogs among them, between accounts that follow, block and are
// mentioned at random, the viewers MaySeeGone names after a deletion (from
// what the deletion kept) are exactly those VisibleStatus let see it just
// before.
func TestMaySeeGoneIsTheVisibilityRule(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 10)
	viewers := append([]int64{0}, f.accounts...)
	for seed := range uint64(8) {
		rng := mrand.New(mrand.NewPCG(seed, 13))
		now := time.Now()
		for range 12 {
			a, b := f.accounts[rng.IntN(len(f.accounts))], f.accounts[rng.IntN(len(f.accounts))]
			if a == b {
				continue
			}
			switch rng.IntN(3) {
			case 0, 1:
				if _, err := f.s.Follow(ctx, f.id(), a, b, FollowOptions{ShowReblogs: true}, now); err != nil {
					t.Fatal(err)
				}
			case 2:
				if err := f.s.Block(ctx, f.id(), a, b, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		var made []*Status
		var mentions [][]int64
		for range 20 {
			author := f.accounts[rng.IntN(len(f.accounts))]
			id := f.id()
			st := &Status{ID: id, URI: "https://example.test/s/" + strconv.FormatInt(id, 10), AccountID: author, Local: true,
				Visibility: Visibility(rng.IntN(4)), Text: "hello", CreatedAt: now}
			var mentioned []int64
			if len(made) > 0 && rng.IntN(4) == 0 {
				orig := made[rng.IntN(len(made))]
				if orig.ReblogOfID == 0 {
					st.ReblogOfID, st.Visibility = orig.ID, Visibility(rng.IntN(3))
				}
			}
			if st.ReblogOfID == 0 {
				for range rng.IntN(3) {
					m := f.accounts[rng.IntN(len(f.accounts))]
					if !slices.Contains(mentioned, m) {
						mentioned = append(mentioned, m)
					}
				}
			}
			if err := f.s.CreateStatus(ctx, NewStatus{Status: st, MentionIDs: mentioned}); err != nil {
				t.Fatal(err)
			}
			made, mentions = append(made, st), append(mentions, mentioned)
		}
		// Even seeds delete newest first (a reblog before its original);
		// odd seeds oldest first, so that an original's deletion takes its
		// reblogs, whose audience is then judged from what was kept alone.
		type pending struct {
			gone GoneStatus
			saw  []int64
			st   *Status
		}
		deleted := map[int64]bool{}
		for k := range made {
			i := len(made) - 1 - k
			if seed%2 == 1 {
				i = k
			}
			st := made[i]
			if deleted[st.ID] {
				continue
			}
			goneOf := func(st *Status, mentioned []int64) pending {
				p := pending{st: st, gone: GoneStatus{Author: st.AccountID, Visibility: st.Visibility, Mentioned: mentioned, ReblogOf: st.ReblogOfID}}
				if st.ReblogOfID != 0 {
					orig, err := f.s.StatusByID(ctx, st.ReblogOfID)
					if err != nil {
						t.Fatal(err)
					}
					p.gone.OrigAuthor, p.gone.OrigVisibility = orig.AccountID, orig.Visibility
				}
				for _, v := range viewers {
					if _, err := f.s.VisibleStatus(ctx, v, st.ID); err == nil {
						p.saw = append(p.saw, v)
					}
				}
				return p
			}
			going := []pending{goneOf(st, mentions[i])}
			for j, rb := range made {
				if rb.ReblogOfID == st.ID && !deleted[rb.ID] {
					going = append(going, goneOf(rb, mentions[j]))
				}
			}
			if err := f.s.DeleteStatus(ctx, st, nil); err != nil {
				t.Fatal(err)
			}
			for _, p := range going {
				deleted[p.st.ID] = true
				got, err := f.s.MaySeeGone(ctx, p.gone, viewers)
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				slices.Sort(p.saw)
				if !slices.Equal(got, p.saw) {
					t.Errorf("seed %d: status %+v (mentions %v): MaySeeGone %v, VisibleStatus before %v", seed, *p.st, p.gone.Mentioned, got, p.saw)
				}
			}
		}
	}
}

// TestPublicAudienceIsThePublicTimeline: for random statuses (every
// visibility, reblogs, local and not, tagged or not) among accounts that
// follow, block, mute and are silenced at random, PublicAudience names
// exactly the viewers whose PublicTimeline, bounded to that status, has it,
// for every filter the streams use.
func TestPublicAudienceIsThePublicTimeline(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 10)
	viewers := append([]int64{0}, f.accounts...)
	rng := mrand.New(mrand.NewPCG(7, 7))
	now := time.Now()
	for range 30 {
		a, b := f.accounts[rng.IntN(len(f.accounts))], f.accounts[rng.IntN(len(f.accounts))]
		if a == b {
			continue
		}
		var err error
		switch rng.IntN(4) {
		case 0:
			_, err = f.s.Follow(ctx, f.id(), a, b, FollowOptions{ShowReblogs: true}, now)
		case 1:
			err = f.s.Block(ctx, f.id(), a, b, now)
		case 2:
			err = f.s.Mute(ctx, f.id(), a, b, true, now)
		case 3:
			_, err = f.s.write.ExecContext(ctx, `UPDATE accounts SET silenced = 1 WHERE id = ?`, b)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var made []*Status
	for range 60 {
		id := f.id()
		st := &Status{ID: id, URI: "https://example.test/s/" + strconv.FormatInt(id, 10), AccountID: f.accounts[rng.IntN(len(f.accounts))],
			Local: rng.IntN(3) != 0, Visibility: Visibility(rng.IntN(4)), Text: "hello", CreatedAt: now}
		if len(made) > 0 && rng.IntN(5) == 0 {
			st.ReblogOfID = made[rng.IntN(len(made))].ID
		}
		var tags []string
		if rng.IntN(2) == 0 {
			tags = []string{"streamed"}
		}
		if err := f.s.CreateStatus(ctx, NewStatus{Status: st, Tags: tags}); err != nil {
			t.Fatal(err)
		}
		made = append(made, st)
	}
	filters := []PublicFilter{{}, {LocalOnly: true}, {RemoteOnly: true}, {Tag: "streamed"}, {Tag: "streamed", LocalOnly: true}, {OnlyMedia: true}}
	shown := 0
	for _, st := range made {
		for _, pf := range filters {
			var want []int64
			for _, v := range viewers {
				ids, err := f.s.PublicTimeline(ctx, v, pf, Page{MaxID: st.ID + 1, SinceID: st.ID - 1, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				if len(ids) == 1 && ids[0] == st.ID {
					want = append(want, v)
				}
			}
			got, err := f.s.PublicAudience(ctx, st.ID, pf, viewers)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("status %+v, filter %+v: PublicAudience %v, the timeline %v", *st, pf, got, want)
			}
			shown += len(want)
		}
	}
	if shown == 0 {
		t.Fatal("no status was on any timeline: the comparison proves nothing")
	}
}

// TestHomeAudienceIsTheHomeTimeline: for random statuses, reblogs and
// direct messages among accounts that follow (with and without reblogs),
// block and mute at random, some of them followed enough to be read at
// home time, HomeAudience and DirectAudience name exactly the viewers whose
// home timeline (bounded to the status) has it, and who may see a direct
// status.
func TestHomeAudienceIsTheHomeTimeline(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 12)
	f.s.fanOutOnRead = 3
	viewers := append([]int64{0}, f.accounts...)
	rng := mrand.New(mrand.NewPCG(11, 3))
	now := time.Now()
	for range 60 {
		a, b := f.accounts[rng.IntN(len(f.accounts))], f.accounts[rng.IntN(len(f.accounts))]
		if a == b {
			continue
		}
		var err error
		switch rng.IntN(6) {
		case 0, 1, 2, 3:
			_, err = f.s.Follow(ctx, f.id(), a, b, FollowOptions{ShowReblogs: rng.IntN(3) != 0}, now)
		case 4:
			err = f.s.Block(ctx, f.id(), a, b, now)
		case 5:
			err = f.s.Mute(ctx, f.id(), a, b, false, now)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var marked int
	if err := f.s.read.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE fanout_on_read = 1`).Scan(&marked); err != nil || marked == 0 {
		t.Fatalf("no account is read at home time (%d, %v): the pulled branch goes untested", marked, err)
	}
	var made []*Status
	for range 60 {
		id := f.id()
		st := &Status{ID: id, URI: "https://example.test/s/" + strconv.FormatInt(id, 10), AccountID: f.accounts[rng.IntN(len(f.accounts))],
			Local: true, Visibility: Visibility(rng.IntN(4)), Text: "hello", CreatedAt: now}
		n := NewStatus{Status: st}
		if len(made) > 0 && rng.IntN(4) == 0 {
			st.ReblogOfID, st.Visibility = made[rng.IntN(len(made))].ID, Visibility(rng.IntN(3))
		} else if rng.IntN(2) == 0 {
			n.MentionIDs = []int64{f.accounts[rng.IntN(len(f.accounts))]}
			if st.Visibility == Direct {
				n.FeedAccounts = n.MentionIDs
			}
		}
		if err := f.s.CreateStatus(ctx, n); err != nil {
			t.Fatal(err)
		}
		made = append(made, st)
	}
	shown := 0
	for _, st := range made {
		var want, wantDirect []int64
		for _, v := range viewers {
			ids, err := f.s.HomeTimeline(ctx, v, Page{MaxID: st.ID + 1, SinceID: st.ID - 1, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) == 1 && ids[0] == st.ID {
				want = append(want, v)
			}
			if _, err := f.s.VisibleStatus(ctx, v, st.ID); err == nil && st.Visibility == Direct {
				wantDirect = append(wantDirect, v)
			}
		}
		got, err := f.s.HomeAudience(ctx, st.ID, viewers)
		if err != nil {
			t.Fatal(err)
		}
		direct, err := f.s.DirectAudience(ctx, st.ID, viewers)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range [][]int64{got, want, direct, wantDirect} {
			slices.Sort(l)
		}
		if !slices.Equal(got, want) {
			t.Errorf("status %+v: HomeAudience %v, the home timeline %v", *st, got, want)
		}
		if !slices.Equal(direct, wantDirect) {
			t.Errorf("status %+v: DirectAudience %v, visible and direct to %v", *st, direct, wantDirect)
		}
		shown += len(want)
	}
	if shown == 0 {
		t.Fatal("no status was on any home timeline: the comparison proves nothing")
	}
}
