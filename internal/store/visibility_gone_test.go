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
		// Newest first: a reblog goes before its original.
		for i := len(made) - 1; i >= 0; i-- {
			st := made[i]
			var saw []int64
			for _, v := range viewers {
				if _, err := f.s.VisibleStatus(ctx, v, st.ID); err == nil {
					saw = append(saw, v)
				}
			}
			gone := GoneStatus{Author: st.AccountID, Visibility: st.Visibility, Mentioned: mentions[i], ReblogOf: st.ReblogOfID}
			if err := f.s.DeleteStatus(ctx, st, nil); err != nil {
				t.Fatal(err)
			}
			got, err := f.s.MaySeeGone(ctx, gone, viewers)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			slices.Sort(saw)
			if !slices.Equal(got, saw) {
				t.Errorf("seed %d: status %+v (mentions %v): MaySeeGone %v, VisibleStatus before %v", seed, *st, mentions[i], got, saw)
			}
		}
	}
}
