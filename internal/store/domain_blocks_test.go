package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// remoteAt stores a remote account on domain (as an acct's host: it may
// carry a port) with one public status replying to reply (0: none).
func (f *counterFixture) remoteAt(t *testing.T, name, domain string, reply *Status) (int64, *Status) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	id, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: name, Domain: domain,
		URI: "https://" + domain + "/users/" + name, URL: "https://" + domain + "/@" + name, CreatedAt: now}, FetchedAt: now}, f.id())
	if err != nil {
		t.Fatal(err)
	}
	st := &Status{ID: f.id(), URI: "https://" + domain + "/users/" + name + "/statuses/1", AccountID: id, Visibility: Public, CreatedAt: now}
	if reply != nil {
		st.InReplyToID, st.InReplyToAccountID = reply.ID, reply.AccountID
	}
	if _, _, err := f.s.CreateRemoteStatus(ctx, NewStatus{Status: st}); err != nil {
		t.Fatal(err)
	}
	return id, st
}

// A block of a domain covers it and its subdomains, whatever the case or
// port, and nothing else; it removes their accounts with their statuses,
// follows and favourites, and the counters of what remains are right.
func TestDomainBlockCoversSubdomainsAndRemovesTheirAccounts(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	user := f.accounts[0]
	local := &Status{ID: f.id(), URI: "https://example.test/s/local", AccountID: user, Local: true, Visibility: Public, Text: "hi", CreatedAt: time.Now()}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: local}); err != nil {
		t.Fatal(err)
	}
	bad, badStatus := f.remoteAt(t, "bob", "bad.example", local)
	sub, _ := f.remoteAt(t, "carl", "a.bad.example:8443", local)
	good, goodStatus := f.remoteAt(t, "dana", "notbad.example", local)
	if _, err := f.s.AddMark(ctx, Favourite, f.id(), bad, local.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Follow(ctx, f.id(), user, bad, FollowOptions{}, time.Now()); err != nil {
		t.Fatal(err)
	}

	for host, want := range map[string]bool{"bad.example": false, "notbad.example": false} {
		if got, err := f.s.DomainBlocked(ctx, host); err != nil || got != want {
			t.Fatalf("before any block, DomainBlocked(%q) = %v, %v", host, got, err)
		}
	}
	removed, err := f.s.BlockDomain(ctx, "Bad.Example.", "spam", time.Now())
	if err != nil || removed != 2 {
		t.Fatalf("BlockDomain: removed %d, %v; want 2", removed, err)
	}
	for host, want := range map[string]bool{
		"bad.example": true, "BAD.example": true, "bad.example:443": true, "a.bad.example": true, "x.y.bad.example.": true,
		"notbad.example": false, "bad.example.org": false, "example": false, "": false,
	} {
		if got, err := f.s.DomainBlocked(ctx, host); err != nil || got != want {
			t.Errorf("DomainBlocked(%q) = %v, %v; want %v", host, got, err, want)
		}
	}
	for _, id := range []int64{bad, sub} {
		if _, err := f.s.AccountByID(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("account %d of a blocked domain is still stored: %v", id, err)
		}
	}
	if _, err := f.s.StatusByID(ctx, badStatus.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a status of a blocked domain is still stored: %v", err)
	}
	if _, err := f.s.AccountByID(ctx, good); err != nil {
		t.Errorf("an account of another domain was removed: %v", err)
	}
	if _, err := f.s.StatusByID(ctx, goodStatus.ID); err != nil {
		t.Errorf("a status of another domain was removed: %v", err)
	}
	got, err := f.s.StatusByID(ctx, local.ID)
	if err != nil || got.RepliesCount != 1 || got.FavouritesCount != 0 {
		t.Errorf("the local status after the block: %+v, %v; want 1 reply (dana's) and no favourite", got, err)
	}
	wantCountersMatchRecount(t, f)

	// Nothing of the domain is stored again while it is blocked.
	if _, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "bob", Domain: "b.bad.example",
		URI: "https://b.bad.example/users/bob"}}, f.id()); !errors.Is(err, ErrDomainBlocked) {
		t.Errorf("an account of a blocked domain was stored: %v", err)
	}

	// Blocking again keeps one row and takes the new reason.
	if removed, err := f.s.BlockDomain(ctx, "bad.example", "worse", time.Now()); err != nil || removed != 0 {
		t.Fatalf("second BlockDomain: %d, %v", removed, err)
	}
	if _, err := f.s.BlockDomain(ctx, "bad example", "", time.Now()); err == nil {
		t.Error("a block of something that is not a domain was stored")
	}
	list, err := f.s.DomainBlocks(ctx)
	if err != nil || len(list) != 1 || list[0].Domain != "bad.example" || list[0].Reason != "worse" || time.Since(list[0].CreatedAt) > time.Minute {
		t.Fatalf("DomainBlocks: %+v, %v", list, err)
	}

	// Unblocking lifts the block; a second unblock finds nothing.
	if err := f.s.UnblockDomain(ctx, "BAD.example"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.UnblockDomain(ctx, "bad.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second unblock: %v; want ErrNotFound", err)
	}
	if blocked, err := f.s.DomainBlocked(ctx, "a.bad.example"); err != nil || blocked {
		t.Errorf("after the unblock: %v, %v", blocked, err)
	}
	if list, err := f.s.DomainBlocks(ctx); err != nil || len(list) != 0 {
		t.Errorf("DomainBlocks after the unblock: %+v, %v", list, err)
	}
	f.remoteAt(t, "bob", "bad.example", nil)
}

// A limit marks the domain's accounts, those stored and those stored
// after it: silenced, and without their images when media are rejected;
// federation itself goes on (it is no block), and lifting the limit
// unsilences them.
func TestDomainLimitsMarkTheirAccounts(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	now := time.Now()
	upsert := func(name string) int64 {
		id, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: name, Domain: "sub.loud.example",
			URI: "https://sub.loud.example/users/" + name, AvatarRemoteURL: "https://sub.loud.example/a.png", CreatedAt: now}, FetchedAt: now}, f.id())
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	before := upsert("early")
	if n, err := f.s.LimitDomain(ctx, "loud.example", "", true, true, now); err != nil || n != 1 {
		t.Fatalf("limit: %d %v", n, err)
	}
	after := upsert("late")
	for _, id := range []int64{before, after} {
		silenced, _ := f.s.AccountSilenced(ctx, id)
		acc, _ := f.s.AccountByID(ctx, id)
		if !silenced || acc.AvatarRemoteURL != "" {
			t.Errorf("account %d: silenced %v, avatar %q; want silenced without its image", id, silenced, acc.AvatarRemoteURL)
		}
	}
	if blocked, _ := f.s.DomainBlocked(ctx, "sub.loud.example"); blocked {
		t.Error("a silenced domain is refused like a suspended one")
	}
	if reject, _ := f.s.DomainRejectsMedia(ctx, "sub.loud.example:8443"); !reject {
		t.Error("media of the domain are not rejected")
	}
	if err := f.s.UnblockDomain(ctx, "loud.example"); err != nil {
		t.Fatal(err)
	}
	if silenced, _ := f.s.AccountSilenced(ctx, before); silenced {
		t.Error("still silenced after the limit was lifted")
	}
}
