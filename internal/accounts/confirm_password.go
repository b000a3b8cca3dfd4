package accounts

import (
	"context"
	"errors"

	"github.com/rampart-social/rampart/internal/password"
)

// ConfirmPassword checks the signed-in owner's current password before a
// change that needs it (disabling a second factor): ErrBadCredentials when
// wrong. The caller limits how often it may be tried.
func (s *Service) ConfirmPassword(ctx context.Context, accountID int64, pw string) error {
	u, err := s.store.UserByAccountID(ctx, accountID)
	if err != nil {
		return err
	}
	if _, err := s.hasher.Verify(ctx, u.PasswordHash, pw); err != nil {
		if errors.Is(err, password.ErrMismatch) {
			return ErrBadCredentials
		}
		return err
	}
	return nil
}
