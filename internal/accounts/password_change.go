package accounts

import (
	"context"
	"errors"
	"fmt"
)

// PasswordChange is a signed-in user's change of their own password.
type PasswordChange struct {
	AccountID int64
	Current   string // the password now, which the change must be given
	New       string
	ClientIP  string // for the limits on guessing Current (as sign-in's)
	Device    string // the browser's device token, as at sign-in
	// KeepSession is the id hash of the browser session to keep signed in
	// ("" ends it too).
	KeepSession string
}

// ErrWrongPassword is a password change whose current password is wrong.
var ErrWrongPassword = errors.New("the current password is wrong")

// ChangePassword is the one rule of a password change: the new password
// must pass the sign-up policy, the current one must be right — checked as
// sign-in's password step is, under the same limits, since this is a
// password oracle too — and then every other session of the account ends
// and every access token issued until now is revoked (their streaming
// sockets close with the streams' sweep of revoked tokens), so whoever
// held the account through the old password holds nothing. Only the session
// named KeepSession stays. forget reports a device token revoked for too
// many failures, which the browser should drop.
func (s *Service) ChangePassword(ctx context.Context, c PasswordChange) (forget bool, err error) {
	if err := s.checkPassword(c.New); err != nil {
		return false, err
	}
	acc, err := s.store.AccountByID(ctx, c.AccountID)
	if err != nil {
		return false, err
	}
	u, _, forget, err := s.passwordStep(ctx, SignIn{Login: acc.Username, Password: c.Current, ClientIP: c.ClientIP, Device: c.Device})
	if errors.Is(err, ErrBadCredentials) {
		return forget, ErrWrongPassword
	}
	if err != nil {
		return forget, err
	}
	if u.AccountID != c.AccountID || acc.Domain != "" {
		return forget, ErrWrongPassword // no other account's password changes this one
	}
	h, err := s.hasher.Hash(ctx, c.New)
	if err != nil {
		return forget, fmt.Errorf("change password: %w", err)
	}
	if err := s.store.ChangePassword(ctx, c.AccountID, h, c.KeepSession, s.now().UTC()); err != nil {
		return forget, err
	}
	return forget, nil
}
