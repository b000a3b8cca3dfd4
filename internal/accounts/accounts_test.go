package accounts

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/rampart-social/rampart/internal/store"
)

// Every account is created with its own RSA-2048 key pair, kept apart from
// what loading an account reads.
func TestCreateStoresAKeyPair(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, _, err := f.s.Create(ctx, NewParams{Username: "keyed", Email: "keyed@example.test", Password: ownerPassword, Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := f.s.store.AccountKeys(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(priv))
	if block == nil {
		t.Fatalf("private key is not PEM: %.40q", priv)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok || rsaKey.N.BitLen() != 2048 {
		t.Fatalf("private key %T, want RSA-2048", key)
	}
	pb, _ := pem.Decode([]byte(pub))
	if pb == nil {
		t.Fatalf("public key is not PEM: %.40q", pub)
	}
	pk, err := x509.ParsePKIXPublicKey(pb.Bytes)
	if err != nil || !rsaKey.PublicKey.Equal(pk) {
		t.Errorf("public key does not match the private key: %v", err)
	}
	loaded, err := f.s.store.AccountByID(ctx, a.ID)
	if err != nil || loaded.PrivateKeyPEM != "" || loaded.PublicKeyPEM != "" {
		t.Errorf("AccountByID carries the key pair (%v)", err)
	}
	if _, _, err := f.s.store.AccountKeys(ctx, 12345); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AccountKeys of no account: %v", err)
	}
}

// WithKeyPairs (the tests' keys made ahead of time) is where Create and the
// instance actor take their keys from; without it each is generated, as
// TestCreateStoresAKeyPair's are.
func TestKeyPairsComeFromTheGivenSource(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	handed := 0
	f.s.WithKeyPairs(func() (string, string, error) {
		handed++
		return NewKeyPair()
	})
	a, _, err := f.s.Create(ctx, NewParams{Username: "sourced", Email: "sourced@example.test", Password: ownerPassword, Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	if handed != 1 {
		t.Fatalf("Create took %d keys from the source, want 1", handed)
	}
	if pub, _, err := f.s.store.AccountKeys(ctx, a.ID); err != nil || pub == "" {
		t.Fatalf("the account's key: %q, %v", pub, err)
	}
	if _, _, err := f.s.InstanceKey(ctx); err != nil {
		t.Fatal(err)
	}
	if handed != 2 {
		t.Fatalf("the instance key did not come from the source (%d keys taken)", handed)
	}
}
