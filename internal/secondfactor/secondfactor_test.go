package secondfactor

import (
	"context"
	"encoding/base32"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
	"github.com/rampart-social/rampart/internal/totp"
)

const ownerPassword = "correct horse battery staple"

type fixture struct {
	t     *testing.T
	s     *Service
	st    *store.Store
	alice *store.Account
	clock time.Time
}

// newFixture: the service over a real store with login_attempts = 5, and
// an approved account alice whose clock the test moves.
func newFixture(t *testing.T, extra ...string) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := storetest.OpenErr(t, filepath.Join(dir, "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := testutil.ProdConfig(t, dir, append([]string{"[security]", "login_attempts = 5", `login_window = "10m"`}, extra...)...)
	acc := accounts.New(cfg, st, id.NewGenerator(), password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}, 2))
	alice, _, err := acc.Create(context.Background(), accounts.NewParams{Username: "alice", Email: "alice@example.test",
		Password: ownerPassword, Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, st, acc)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, s: s, st: st, alice: alice, clock: time.Unix(1_800_000_000, 0)}
	s.now = func() time.Time { return f.clock }
	return f
}

// enable enrols and confirms TOTP for alice, returning the secret and the
// recovery codes.
func (f *fixture) enable() ([]byte, []string) {
	f.t.Helper()
	ctx := context.Background()
	e, err := f.s.BeginTOTP(ctx, f.alice)
	if err != nil {
		f.t.Fatal(err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(e.Secret, " ", ""))
	if err != nil {
		f.t.Fatal(err)
	}
	codes, err := f.s.ConfirmTOTP(ctx, f.alice.ID, ownerPassword, f.code(secret), "192.0.2.1")
	if err != nil {
		f.t.Fatal(err)
	}
	return secret, codes
}

// code is the TOTP code of the next step: the clock moves 30 s first, so
// that every code the test uses is a fresh one.
func (f *fixture) code(secret []byte) string {
	f.clock = f.clock.Add(30 * time.Second)
	c, err := totp.Default.Now(secret, f.clock)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func TestEnrolmentConfirmationAndTheSecondStep(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if has, _ := f.s.HasSecondFactor(ctx, f.alice.ID); has {
		t.Fatal("a second factor before enrolment")
	}
	e, err := f.s.BeginTOTP(ctx, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.URI, "otpauth://totp/example.test:alice?") {
		t.Errorf("uri %s", e.URI)
	}
	if has, _ := f.s.HasSecondFactor(ctx, f.alice.ID); has {
		t.Error("an unconfirmed secret counts as a second factor")
	}
	if _, err := f.s.ConfirmTOTP(ctx, f.alice.ID, ownerPassword, "000000", "192.0.2.1"); !errors.Is(err, ErrWrongCode) {
		t.Errorf("confirming with a wrong code: %v", err)
	}
	// A session alone cannot turn it on: the password is asked, as to
	// turn it off, even with the right code.
	pending, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(e.Secret, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.ConfirmTOTP(ctx, f.alice.ID, "not her password", f.code(pending), "192.0.2.1"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("confirming without the password: %v", err)
	}
	if has, _ := f.s.HasSecondFactor(ctx, f.alice.ID); has {
		t.Error("TOTP turned on without the password")
	}
	secret, codes := f.enable()
	if len(codes) != RecoveryCodes {
		t.Fatalf("%d recovery codes", len(codes))
	}
	// The secret is sealed at rest: the row holds neither it nor its base32.
	row, _ := f.st.TOTPOf(ctx, f.alice.ID)
	if strings.Contains(row.SealedSecret, totp.EncodeSecret(secret)) || strings.Contains(row.SealedSecret, string(secret)) {
		t.Error("the stored secret is not sealed")
	}
	if _, err := f.s.BeginTOTP(ctx, f.alice); !errors.Is(err, ErrAlreadyEnabled) {
		t.Errorf("enrolling again while on: %v", err)
	}

	// The second step: a right code completes the pending sign-in once.
	if err := f.s.Begin(ctx, "visitor", f.alice.ID, "device", "/oauth/authorize?x=1", false); err != nil {
		t.Fatal(err)
	}
	code := f.code(secret)
	p, err := f.s.SubmitCode(ctx, "visitor", code, "192.0.2.1")
	if err != nil || p.AccountID != f.alice.ID || p.ReturnTo != "/oauth/authorize?x=1" || p.Device != "device" {
		t.Fatalf("submit: %+v %v", p, err)
	}
	if _, err := f.s.Pending(ctx, "visitor"); !errors.Is(err, ErrNoPending) {
		t.Errorf("the pending sign-in outlived its completion: %v", err)
	}
	// The same code again, within its window, on a new pending sign-in: refused.
	if err := f.s.Begin(ctx, "visitor", f.alice.ID, "device", "/", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SubmitCode(ctx, "visitor", code, "192.0.2.1"); !errors.Is(err, ErrWrongCode) {
		t.Errorf("a code reused within its window: %v", err)
	}
	// Another browser cannot complete it.
	if _, err := f.s.SubmitCode(ctx, "another visitor", f.code(secret), "192.0.2.1"); !errors.Is(err, ErrNoPending) {
		t.Errorf("another browser: %v", err)
	}
	// It expires.
	f.clock = f.clock.Add(PendingLifetime)
	if _, err := f.s.SubmitCode(ctx, "visitor", f.code(secret), "192.0.2.1"); !errors.Is(err, ErrNoPending) {
		t.Errorf("after expiry: %v", err)
	}
}

// A recovery code completes a sign-in once; typed in any case, with or
// without its hyphens.
func TestRecoveryCodeSingleUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, codes := f.enable()
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SubmitCode(ctx, "v", typed, "192.0.2.1"); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SubmitCode(ctx, "v", codes[3], "192.0.2.1"); !errors.Is(err, ErrWrongCode) {
		t.Errorf("the recovery code a second time: %v", err)
	}
	if st, _ := f.s.StatusOf(ctx, f.alice.ID); st.RecoveryCodesLeft != RecoveryCodes-1 || !st.TOTP {
		t.Errorf("status %+v", st)
	}
}

// Wrong codes end a pending sign-in after MaxAttempts; the account's limit
// then refuses every code, a right one included, with a wait.
func TestSecondStepBruteForceIsLimited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, _ := f.enable()
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/", false); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= MaxAttempts; i++ {
		_, err := f.s.SubmitCode(ctx, "v", "000000", "192.0.2.1")
		want := ErrWrongCode
		if i == MaxAttempts {
			want = ErrEnded
		}
		if !errors.Is(err, want) {
			t.Fatalf("wrong code %d: %v, want %v", i, err, want)
		}
	}
	if _, err := f.s.Pending(ctx, "v"); !errors.Is(err, ErrNoPending) {
		t.Fatalf("the pending sign-in outlived %d wrong codes", MaxAttempts)
	}
	// From other addresses (the per-address limit does not apply), the
	// account's count of 5 per window runs out.
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/", false); err != nil {
		t.Fatal(err)
	}
	for i := MaxAttempts + 1; i <= 5; i++ {
		if _, err := f.s.SubmitCode(ctx, "v", "000000", "198.51.100."+string(rune('0'+i))); !errors.Is(err, ErrWrongCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	_, err := f.s.SubmitCode(ctx, "v", f.code(secret), "203.0.113.9")
	var limited *accounts.RateLimitedError
	if !errors.As(err, &limited) || limited.RetryAfter <= 0 {
		t.Fatalf("a right code over the limit: %v, want a wait", err)
	}
	// The window ends: the right code passes.
	f.clock = f.clock.Add(10 * time.Minute)
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SubmitCode(ctx, "v", f.code(secret), "203.0.113.9"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// Disabling takes the password and a code; either alone is refused.
func TestDisableNeedsPasswordAndCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, codes := f.enable()
	if _, err := f.s.Disable(ctx, f.alice.ID, "wrong password", f.code(secret), "192.0.2.1"); !errors.Is(err, accounts.ErrBadCredentials) {
		t.Errorf("a wrong password: %v", err)
	}
	if _, err := f.s.Disable(ctx, f.alice.ID, ownerPassword, "000000", "192.0.2.1"); !errors.Is(err, ErrWrongCode) {
		t.Errorf("a wrong code: %v", err)
	}
	if has, _ := f.s.HasSecondFactor(ctx, f.alice.ID); !has {
		t.Fatal("refused attempts disabled it")
	}
	// Renewing the codes makes the old ones useless.
	fresh, err := f.s.RegenerateRecoveryCodes(ctx, f.alice.ID, ownerPassword, f.code(secret), "192.0.2.1")
	if err != nil || len(fresh) != RecoveryCodes {
		t.Fatalf("regenerate: %d %v", len(fresh), err)
	}
	if _, err := f.s.Disable(ctx, f.alice.ID, ownerPassword, codes[0], "192.0.2.1"); !errors.Is(err, ErrWrongCode) {
		t.Errorf("an old recovery code after renewal: %v", err)
	}
	removed, err := f.s.Disable(ctx, f.alice.ID, ownerPassword, fresh[0], "192.0.2.1")
	if err != nil || !removed.TOTP || removed.RecoveryCodes != RecoveryCodes-1 {
		t.Fatalf("disable: %+v %v", removed, err)
	}
	if has, _ := f.s.HasSecondFactor(ctx, f.alice.ID); has {
		t.Error("still on after disabling")
	}
}

// The staff requirement names admins and moderators without a factor.
func TestStaffMustAdd(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u, _ := f.st.UserByAccountID(ctx, f.alice.ID)
	if must, _ := f.s.StaffMustAdd(ctx, u); must {
		t.Error("a user is asked for a factor")
	}
	u.Role = accounts.RoleModerator
	if must, _ := f.s.StaffMustAdd(ctx, u); !must {
		t.Error("a moderator without a factor is not asked for one")
	}
	f.enable()
	if must, _ := f.s.StaffMustAdd(ctx, u); must {
		t.Error("a moderator with TOTP is asked for a factor")
	}
	off := newFixture(t, "require_staff_second_factor = false")
	u, _ = off.st.UserByAccountID(ctx, off.alice.ID)
	u.Role = accounts.RoleAdmin
	if must, _ := off.s.StaffMustAdd(ctx, u); must {
		t.Error("asked while the switch is off")
	}
}

// Over days: DailyFactor windows' worth of wrong codes refuse every code
// for the rest of the day, though each window has ended.
func TestSecondStepDailyLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, _ := f.enable()
	wrong := 0
	for w := 0; w < DailyFactor; w++ {
		for i := 0; i < 5; i++ {
			if _, err := f.s.Pending(ctx, "v"); err != nil {
				if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/", false); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.s.SubmitCode(ctx, "v", "000000", "192.0.2.1"); !errors.Is(err, ErrWrongCode) && !errors.Is(err, ErrEnded) {
				t.Fatalf("wrong code %d: %v", wrong+1, err)
			}
			wrong++
		}
		f.clock = f.clock.Add(11 * time.Minute)
	}
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/", false); err != nil {
		t.Fatal(err)
	}
	var limited *accounts.RateLimitedError
	if _, err := f.s.SubmitCode(ctx, "v", f.code(secret), "192.0.2.1"); !errors.As(err, &limited) || limited.RetryAfter < time.Hour {
		t.Fatalf("after %d wrong codes in a day: %v, want hours of waiting", wrong, err)
	}
	f.clock = f.clock.Add(24 * time.Hour)
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SubmitCode(ctx, "v", f.code(secret), "192.0.2.1"); err != nil {
		t.Errorf("the next day: %v", err)
	}
}

// addPasskey stores a passkey for alice, as internal/passkeys would.
func (f *fixture) addPasskey(id int64) {
	f.t.Helper()
	if err := f.st.CreatePasskey(context.Background(), &store.Passkey{ID: id, AccountID: f.alice.ID, CredentialID: []byte{byte(id)},
		PublicKey: []byte("k"), AAGUID: make([]byte, 16), Name: "key", CreatedAt: f.clock}, 10); err != nil {
		f.t.Fatal(err)
	}
}

// A passkey alone is a second factor: the sign-in needs the second step
// and staff are not asked for another; but the TOTP-only actions (turning
// TOTP off, renewing recovery codes) say TOTP is off, and turning TOTP off
// leaves the passkeys.
func TestPasskeyCountsAsSecondFactor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.addPasskey(1)
	if has, err := f.s.HasSecondFactor(ctx, f.alice.ID); !has || err != nil {
		t.Fatalf("an account with a passkey has no second factor: %v", err)
	}
	u, _ := f.st.UserByAccountID(ctx, f.alice.ID)
	u.Role = accounts.RoleAdmin
	if must, _ := f.s.StaffMustAdd(ctx, u); must {
		t.Error("an admin with a passkey is asked for a factor")
	}
	if missing, _ := f.s.StaffWithout(ctx); len(missing) != 0 {
		t.Errorf("staff without a factor: %+v", missing)
	}
	if _, err := f.s.Disable(ctx, f.alice.ID, ownerPassword, "000000", "192.0.2.1"); !errors.Is(err, ErrNotEnabled) {
		t.Errorf("turning TOTP off with only a passkey: %v, want ErrNotEnabled", err)
	}
	if _, err := f.s.RegenerateRecoveryCodes(ctx, f.alice.ID, ownerPassword, "000000", "192.0.2.1"); !errors.Is(err, ErrNotEnabled) {
		t.Errorf("new recovery codes with only a passkey: %v, want ErrNotEnabled", err)
	}
	if st, _ := f.s.StatusOf(ctx, f.alice.ID); st.TOTP || st.Passkeys != 1 {
		t.Errorf("status %+v, want TOTP off and one passkey", st)
	}
	secret, _ := f.enable()
	removed, err := f.s.Disable(ctx, f.alice.ID, ownerPassword, f.code(secret), "192.0.2.1")
	if err != nil || !removed.TOTP || removed.Passkeys != 0 {
		t.Fatalf("disable: %+v %v", removed, err)
	}
	if has, _ := f.s.HasSecondFactor(ctx, f.alice.ID); !has {
		t.Error("turning TOTP off removed the passkey too")
	}
}

