package accounts

import (
	"context"
	"errors"
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
	limiterCapacity      = 100_000
)

// signInLimits are the counts Authenticate keeps. A browser that holds a
// valid device token for the login typed (device.go) is counted by perDevice
// alone; every other attempt by the other three.
type signInLimits struct {
	perAddress *ratelimit.Limiter // a client address (IPv6: its /64), whatever the login
	perNetwork *ratelimit.Limiter // a login from one network (IPv4 /24, IPv6 /64)
	perLogin   *ratelimit.Limiter // a login from every network together
	perDevice  *ratelimit.Limiter // a device token, for its whole lifetime: over it, the token is revoked
}

func newSignInLimits(attempts int, window time.Duration, now func() time.Time) signInLimits {
	return signInLimits{
		perAddress: ratelimit.NewWithClock(attempts, window, limiterCapacity, now),
		perNetwork: ratelimit.NewWithClock(attempts, window, limiterCapacity, now),
		perLogin:   ratelimit.NewWithClock(globalAttemptsFactor*attempts, globalWindowFactor*window, limiterCapacity, now),
		perDevice:  ratelimit.NewWithClock(attempts, DeviceLifetime, limiterCapacity, now),
	}
}

// SignInKeys is how many keys the sign-in limiters hold together: a bounded
// number, whatever logins are tried.
func (s *Service) SignInKeys() int {
	l := s.limits
	return l.perAddress.Len() + l.perNetwork.Len() + l.perLogin.Len() + l.perDevice.Len()
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
	login := strings.TrimSpace(in.Login)
	if !PlausibleLogin(login) {
		return out, ErrBadCredentials // no work, nothing kept: no account has such a login
	}
	login = strings.ToLower(login)
	l := s.limits
	device, trusted, err := s.knownBrowser(ctx, in.Device, login)
	if err != nil {
		return out, err
	}
	if trusted && l.perDevice.Take(device) > 0 {
		trusted, out.ForgetDevice = false, true // revoked: from now on it is any browser
	}
	ipKey, netKey := ratelimit.AddressKey(in.ClientIP), ratelimit.NetworkKey(in.ClientIP)
	if !trusted {
		if wait := l.perAddress.Take(ipKey); wait > 0 {
			return out, &RateLimitedError{What: "failed sign-in attempts", RetryAfter: wait}
		}
		if wait := l.perNetwork.Take(login, netKey); wait > 0 {
			l.perAddress.Refund(ipKey)
			return out, &RateLimitedError{What: "failed sign-in attempts", RetryAfter: wait}
		}
		if wait := l.perLogin.Take(login); wait > 0 {
			l.perAddress.Refund(ipKey)
			l.perNetwork.Refund(login, netKey)
			return out, &RateLimitedError{What: "failed sign-in attempts", RetryAfter: wait}
		}
	}
	u, err := s.checkLogin(ctx, login, in.Password)
	if err != nil {
		return out, err
	}
	if trusted {
		l.perDevice.Refund(device)
	} else {
		l.perAddress.Refund(ipKey) // one attempt back: never the whole address's count
		l.perNetwork.Reset(login, netKey)
		l.perLogin.Refund(login) // not a reset: the owner signing in gives a distributed guesser nothing
	}
	if u.needsRehash {
		if h, err := s.hasher.Hash(ctx, in.Password); err == nil {
			if err := s.store.SetPasswordHash(ctx, u.AccountID, h); err != nil {
				return out, err
			}
		}
	}
	if u.Disabled {
		return out, ErrDisabled
	}
	if !u.Approved {
		return out, ErrPending
	}
	a, err := s.store.AccountByID(ctx, u.AccountID)
	if err != nil {
		return out, err
	}
	out.Account, out.User, out.Device = a, u.User, s.issueDevice(a)
	return out, nil
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
