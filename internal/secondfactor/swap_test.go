package secondfactor

import (
	"context"
	"errors"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
)

// A browser whose pending sign-in is replaced by another account's while
// its second factor is being checked (a second password sign-in in the
// same browser, racing the code) must not be signed in to the account
// whose second factor was never given: the answer checked was alice's,
// so only alice's pending sign-in may complete.
func TestPendingReplacedMidCheckDoesNotCompleteTheOtherAccount(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bob, _, err := f.s.accounts.Create(ctx, accounts.NewParams{Username: "bob", Email: "bob@example.test",
		Password: ownerPassword, Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/", false); err != nil {
		t.Fatal(err)
	}
	p, err := f.s.Attempt(ctx, "v", "192.0.2.1", func(accountID int64) (bool, error) {
		if accountID != f.alice.ID {
			t.Fatalf("checked account %d, want alice's", accountID)
		}
		// The same browser passes bob's password meanwhile.
		if err := f.s.Begin(ctx, "v", bob.ID, "d2", "/", false); err != nil {
			t.Fatal(err)
		}
		return false, nil // alice's factor is right
	})
	if err == nil && p.AccountID == bob.ID {
		t.Fatal("alice's second factor completed bob's pending sign-in")
	}
	if !errors.Is(err, ErrNoPending) {
		t.Fatalf("err = %v, want ErrNoPending", err)
	}
	// Bob's pending sign-in still waits for bob's own second factor.
	if p, err := f.s.Pending(ctx, "v"); err != nil || p.AccountID != bob.ID {
		t.Fatalf("pending = %+v, %v; want bob's still waiting", p, err)
	}

}
