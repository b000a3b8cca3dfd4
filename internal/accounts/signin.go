package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/store"
)

// The longest logins: a username has at most 30 characters (a-z, 0-9, _) and
// an e-mail address at most 254 bytes. Anything longer is refused before it
// is counted, stored or hashed.
const (
	MaxUsernameLogin = 30
	MaxEmailLogin    = 254
)

// PlausibleLogin reports whether a login (trimmed) is short enough to be a
// username or an e-mail address.
func PlausibleLogin(login string) bool {
	if strings.Contains(login, "@") {
		return len(login) <= MaxEmailLogin
	}
	return len(login) <= MaxUsernameLogin
}

// The global per-login limit, for browsers the login has not signed in from,
// is globalAttemptsFactor × security.login_attempts failures per
// globalWindowFactor × security.login_window over every network together:
// 30 an hour by default. It caps guessing from many networks at once.
const (
	globalAttemptsFactor = 6
	globalWindowFactor   = 4
)

// signInLimits are the counts Authenticate keeps. A browser that holds a
// valid device token for the login typed (device.go) is counted by perDevice
// alone; every other attempt by the other three. They live in the database
// (ratelimit.Shared), so that every process serving it counts together.
type signInLimits struct {
	perAddress *ratelimit.Shared // a client address (IPv6: its /64), whatever the login
	perNetwork *ratelimit.Shared // a login from one network (IPv4 /24, IPv6 /64)
	perLogin   *ratelimit.Shared // a login from every network together
	perDevice  *ratelimit.Shared // a device token, for its whole lifetime: over it, the token is revoked
}

func newSignInLimits(t ratelimit.Table, key []byte, attempts int, window time.Duration, now func() time.Time) signInLimits {
	return signInLimits{
		perAddress: ratelimit.NewShared(t, key, "signin.address", attempts, window, now),
		perNetwork: ratelimit.NewShared(t, key, "signin.network", attempts, window, now),
		perLogin:   ratelimit.NewShared(t, key, "signin.login", globalAttemptsFactor*attempts, globalWindowFactor*window, now),
		perDevice:  ratelimit.NewShared(t, key, "signin.device", attempts, DeviceLifetime, now),
	}
}

