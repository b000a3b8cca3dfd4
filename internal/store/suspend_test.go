package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// A suspended author, local or remote, is hidden by the one visibility rule
// on every read path (timelines, one status, search, notifications,
// followers, favourites, account search, hidden accounts) and comes back
// whole when unsuspended: suspension deletes nothing.
func TestSuspendedAccountsAreHiddenEverywhere(t *testing.T) {
	f := newCounterFixture(t, 2)
	ctx := context.Background()
	s := f.s
	author, viewer := f.accounts[0], f.accounts[1]
	at := time.Now()
	remote, err := s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "far", Domain: "far.example",
		URI: "https://far.example/users/far", CreatedAt: at}, InboxURL: "https://far.example/inbox"}, f.id())
	if err != nil {
		t.Fatal(err)
	}
	post := func(by int64, text string) int64 {
		id := f.id()
		st := &Status{ID: id, URI: fmt.Sprintf("https://example.test/s/%d", id), AccountID: by, Local: by != remote,
			Visibility: Public, Text: text, CreatedAt: at}
		if err := s.CreateStatus(ctx, NewStatus{Status: st, Words: strings.Fields(text)}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	if _, err := s.Follow(ctx, f.id(), viewer, author, FollowOptions{ShowReblogs: true}, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Follow(ctx, f.id(), author, viewer, FollowOptions{ShowReblogs: true}, at); err != nil {
		t.Fatal(err)
	}
	mine := post(author, "suspendable words")
	far := post(remote, "remote words")
	own := post(viewer, "the viewer's own")
	if _, err := s.AddRemoteFavourite(ctx, f.id(), remote, own, "https://far.example/likes/1", at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNotification(ctx, &Notification{ID: f.id(), AccountID: viewer, FromAccountID: author, Type: "follow", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateNotification(ctx, &Notification{ID: f.id(), AccountID: viewer, FromAccountID: remote, Type: "favourite", StatusID: own, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.FanOutPendingEach(ctx, func(int64, int64) {}); err != nil {
		t.Fatal(err)
	}
	page := Page{Limit: 40}

	// seen lists what viewer (and anyone) sees of the two authors.
	seen := func() []string {
		t.Helper()
		var out []string
		check := func(what string, ids []int64, err error, want ...int64) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			for _, w := range want {
				if slices.Contains(ids, w) {
					out = append(out, fmt.Sprintf("%s:%d", what, w))
				}
			}
		}
		home, err := s.HomeTimeline(ctx, viewer, page)
		check("home", home, err, mine)
		public, err := s.PublicTimeline(ctx, viewer, PublicFilter{}, page)
		check("public", public, err, mine, far)
		anon, err := s.PublicTimeline(ctx, 0, PublicFilter{}, page)
		check("anonymous", anon, err, mine, far)
		acct, err := s.AccountStatuses(ctx, viewer, author, AccountFilter{}, page)
		check("account", acct, err, mine)
		vis, err := s.VisibleStatusIDs(ctx, viewer, []int64{mine, far})
		check("status", vis, err, mine, far)
		found, err := s.SearchStatuses(ctx, viewer, []string{"words"}, page)
		check("search", found, err, mine, far)
		notes, err := s.Notifications(ctx, viewer, NotificationFilter{}, page)
		var from []int64
		for _, n := range notes {
			from = append(from, n.FromAccountID)
		}
		check("notification", from, err, author, remote)
		followers, _, err := s.RelatedAccounts(ctx, Follows, viewer, true, viewer, page)
		check("followers", followers, err, author)
		favs, _, err := s.StatusAccounts(ctx, viewer, own, false, page)
		check("favourited_by", favs, err, remote)
		accts, err := s.SearchAccounts(ctx, viewer, AccountSearch{Query: "user0", Limit: 10})
		check("account_search", accts, err, author)
		hidden, err := s.HiddenAccounts(ctx, []int64{author, remote})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{author, remote} {
			if !hidden[id] {
				out = append(out, fmt.Sprintf("shown:%d", id))
			}
		}
		return out
	}
	everything := seen()
	if len(everything) != 17 {
		t.Fatalf("before suspension, seen: %v (want 17 sightings)", everything)
	}
	for _, id := range []int64{author, remote} {
		if err := s.SetSuspended(ctx, id, at); err != nil {
			t.Fatal(err)
		}
	}
	if got := seen(); len(got) != 0 {
		t.Errorf("suspended accounts seen: %v", got)
	}
	a, err := s.AccountByID(ctx, remote)
	if err != nil || a.SuspendedAt.IsZero() {
		t.Errorf("the mark: %+v %v", a, err)
	}
	x, err := s.AdminAccounts(ctx, AdminAccountFilter{Status: "suspended"}, page)
	if err != nil || len(x) != 2 {
		t.Errorf("admin list of the suspended: %d %v", len(x), err)
	}
	for _, id := range []int64{author, remote} {
		if err := s.SetSuspended(ctx, id, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := seen(); !slices.Equal(got, everything) {
		t.Errorf("after unsuspension: %v, want %v", got, everything)
	}
	if err := s.SetSuspended(ctx, f.id(), at); err == nil {
		t.Error("suspended no account")
	}
}
