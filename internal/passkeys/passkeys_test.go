package passkeys

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// The test instance (testutil.ProdConfig) is https://example.test.
const (
	origin = "https://example.test"
	rpID   = "example.test"
	pw     = "correct horse battery"
)

var b64 = base64.RawURLEncoding

type fixture struct {
	t     *testing.T
	s     *Service
	acc   *accounts.Service
	st    *store.Store
	alice int64
	bob   int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st := storetest.Open(t, filepath.Join(dir, "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	cfg := testutil.ProdConfig(t, dir)
	ids := id.NewGenerator()
	acc := accounts.New(cfg, st, ids, password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}, 2))
	s := New(cfg, st, ids, acc)
	if err := s.Available(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, s: s, acc: acc, st: st}
	for _, name := range []string{"alice", "bob"} {
		a, _, err := acc.Create(ctx, accounts.NewParams{Username: name, Email: name + "@example.test", Password: pw, Approved: true})
		if err != nil {
			t.Fatal(err)
		}
		if name == "alice" {
			f.alice = a.ID
		} else {
			f.bob = a.ID
		}
	}
	return f
}

// softKey is a software authenticator: an ECDSA P-256 key, the credential
// id it names it by, the user handle it keeps (a resident key) and its
// signature counter. Its answers are built by hand, as an authenticator and
// a browser together build them, with the origin and RP id given, so that
// a test can answer for another origin or another relying party.
type softKey struct {
	priv    *ecdsa.PrivateKey
	credID  []byte
	handle  []byte
	counter uint32
}

func newSoftKey(t *testing.T) *softKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	credID := make([]byte, 32)
	rand.Read(credID)
	return &softKey{priv: priv, credID: credID, counter: 1}
}

