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
