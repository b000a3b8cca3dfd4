package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// startupFixture is a store with local accounts 1..n (alice=1, bob=2, ...)
// made at at, and a remote account on each of domains.
type startupFixture struct {
	s   *Store
	at  time.Time
	ctx context.Context
}

func newStartupFixture(t *testing.T, names []string, at time.Time) *startupFixture {
	t.Helper()
	f := &startupFixture{s: open(t, filepath.Join(t.TempDir(), "rampart.db")), at: at, ctx: context.Background()}
	t.Cleanup(func() { f.s.Close() })
	for i, name := range names {
		a := &Account{ID: int64(i + 1), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name,
			Discoverable: true, CreatedAt: at, UpdatedAt: at}
		u := &User{Email: name + "@example.test", PasswordHash: "x", Role: "user", Approved: true, Locale: "en",
			DefaultPrivacy: "public", CreatedAt: at}
		if err := f.s.CreateLocalAccount(f.ctx, a, u); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *startupFixture) remote(t *testing.T, id int64, user, domain string) {
	t.Helper()
	if _, err := f.s.UpsertRemoteAccount(f.ctx, &RemoteAccount{Account: Account{Username: user, Domain: domain,
		URI: "https://" + domain + "/users/" + user, URL: "https://" + domain + "/@" + user, CreatedAt: f.at},
		InboxURL: "https://" + domain + "/inbox", FetchedAt: f.at}, id); err != nil {
		t.Fatal(err)
	}
}

// Markers: absent until saved; a save returns what is stored; moving a
// marker counts a version, saving the same id does not.
func TestMarkersSaveAndVersion(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000).UTC()
	f := newStartupFixture(t, []string{"alice", "bob"}, at)
	got, err := f.s.Markers(f.ctx, 1, MarkerTimelines)
	if err != nil || len(got) != 0 {
		t.Fatalf("markers before any save: %v, %v", got, err)
	}
	saved, err := f.s.SaveMarkers(f.ctx, 1, map[string]int64{"home": 100}, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := (map[string]Marker{"home": {LastReadID: 100, Version: 1, UpdatedAt: at}}); !reflect.DeepEqual(saved, want) {
		t.Fatalf("first save: %+v, want %+v", saved, want)
	}
	later := at.Add(time.Minute)
	saved, err = f.s.SaveMarkers(f.ctx, 1, map[string]int64{"home": 150, "notifications": 7}, later)
	if err != nil {
		t.Fatal(err)
	}
	if want := (map[string]Marker{"home": {150, 2, later}, "notifications": {7, 1, later}}); !reflect.DeepEqual(saved, want) {
		t.Fatalf("second save: %+v, want %+v", saved, want)
	}
	// The same id again: no new version, updated_at kept.
	saved, err = f.s.SaveMarkers(f.ctx, 1, map[string]int64{"home": 150}, later.Add(time.Minute))
	if err != nil || saved["home"] != (Marker{150, 2, later}) {
		t.Fatalf("saving the same id: %+v, %v", saved, err)
	}
	// Bob's are his own.
	if got, _ := f.s.Markers(f.ctx, 2, MarkerTimelines); len(got) != 0 {
		t.Errorf("bob sees markers %v", got)
	}
	got, err = f.s.Markers(f.ctx, 1, []string{"notifications"})
	if err != nil || len(got) != 1 || got["notifications"].LastReadID != 7 {
		t.Errorf("reading one timeline: %+v, %v", got, err)
	}
}

// Peers: the known remote domains, sorted, once each, without a
// suspended one.
func TestPeers(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000).UTC()
	f := newStartupFixture(t, []string{"alice"}, at)
	f.remote(t, 100, "a", "zeta.example")
	f.remote(t, 101, "b", "alpha.example")
	f.remote(t, 102, "c", "alpha.example")
	f.remote(t, 103, "d", "mid.example")
	got, err := f.s.Peers(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpha.example", "mid.example", "zeta.example"}; !reflect.DeepEqual(got, want) {
		t.Errorf("peers %q, want %q", got, want)
	}
	if _, err := f.s.BlockDomain(f.ctx, "mid.example", "", at); err != nil {
		t.Fatal(err)
	}
	got, _ = f.s.Peers(f.ctx)
	if want := []string{"alpha.example", "zeta.example"}; !reflect.DeepEqual(got, want) {
		t.Errorf("peers after a suspension %q, want %q", got, want)
	}
}

