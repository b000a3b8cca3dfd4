package store

import (
	"context"
	"fmt"
	"time"
)

// ChangePassword stores a user's new password hash and, in the same
// transaction, ends what the old password let anyone start: every browser
// session of the account but keepSession (an id hash; "" keeps none), every
// access token created at or before before, every authorization code not
// yet exchanged (else a code taken before the change would still buy a
// token after it), and every sign-in waiting for its second factor (its
// password step passed with the old password). Either all of it happens or
// none does.
func (s *Store) ChangePassword(ctx context.Context, accountID int64, hash, keepSession string, before time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE account_id = ?`, hash, accountID)
	if err := expectOne(res, err, "change password"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ? AND id_hash <> ?`, accountID, keepSession); err != nil {
		return fmt.Errorf("change password: end sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_tokens WHERE account_id = ? AND created_at <= ?`, accountID, ms(before)); err != nil {
		return fmt.Errorf("change password: revoke tokens: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_codes WHERE account_id = ?`, accountID); err != nil {
		return fmt.Errorf("change password: drop codes: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM pending_sign_ins WHERE account_id = ?`, accountID); err != nil {
		return fmt.Errorf("change password: drop pending sign-ins: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}
