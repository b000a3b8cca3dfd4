package store

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

// A public original carrying a followed tag enters the follower's home
// timeline on both fan-out paths (written in the post's transaction, or by
// the fan-out job), from a remote author while it is recent, and from an
// author read at home time; once, whatever else put it there; never when
// it is unlisted, private, a reblog, by a silenced, blocked or muted
// author; and nothing after the unfollow.
func TestFollowedTagsReachHomeTimelines(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 11)
	f.s.fanOutOnRead = 2
	// accounts[4] and [9] are pending.
	viewer, stranger, followed, blocked, muted, big, other, silenced, bigStranger := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3],
		f.accounts[5], f.accounts[6], f.accounts[7], f.accounts[8], f.accounts[10]
	now := time.Now()
	n := 0
	post := func(who int64, v Visibility, tags []string, o func(*NewStatus)) *Status {
		t.Helper()
		n++
		st := &Status{ID: f.id(), URI: "https://example.test/s/" + strconv.Itoa(n), AccountID: who, Local: true, Visibility: v,
			CreatedAt: now.Add(time.Duration(n) * time.Second)}
		ns := NewStatus{Status: st, Tags: tags}
		if o != nil {
			o(&ns)
		}
		if err := f.s.CreateStatus(ctx, ns); err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, target := range []int64{followed, big} {
		if _, err := f.s.Follow(ctx, f.id(), viewer, target, FollowOptions{ShowReblogs: true}, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, fl := range [][2]int64{{other, big}, {other, bigStranger}, {stranger, bigStranger}} {
		if _, err := f.s.Follow(ctx, f.id(), fl[0], fl[1], FollowOptions{ShowReblogs: true}, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, who := range []int64{big, bigStranger} {
		var marked bool
		if err := f.s.read.QueryRowContext(ctx, `SELECT fanout_on_read FROM accounts WHERE id = ?`, who).Scan(&marked); err != nil || !marked {
			t.Fatalf("%d is not read at home time: %v %v", who, marked, err)
		}
	}
	if err := f.s.Block(ctx, f.id(), viewer, blocked, now); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Mute(ctx, f.id(), viewer, muted, true, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.write.ExecContext(ctx, `UPDATE accounts SET silenced = 1 WHERE id = ?`, silenced); err != nil {
		t.Fatal(err)
	}
	if err := f.s.FollowTag(ctx, f.id(), viewer, "go", now); err != nil {
		t.Fatal(err)
	}
	if err := f.s.FollowTag(ctx, f.id(), viewer, "go", now); err != nil {
		t.Fatalf("following a tag again: %v", err)
	}
	if err := f.s.FollowTag(ctx, f.id(), viewer, "rust", now); err != nil {
		t.Fatal(err)
	}
	go2 := []string{"go", "rust"}
	var want []int64
	want = append(want, post(stranger, Public, []string{"go"}, nil).ID)
	post(stranger, Unlisted, []string{"go"}, nil)
	post(stranger, Private, []string{"go"}, nil)
	post(stranger, Direct, []string{"go"}, nil)
	post(stranger, Public, []string{"java"}, nil)
	want = append(want, post(stranger, Public, go2, nil).ID) // two followed tags: once
	want = append(want, post(followed, Public, []string{"go"}, nil).ID)
	orig := post(stranger, Public, []string{"go"}, nil)
	want = append(want, orig.ID)
	post(other, Public, nil, func(ns *NewStatus) { ns.Status.ReblogOfID = orig.ID; ns.Tags = []string{"go"} })
	post(blocked, Public, []string{"go"}, nil)
	post(muted, Public, []string{"go"}, nil)
	post(silenced, Public, []string{"go"}, nil)
	want = append(want, post(big, Public, []string{"go"}, nil).ID)         // followed and read at home time, and tagged: once
	want = append(want, post(bigStranger, Public, []string{"go"}, nil).ID) // read at home time by its followers, not viewer
	post(bigStranger, Public, nil, nil)
	want = append(want, post(other, Public, []string{"go"}, func(ns *NewStatus) { ns.DeferFanOut = true }).ID)
	want = append(want, post(viewer, Public, []string{"go"}, nil).ID)
	remote, recent := f.remoteAt(t, "far", "far.example", nil)
	_ = recent
	for i, at := range []time.Time{now, now.Add(-7 * time.Hour)} {
		st := &Status{ID: f.id(), URI: "https://far.example/users/far/statuses/t" + strconv.Itoa(i), AccountID: remote, Visibility: Public, CreatedAt: at}
		if _, _, err := f.s.CreateRemoteStatus(ctx, NewStatus{Status: st, Tags: []string{"go"}}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			want = append(want, st.ID)
		}
	}
	if err := f.s.FanOutPending(ctx); err != nil {
		t.Fatal(err)
	}
	home := func() []int64 {
		t.Helper()
		var all []int64
		p := Page{Limit: 2}
		for range 50 {
			ids, err := f.s.HomeTimeline(ctx, viewer, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) == 0 {
				break
			}
			all = append(all, ids...)
			p.MaxID = ids[len(ids)-1]
		}
		return all
	}
	got := home()
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Fatalf("home timeline %v, want %v", got, want)
	}
	// The streams ask the same rule.
	aud, err := f.s.HomeAudience(ctx, want[len(want)-1], []int64{viewer, other, stranger})
	if err != nil || !slices.Equal(aud, []int64{viewer, stranger}) {
		t.Errorf("home audience of a stranger's tagged post: %v %v; want the tag's follower and the author", aud, err)
	}

	// The list, newest follow first, paged.
	list, err := f.s.FollowedTags(ctx, viewer, Page{Limit: 1})
	if err != nil || len(list) != 1 || list[0].Tag.Name != "rust" {
		t.Fatalf("followed tags: %+v %v", list, err)
	}
	list, err = f.s.FollowedTags(ctx, viewer, Page{Limit: 1, MaxID: list[0].ID})
	if err != nil || len(list) != 1 || list[0].Tag.Name != "go" {
		t.Fatalf("followed tags, second page: %+v %v", list, err)
	}
	if info, err := f.s.TagByName(ctx, viewer, "go"); err != nil || !info.Following {
		t.Errorf("tag go for its follower: %+v %v", info, err)
	}

	// After the unfollow, the statuses shown stay; new ones do not come.
	if err := f.s.UnfollowTag(ctx, viewer, "go"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.UnfollowTag(ctx, viewer, "rust"); err != nil {
		t.Fatal(err)
	}
	post(stranger, Public, []string{"go"}, nil)
	post(other, Public, []string{"rust"}, func(ns *NewStatus) { ns.DeferFanOut = true })
	if err := f.s.FanOutPending(ctx); err != nil {
		t.Fatal(err)
	}
	if got := home(); !slices.Equal(got, want) {
		t.Errorf("after the unfollow: %v, want %v", got, want)
	}
	if info, err := f.s.TagByName(ctx, viewer, "go"); err != nil || info.Following {
		t.Errorf("tag go after the unfollow: %+v %v", info, err)
	}
}

// Featured tags count the account's public and unlisted statuses carrying
// them, at most max per account; suggestions are the account's most used
// tags not featured.
func TestFeaturedTags(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	me, other := f.accounts[0], f.accounts[1]
	now := time.Now().Truncate(time.Millisecond)
	post := func(who int64, v Visibility, at time.Time, tags ...string) {
		t.Helper()
		id := f.id()
		if err := f.s.CreateStatus(ctx, NewStatus{Status: &Status{ID: id, URI: "https://example.test/s/" + strconv.FormatInt(id, 10),
			AccountID: who, Local: true, Visibility: v, CreatedAt: at}, Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	post(me, Public, now.Add(-time.Hour), "go", "rust")
	post(me, Unlisted, now, "go")
	post(me, Private, now.Add(time.Hour), "go")
	post(me, Public, now.Add(-2*time.Hour), "rust")
	post(me, Public, now.Add(-3*time.Hour), "zig")
	post(other, Public, now.Add(2*time.Hour), "go")
	fid, err := f.s.FeatureTag(ctx, f.id(), me, "go", 2, now)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := f.s.FeatureTag(ctx, f.id(), me, "go", 2, now); err != nil || again != fid {
		t.Errorf("featuring again: %d %v, want %d", again, err, fid)
	}
	if _, err := f.s.FeatureTag(ctx, f.id(), me, "empty", 2, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.FeatureTag(ctx, f.id(), me, "rust", 2, now); err != ErrTooMany {
		t.Errorf("a third of at most 2: %v", err)
	}
	list, err := f.s.FeaturedTags(ctx, me)
	if err != nil || len(list) != 2 {
		t.Fatalf("featured: %+v %v", list, err)
	}
	if g := list[0]; g.ID != fid || g.Tag.Name != "go" || g.StatusesCount != 2 || !g.LastStatusAt.Equal(now) {
		t.Errorf("go: %+v; want 2 statuses (not the private one, nor another's), the last at %v", g, now)
	}
	if e := list[1]; e.Tag.Name != "empty" || e.StatusesCount != 0 || !e.LastStatusAt.IsZero() {
		t.Errorf("empty: %+v", e)
	}
	sugg, err := f.s.TagSuggestions(ctx, me, 10)
	if err != nil || len(sugg) != 2 || sugg[0].Name != "rust" || sugg[1].Name != "zig" {
		t.Errorf("suggestions: %+v %v; want rust (2 uses) then zig", sugg, err)
	}
	if err := f.s.UnfeatureTag(ctx, other, fid); err != ErrNotFound {
		t.Errorf("removing another's featured tag: %v", err)
	}
	if err := f.s.UnfeatureTag(ctx, me, fid); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.s.FeaturedTags(ctx, me); len(list) != 1 {
		t.Errorf("after removing one: %+v", list)
	}
	// A deleted account keeps neither its featured nor its followed tags.
	if err := f.s.FollowTag(ctx, f.id(), me, "go", now); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteLocalAccount(ctx, me, now); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := f.s.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM featured_tags WHERE account_id = ?) + (SELECT COUNT(*) FROM tag_follows WHERE account_id = ?)`,
		me, me).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d featured or followed tags left after the account's deletion (%v)", left, err)
	}
}

// Familiar followers are the accounts viewer follows that follow each
// target, without those viewer may not see; the directory lists the
// discoverable accounts viewer may see, in either order.
func TestFamiliarFollowersAndDirectory(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 7)
	// accounts[4] is pending.
	viewer, a, b, blocker, pending, target, hidden := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3], f.accounts[4], f.accounts[5], f.accounts[6]
	now := time.Now()
	follow := func(who, whom int64) {
		t.Helper()
		if _, err := f.s.Follow(ctx, f.id(), who, whom, FollowOptions{ShowReblogs: true}, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []int64{a, b, blocker, pending} {
		follow(viewer, x)
		follow(x, target)
	}
	follow(a, b)
	if err := f.s.Block(ctx, f.id(), blocker, viewer, now); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.FamiliarFollowers(ctx, viewer, []int64{target, b, hidden}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got[target], []int64{a, b}) || !slices.Equal(got[b], []int64{a}) || len(got[hidden]) != 0 {
		t.Errorf("familiar followers: %v; want target: a, b; b: a", got)
	}
	if got, _ := f.s.FamiliarFollowers(ctx, viewer, []int64{target}, 1); !slices.Equal(got[target], []int64{a}) {
		t.Errorf("one each: %v", got)
	}

	if _, err := f.s.write.ExecContext(ctx, `UPDATE accounts SET discoverable = 0 WHERE id = ?`, hidden); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Mute(ctx, f.id(), viewer, b, true, now); err != nil {
		t.Fatal(err)
	}
	remote, _ := f.remoteAt(t, "far", "far.example", nil)
	if _, err := f.s.write.ExecContext(ctx, `UPDATE accounts SET discoverable = 1 WHERE id = ?`, remote); err != nil {
		t.Fatal(err)
	}
	// Latest to post first: remote (posted at remoteAt), then those who
	// never posted, newest first.
	for i, who := range []int64{target, a} {
		id := f.id()
		if err := f.s.CreateStatus(ctx, NewStatus{Status: &Status{ID: id, URI: "https://example.test/d/" + strconv.FormatInt(id, 10),
			AccountID: who, Local: true, Visibility: Public, CreatedAt: now.Add(time.Duration(-i-1) * time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := f.s.Directory(ctx, viewer, DirectoryFilter{Limit: 10})
	if err != nil || !slices.Equal(dir, []int64{remote, target, a, viewer}) {
		t.Errorf("directory by activity: %v %v; want remote, target, a, viewer (no blocker, pending, muted or undiscoverable)", dir, err)
	}
	dir, err = f.s.Directory(ctx, viewer, DirectoryFilter{LocalOnly: true, New: true, Limit: 2, Offset: 1})
	if err != nil || !slices.Equal(dir, []int64{a, viewer}) {
		t.Errorf("local directory by age, from the second: %v %v; want a, viewer", dir, err)
	}
	anon, err := f.s.Directory(ctx, 0, DirectoryFilter{LocalOnly: true, New: true, Limit: 10})
	if err != nil || !slices.Equal(anon, []int64{target, blocker, b, a, viewer}) {
		t.Errorf("anonymous directory: %v %v", anon, err)
	}
}

// A tag's history counts its public statuses and their authors per UTC
// day, from the bound on: the ids are made from the statuses' times.
func TestTagHistory(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 3)
	a, b := f.accounts[0], f.accounts[1]
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	post := func(who int64, v Visibility, at time.Time, tags ...string) {
		t.Helper()
		n++
		st := &Status{ID: at.UnixMilli()<<16 | int64(n), URI: "https://example.test/h/" + strconv.Itoa(n), AccountID: who, Local: true,
			Visibility: v, CreatedAt: at}
		if err := f.s.CreateStatus(ctx, NewStatus{Status: st, Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	post(a, Public, day.Add(-time.Hour), "go")       // before the bound
	post(a, Public, day.Add(time.Hour), "go", "zig") // day 1
	post(a, Public, day.Add(2*time.Hour), "go")
	post(b, Public, day.Add(3*time.Hour), "go")
	post(b, Unlisted, day.Add(4*time.Hour), "go") // not public
	post(b, Public, day.Add(25*time.Hour), "go")  // day 2
	var goID, zigID int64
	for name, dst := range map[string]*int64{"go": &goID, "zig": &zigID} {
		info, err := f.s.TagByName(ctx, 0, name)
		if err != nil {
			t.Fatal(err)
		}
		*dst = info.ID
	}
	got, err := f.s.TagHistory(ctx, []int64{goID, zigID}, day.UnixMilli()<<16)
	if err != nil {
		t.Fatal(err)
	}
	want := []TagDay{{Day: day.UnixMilli(), Uses: 3, Accounts: 2}, {Day: day.AddDate(0, 0, 1).UnixMilli(), Uses: 1, Accounts: 1}}
	hist := got[goID]
	slices.SortFunc(hist, func(x, y TagDay) int { return int(x.Day-y.Day) / 1000 })
	if !slices.Equal(hist, want) {
		t.Errorf("go: %+v, want %+v", hist, want)
	}
	if z := got[zigID]; len(z) != 1 || z[0].Uses != 1 {
		t.Errorf("zig: %+v", z)
	}
}
