package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Revoking an app also drops the authorization codes it was given for the
// account and has not exchanged yet: else the app, holding one, would buy
// a fresh token right after the owner revoked it (as a password change
// drops them for the same reason). Another account's codes stay.
func TestRevokingAnAppDropsItsUnexchangedCodes(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	at := time.UnixMilli(1_700_000_000_000).UTC()
	app := &App{ID: f.id(), Name: "app", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "read", ClientID: "cid",
		ClientSecretHash: "h", CreatedAt: at}
	if err := f.s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CreateToken(ctx, &Token{ID: f.id(), TokenHash: "t1", AppID: app.ID, AccountID: f.accounts[0], Scopes: "read",
		CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	for i, h := range []string{"mine", "theirs"} {
		if err := f.s.CreateCode(ctx, &Code{CodeHash: h, AppID: app.ID, AccountID: f.accounts[i], RedirectURI: "urn:ietf:wg:oauth:2.0:oob",
			Scopes: "read", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := f.s.DeleteAccountAppTokens(ctx, f.accounts[0], app.ID); err != nil || len(ids) != 1 {
		t.Fatalf("revoked %v (%v)", ids, err)
	}
	if _, err := f.s.TakeCode(ctx, "mine"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the revoked app's unexchanged code: %v; want it gone", err)
	}
	if _, err := f.s.TakeCode(ctx, "theirs"); err != nil {
		t.Fatalf("another account's code of the app: %v; want it kept", err)
	}
}
