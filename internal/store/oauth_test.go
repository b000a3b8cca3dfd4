package store

import (
	"context"
	"testing"
	"time"
)

// A request authenticated by a token loads its user, counters and app in
// one query, and never the password hash: the API's path does not hold it.
func TestUserTokenLoadsTheUserWithoutItsPasswordHash(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	app := &App{ID: f.id(), Name: "app", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "read", ClientID: "cid", ClientSecretHash: "h", CreatedAt: time.Now()}
	if err := f.s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	tok := &Token{ID: f.id(), TokenHash: "th", AppID: app.ID, AccountID: f.accounts[0], Scopes: "read", CreatedAt: time.Now()}
	if err := f.s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	gotTok, gotApp, lu, err := f.s.UserToken(ctx, "th")
	if err != nil {
		t.Fatal(err)
	}
	if gotTok.ID != tok.ID || gotApp.ID != app.ID || lu.Account.ID != f.accounts[0] || lu.User.Email != "user0@example.test" {
		t.Fatalf("token %d app %d account %d email %q; want %d %d %d user0@example.test", gotTok.ID, gotApp.ID, lu.Account.ID, lu.User.Email, tok.ID, app.ID, f.accounts[0])
	}
	if lu.User.PasswordHash != "" {
		t.Fatalf("UserToken loaded the password hash %q", lu.User.PasswordHash)
	}
	if lu.Account.Fields == nil {
		t.Fatal("an account without fields has nil Fields; the API renders them as []")
	}
}

func TestRemoteAccountsAreUpsertedByURI(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	now := time.Now()
	r := &RemoteAccount{Account: Account{Username: "bob", Domain: "b.example", URI: "https://b.example/users/bob",
		URL: "https://b.example/@bob", DisplayName: "Bob", Note: "<p>hi</p>", AvatarRemoteURL: "https://b.example/a.png",
		PublicKeyPEM: "pem", CreatedAt: now}, InboxURL: "https://b.example/users/bob/inbox", FetchedAt: now}
	id, err := f.s.UpsertRemoteAccount(ctx, r, f.id())
	if err != nil {
		t.Fatal(err)
	}
	r.Account.DisplayName = "Bobby"
	again, err := f.s.UpsertRemoteAccount(ctx, r, f.id())
	if err != nil || again != id {
		t.Fatalf("second upsert: id %d, %v; want the same id %d", again, err, id)
	}
	a, err := f.s.AccountByUsername(ctx, "BOB", "b.example")
	if err != nil || a.ID != id || a.DisplayName != "Bobby" || a.AvatarRemoteURL != "https://b.example/a.png" {
		t.Fatalf("stored %+v, %v", a, err)
	}
	if at, err := f.s.AccountFetchedAt(ctx, id); err != nil || at.UnixMilli() != now.UnixMilli() {
		t.Fatalf("fetched at %v, %v", at, err)
	}
	// A remote actor never takes a local account's row.
	local, _ := f.s.AccountByID(ctx, f.accounts[0])
	if _, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "x", Domain: "b.example", URI: local.URI}}, f.id()); err == nil {
		t.Fatal("a remote actor claiming a local account's id was stored")
	}
	if _, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "y", URI: "https://b.example/users/y"}}, f.id()); err == nil {
		t.Fatal("a remote account without a domain was stored")
	}
}

