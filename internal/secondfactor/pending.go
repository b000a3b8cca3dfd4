package secondfactor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/store"
)

// The second sign-in step. After a right password, an account with a
// second factor is not signed in: Begin keeps a pending sign-in on the
// server, keyed by the digest of the browser's anonymous session cookie
// value (so only that browser can finish it, and the row reveals no cookie),
// holding the account, the device token the password step issued and where
// to go after. Any second factor completes it: a code
// through SubmitCode here; a passkey assertion, once verified for
// Pending's account by its own package, through Attempt (which counts it
// under the same limits as a code); both complete it through complete.

// visitorHash is the key of a visitor's pending sign-in.
func visitorHash(visitorRaw string) string {
	sum := sha256.Sum256([]byte("rampart pending sign-in\x00" + visitorRaw))
	return hex.EncodeToString(sum[:])
}

// Begin starts the visitor's pending sign-in for accountID (replacing an
// earlier one of that browser). returnTo must already be a safe local path.
func (s *Service) Begin(ctx context.Context, visitorRaw string, accountID int64, device, returnTo string, newBrowser bool) error {
	if visitorRaw == "" {
		return errors.New("pending sign-in without a visitor cookie")
	}
	now := s.now()
	return s.store.PutPendingSignIn(ctx, &store.PendingSignIn{VisitorHash: visitorHash(visitorRaw), AccountID: accountID,
		ReturnTo: returnTo, Device: device, NewBrowser: newBrowser, ExpiresAt: now.Add(PendingLifetime)}, now)
}

// Pending is the visitor's pending sign-in: ErrNoPending when there is none
// that has not expired.
func (s *Service) Pending(ctx context.Context, visitorRaw string) (*store.PendingSignIn, error) {
	if visitorRaw == "" {
		return nil, ErrNoPending
	}
	p, err := s.store.PendingSignInByHash(ctx, visitorHash(visitorRaw), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoPending
	}
	return p, err
}

// SubmitCode tries a TOTP or recovery code for the visitor's pending
// sign-in, under the second step's limits: a right one completes it (see
// complete); a wrong one is counted against it, and the MaxAttempts-th
// ends it (ErrEnded).
func (s *Service) SubmitCode(ctx context.Context, visitorRaw, code, clientIP string) (*store.PendingSignIn, error) {
	p, err := s.Pending(ctx, visitorRaw)
	if err != nil {
		return nil, err
	}
	done, err := s.limit(ctx, p.AccountID, clientIP)
	if err != nil {
		return nil, err
	}
	if err := s.checkCode(ctx, p.AccountID, code); err != nil {
		if !errors.Is(err, ErrWrongCode) {
			return nil, err
		}
		return nil, s.failPending(ctx, p)
	}
	done()
	return s.complete(ctx, p)
}

// Attempt counts one answer of another kind of second factor (a passkey's
// assertion, checked by its own package) for the visitor's pending sign-in
// under the same limits as a code. check is called only within the limits,
// with the pending sign-in's account; a refusal it reports (refused true)
// counts as a wrong code against the pending sign-in (the MaxAttempts-th
// ends it, ErrEnded; before, ErrWrongCode) and its own error is returned
// alongside for the caller to tell. Accepted, the pending sign-in is
// completed (see complete) and its attempt given back.
func (s *Service) Attempt(ctx context.Context, visitorRaw, clientIP string, check func(accountID int64) (refused bool, err error)) (*store.PendingSignIn, error) {
	p, err := s.Pending(ctx, visitorRaw)
	if err != nil {
		return nil, err
	}
	done, err := s.limit(ctx, p.AccountID, clientIP)
	if err != nil {
		return nil, err
	}
	refused, err := check(p.AccountID)
	if refused {
		return nil, errors.Join(s.failPending(ctx, p), err)
	}
	if err != nil {
		return nil, err
	}
	done()
	return s.complete(ctx, p)
}

// failPending counts a wrong answer against the pending sign-in: ErrEnded
// when it was the last one allowed, ErrWrongCode before.
func (s *Service) failPending(ctx context.Context, p *store.PendingSignIn) error {
	n, err := s.store.FailPendingSignIn(ctx, p.VisitorHash, MaxAttempts)
	if err != nil {
		return err
	}
	if n >= MaxAttempts {
		return ErrEnded
	}
	return ErrWrongCode
}

// complete ends the pending sign-in p as passed, once: a second factor of
// p's account has been verified, and the caller now starts the session
// (with p's device token) and goes to its ReturnTo. Only p's account is
// taken: should the browser's pending sign-in have been replaced by
// another account's while the factor was checked (a second password typed
// in the same browser), that one stays waiting for its own second factor
// and this answer completes nothing (ErrNoPending). An account that became
// unusable meanwhile (suspended, disabled) gets that error, as the password
// step would give it.
func (s *Service) complete(ctx context.Context, p *store.PendingSignIn) (*store.PendingSignIn, error) {
	taken, err := s.store.TakePendingSignIn(ctx, p.VisitorHash, p.AccountID)
	if err != nil {
		return nil, err
	}
	if !taken {
		return nil, ErrNoPending // completed by a concurrent request, or replaced by another account's
	}
	u, err := s.store.UserByAccountID(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	if err := accounts.Usable(u); err != nil {
		return nil, err
	}
	return p, nil
}
