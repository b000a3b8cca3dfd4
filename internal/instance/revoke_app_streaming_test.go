package instance

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/oauth"
)

// Revoking an app from the sessions page (accounts.RevokeApp) closes the
// app's open streams (4001); another app's stream of the same account stays.
func TestRevokingAnAppClosesItsStreams(t *testing.T) {
	s := newSocial(t)
	bob := s.user("bob")
	ctx := context.Background()
	app, _, err := s.ti.inst.OAuth().RegisterApp(ctx, oauth.AppParams{Name: "Tusky", RedirectURIs: []string{oauth.OOB}, Scopes: "read"})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := strconv.ParseInt(bob.id, 10, 64)
	sc, _ := oauth.ParseScopes("read")
	issued, err := s.ti.inst.OAuth().IssueForAccount(ctx, app.ID, id, sc)
	if err != nil {
		t.Fatal(err)
	}
	revoked := s.openStream(user{name: "bob", tok: issued.Token}, "user")
	other := s.openStream(bob, "user")
	if err := s.ti.inst.Accounts().RevokeApp(ctx, id, app.ID, accounts.Actor{}); err != nil {
		t.Fatal(err)
	}
	if code := revoked.waitClosed(5 * time.Second); code != 4001 {
		t.Errorf("the revoked app's socket closed with %d, want 4001", code)
	}
	other.assertOpen(1500 * time.Millisecond)
}