// options is what the tests read of a ceremony's options.
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		UserVerification string `json:"userVerification"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		AuthenticatorSelection struct {
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		Attestation string `json:"attestation"`
	} `json:"publicKey"`
}

func readOptions(t *testing.T, raw json.RawMessage) options {
	t.Helper()
	var o options
	if err := json.Unmarshal(raw, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("options %s: %v", raw, err)
	}
	return o
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// flags: user present, user verified.
const flagsUPUV = 0x01 | 0x04

func (k *softKey) authData(rpID string, flags byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	b := append(h[:], flags)
	return binary.BigEndian.AppendUint32(b, k.counter)
}

// register answers creation options as an authenticator registered for
// rpID, in a page on origin.
func (k *softKey) register(t *testing.T, raw json.RawMessage, origin, rpID string) []byte {
	t.Helper()
	o := readOptions(t, raw)
	var err error
	if k.handle, err = b64.DecodeString(o.PublicKey.User.ID); err != nil {
		t.Fatal(err)
	}
	x, y := make([]byte, 32), make([]byte, 32)
	k.priv.PublicKey.X.FillBytes(x)
	k.priv.PublicKey.Y.FillBytes(y)
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		t.Fatal(err)
	}
	ad := k.authData(rpID, flagsUPUV|0x40) // attested credential data follows
	ad = append(ad, make([]byte, 16)...)   // AAGUID: none
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(k.credID)))
	ad = append(append(ad, k.credID...), cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.credID), "rawId": b64.EncodeToString(k.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData("webauthn.create", o.PublicKey.Challenge, origin)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"usb"},
		},
		"clientExtensionResults": map[string]any{}})
	return body
}

// assert answers request options, signing with the key; the counter goes
// up by one first.
func (k *softKey) assert(t *testing.T, raw json.RawMessage, origin, rpID string) []byte {
	t.Helper()
	o := readOptions(t, raw)
	k.counter++
	ad := k.authData(rpID, flagsUPUV)
	cd := clientData("webauthn.get", o.PublicKey.Challenge, origin)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.credID), "rawId": b64.EncodeToString(k.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(k.handle),
		},
		"clientExtensionResults": map[string]any{}})
	return body
}

// registerKey registers a fresh software key for account in the browser
// binding.
func (f *fixture) registerKey(account int64, binding, name string) *softKey {
	f.t.Helper()
	ctx := context.Background()
	k := newSoftKey(f.t)
	opts, _, err := f.s.BeginRegistration(ctx, account, binding, name, Proof{Password: pw, ClientIP: "192.0.2.1"})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.s.FinishRegistration(ctx, account, binding, k.register(f.t, opts, origin, rpID)); err != nil {
		f.t.Fatalf("registration: %v", err)
	}
	return k
}

// TestRegisterThenSignIn: a passkey registered for alice signs her in
// without a password and serves as her second factor; the options say what
// the package promises (attestation none, resident key and user
// verification preferred, user verification required without a password,
// the RP id the instance's host), and the user handle is neither her
// username nor her id.
func TestRegisterThenSignIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := newSoftKey(t)
	raw, _, err := f.s.BeginRegistration(ctx, f.alice, "browser-1", "  Laptop  ", Proof{Password: pw, ClientIP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	o := readOptions(t, raw)
	if o.PublicKey.RP.ID != rpID || o.PublicKey.Attestation != "none" || o.PublicKey.AuthenticatorSelection.ResidentKey != "preferred" ||
		o.PublicKey.AuthenticatorSelection.UserVerification != "preferred" {
		t.Errorf("creation options: %s", raw)
	}
	handle, _ := b64.DecodeString(o.PublicKey.User.ID)
	if len(handle) != 32 || string(handle) == "alice" {
		t.Errorf("user handle %q: want 32 random bytes", handle)
	}
	p, err := f.s.FinishRegistration(ctx, f.alice, "browser-1", k.register(t, raw, origin, rpID))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if p.Name != "Laptop" || p.AccountID != f.alice || p.SignCount != 1 {
		t.Errorf("stored passkey: %+v", p)
	}
	// A second registration excludes the first authenticator.
	raw, _, err = f.s.BeginRegistration(ctx, f.alice, "browser-1", "Phone", Proof{Password: pw, ClientIP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if o := readOptions(t, raw); len(o.PublicKey.ExcludeCredentials) != 1 || o.PublicKey.ExcludeCredentials[0].ID != b64.EncodeToString(k.credID) {
		t.Errorf("the second registration does not exclude the first key: %s", raw)
	}
	if o := readOptions(t, raw); o.PublicKey.User.ID != b64.EncodeToString(handle) {
		t.Errorf("the user handle changed between registrations")
	}

	// Passwordless.
	raw, err = f.s.BeginSignIn(ctx, "browser-2", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if o := readOptions(t, raw); o.PublicKey.RPID != rpID || o.PublicKey.UserVerification != "required" || len(o.PublicKey.AllowCredentials) != 0 {
		t.Errorf("sign-in options: %s", raw)
	}
	out, err := f.s.FinishSignIn(ctx, "browser-2", k.assert(t, raw, origin, rpID))
	if err != nil {
		t.Fatalf("FinishSignIn: %v", err)
	}
	if out.Account == nil || out.Account.ID != f.alice || out.Device == "" {
		t.Errorf("sign-in outcome: %+v", out)
	}
	keys, _ := f.s.List(ctx, f.alice)
	if len(keys) != 1 || keys[0].SignCount != 2 || keys[0].LastUsedAt.IsZero() {
		t.Errorf("after use: %+v", keys[0])
	}

	// Second factor.
	raw, err = f.s.BeginSecondFactor(ctx, f.alice, "browser-3")
	if err != nil {
		t.Fatal(err)
	}
	if o := readOptions(t, raw); len(o.PublicKey.AllowCredentials) != 1 || o.PublicKey.UserVerification != "preferred" {
		t.Errorf("second-factor options: %s", raw)
	}
	if err := f.s.FinishSecondFactor(ctx, f.alice, "browser-3", k.assert(t, raw, origin, rpID)); err != nil {
		t.Errorf("FinishSecondFactor: %v", err)
	}
	// Bob has none to offer.
	if _, err := f.s.BeginSecondFactor(ctx, f.bob, "browser-3"); !errors.Is(err, ErrNone) {
		t.Errorf("bob's second factor: %v, want ErrNone", err)
	}
}

// TestWrongOriginOrRelyingPartyIsRefused: an answer made in a page of
// another origin, or by an authenticator for another RP id, verifies for
// nothing, at registration and at sign-in.
func TestWrongOriginOrRelyingPartyIsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range []struct{ name, origin, rpID string }{
		{"another origin", "https://evil.example", rpID},
		{"another port", "https://example.test:8443", rpID},
		{"http instead of https", "http://example.test", rpID},
		{"another RP id", origin, "evil.example"},
		{"the parent domain as RP id", origin, "test"},
	} {
		raw, _, err := f.s.BeginRegistration(ctx, f.alice, "b", "key", Proof{Password: pw, ClientIP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.FinishRegistration(ctx, f.alice, "b", newSoftKey(t).register(t, raw, c.origin, c.rpID)); !errors.Is(err, ErrRefused) {
			t.Errorf("registration from %s: %v, want ErrRefused", c.name, err)
		}
	}
	if keys, _ := f.s.List(ctx, f.alice); len(keys) != 0 {
		t.Fatalf("refused registrations stored %d passkeys", len(keys))
	}
	k := f.registerKey(f.alice, "b", "good")
	for _, c := range []struct{ name, origin, rpID string }{
		{"another origin", "https://evil.example", rpID},
		{"another RP id", origin, "evil.example"},
	} {
		raw, err := f.s.BeginSignIn(ctx, "b", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.FinishSignIn(ctx, "b", k.assert(t, raw, c.origin, c.rpID)); !errors.Is(err, ErrRefused) {
			t.Errorf("passwordless sign-in from %s: %v, want ErrRefused", c.name, err)
		}
		raw, err = f.s.BeginSecondFactor(ctx, f.alice, "b")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.FinishSecondFactor(ctx, f.alice, "b", k.assert(t, raw, c.origin, c.rpID)); !errors.Is(err, ErrRefused) {
			t.Errorf("second factor from %s: %v, want ErrRefused", c.name, err)
		}
	}
	// The same key, from the right origin, still works.
	raw, _ := f.s.BeginSignIn(ctx, "b", "192.0.2.1")
	if _, err := f.s.FinishSignIn(ctx, "b", k.assert(t, raw, origin, rpID)); err != nil {
		t.Errorf("the right origin after the wrong ones: %v", err)
	}
}

// TestCeremoniesAreSingleUseAndBound: a challenge answers once, only in the
// browser it was issued to and only for the account it was begun for.
func TestCeremoniesAreSingleUseAndBound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.registerKey(f.alice, "b", "key")

	raw, _ := f.s.BeginSignIn(ctx, "browser-a", "192.0.2.1")
	answer := k.assert(t, raw, origin, rpID)
	if _, err := f.s.FinishSignIn(ctx, "browser-b", answer); !errors.Is(err, ErrNoCeremony) {
		t.Errorf("finished in another browser: %v, want ErrNoCeremony", err)
	}
	if _, err := f.s.FinishSignIn(ctx, "browser-a", answer); err != nil {
		t.Fatalf("finished in its browser: %v", err)
	}
	if _, err := f.s.FinishSignIn(ctx, "browser-a", answer); !errors.Is(err, ErrNoCeremony) {
		t.Errorf("the same answer again: %v, want ErrNoCeremony", err)
	}
	// An answer to an older challenge, once a newer one replaced it.
	old, _ := f.s.BeginSignIn(ctx, "browser-a", "192.0.2.1")
	if _, err := f.s.BeginSignIn(ctx, "browser-a", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.FinishSignIn(ctx, "browser-a", k.assert(t, old, origin, rpID)); !errors.Is(err, ErrRefused) {
		t.Errorf("an answer to a replaced challenge: %v, want ErrRefused", err)
	}
	// A second factor begun for alice cannot be finished as bob's.
	raw, _ = f.s.BeginSecondFactor(ctx, f.alice, "browser-a")
	if err := f.s.FinishSecondFactor(ctx, f.bob, "browser-a", k.assert(t, raw, origin, rpID)); !errors.Is(err, ErrNoCeremony) {
		t.Errorf("alice's ceremony finished for bob: %v", err)
	}
	// Bob's second factor cannot be met with alice's passkey.
	f.registerKey(f.bob, "b", "bob's")
	raw, _ = f.s.BeginSecondFactor(ctx, f.bob, "browser-a")
	if err := f.s.FinishSecondFactor(ctx, f.bob, "browser-a", k.assert(t, raw, origin, rpID)); !errors.Is(err, ErrRefused) {
		t.Errorf("alice's passkey as bob's second factor: %v, want ErrRefused", err)
	}
	// No cookie, no ceremony.
	if _, err := f.s.BeginSignIn(ctx, "", "192.0.2.1"); !errors.Is(err, ErrNoCeremony) {
		t.Errorf("begin without a cookie value: %v", err)
	}
}

// TestClonedCounterIsRefused: an assertion whose counter does not grow past
// the stored one is refused, and refused again until the key is removed.
func TestClonedCounterIsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.registerKey(f.alice, "b", "key")
	raw, _ := f.s.BeginSignIn(ctx, "b", "192.0.2.1")
	if _, err := f.s.FinishSignIn(ctx, "b", k.assert(t, raw, origin, rpID)); err != nil { // counter 2
		t.Fatal(err)
	}
	clone := *k
	clone.counter = 1 // assert makes it 2 again
	raw, _ = f.s.BeginSignIn(ctx, "b", "192.0.2.1")
	if _, err := f.s.FinishSignIn(ctx, "b", clone.assert(t, raw, origin, rpID)); !errors.Is(err, ErrCloned) {
		t.Errorf("a counter that did not grow: %v, want ErrCloned", err)
	}
	clone.counter = 1
	raw, _ = f.s.BeginSecondFactor(ctx, f.alice, "b")
	if err := f.s.FinishSecondFactor(ctx, f.alice, "b", clone.assert(t, raw, origin, rpID)); !errors.Is(err, ErrCloned) {
		t.Errorf("as a second factor: %v, want ErrCloned", err)
	}
}

// TestPasswordlessRefusesUnusableAccounts: a suspended, disabled or
// unapproved account is refused as the password step refuses it.
func TestPasswordlessRefusesUnusableAccounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.registerKey(f.alice, "b", "key")
	yes, no := true, false
	for _, c := range []struct {
		change accounts.Change
		undo   accounts.Change
		want   error
	}{
		{accounts.Change{Disabled: &yes}, accounts.Change{Disabled: &no}, accounts.ErrDisabled},
		{accounts.Change{Suspended: &yes}, accounts.Change{Suspended: &no}, accounts.ErrSuspended},
		{accounts.Change{Approved: &no}, accounts.Change{Approved: &yes}, accounts.ErrPending},
	} {
		if _, err := f.acc.Modify(ctx, f.alice, c.change); err != nil {
			t.Fatal(err)
		}
		raw, _ := f.s.BeginSignIn(ctx, "b", "192.0.2.1")
		if out, err := f.s.FinishSignIn(ctx, "b", k.assert(t, raw, origin, rpID)); !errors.Is(err, c.want) || out.Device != "" {
			t.Errorf("after %+v: %v (device %q), want %v", c.change, err, out.Device, c.want)
		}
		if _, err := f.acc.Modify(ctx, f.alice, c.undo); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := f.s.BeginSignIn(ctx, "b", "192.0.2.1")
	if _, err := f.s.FinishSignIn(ctx, "b", k.assert(t, raw, origin, rpID)); err != nil {
		t.Errorf("usable again: %v", err)
	}
}

// TestRemoveNeedsThePassword: removing a passkey takes the account's
// password; one account cannot remove another's; a removed passkey signs
// no one in.
func TestRemoveNeedsThePassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.registerKey(f.alice, "b", "key")
	keys, _ := f.s.List(ctx, f.alice)
	r := Removal{AccountID: f.alice, PasskeyID: keys[0].ID, Password: "wrong password", ClientIP: "192.0.2.1"}
	if _, err := f.s.Remove(ctx, r); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("with a wrong password: %v", err)
	}
	if _, err := f.s.Remove(ctx, Removal{AccountID: f.bob, PasskeyID: keys[0].ID, Password: pw, ClientIP: "192.0.2.1"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob removing alice's: %v, want ErrNotFound", err)
	}
	if has, _ := f.s.Has(ctx, f.alice); !has {
		t.Fatal("the passkey went after refused removals")
	}
	r.Password = pw
	if _, err := f.s.Remove(ctx, r); err != nil {
		t.Fatalf("with the password: %v", err)
	}
	if has, _ := f.s.Has(ctx, f.alice); has {
		t.Error("still there after removal")
	}
	// An administrator's reset removes them all, only the account's.
	f.registerKey(f.alice, "b", "one")
	f.registerKey(f.alice, "b", "two")
	f.registerKey(f.bob, "b", "bob's")
	if n, err := f.s.RemoveAll(ctx, f.alice); err != nil || n != 2 {
		t.Errorf("RemoveAll: %d %v, want 2", n, err)
	}
	if has, _ := f.s.Has(ctx, f.bob); !has {
		t.Error("RemoveAll of alice removed bob's")
	}
	raw, _ := f.s.BeginSignIn(ctx, "b", "192.0.2.1")
	if _, err := f.s.FinishSignIn(ctx, "b", k.assert(t, raw, origin, rpID)); !errors.Is(err, ErrRefused) {
		t.Errorf("a removed passkey signing in: %v, want ErrRefused", err)
	}
}

// TestNames: a name is required, trimmed, bounded and printable.
func TestNames(t *testing.T) {
	f := newFixture(t)
	for _, bad := range []string{"", "   ", "tab\there", string(make([]rune, MaxNameLength+1))} {
		if _, _, err := f.s.BeginRegistration(context.Background(), f.alice, "b", bad, Proof{Password: pw}); !errors.Is(err, ErrBadName) {
			t.Errorf("name %q: %v, want ErrBadName", bad, err)
		}
	}
	if n, err := CheckName(" Clé USB "); err != nil || n != "Clé USB" {
		t.Errorf("CheckName: %q %v", n, err)
	}
}

// TestIPInstanceHasNoPasskeys: an instance whose URL names an IP address
// (no domain, so no RP id) runs without passkeys: every ceremony says why.
func TestIPInstanceHasNoPasskeys(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(strings.Join([]string{`env = "dev"`, `url = "http://127.0.0.1:8080"`,
		`media_url = "http://127.0.0.2:8080"`, `data_dir = "` + dir + `"`, `secret_key = "` + testutil.Secret + `"`}, "\n")+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.UseTestDatabase(t, cfg)
	st := storetest.Open(t, filepath.Join(dir, "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ids := id.NewGenerator()
	s := New(cfg, st, ids, accounts.New(cfg, st, ids, password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}, 1)))
	if err := s.Available(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Available: %v, want ErrUnavailable", err)
	}
	ctx := context.Background()
	if _, err := s.BeginSignIn(ctx, "b", "192.0.2.1"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("BeginSignIn: %v", err)
	}
	if _, _, err := s.BeginRegistration(ctx, 1, "b", "key", Proof{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("BeginRegistration: %v", err)
	}
	if err := s.FinishSecondFactor(ctx, 1, "b", []byte(`{}`)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("FinishSecondFactor: %v", err)
	}
}

// TestSignInBeginsAreLimitedPerAddress: each passwordless begin writes a
// row without an account, so one address gets signInBegins per window;
// another address is not held back by it.
func TestSignInBeginsAreLimitedPerAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range signInBegins {
		if _, err := f.s.BeginSignIn(ctx, "b", "192.0.2.1"); err != nil {
			t.Fatalf("begin %d: %v", i+1, err)
		}
	}
	var limited *ratelimit.WaitError
	if _, err := f.s.BeginSignIn(ctx, "b", "192.0.2.1"); !errors.As(err, &limited) {
		t.Errorf("begin %d from one address: %v, want a *ratelimit.WaitError", signInBegins+1, err)
	}
	if _, err := f.s.BeginSignIn(ctx, "b", "198.51.100.7"); err != nil {
		t.Errorf("another address: %v", err)
	}
}