// A refused passkey answer counts against the pending sign-in and the
// account as a wrong code does; an accepted one completes the sign-in.
func TestAttemptCountsRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.addPasskey(1)
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/x", false); err != nil {
		t.Fatal(err)
	}
	refusal := errors.New("the assertion is not valid")
	var saw int64
	refuse := func(accountID int64) (bool, error) { saw = accountID; return true, refusal }
	for i := 1; i <= MaxAttempts; i++ {
		_, err := f.s.Attempt(ctx, "v", "192.0.2.1", refuse)
		want := ErrWrongCode
		if i == MaxAttempts {
			want = ErrEnded
		}
		if !errors.Is(err, want) || !errors.Is(err, refusal) {
			t.Fatalf("refusal %d: %v, want %v and the refusal", i, err, want)
		}
	}
	if saw != f.alice.ID {
		t.Errorf("check saw account %d, want alice's %d", saw, f.alice.ID)
	}
	if _, err := f.s.Pending(ctx, "v"); !errors.Is(err, ErrNoPending) {
		t.Fatalf("the pending sign-in outlived %d refused passkeys", MaxAttempts)
	}
	// The account's limit (5 per window) counts them with wrong codes.
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/x", false); err != nil {
		t.Fatal(err)
	}
	for i := MaxAttempts + 1; i <= 5; i++ {
		if _, err := f.s.SubmitCode(ctx, "v", "000000", "198.51.100."+string(rune('0'+i))); !errors.Is(err, ErrWrongCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	called := false
	accept := func(int64) (bool, error) { called = true; return false, nil }
	var limited *accounts.RateLimitedError
	if _, err := f.s.Attempt(ctx, "v", "203.0.113.9", accept); !errors.As(err, &limited) || called {
		t.Fatalf("a passkey over the limit: %v (checked: %v), want a wait before any check", err, called)
	}
	f.clock = f.clock.Add(10 * time.Minute)
	if err := f.s.Begin(ctx, "v", f.alice.ID, "d", "/x", false); err != nil {
		t.Fatal(err)
	}
	p, err := f.s.Attempt(ctx, "v", "203.0.113.9", accept)
	if err != nil || p.AccountID != f.alice.ID || p.ReturnTo != "/x" {
		t.Fatalf("an accepted passkey: %+v %v", p, err)
	}
	if _, err := f.s.Pending(ctx, "v"); !errors.Is(err, ErrNoPending) {
		t.Error("the pending sign-in outlived its completion")
	}
}