// Suggestions: friends of friends first, then the most followed; never
// the viewer, a followee, a blocked, blocking, muted or dismissed account.
func TestSuggestions(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000).UTC()
	names := []string{"viewer", "friend", "fof", "popular", "quiet", "followed", "blocked", "blocker", "muted", "dismissed"}
	f := newStartupFixture(t, names, at)
	id := map[string]int64{}
	for i, n := range names {
		id[n] = int64(i + 1)
	}
	next := int64(1000)
	follow := func(a, b string) {
		next++
		if _, err := f.s.Follow(f.ctx, next, id[a], id[b], FollowOptions{}, at); err != nil {
			t.Fatal(err)
		}
	}
	follow("viewer", "friend")
	follow("viewer", "followed")
	follow("friend", "fof")
	for _, n := range []string{"friend", "quiet", "blocked", "muted"} {
		follow(n, "popular")
	}
	follow("quiet", "blocked")
	follow("quiet", "muted")
	follow("quiet", "dismissed")
	if err := f.s.Block(f.ctx, 2000, id["viewer"], id["blocked"], at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Block(f.ctx, 2001, id["blocker"], id["viewer"], at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Mute(f.ctx, 2002, id["viewer"], id["muted"], true, at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DismissSuggestion(f.ctx, id["viewer"], id["dismissed"], at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DismissSuggestion(f.ctx, id["viewer"], 999999, at); err == nil {
		t.Error("dismissing an unknown account: no error")
	}
	got, err := f.s.Suggestions(f.ctx, id["viewer"], 10)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, sg := range got {
		order = append(order, fmt.Sprintf("%s/%d", names[sg.AccountID-1], sg.FriendsOfFriends))
	}
	// fof and popular are followed by viewer's friend; popular has more followers.
	if want := []string{"popular/1", "fof/1", "quiet/0"}; !reflect.DeepEqual(order, want) {
		t.Errorf("suggestions %q, want %q", order, want)
	}
	if got, _ := f.s.Suggestions(f.ctx, id["viewer"], 1); len(got) != 1 {
		t.Errorf("limit 1: %d suggestions", len(got))
	}
}

// Activity: local statuses, last uses and sign-ups per week.
func TestActivity(t *testing.T) {
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	week := 7 * 24 * time.Hour
	f := newStartupFixture(t, []string{"old"}, start.Add(-week)) // signed up before the weeks counted
	for i, name := range []string{"w0", "w2"} {
		at := start.Add(time.Duration(i)*2*week + time.Hour)
		a := &Account{ID: int64(10 + i), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name, CreatedAt: at, UpdatedAt: at}
		if err := f.s.CreateLocalAccount(f.ctx, a, &User{Email: name + "@x.test", PasswordHash: "x", Role: "user", Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.TouchUserActive(f.ctx, 1, start.Add(week+time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.remote(t, 50, "r", "remote.example")
	sid := int64(0)
	post := func(author int64, at time.Time, reblogOf int64) int64 {
		t.Helper()
		sid++
		id := at.UnixMilli()<<16 | sid
		st := &Status{ID: id, AccountID: author, Local: author != 50, Visibility: Public, ReblogOfID: reblogOf,
			URI: fmt.Sprintf("https://example.test/s/%d", id), CreatedAt: at}
		if author == 50 {
			if _, _, err := f.s.CreateRemoteStatus(f.ctx, NewStatus{Status: st}); err != nil {
				t.Fatal(err)
			}
			return id
		}
		if err := f.s.CreateStatus(f.ctx, NewStatus{Status: st}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := post(1, start.Add(time.Hour), 0)
	post(1, start.Add(2*time.Hour), 0)
	post(1, start.Add(3*time.Hour), first) // a reblog: not counted
	post(50, start.Add(4*time.Hour), 0)    // remote: not counted
	post(10, start.Add(2*week+time.Hour), 0)
	post(1, start.Add(-time.Hour), 0) // before the weeks
	got, err := f.s.Activity(f.ctx, []time.Time{start, start.Add(week), start.Add(2 * week)})
	if err != nil {
		t.Fatal(err)
	}
	want := []WeekActivity{
		{Week: start, Statuses: 2, Logins: 1, Registrations: 1},               // w0 signed up (and so was last active then)
		{Week: start.Add(week), Statuses: 0, Logins: 1, Registrations: 0},     // old's last use
		{Week: start.Add(2 * week), Statuses: 1, Logins: 1, Registrations: 1}, // w2
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("activity\n got %+v\nwant %+v", got, want)
	}
}

// Trends read public originals of the window that anyone may see; the
// viewer's list drops what the viewer may not see or has muted.
func TestTagUsesAndMostShared(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f := newStartupFixture(t, []string{"alice", "bob", "carol", "viewer"}, from.Add(-time.Hour))
	sid := int64(0)
	post := func(author int64, at time.Time, v Visibility, tags ...string) int64 {
		t.Helper()
		sid++
		id := at.UnixMilli()<<16 | sid
		if err := f.s.CreateStatus(f.ctx, NewStatus{Status: &Status{ID: id, AccountID: author, Local: true, Visibility: v,
			URI: fmt.Sprintf("https://example.test/s/%d", id), CreatedAt: at}, Tags: tags}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	day := 24 * time.Hour
	a1 := post(1, from.Add(time.Hour), Public, "go", "rust")
	b1 := post(2, from.Add(2*time.Hour), Public, "go")
	post(2, from.Add(day+time.Hour), Public, "go")
	post(3, from.Add(day+2*time.Hour), Unlisted, "go") // not public: not counted
	post(3, from.Add(day+3*time.Hour), Private, "go")  // nor this
	post(1, from.Add(-time.Hour), Public, "go")        // before the window
	uses, err := f.s.TagUses(f.ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	want := []TagUse{
		{Name: "go", Days: []TagUseDay{{Day: 0, Uses: 2, Accounts: 2}, {Day: 1, Uses: 1, Accounts: 1}}},
		{Name: "rust", Days: []TagUseDay{{Day: 0, Uses: 1, Accounts: 1}}},
	}
	if !reflect.DeepEqual(uses, want) {
		t.Errorf("tag uses\n got %+v\nwant %+v", uses, want)
	}

	// Shares: b1 has 2, a1 has 1, an unlisted one 3 (not public: left out).
	c1 := post(3, from.Add(3*time.Hour), Unlisted)
	mark := int64(5000)
	fav := func(who, status int64) {
		mark++
		if _, err := f.s.AddMark(f.ctx, Favourite, mark, who, status, from); err != nil {
			t.Fatal(err)
		}
	}
	fav(3, b1)
	fav(4, b1)
	fav(3, a1)
	fav(1, c1)
	fav(2, c1)
	fav(4, c1)
	ids, err := f.s.MostSharedStatuses(f.ctx, from, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{b1, a1}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("most shared %v, want %v", ids, want)
	}
	// The viewer mutes bob and is blocked by alice: neither is left.
	if err := f.s.Mute(f.ctx, 6000, 4, 2, true, from); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.VisibleAmong(f.ctx, 4, ids); !reflect.DeepEqual(got, []int64{a1}) {
		t.Errorf("after a mute: %v, want [a1]", got)
	}
	if err := f.s.Block(f.ctx, 6001, 1, 4, from); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.VisibleAmong(f.ctx, 4, ids); len(got) != 0 {
		t.Errorf("after a block too: %v, want none", got)
	}
	if got, _ := f.s.VisibleAmong(f.ctx, 0, ids); !reflect.DeepEqual(got, ids) {
		t.Errorf("anonymous: %v, want %v", got, ids)
	}
}
