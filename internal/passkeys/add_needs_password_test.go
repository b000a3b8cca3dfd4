package passkeys

import (
	"context"
	"errors"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
)

// TestAddingNeedsThePassword: a passkey signs in without the password and
// outlives a password change, so a signed-in session alone (a browser
// left open, a stolen cookie) cannot add one: without alice's password no
// ceremony is begun and no answer can be stored; with hers, it can.
func TestAddingNeedsThePassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range []struct{ name, password string }{{"no password", ""}, {"a wrong password", pw + "x"}} {
		if _, _, err := f.s.BeginRegistration(ctx, f.alice, "b", "key", Proof{Password: c.password, ClientIP: "192.0.2.1"}); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Errorf("%s: %v, want ErrBadCredentials", c.name, err)
		}
		if _, err := f.s.FinishRegistration(ctx, f.alice, "b", []byte(`{}`)); !errors.Is(err, ErrNoCeremony) {
			t.Errorf("%s: a ceremony was kept (%v)", c.name, err)
		}
	}
	if n, err := f.st.CountPasskeys(ctx, f.alice); err != nil || n != 0 {
		t.Fatalf("alice has %d passkeys (%v)", n, err)
	}
	f.registerKey(f.alice, "b", "key") // with her password
	if n, err := f.st.CountPasskeys(ctx, f.alice); err != nil || n != 1 {
		t.Fatalf("alice has %d passkeys (%v) after adding one with her password", n, err)
	}
}