// SignInKeys is how many keys the sign-in limiters hold together, in every
// process: keys in windows that have not ended.
func (s *Service) SignInKeys(ctx context.Context) (int, error) {
	l := s.limits
	total := 0
	for _, lim := range []*ratelimit.Shared{l.perAddress, l.perNetwork, l.perLogin, l.perDevice} {
		n, err := lim.Len(ctx)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// limitKey is one limit an attempt counts against, with its key.
type limitKey struct {
	limit *ratelimit.Shared
	key   []string
}

// take counts an attempt against each limit in turn. When one refuses it (or
// the database fails), those that counted it are given it back, so a refused
// attempt counts nowhere and a refusal does not outlast the limit that made
// it; wait is the refusing limit's. An error refuses the attempt too: a limit
// that cannot be checked lets nothing through.
func (s *Service) take(ctx context.Context, limits ...limitKey) (wait time.Duration, err error) {
	for i, lk := range limits {
		wait, err = lk.limit.Take(ctx, lk.key...)
		if err == nil && wait == 0 {
			continue
		}
		for _, done := range limits[:i] {
			s.refund(ctx, done)
		}
		if err != nil {
			return 0, fmt.Errorf("sign-in limits: %w", err)
		}
		return wait, nil
	}
	return 0, nil
}

// refund gives one attempt back. A failure is logged, not returned: the
// attempt it belongs to is decided, and a count left too high only ends
// with its window.
func (s *Service) refund(ctx context.Context, lk limitKey) {
	if err := lk.limit.Refund(ctx, lk.key...); err != nil {
		s.log.Warn("giving back a rate-limited attempt", "err", err)
	}
}

// reset forgets a key; a failure is logged, as refund's is.
func (s *Service) reset(ctx context.Context, lk limitKey) {
	if err := lk.limit.Reset(ctx, lk.key...); err != nil {
		s.log.Warn("resetting a rate limit", "err", err)
	}
}

// SignIn is one attempt to sign in through the form.
type SignIn struct {
	Login    string // username or e-mail, as typed
	Password string
	ClientIP string
	Device   string // the browser's device token ("" when it has none)
}

// Outcome is what a sign-in attempt leaves for the browser.
type Outcome struct {
	Account *store.Account
	User    *store.User
	// Device is set on success: a fresh device token naming this account,
	// for the browser to keep.
	Device string
	// ForgetDevice is set, with or without an error, when the device token
	// sent has been revoked for too many failures: the browser should drop it.
	ForgetDevice bool
	// NewBrowser is set on success when the browser held no valid device
	// token of this account: a sign-in from a new browser, for the
	// security history (EventNewBrowserSignIn).
	NewBrowser bool
}

// Authenticate checks a sign-in. Every attempt is counted before the (slow)
// password check, in one step per limit, so a burst of concurrent guesses
// cannot all slip in; once a limit is reached every attempt it covers is
// refused with a RateLimitedError until its window ends — right password or
// not, existing account or not. A right password gives back the attempt.
//
// A browser holding a device token for the login typed (set by an earlier
// successful sign-in of that account in that browser) is limited only by its
// own count, so an attacker who exhausts the other limits does not lock the
// owner out of the browsers they already use. Any other attempt counts
// against the client address, the login on the client's network and the
// login over every network.
func (s *Service) Authenticate(ctx context.Context, in SignIn) (Outcome, error) {
	var out Outcome
	u, known, forget, err := s.passwordStep(ctx, in)
	out.ForgetDevice = forget
	if err != nil {
		return out, err
	}
	if err := Usable(u.User); err != nil {
		return out, err
	}
	a, err := s.store.AccountByID(ctx, u.AccountID)
	if err != nil {
		return out, err
	}
	out.Account, out.User, out.Device, out.NewBrowser = a, u.User, s.issueDevice(a), !known
	return out, nil
}

// passwordStep is the password check of a sign-in with its limits (see
// Authenticate), on its own so that whatever else checks a password — the
// settings' password change — is the same oracle under the same counts.
// known reports a browser that held a device token of the account; forget,
// a device token revoked for too many failures.
func (s *Service) passwordStep(ctx context.Context, in SignIn) (u checkedUser, known, forget bool, err error) {
	login := strings.TrimSpace(in.Login)
	if !PlausibleLogin(login) {
		return u, false, false, ErrBadCredentials // no work, nothing kept: no account has such a login
	}
	login = strings.ToLower(login)
	l := s.limits
	device, trusted, err := s.knownBrowser(ctx, in.Device, login)
	if err != nil {
		return u, false, false, err
	}
	known = trusted
	perDevice := limitKey{l.perDevice, []string{device}}
	if trusted {
		wait, err := s.take(ctx, perDevice)
		if err != nil {
			return u, false, false, err
		}
		if wait > 0 {
			trusted, forget = false, true // revoked: from now on it is any browser
		}
	}
	ipKey, netKey := ratelimit.AddressKey(in.ClientIP), ratelimit.NetworkKey(in.ClientIP)
	perAddress := limitKey{l.perAddress, []string{ipKey}}
	perNetwork := limitKey{l.perNetwork, []string{login, netKey}}
	perLogin := limitKey{l.perLogin, []string{login}}
	if !trusted {
		wait, err := s.take(ctx, perAddress, perNetwork, perLogin)
		if err != nil {
			return u, known, forget, err
		}
		if wait > 0 {
			return u, known, forget, &RateLimitedError{What: "failed sign-in attempts", RetryAfter: wait}
		}
	}
	u, err = s.checkLogin(ctx, login, in.Password)
	if err != nil {
		return u, known, forget, err
	}
	if trusted {
		s.refund(ctx, perDevice)
	} else {
		s.refund(ctx, perAddress) // one attempt back: never the whole address's count
		s.reset(ctx, perNetwork)
		s.refund(ctx, perLogin) // not a reset: the owner signing in gives a distributed guesser nothing
	}
	if u.needsRehash {
		if h, err := s.hasher.Hash(ctx, in.Password); err == nil {
			if err := s.store.SetPasswordHash(ctx, u.AccountID, h); err != nil {
				return u, known, forget, err
			}
		}
	}
	return u, known, forget, nil
}

type checkedUser struct {
	*store.User
	needsRehash bool
}

// checkLogin checks a password against the login's hash. A login that does
// not exist costs the same argon2id work as one that does, so timing tells
// nothing; both answer ErrBadCredentials.
func (s *Service) checkLogin(ctx context.Context, login, pw string) (checkedUser, error) {
	u, err := s.store.UserByLogin(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.Burn(ctx, pw)
		return checkedUser{}, ErrBadCredentials
	}
	if err != nil {
		return checkedUser{}, err
	}
	rehash, err := s.hasher.Verify(ctx, u.PasswordHash, pw)
	if errors.Is(err, password.ErrMismatch) {
		return checkedUser{}, ErrBadCredentials
	}
	if err != nil {
		return checkedUser{}, err
	}
	return checkedUser{User: u, needsRehash: rehash}, nil
}
