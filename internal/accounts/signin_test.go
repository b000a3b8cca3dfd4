package accounts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/testutil"
)

const ownerPassword = "correct horse battery"

// n is security.login_attempts in these tests; the global per-login limit is
// globalAttemptsFactor × n.
const n = 3

type fixture struct {
	t      *testing.T
	s      *Service
	hasher *password.Hasher
	dbPath string
	cfg    *config.Config
}

// setEmail writes an account's e-mail as stored, past NormalizeEmail, as a
// row from an older version could hold it.
func (f *fixture) setEmail(accountID int64, email string) {
	f.t.Helper()
	db := testdb.Open(f.t, f.dbPath)
	if _, err := db.Exec("UPDATE users SET email = ? WHERE account_id = ?", email, accountID); err != nil {
		f.t.Fatal(err)
	}
}

// newFixture is the service over a real store, with login_attempts = n and
// an approved account alice (alice@example.test).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := storetest.OpenErr(t, filepath.Join(dir, "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := testutil.ProdConfig(t, dir, "[security]", "login_attempts = "+strconv.Itoa(n), `login_window = "10m"`)
	h := password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Time: 2, Threads: 1}, 2) // two passes, so a Burn of one would show
	f := &fixture{t: t, s: New(cfg, st, id.NewGenerator(), h), hasher: h, dbPath: filepath.Join(dir, "rampart.db"), cfg: cfg}
	if _, _, err := f.s.Create(ctx, NewParams{Username: "alice", Email: "alice@example.test", Password: ownerPassword, Approved: true}); err != nil {
		t.Fatal(err)
	}
	return f
}

