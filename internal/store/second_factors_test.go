package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestSecondFactors: an enrolment can be restarted until confirmed and not
// after; a step is taken once and only forward; a recovery code works once;
// a pending sign-in ends after max failures or when taken; a reset removes
// everything and says what it removed; the staff are listed.
func TestSecondFactors(t *testing.T) {
	f := newCounterFixture(t, 3)
	ctx := context.Background()
	now := time.Now()
	alice, bob, carol := f.accounts[0], f.accounts[1], f.accounts[2]
	if _, err := f.s.write.ExecContext(ctx, `UPDATE users SET role = 'admin' WHERE account_id IN (?, ?)`, alice, bob); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.PutUnconfirmedTOTP(ctx, alice, "first", now); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := f.s.PutUnconfirmedTOTP(ctx, alice, "second", now); !ok || err != nil {
		t.Fatal("restarting an enrolment:", ok, err)
	}
	if ok, _ := f.s.UseTOTPStep(ctx, alice, 5); ok {
		t.Error("a step was taken on an unconfirmed secret")
	}
	if ok, err := f.s.ConfirmTOTP(ctx, alice, 10, []string{"a", "b"}, now); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, _ := f.s.ConfirmTOTP(ctx, alice, 11, nil, now); ok {
		t.Error("confirmed twice")
	}
	if ok, _ := f.s.PutUnconfirmedTOTP(ctx, alice, "third", now); ok {
		t.Error("a confirmed secret was replaced by an enrolment")
	}
	if tf, err := f.s.TOTPOf(ctx, alice); err != nil || tf.SealedSecret != "second" || tf.Confirmed.IsZero() || tf.LastStep != 10 {
		t.Fatalf("factor %+v %v", tf, err)
	}
	for step, want := range map[int64]bool{9: false, 10: false} {
		if ok, _ := f.s.UseTOTPStep(ctx, alice, step); ok != want {
			t.Errorf("step %d taken: %v", step, ok)
		}
	}
	if ok, _ := f.s.UseTOTPStep(ctx, alice, 11); !ok {
		t.Error("step 11 refused")
	}
	if ok, _ := f.s.UseTOTPStep(ctx, alice, 11); ok {
		t.Error("step 11 taken twice")
	}
	if ok, _ := f.s.UseRecoveryCode(ctx, alice, "a"); !ok {
		t.Error("recovery code refused")
	}
	if ok, _ := f.s.UseRecoveryCode(ctx, alice, "a"); ok {
		t.Error("recovery code used twice")
	}
	if ok, _ := f.s.UseRecoveryCode(ctx, bob, "b"); ok {
		t.Error("another account's recovery code accepted")
	}
	if n, _ := f.s.RecoveryCodesLeft(ctx, alice); n != 1 {
		t.Errorf("%d codes left, want 1", n)
	}
	staff, err := f.s.Staff(ctx)
	if err != nil || !slices.Equal(staff, []StaffMember{{alice, "user0", "admin"}, {bob, "user1", "admin"}}) {
		t.Errorf("staff: %+v %v, want alice and bob", staff, err)
	}

	p := &PendingSignIn{VisitorHash: "v", AccountID: alice, ReturnTo: "/x", Device: "d", ExpiresAt: now.Add(time.Minute)}
	if err := f.s.PutPendingSignIn(ctx, p, now); err != nil {
		t.Fatal(err)
	}
	if got, err := f.s.PendingSignInByHash(ctx, "v", now); err != nil || got.AccountID != alice || got.ReturnTo != "/x" || got.Device != "d" {
		t.Fatalf("pending %+v %v", got, err)
	}
	if _, err := f.s.PendingSignInByHash(ctx, "v", now.Add(time.Minute)); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired pending sign-in: %v", err)
	}
	for i := 1; i <= 3; i++ {
		if n, err := f.s.FailPendingSignIn(ctx, "v", 3); n != i || err != nil {
			t.Fatalf("failure %d: %d %v", i, n, err)
		}
	}
	if _, err := f.s.PendingSignInByHash(ctx, "v", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("after the last failure: %v", err)
	}
	if err := f.s.PutPendingSignIn(ctx, p, now); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.s.TakePendingSignIn(ctx, "v", p.AccountID+1); ok {
		t.Error("taken for another account than its own")
	}
	if ok, _ := f.s.TakePendingSignIn(ctx, "v", p.AccountID); !ok {
		t.Error("take refused")
	}
	if ok, _ := f.s.TakePendingSignIn(ctx, "v", p.AccountID); ok {
		t.Error("taken twice")
	}

	if err := f.s.PutPendingSignIn(ctx, p, now); err != nil {
		t.Fatal(err)
	}
	// Passkeys count as a second factor: bob has one and no TOTP.
	if n, err := f.s.CountPasskeys(ctx, alice); n != 0 || err != nil {
		t.Fatalf("alice's passkeys before any: %d %v", n, err)
	}
	for i, owner := range []int64{alice, alice, bob} {
		if err := f.s.CreatePasskey(ctx, &Passkey{ID: f.id(), AccountID: owner, CredentialID: []byte{byte(i)}, PublicKey: []byte("k"),
			AAGUID: make([]byte, 16), Name: "key", CreatedAt: now}, 10); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.s.CountPasskeys(ctx, alice); n != 2 || err != nil {
		t.Fatalf("alice's passkeys: %d %v, want 2", n, err)
	}
	if err := f.s.PutPasskeyCeremony(ctx, &PasskeyCeremony{Binding: "b", Kind: "second", AccountID: alice, Data: []byte("{}"),
		ExpiresAt: now.Add(time.Minute)}, now); err != nil {
		t.Fatal(err)
	}
	// The owner's turning TOTP off leaves the passkeys.
	if ok, err := f.s.PutUnconfirmedTOTP(ctx, bob, "bob's", now); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := f.s.ConfirmTOTP(ctx, bob, 10, []string{"c"}, now); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if removed, err := f.s.DeleteTOTPFactors(ctx, bob); err != nil || !removed.TOTP || removed.RecoveryCodes != 1 || removed.Passkeys != 0 {
		t.Errorf("turning bob's TOTP off: %+v %v", removed, err)
	}
	if n, _ := f.s.CountPasskeys(ctx, bob); n != 1 {
		t.Errorf("bob has %d passkeys after turning TOTP off, want 1", n)
	}
	removed, err := f.s.DeleteSecondFactors(ctx, alice)
	if err != nil || !removed.TOTP || removed.RecoveryCodes != 1 || removed.Passkeys != 2 {
		t.Errorf("reset: %+v %v", removed, err)
	}
	if n, _ := f.s.CountPasskeys(ctx, alice); n != 0 {
		t.Errorf("%d passkeys outlived the reset", n)
	}
	if _, err := f.s.TakePasskeyCeremony(ctx, "b", "second", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("a passkey ceremony outlived the reset: %v", err)
	}
	if n, _ := f.s.CountPasskeys(ctx, bob); n != 1 {
		t.Errorf("alice's reset removed bob's passkey")
	}
	if tf, _ := f.s.TOTPOf(ctx, alice); tf != nil {
		t.Error("the secret outlived the reset")
	}
	if _, err := f.s.PendingSignInByHash(ctx, "v", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("the pending sign-in outlived the reset: %v", err)
	}
	if removed, _ := f.s.DeleteSecondFactors(ctx, carol); removed.TOTP || removed.RecoveryCodes != 0 {
		t.Errorf("reset of an account without factors: %+v", removed)
	}
}
