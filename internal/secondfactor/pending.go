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
// to go after. Any second factor completes it through Complete: a code
// through SubmitCode here; a passkey assertion, once verified for
// Pending's account by its own package, by calling Complete directly.

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
// Complete); a wrong one is counted against it, and the MaxAttempts-th
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
		n, ferr := s.store.FailPendingSignIn(ctx, p.VisitorHash, MaxAttempts)
		if ferr != nil {
			return nil, ferr
		}
		if n >= MaxAttempts {
			return nil, ErrEnded
		}
		return nil, ErrWrongCode
	}
	done()
	return s.Complete(ctx, visitorRaw)
}

// Complete ends the visitor's pending sign-in as passed, once: the caller
// has verified a second factor of the pending sign-in's account, and now
// starts the session (with the pending sign-in's device token) and goes
// to its ReturnTo. An account that became unusable meanwhile (suspended,
// disabled) gets that error, as the password step would give it.
func (s *Service) Complete(ctx context.Context, visitorRaw string) (*store.PendingSignIn, error) {
	p, err := s.Pending(ctx, visitorRaw)
	if err != nil {
		return nil, err
	}
	taken, err := s.store.TakePendingSignIn(ctx, p.VisitorHash)
	if err != nil {
		return nil, err
	}
	if !taken {
		return nil, ErrNoPending // completed by a concurrent request
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