func TestRemoteStatusesAreStoredOnceByURIAndNeverForALocalAuthor(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	now := time.Now()
	bob, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "bob", Domain: "b.example",
		URI: "https://b.example/users/bob", URL: "https://b.example/@bob", CreatedAt: now}, FetchedAt: now}, f.id())
	if err != nil {
		t.Fatal(err)
	}
	// user0 follows bob: the status enters user0's home timeline.
	if _, err := f.s.Follow(ctx, f.id(), f.accounts[0], bob, FollowOptions{}, now); err != nil {
		t.Fatal(err)
	}
	st := &Status{ID: f.id(), URI: "https://b.example/users/bob/statuses/1", URL: "https://b.example/@bob/1", AccountID: bob,
		Content: "<p>hi</p>", Visibility: Public, CreatedAt: now}
	id, created, err := f.s.CreateRemoteStatus(ctx, NewStatus{Status: st, Tags: []string{"remote"}})
	if err != nil || !created || id != st.ID {
		t.Fatalf("first store: id %d created %v err %v", id, created, err)
	}
	again := *st
	again.ID, again.Content = f.id(), "<p>changed</p>"
	id2, created, err := f.s.CreateRemoteStatus(ctx, NewStatus{Status: &again})
	if err != nil || created || id2 != st.ID {
		t.Fatalf("second store: id %d created %v err %v; want the first row", id2, created, err)
	}
	got, err := f.s.StatusByID(ctx, st.ID)
	if err != nil || got.Local || got.Content != "<p>hi</p>" || got.URL != st.URL {
		t.Fatalf("stored %+v, %v", got, err)
	}
	var feed, authorFeed int
	f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM home_feed WHERE account_id = ? AND status_id = ?`, f.accounts[0], st.ID).Scan(&feed)
	f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM home_feed WHERE account_id = ?`, bob).Scan(&authorFeed)
	if feed != 1 || authorFeed != 0 {
		t.Fatalf("home feed: follower %d, remote author %d; want 1 and 0", feed, authorFeed)
	}
	// Another status of the same millisecond given the same id takes the
	// next one.
	same := &Status{ID: st.ID, URI: "https://b.example/users/bob/statuses/3", AccountID: bob, Visibility: Public, CreatedAt: now}
	if id3, created, err := f.s.CreateRemoteStatus(ctx, NewStatus{Status: same}); err != nil || !created || id3 != st.ID+1 {
		t.Fatalf("an id taken: got %d created %v err %v; want %d", id3, created, err, st.ID+1)
	}
	local := &Status{ID: f.id(), URI: "https://b.example/users/bob/statuses/2", AccountID: f.accounts[0], Visibility: Public, CreatedAt: now}
	if _, _, err := f.s.CreateRemoteStatus(ctx, NewStatus{Status: local}); err == nil {
		t.Fatal("a remote status written under a local account was stored")
	}
	if _, err := f.s.StatusByID(ctx, local.ID); err == nil {
		t.Fatal("the refused status is in the store")
	}
}

// NodeInfo's active users: counted from each user's last activity, which
// is written at most once a day; pending and disabled users never count.
func TestActiveUsersAreCountedByLastActivity(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 5) // user4 is waiting for approval
	now := time.Now()
	set := func(i int, at time.Time) {
		if _, err := f.s.write.ExecContext(ctx, `UPDATE users SET last_active_at = ? WHERE account_id = ?`, ms(at), f.accounts[i]); err != nil {
			t.Fatal(err)
		}
	}
	set(0, now.AddDate(0, 0, -2))   // this month
	set(1, now.AddDate(0, 0, -100)) // this half-year
	set(2, now.AddDate(0, 0, -200)) // neither
	set(3, now.AddDate(0, 0, -1))   // this month, then disabled
	if err := f.s.SetUserFlags(ctx, f.accounts[3], "user", true, true); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CountActiveUsers(ctx, now); err != nil {
		t.Fatal(err)
	}
	st, err := f.s.InstanceStats(ctx)
	if err != nil || st.ActiveMonth != 1 || st.ActiveHalfyear != 2 {
		t.Fatalf("active month %d, half-year %d, %v; want 1 and 2", st.ActiveMonth, st.ActiveHalfyear, err)
	}
	// A touch within the day writes nothing; a day later it does.
	if err := f.s.TouchUserActive(ctx, f.accounts[0], now.AddDate(0, 0, -2).Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	u, _ := f.s.UserByAccountID(ctx, f.accounts[0])
	if !u.LastActiveAt.Equal(fromMs(ms(now.AddDate(0, 0, -2)))) {
		t.Fatalf("a touch within the day moved the activity to %v", u.LastActiveAt)
	}
	if !ActiveStale(u, now) {
		t.Fatal("an activity two days old is not stale")
	}
	if err := f.s.TouchUserActive(ctx, f.accounts[2], now); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CountActiveUsers(ctx, now); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.s.InstanceStats(ctx); st.ActiveMonth != 2 || st.ActiveHalfyear != 3 {
		t.Fatalf("after user2 came back: month %d, half-year %d; want 2 and 3", st.ActiveMonth, st.ActiveHalfyear)
	}
}