// keys is SignInKeys, failing the test on an error.
func (f *fixture) keys() int {
	f.t.Helper()
	n, err := f.s.SignInKeys(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) try(login, pw, ip, device string) (Outcome, error) {
	return f.s.Authenticate(context.Background(), SignIn{Login: login, Password: pw, ClientIP: ip, Device: device})
}

// wantErr fails unless an attempt ends in want (nil: signed in).
func (f *fixture) wantErr(what string, want error, login, pw, ip, device string) Outcome {
	f.t.Helper()
	out, err := f.try(login, pw, ip, device)
	var limited *RateLimitedError
	switch {
	case want == nil && err != nil:
		f.t.Fatalf("%s: %v, want signed in", what, err)
	case want == errLimited && !errors.As(err, &limited):
		f.t.Fatalf("%s: %v, want rate limited", what, err)
	case want != nil && want != errLimited && !errors.Is(err, want):
		f.t.Fatalf("%s: %v, want %v", what, err, want)
	}
	return out
}

// errLimited stands for any *RateLimitedError in wantErr.
var errLimited = errors.New("rate limited")

func TestUnknownLoginCostsTheSameHashWorkAsAKnownOne(t *testing.T) {
	f := newFixture(t)
	before := f.hasher.Work()
	f.wantErr("known login, wrong password", ErrBadCredentials, "alice", "wrong password!", "192.0.2.1", "")
	known := f.hasher.Work() - before
	if known == 0 {
		t.Fatal("checking a known login did no argon2id work")
	}
	for _, login := range []string{"nobody", "nobody@example.test"} {
		before := f.hasher.Work()
		f.wantErr("unknown login", ErrBadCredentials, login, "wrong password!", "192.0.2.2", "")
		if unknown := f.hasher.Work() - before; unknown != known {
			t.Errorf("%q: an unknown login cost %d KiB-passes of argon2id, a known one %d", login, unknown, known)
		}
	}
}

func TestOverlongLoginsAreRefusedWithoutWork(t *testing.T) {
	f := newFixture(t)
	work := f.hasher.Work()
	for _, login := range []string{
		strings.Repeat("a", MaxUsernameLogin+1),
		strings.Repeat("a", MaxEmailLogin-len("@example.test")+1) + "@example.test",
		strings.Repeat("x", 1<<20),
	} {
		f.wantErr(fmt.Sprintf("%d-byte login", len(login)), ErrBadCredentials, login, ownerPassword, "192.0.2.1", "")
	}
	if k := f.keys(); f.hasher.Work() != work || k != 0 {
		t.Errorf("over-long logins cost %d KiB-passes of argon2id and left %d limiter keys", f.hasher.Work()-work, k)
	}
	// The longest real logins are checked and counted.
	f.wantErr("30-character login", ErrBadCredentials, strings.Repeat("a", MaxUsernameLogin), "wrong password!", "192.0.2.1", "")
	f.wantErr("254-byte e-mail", ErrBadCredentials, strings.Repeat("a", MaxEmailLogin-len("@example.test"))+"@example.test", "wrong password!", "192.0.2.2", "")
	if f.hasher.Work() != work+2*(8*1024*2) || f.keys() == 0 {
		t.Error("a login of the longest allowed length was not checked")
	}
}

// Many unique huge logins keep neither keys nor memory: the heap and the
// limiters' own count stay under a constant.
func TestHugeLoginsKeepMemoryBounded(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("L", 1<<20)
	work, before := f.hasher.Work(), heapAlloc()
	for i := 0; i < 200; i++ {
		f.try(strconv.Itoa(i)+big, "wrong password!", "198.51.100."+strconv.Itoa(i%250), "")
	}
	if k, w := f.keys(), f.hasher.Work()-work; k != 0 || w != 0 {
		t.Errorf("200 huge logins left %d limiter keys and cost %d KiB-passes of argon2id", k, w)
	}
	if grew := int64(heapAlloc()) - int64(before); grew > 4<<20 {
		t.Errorf("the heap grew by %d KiB after 200 logins of 1 MiB", grew>>10)
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Item 8: one success gives back one attempt of its address, never the
// address's whole count.
func TestOneSuccessDoesNotResetTheAddressLimit(t *testing.T) {
	f := newFixture(t)
	const ip = "203.0.113.9"
	for i := 1; i < n; i++ {
		f.wantErr("failure "+strconv.Itoa(i), ErrBadCredentials, "nobody"+strconv.Itoa(i), "wrong password!", ip, "")
	}
	f.wantErr("the owner from the same address", nil, "alice", ownerPassword, ip, "")
	f.wantErr("one more failure (the success gave its own attempt back)", ErrBadCredentials, "nobody-last", "wrong password!", ip, "")
	f.wantErr("over the address limit", errLimited, "someone-else", "wrong password!", ip, "")
}

// An attacker on one network, whatever addresses they use in it, is stopped
// after n failures for a login, and only their network is: the owner signs in
// from elsewhere with a browser never seen before.
func TestOneNetworkIsStoppedAfterN(t *testing.T) {
	f := newFixture(t)
	for i := 1; i <= n; i++ {
		f.wantErr("guess "+strconv.Itoa(i), ErrBadCredentials, "alice", "wrong password!", "198.51.100."+strconv.Itoa(i), "")
	}
	f.wantErr("the next guess from the same /24", errLimited, "alice", ownerPassword, "198.51.100.200", "")
	// The same from one IPv6 /64, for the login typed as an e-mail address.
	for i := 1; i <= n; i++ {
		f.wantErr("IPv6 guess "+strconv.Itoa(i), ErrBadCredentials, "ALICE@example.test", "wrong password!", "2001:db8:5:6::"+strconv.Itoa(i), "")
	}
	f.wantErr("the next guess from the same /64", errLimited, "alice@example.test", ownerPassword, "2001:db8:5:6::ff", "")
	f.wantErr("the owner, another network, a new browser", nil, "alice", ownerPassword, "192.0.2.7", "")
}

// The owner's typos on their own network are cleared by their success.
func TestSuccessClearsTheLoginsCountOnItsNetwork(t *testing.T) {
	f := newFixture(t)
	for i := 1; i < n; i++ {
		f.wantErr("owner's typo", ErrBadCredentials, "alice", "wrong password!", "192.0.2."+strconv.Itoa(i), "")
	}
	f.wantErr("the owner", nil, "alice", ownerPassword, "192.0.2.100", "")
	for i := 1; i < n; i++ {
		f.wantErr("typo after signing in", ErrBadCredentials, "alice", "wrong password!", "192.0.2."+strconv.Itoa(10+i), "")
	}
}

// An attacker on many networks is stopped by the global per-login limit; the
// owner keeps signing in from a browser that signed in before, and a new
// browser of the owner is told to wait (the trade-off of the global limit).
func TestDistributedAttackIsCappedAndTheOwnersBrowserStillSignsIn(t *testing.T) {
	f := newFixture(t)
	owner := f.wantErr("the owner's first sign-in", nil, "alice", ownerPassword, "192.0.2.7", "")
	if len(owner.Device) != DeviceTokenLen {
		t.Fatalf("no device token issued: %q", owner.Device)
	}
	global := globalAttemptsFactor * n
	for i := 0; i < global; i++ {
		f.wantErr("distributed guess "+strconv.Itoa(i+1), ErrBadCredentials, "alice", "wrong password!", fmt.Sprintf("10.%d.%d.1", i/200, i%200), "")
	}
	f.wantErr("a guess from yet another network", errLimited, "alice", ownerPassword, "172.16.99.1", "")
	f.wantErr("the owner from a new browser", errLimited, "alice", ownerPassword, "192.0.2.8", "")
	forged := []byte(owner.Device)
	forged[20] ^= 1
	f.wantErr("an altered device token", errLimited, "alice", ownerPassword, "172.16.99.2", string(forged))

	again := f.wantErr("the owner's known browser", nil, "alice", ownerPassword, "192.0.2.7", owner.Device)
	if again.Device == "" || again.Device == owner.Device || again.ForgetDevice {
		t.Fatalf("the device token was not renewed: %+v", again)
	}
	f.wantErr("the known browser, typed as an e-mail address", nil, "Alice@Example.test", ownerPassword, "203.0.113.50", again.Device)

	// A known browser has its own small limit; abusing it revokes the token.
	tok := again.Device
	for i := 1; i <= n; i++ {
		out := f.wantErr("known browser, wrong password "+strconv.Itoa(i), ErrBadCredentials, "alice", "wrong password!", "192.0.2.7", tok)
		if out.ForgetDevice {
			t.Fatalf("the token was revoked after %d failures; the limit is %d", i, n)
		}
	}
	out := f.wantErr("a revoked token", errLimited, "alice", ownerPassword, "192.0.2.7", tok)
	if !out.ForgetDevice {
		t.Error("a token over its limit was not revoked")
	}
	if out := f.wantErr("a revoked token, again", errLimited, "alice", ownerPassword, "192.0.2.7", tok); !out.ForgetDevice {
		t.Error("a revoked token came back")
	}
}

// A trusted browser's successes do not give the distributed attacker a fresh
// budget, and its failures do not spend the global one.
func TestKnownBrowserAndGlobalLimitAreSeparate(t *testing.T) {
	f := newFixture(t)
	owner := f.wantErr("the owner's first sign-in", nil, "alice", ownerPassword, "192.0.2.7", "")
	for i := 1; i < n; i++ {
		f.wantErr("known browser typo", ErrBadCredentials, "alice", "wrong password!", "192.0.2.7", owner.Device)
	}
	global := globalAttemptsFactor * n
	for i := 0; i < global-1; i++ { // all but one of the global budget (the owner's first sign-in gave its attempt back)
		f.wantErr("distributed guess", ErrBadCredentials, "alice", "wrong password!", fmt.Sprintf("10.%d.%d.1", i/200, i%200), "")
	}
	f.wantErr("the owner's known browser", nil, "alice", ownerPassword, "192.0.2.7", owner.Device)
	f.wantErr("the last guess of the global budget", ErrBadCredentials, "alice", "wrong password!", "10.99.0.1", "")
	f.wantErr("over the global limit", errLimited, "alice", "wrong password!", "10.99.1.1", "")
}

// The owner signing in from a new browser gives back their own attempt of
// the per-login budget, never the attacker's.
func TestOwnersSuccessDoesNotRefillTheGlobalBudget(t *testing.T) {
	f := newFixture(t)
	global := globalAttemptsFactor * n
	for i := 0; i < global-1; i++ {
		f.wantErr("distributed guess", ErrBadCredentials, "alice", "wrong password!", fmt.Sprintf("10.%d.%d.1", i/200, i%200), "")
	}
	f.wantErr("the owner from a new browser", nil, "alice", ownerPassword, "192.0.2.7", "")
	f.wantErr("the last guess of the budget", ErrBadCredentials, "alice", "wrong password!", "10.99.0.1", "")
	f.wantErr("over the per-login limit", errLimited, "alice", "wrong password!", "10.99.1.1", "")
}

// An attempt one limit refuses is not counted by the others, so the refusals
// of one limit do not outlast it.
func TestRefusedAttemptsCountNowhere(t *testing.T) {
	f := newFixture(t)
	start := time.Now()
	now := start
	f.s.now = func() time.Time { return now }
	// Refused per login and network: the address keeps its attempts.
	for i := 1; i <= n; i++ {
		f.wantErr("guess", ErrBadCredentials, "alice", "wrong password!", "198.51.100."+strconv.Itoa(i), "")
	}
	for i := 0; i < n; i++ {
		f.wantErr("refused on its network", errLimited, "alice", "wrong password!", "198.51.100.50", "")
	}
	f.wantErr("another login from that address", ErrBadCredentials, "nobody", "wrong password!", "198.51.100.50", "")
	// Refused per login: neither the address nor the network keeps a count
	// once that limit's window ends.
	global := globalAttemptsFactor * n
	for i := 0; i < global-n; i++ { // the n first guesses count for the login too
		f.wantErr("distributed guess", ErrBadCredentials, "alice", "wrong password!", fmt.Sprintf("10.%d.%d.1", i/200, i%200), "")
	}
	f.wantErr("refused for the login", errLimited, "alice", "wrong password!", "10.200.0.1", "")
	now = start.Add(globalWindowFactor*10*time.Minute - time.Minute)
	for i := 0; i < n; i++ {
		f.wantErr("refused for the login, late in its window", errLimited, "alice", "wrong password!", "203.0.113.5", "")
	}
	now = start.Add(globalWindowFactor * 10 * time.Minute)
	f.wantErr("the same address and network once the login's window ended", ErrBadCredentials, "alice", "wrong password!", "203.0.113.5", "")
}

func TestDeviceTokensNameTheirAccountAndCannotBeForged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, _, err := f.s.Create(ctx, NewParams{Username: "bob", Email: "bob@example.test", Password: ownerPassword, Approved: true}); err != nil {
		t.Fatal(err)
	}
	tok := f.wantErr("alice signs in", nil, "alice", ownerPassword, "192.0.2.7", "").Device
	known := func(s *Service, tok, login string) bool {
		t.Helper()
		_, ok, err := s.knownBrowser(ctx, tok, login)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, login := range []string{"alice", "alice@example.test"} {
		if !known(f.s, tok, login) {
			t.Errorf("alice's token is not valid for %q", login)
		}
	}
	for _, login := range []string{"bob", "bob@example.test", "nobody"} {
		if known(f.s, tok, login) {
			t.Errorf("alice's token is valid for %q", login)
		}
	}
	for i := 0; i < len(tok); i += 7 {
		b := []byte(tok)
		b[i] ^= 2
		if known(f.s, string(b), "alice") {
			t.Errorf("a token altered at %d is valid", i)
		}
	}
	if known(f.s, tok[:len(tok)-1], "alice") {
		t.Error("a truncated token is valid")
	}
	other := newFixture(t)
	other.s.deviceKey = []byte("another instance's device key, 32b")
	if known(other.s, tok, "alice") {
		t.Error("a token of another key is valid")
	}
	now := time.Now()
	f.s.now = func() time.Time { return now.Add(DeviceLifetime) }
	if known(f.s, tok, "alice") {
		t.Error("a token past its lifetime is valid")
	}
	f.s.now = func() time.Time { return now.Add(-time.Hour) }
	if known(f.s, tok, "alice") {
		t.Error("a token issued in the future is valid")
	}
	f.s.now = time.Now
	// No token for a right password that does not sign in.
	acc, err := f.s.store.AccountByUsername(ctx, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	disabled := true
	if _, err := f.s.Modify(ctx, acc.ID, Change{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if out := f.wantErr("disabled bob", ErrDisabled, "bob", ownerPassword, "192.0.2.9", ""); out.Device != "" {
		t.Error("a disabled account got a device token")
	}
}

// A device token belongs to the account that signed in, not to a text: an
// account whose e-mail address is another's in other letters (U+0130 and the
// Kelvin sign K lower-case to ASCII "i" and "k" in Go, not in SQLite, so the
// store takes the address as distinct) must not get a known browser's
// treatment for the other account's login. Otherwise its holder guesses that
// login's password past every limit but the device's, and signs in to their
// own account for a fresh token whenever that one is spent.
func TestDeviceTokenOfALookalikeAccountGrantsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const malloryPassword = "mallory's own password"
	for _, lookalike := range []struct{ username, email, victimLogin string }{
		{"mallory", "al\u0130ce@example.test", "alice@example.test"},
		{"mallory2", "\u212Aate@example.test", "kate@example.test"},
	} {
		if lookalike.victimLogin != "alice@example.test" {
			if _, _, err := f.s.Create(ctx, NewParams{Username: "kate", Email: "kate@example.test", Password: ownerPassword, Approved: true}); err != nil {
				t.Fatal(err)
			}
		}
		// Registration refuses such an address now (TestLookalikeEmailsAreTaken);
		// a row from before that rule still must not help: it is written as such a row was.
		a, _, err := f.s.Create(ctx, NewParams{Username: lookalike.username, Email: lookalike.username + "@example.net", Password: malloryPassword, Approved: true})
		if err != nil {
			t.Fatal(err)
		}
		f.setEmail(a.ID, lookalike.email)
		ip := "198.51.100." + strconv.Itoa(len(lookalike.username))
		tok := f.wantErr("the lookalike signs in to their own account", nil, lookalike.username, malloryPassword, ip, "").Device
		guessed := 0
		for round := 0; round < 3; round++ {
			for i := 0; i < n; i++ {
				if _, err := f.try(lookalike.victimLogin, "wrong password!", ip, tok); errors.Is(err, ErrBadCredentials) {
					guessed++
				}
			}
			// A fresh token, as often as the attacker likes: their own account.
			if out, err := f.try(lookalike.username, malloryPassword, ip, tok); err == nil {
				tok = out.Device
			}
		}
		if guessed > n {
			t.Errorf("%s's token (e-mail %q): %d guesses at %q from one address were checked, want at most %d", lookalike.username, lookalike.email, guessed, lookalike.victimLogin, n)
		}
		// The owner's own token still makes a known browser.
		owner := f.wantErr("the owner signs in", nil, lookalike.victimLogin, ownerPassword, "192.0.2.200", "").Device
		f.wantErr("the owner's known browser, once more", nil, lookalike.victimLogin, ownerPassword, ip, owner)
	}
}

// Addresses that only Unicode lower-casing makes equal are one address: the
// second is taken, so no account holds an address another's login reaches.
func TestLookalikeEmailsAreTaken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, _, err := f.s.Create(ctx, NewParams{Username: "kate", Email: "kate@example.test", Password: ownerPassword, Approved: true}); err != nil {
		t.Fatal(err)
	}
	for i, e := range []string{"\u212Aate@example.test", "KATE@Example.Test", "al\u0130ce@example.test", "ALICE@EXAMPLE.TEST"} {
		_, _, err := f.s.Create(ctx, NewParams{Username: "m" + strconv.Itoa(i), Email: e, Password: ownerPassword, Approved: true})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "email" || ve.Code != "ERR_TAKEN" {
			t.Errorf("%q beside kate@ and alice@: %v, want the e-mail taken", e, err)
		}
	}
	_, u, err := f.s.Create(ctx, NewParams{Username: "lee", Email: "Lee@Example.NET", Password: ownerPassword, Approved: true})
	if err != nil || u.Email != "lee@example.net" {
		t.Errorf("Lee@Example.NET is stored as %v (%v), want lee@example.net", u, err)
	}
	f.wantErr("signs in by the address in any case", nil, "LEE@example.net", ownerPassword, "192.0.2.9", "")
}
