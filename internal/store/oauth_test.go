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
