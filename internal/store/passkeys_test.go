package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// TestPasskeys: passkeys are listed per account, a credential id is taken
// once on the whole instance, the per-account limit holds, the counter only
// grows, and one account cannot remove another's passkey.
func TestPasskeys(t *testing.T) {
	f := newCounterFixture(t, 2)
	ctx := context.Background()
	alice, bob := f.accounts[0], f.accounts[1]
	now := time.Now().Truncate(time.Millisecond)
	add := func(account int64, cred, name string, limit int) (*Passkey, error) {
		p := &Passkey{ID: f.id(), AccountID: account, CredentialID: []byte(cred), PublicKey: []byte("cose-" + cred), SignCount: 5,
			AAGUID: make([]byte, 16), Transports: []string{"internal", "hybrid"}, BackupEligible: true, Name: name, CreatedAt: now}
		return p, f.s.CreatePasskey(ctx, p, limit)
	}
	first, err := add(alice, "cred-1", "Laptop", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := add(alice, "cred-2", "Phone", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := add(alice, "cred-3", "Third", 2); !errors.Is(err, ErrPasskeyLimit) {
		t.Errorf("a third passkey over a limit of 2: %v, want ErrPasskeyLimit", err)
	}
	if _, err := add(bob, "cred-1", "Stolen id", 10); !errors.Is(err, ErrPasskeyExists) {
		t.Errorf("bob registering alice's credential id: %v, want ErrPasskeyExists", err)
	}
	list, err := f.s.PasskeysOf(ctx, alice)
	if err != nil || len(list) != 2 || list[0].Name != "Laptop" || list[1].Name != "Phone" {
		t.Fatalf("alice's passkeys: %+v, %v", list, err)
	}
	got := list[0]
	if !bytes.Equal(got.PublicKey, []byte("cose-cred-1")) || got.SignCount != 5 || !got.BackupEligible || got.BackupState ||
		len(got.Transports) != 2 || !got.CreatedAt.Equal(now) || !got.LastUsedAt.IsZero() || len(got.AAGUID) != 16 {
		t.Errorf("stored passkey read back as %+v", got)
	}
	if bobs, err := f.s.PasskeysOf(ctx, bob); err != nil || len(bobs) != 0 {
		t.Errorf("bob's passkeys: %+v, %v", bobs, err)
	}
	byID, err := f.s.PasskeyByCredentialID(ctx, []byte("cred-1"))
	if err != nil || byID.ID != first.ID || byID.AccountID != alice {
		t.Errorf("by credential id: %+v, %v", byID, err)
	}
	if _, err := f.s.PasskeyByCredentialID(ctx, []byte("nope")); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown credential id: %v", err)
	}
	// The counter only grows.
	used := now.Add(time.Minute)
	if ok, err := f.s.UsePasskey(ctx, first.ID, 6, true, used); err != nil || !ok {
		t.Errorf("counter 5 → 6: %v %v, want accepted", ok, err)
	}
	for _, c := range []uint32{6, 3, 0} {
		if ok, err := f.s.UsePasskey(ctx, first.ID, c, false, used.Add(time.Hour)); err != nil || ok {
			t.Errorf("counter 6 → %d: %v %v, want refused", c, ok, err)
		}
	}
	got, _ = f.s.PasskeyByCredentialID(ctx, []byte("cred-1"))
	if got.SignCount != 6 || !got.BackupState || !got.LastUsedAt.Equal(used) {
		t.Errorf("after use: count %d, backup state %v, last used %v", got.SignCount, got.BackupState, got.LastUsedAt)
	}
	// An authenticator without a counter (always 0) passes each time.
	zero, err := add(bob, "cred-z", "No counter", 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.write.ExecContext(ctx, `UPDATE passkeys SET sign_count = 0 WHERE id = ?`, zero.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if ok, err := f.s.UsePasskey(ctx, zero.ID, 0, false, used); err != nil || !ok {
			t.Errorf("counter 0 → 0: %v %v, want accepted", ok, err)
		}
	}
	// Removal is per account.
	if ok, err := f.s.DeletePasskey(ctx, bob, first.ID); err != nil || ok {
		t.Errorf("bob removing alice's passkey: %v %v", ok, err)
	}
	if ok, err := f.s.DeletePasskey(ctx, alice, first.ID); err != nil || !ok {
		t.Errorf("alice removing hers: %v %v", ok, err)
	}
	if list, _ := f.s.PasskeysOf(ctx, alice); len(list) != 1 {
		t.Errorf("after removal alice has %d passkeys", len(list))
	}
}

// TestPasskeyHandles: an account's user handle is made once and kept.
func TestPasskeyHandles(t *testing.T) {
	f := newCounterFixture(t, 2)
	ctx := context.Background()
	alice, bob := f.accounts[0], f.accounts[1]
	if _, err := f.s.PasskeyHandleOf(ctx, alice); !errors.Is(err, ErrNotFound) {
		t.Errorf("a handle before any: %v", err)
	}
	h, err := f.s.PasskeyHandle(ctx, alice, []byte("first-handle"))
	if err != nil || string(h) != "first-handle" {
		t.Fatalf("first handle: %q %v", h, err)
	}
	if h, err := f.s.PasskeyHandle(ctx, alice, []byte("second-handle")); err != nil || string(h) != "first-handle" {
		t.Errorf("asking again gave %q %v, want the first kept", h, err)
	}
	if h, err := f.s.PasskeyHandleOf(ctx, alice); err != nil || string(h) != "first-handle" {
		t.Errorf("PasskeyHandleOf: %q %v", h, err)
	}
	if h, err := f.s.PasskeyHandle(ctx, bob, []byte("bobs-handle")); err != nil || string(h) != "bobs-handle" {
		t.Errorf("bob's handle: %q %v", h, err)
	}
}

// TestPasskeyCeremonies: a ceremony is taken once, per binding and kind,
// not after it expires; a new one of the same kind replaces the old; an
// expired one is swept by the next put.
func TestPasskeyCeremonies(t *testing.T) {
	f := newCounterFixture(t, 1)
	ctx := context.Background()
	now := time.Now()
	put := func(binding, kind, data string, exp time.Time) {
		t.Helper()
		if err := f.s.PutPasskeyCeremony(ctx, &PasskeyCeremony{Binding: binding, Kind: kind, AccountID: f.accounts[0], Name: "n",
			Data: []byte(data), ExpiresAt: exp}, now); err != nil {
			t.Fatal(err)
		}
	}
	put("b1", "register", "old", now.Add(5*time.Minute))
	put("b1", "register", "new", now.Add(5*time.Minute))
	put("b1", "login", "login", now.Add(5*time.Minute))
	if _, err := f.s.TakePasskeyCeremony(ctx, "b2", "register", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("another binding took b1's ceremony: %v", err)
	}
	c, err := f.s.TakePasskeyCeremony(ctx, "b1", "register", now)
	if err != nil || string(c.Data) != "new" || c.AccountID != f.accounts[0] || c.Name != "n" {
		t.Fatalf("take: %+v %v, want the newer ceremony", c, err)
	}
	if _, err := f.s.TakePasskeyCeremony(ctx, "b1", "register", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("a ceremony taken twice: %v", err)
	}
	if c, err := f.s.TakePasskeyCeremony(ctx, "b1", "login", now); err != nil || string(c.Data) != "login" {
		t.Errorf("the other kind: %+v %v", c, err)
	}
	put("b3", "login", "late", now.Add(time.Minute))
	if _, err := f.s.TakePasskeyCeremony(ctx, "b3", "login", now.Add(2*time.Minute)); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired ceremony was taken: %v", err)
	}
	put("b4", "login", "stale", now.Add(-time.Second))
	put("b5", "login", "fresh", now.Add(time.Minute)) // sweeps b4
	var n int
	if err := f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM passkey_ceremonies`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d ceremonies left (%v), want only the fresh one", n, err)
	}
}

// TestDeletedAccountLosesItsPasskeys: deleting a local account removes its
// passkeys and its user handle; another account's stay.
func TestDeletedAccountLosesItsPasskeys(t *testing.T) {
	f := newCounterFixture(t, 2)
	ctx := context.Background()
	alice, bob := f.accounts[0], f.accounts[1]
	for i, account := range []int64{alice, bob} {
		if err := f.s.CreatePasskey(ctx, &Passkey{ID: f.id(), AccountID: account, CredentialID: []byte{byte(i)}, PublicKey: []byte("k"),
			Name: "key", CreatedAt: time.Now()}, 10); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.PasskeyHandle(ctx, account, []byte{byte(i), 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.DeleteLocalAccount(ctx, alice, time.Now()); err != nil {
		t.Fatal(err)
	}
	if keys, err := f.s.PasskeysOf(ctx, alice); err != nil || len(keys) != 0 {
		t.Errorf("the deleted account's passkeys: %d, %v", len(keys), err)
	}
	if _, err := f.s.PasskeyHandleOf(ctx, alice); !errors.Is(err, ErrNotFound) {
		t.Errorf("the deleted account's handle: %v", err)
	}
	if keys, _ := f.s.PasskeysOf(ctx, bob); len(keys) != 1 {
		t.Errorf("bob's passkeys went too")
	}
}
