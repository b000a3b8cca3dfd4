package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/store/storetest"
)

// otherProcess is a second Service on f's database, with the same config:
// what a second `rampart serve` behind the same proxy is to the first.
func (f *fixture) otherProcess() *fixture {
	f.t.Helper()
	st, err := storetest.OpenErr(f.t, f.dbPath, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	return &fixture{t: f.t, s: New(f.cfg, st, id.NewGenerator(), f.hasher), hasher: f.hasher, dbPath: f.dbPath, cfg: f.cfg}
}

// Attempts through two processes count together in every sign-in limit:
// per address, per login and network, per login, and per device token.
func TestSignInLimitsCountAttemptsThroughBothProcesses(t *testing.T) {
	a := newFixture(t)
	b := a.otherProcess()
	both := []*fixture{a, b}

	// Per address: n failures, half through each process, and the next is
	// refused through either.
	const ip = "203.0.113.9"
	for i := range n {
		both[i%2].wantErr("failure "+strconv.Itoa(i+1), ErrBadCredentials, "nobody"+strconv.Itoa(i), "wrong password!", ip, "")
	}
	for _, f := range both {
		f.wantErr("over the address limit", errLimited, "someone-else", "wrong password!", ip, "")
	}

	// Per login and network.
	for i := range n {
		both[i%2].wantErr("guess", ErrBadCredentials, "alice", "wrong password!", "198.51.100."+strconv.Itoa(i+1), "")
	}
	for _, f := range both {
		f.wantErr("the next guess from the same /24", errLimited, "alice", ownerPassword, "198.51.100.200", "")
	}

	// Per login, over many networks: the n guesses above counted too.
	global := globalAttemptsFactor * n
	for i := 0; i < global-n; i++ {
		both[i%2].wantErr("distributed guess", ErrBadCredentials, "alice", "wrong password!", fmt.Sprintf("10.%d.%d.1", i/200, i%200), "")
	}
	for _, f := range both {
		f.wantErr("a guess from yet another network", errLimited, "alice", ownerPassword, "172.16.99.1", "")
	}
	if ka, kb := a.keys(), b.keys(); ka != kb || ka == 0 {
		t.Errorf("the two processes see %d and %d sign-in keys; want the same, not 0", ka, kb)
	}
}

// A device token revoked through one process is revoked in the other.
func TestDeviceTokenRevokedThroughEitherProcess(t *testing.T) {
	a := newFixture(t)
	b := a.otherProcess()
	owner := a.wantErr("the owner signs in", nil, "alice", ownerPassword, "192.0.2.7", "").Device
	for i := range n {
		f := []*fixture{a, b}[i%2]
		if out := f.wantErr("known browser, wrong password", ErrBadCredentials, "alice", "wrong password!", "192.0.2.7", owner); out.ForgetDevice {
			t.Fatalf("revoked after %d failures; the limit is %d", i+1, n)
		}
	}
	for _, f := range []*fixture{a, b} {
		// Revoked, it is any browser: counted by the other limits, told to
		// forget the token.
		if out := f.wantErr("the token over its limit", ErrBadCredentials, "alice", "wrong password!", "192.0.2.7", owner); !out.ForgetDevice {
			t.Error("a token over its limit was not revoked")
		}
	}
}

// A burst of concurrent guesses through both processes gets at most n
// checked: each limit's check and count are one statement in the database.
func TestConcurrentGuessesThroughBothProcessesStopAtN(t *testing.T) {
	a := newFixture(t)
	b := a.otherProcess()
	const tries = 24
	var wg sync.WaitGroup
	var mu sync.Mutex
	checked, limited := 0, 0
	for i := range tries {
		f := []*fixture{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.try("nobody"+strconv.Itoa(i), "wrong password!", "203.0.113.77", "")
			var wait *RateLimitedError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrBadCredentials):
				checked++
			case errors.As(err, &wait):
				limited++
			default:
				t.Errorf("guess %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if checked != n || limited != tries-n {
		t.Errorf("%d concurrent guesses from one address through two processes: %d checked, %d limited; want %d checked", tries, checked, limited, n)
	}
}

// Sign-ups from one address count through both processes.
func TestSignupLimitCountsThroughBothProcesses(t *testing.T) {
	a := newFixture(t)
	a.cfg.Accounts.Registrations = config.RegistrationsOpen
	b := a.otherProcess()
	ctx := context.Background()
	for i := range SignupsPerWindow {
		f := []*fixture{a, b}[i%2]
		name := "new" + strconv.Itoa(i)
		if _, err := f.s.SignUp(ctx, SignUpParams{Username: name, Email: name + "@example.test", Password: ownerPassword,
			Agreement: true, ClientIP: "192.0.2.44"}); err != nil {
			t.Fatalf("sign-up %d: %v", i+1, err)
		}
	}
	for _, f := range []*fixture{a, b} {
		_, err := f.s.SignUp(ctx, SignUpParams{Username: "onemore", Email: "onemore@example.test", Password: ownerPassword,
			Agreement: true, ClientIP: "192.0.2.44"})
		var wait *RateLimitedError
		if !errors.As(err, &wait) {
			t.Errorf("sign-up over the limit: %v, want rate limited", err)
		}
	}
}

// When the database cannot count an attempt, the attempt fails: no
// password is checked and nobody signs in.
func TestSignInFailsWhenItsLimitsCannotBeCounted(t *testing.T) {
	f := newFixture(t)
	f.cfg.Accounts.Registrations = config.RegistrationsOpen
	f.s.store.Close()
	work := f.hasher.Work()
	_, err := f.try("alice", ownerPassword, "192.0.2.7", "")
	if err == nil || errors.Is(err, ErrBadCredentials) || !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Errorf("sign-in with the database gone: %v; want the limit's error", err)
	}
	if f.hasher.Work() != work {
		t.Error("a password was checked past a limit that could not be counted")
	}
	_, err = f.s.SignUp(context.Background(), SignUpParams{Username: "x", Email: "x@example.test", Password: ownerPassword, Agreement: true, ClientIP: "192.0.2.7"})
	if !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Errorf("sign-up with the database gone: %v", err)
	}
}
