package accounts

import (
	"context"
)

// SignInWithPasskey completes a sign-in that a passkey proved instead of the
// password (internal/passkeys verified the assertion): the account must be
// usable, as after the password step (Usable: not suspended, disabled or
// awaiting approval), and the browser gets a fresh device token, as after a
// password sign-in.
func (s *Service) SignInWithPasskey(ctx context.Context, accountID int64) (Outcome, error) {
	var out Outcome
	u, err := s.store.UserByAccountID(ctx, accountID)
	if err != nil {
		return out, err
	}
	if err := Usable(u); err != nil {
		return out, err
	}
	a, err := s.store.AccountByID(ctx, accountID)
	if err != nil {
		return out, err
	}
	out.Account, out.User, out.Device = a, u, s.issueDevice(a)
	return out, nil
}

// KnowsBrowser reports whether deviceToken is a valid device token of
// accountID: a browser that signed in to the account before. A sign-in that
// did not pass through Authenticate (a passkey) asks it for the security
// history's "new browser".
func (s *Service) KnowsBrowser(deviceToken string, accountID int64) bool {
	_, account, ok := s.readDevice(deviceToken)
	return ok && account == accountID
}
