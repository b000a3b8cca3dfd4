package store

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func (f *counterFixture) status(t *testing.T, author int64, v Visibility, replyTo int64, mentions ...int64) int64 {
	t.Helper()
	id := f.id()
	st := &Status{ID: id, URI: "https://example.test/s/" + strconv.FormatInt(id, 10), AccountID: author, Local: true,
		Visibility: v, Text: "hello", CreatedAt: time.Now(), InReplyToID: replyTo}
	if err := f.s.CreateStatus(context.Background(), NewStatus{Status: st, MentionIDs: mentions}); err != nil {
		t.Fatal(err)
	}
	return id
}

// The facts the policy weighs come from one statement: the policy (or
// none), the permission, who follows whom and since when, the sender's
// age and limitation, and whether a private mention answers, up its
// thread, a private mention of the recipient's to the sender.
func TestNotificationFacts(t *testing.T) {
	f := newCounterFixture(t, 3)
	ctx := context.Background()
	rec, snd, other := f.accounts[0], f.accounts[1], f.accounts[2]
	facts := func(status int64) NotificationFacts {
		t.Helper()
		x, err := f.s.NotificationFactsFor(ctx, rec, snd, status)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	x := facts(0)
	if x.PolicyFound || x.Permitted || x.Following || !x.FollowerAt.IsZero() || x.Limited || x.Direct || x.RepliesToDMs || x.SenderSince.IsZero() {
		t.Errorf("strangers: %+v", x)
	}
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	if _, err := f.s.Follow(ctx, f.id(), snd, rec, FollowOptions{}, at); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Follow(ctx, f.id(), rec, snd, FollowOptions{}, at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetNotificationPolicy(ctx, rec, NotificationPolicy{"filter", "drop", "accept", "accept", "drop"}, at); err != nil {
		t.Fatal(err)
	}
	x = facts(0)
	if !x.PolicyFound || x.Policy.ForNotFollowers != "drop" || !x.Following || !x.FollowerAt.Equal(at) {
		t.Errorf("after following both ways and a policy: %+v", x)
	}

	// rec writes privately to snd; snd answers two levels down a thread
	// (other's reply between): the answer replies to rec's private mention.
	dm := f.status(t, rec, Direct, 0, snd)
	mid := f.status(t, other, Direct, dm, rec, snd)
	answer := f.status(t, snd, Direct, mid, rec)
	if x = facts(answer); !x.Direct || !x.RepliesToDMs {
		t.Errorf("an answer to rec's private mention: %+v", x)
	}
	// A private mention out of the blue, and one in a thread rec's private
	// mention did not start to snd, are not answers.
	if x = facts(f.status(t, snd, Direct, 0, rec)); !x.Direct || x.RepliesToDMs {
		t.Errorf("a new private mention: %+v", x)
	}
	toOther := f.status(t, rec, Direct, 0, other)
	if x = facts(f.status(t, snd, Direct, toOther, rec)); x.RepliesToDMs {
		t.Errorf("a reply in a thread rec wrote to someone else: %+v", x)
	}
	if x = facts(f.status(t, snd, Public, 0, rec)); x.Direct {
		t.Errorf("a public mention: %+v", x)
	}
}

// A filtered notification stays out of the list and in a request that
// counts it; accepting moves the sender's into the list and permits the
// sender; dismissing deletes them with the request. Groups count only
// what the list shows.
func TestNotificationRequestsAndGroups(t *testing.T) {
	f := newCounterFixture(t, 4)
	ctx := context.Background()
	rec, a, b, c := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3]
	now := time.Now()
	st := f.status(t, rec, Public, 0)
	filtered := func(from int64, typ string, status int64) {
		t.Helper()
		if ok, err := f.s.CreateFilteredNotification(ctx, &Notification{ID: f.id(), AccountID: rec, FromAccountID: from, Type: typ, StatusID: status, CreatedAt: now}, f.id()); err != nil || !ok {
			t.Fatalf("filtered notification: %v %v", ok, err)
		}
	}
	filtered(a, "mention", st)
	filtered(a, "follow", 0)
	filtered(b, "mention", st)
	list := func() []Notification {
		t.Helper()
		l, err := f.s.Notifications(ctx, rec, NotificationFilter{}, Page{Limit: 40})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := list(); len(l) != 0 {
		t.Fatalf("filtered notifications listed: %+v", l)
	}
	reqs, err := f.s.NotificationRequests(ctx, rec, 0, Page{Limit: 40})
	if err != nil || len(reqs) != 2 {
		t.Fatalf("requests: %+v %v", reqs, err)
	}
	byFrom := map[int64]NotificationRequest{}
	for _, r := range reqs {
		byFrom[r.FromAccountID] = r
	}
	if r := byFrom[a]; r.Count != 2 || r.LastStatusID != st {
		t.Errorf("a's request: %+v, want 2 held back, the status last", r)
	}
	if n, m, err := f.s.NotificationRequestsSummary(ctx, rec); err != nil || n != 2 || m != 3 {
		t.Errorf("summary: %d requests, %d notifications, %v", n, m, err)
	}
	// Only the owner settles a request.
	if n, err := f.s.AcceptNotificationRequests(ctx, b, []int64{byFrom[a].ID}, now); err != nil || n != 0 {
		t.Errorf("another account accepted a's request: %d %v", n, err)
	}
	if n, err := f.s.AcceptNotificationRequests(ctx, rec, []int64{byFrom[a].ID}, now); err != nil || n != 1 {
		t.Fatalf("accept: %d %v", n, err)
	}
	if l := list(); len(l) != 2 {
		t.Errorf("after accepting a's: %d listed, want 2", len(l))
	}
	if x, _ := f.s.NotificationFactsFor(ctx, rec, a, 0); !x.Permitted {
		t.Errorf("a is not permitted after the accept")
	}
	if n, err := f.s.DismissNotificationRequests(ctx, rec, []int64{byFrom[b].ID}); err != nil || n != 1 {
		t.Fatalf("dismiss: %d %v", n, err)
	}
	all, _ := f.s.Notifications(ctx, rec, NotificationFilter{IncludeFiltered: true}, Page{Limit: 40})
	if len(all) != 2 {
		t.Errorf("after dismissing b's: %d notifications with the held ones, want a's 2", len(all))
	}

	// Groups: three favourites of st, one from an account rec then blocks.
	for i, from := range []int64{a, b, c} {
		n := &Notification{ID: f.id(), AccountID: rec, FromAccountID: from, Type: "favourite", StatusID: st, CreatedAt: now.Add(time.Duration(i) * time.Second), GroupKey: "favourite-12-1"}
		if ok, err := f.s.CreateNotification(ctx, n); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	if key, err := f.s.LatestNotificationGroupKey(ctx, rec, "favourite-12"); err != nil || key != "favourite-12-1" {
		t.Errorf("latest group key %q %v", key, err)
	}
	// Another status's favourites are another group, though its id is a prefix.
	if key, _ := f.s.LatestNotificationGroupKey(ctx, rec, "favourite-1"); key != "" {
		t.Errorf("the prefix favourite-1 matched %q", key)
	}
	if err := f.s.Block(ctx, f.id(), rec, c, now); err != nil {
		t.Fatal(err)
	}
	groups, err := f.s.NotificationGroups(ctx, rec, []string{"favourite-12-1", "none"}, 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	g := groups["favourite-12-1"]
	if len(groups) != 1 || g == nil || g.Count != 2 || len(g.Samples) != 2 || g.Samples[0] != b || g.Samples[1] != a {
		t.Errorf("groups: %+v (%+v), want b's and a's favourites, not the blocked c's", groups, g)
	}
}
