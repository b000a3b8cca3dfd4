package instance

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
)

// TestStreamingEndsWhenThePasswordChanges: a password change (the settings
// page's rule, accounts.ChangePassword) revokes every token of the account
// issued before it, and the streams' sweep then closes their open sockets
// (4001) within a few seconds (the hub checks once a second); a token
// issued after the change streams on, and another account's stream stays.
func TestStreamingEndsWhenThePasswordChanges(t *testing.T) {
	s := newSocial(t)
	bob, carol := s.user("bob"), s.user("carol")
	bobs, carols := s.openStream(bob, "user"), s.openStream(carol, "user")
	id, _ := strconv.ParseInt(bob.id, 10, 64)
	if _, err := s.ti.inst.Accounts().ChangePassword(context.Background(), accounts.PasswordChange{AccountID: id,
		Current: "correct horse battery", New: "a brand new password", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if code := bobs.waitClosed(5 * time.Second); code != 4001 {
		t.Errorf("the socket of bob's token from before the change closed with %d, want 4001", code)
	}
	tok, _, _ := s.tokenFor(bob, "read")
	s.openStream(user{name: "bob", tok: tok, id: bob.id}, "user").assertOpen(1500 * time.Millisecond)
	carols.assertOpen(time.Second)
}
