package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TOTPFactor is an account's TOTP secret, sealed (internal/secondfactor
// seals and opens it). Confirmed is zero while the owner is enrolling.
type TOTPFactor struct {
	AccountID    int64
	SealedSecret string
	Confirmed    time.Time
	LastStep     int64
	CreatedAt    time.Time
}

// TOTPOf is the account's TOTP factor, confirmed or not (nil: none).
func (s *Store) TOTPOf(ctx context.Context, accountID int64) (*TOTPFactor, error) {
	var f TOTPFactor
	var confirmed, created int64
	err := s.read.QueryRowContext(ctx, `SELECT account_id, sealed_secret, confirmed_at, last_step, created_at FROM totp_factors
		WHERE account_id = ?`, accountID).Scan(&f.AccountID, &f.SealedSecret, &confirmed, &f.LastStep, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("totp factor: %w", err)
	}
	f.Confirmed, f.CreatedAt = markMs(confirmed), fromMs(created)
	return &f, nil
}

// PutUnconfirmedTOTP starts (or restarts) an enrolment: the account's
// unconfirmed secret is replaced. A confirmed one is never replaced here;
// it reports false then.
func (s *Store) PutUnconfirmedTOTP(ctx context.Context, accountID int64, sealed string, now time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, `INSERT INTO totp_factors (account_id, sealed_secret, confirmed_at, last_step, created_at)
		VALUES (?, ?, 0, -1, ?)
		ON CONFLICT (account_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, last_step = -1, created_at = excluded.created_at
		WHERE totp_factors.confirmed_at = 0`, accountID, sealed, ms(now))
	if err != nil {
		return false, fmt.Errorf("put totp factor: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ConfirmTOTP ends an enrolment: the secret is confirmed with step as the
// last step used, and the account's recovery codes become codeHashes, in
// one transaction. It reports false when there was no unconfirmed secret.
func (s *Store) ConfirmTOTP(ctx context.Context, accountID, step int64, codeHashes []string, now time.Time) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("confirm totp: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE totp_factors SET confirmed_at = ?, last_step = ? WHERE account_id = ? AND confirmed_at = 0`,
		ms(now), step, accountID)
	if err != nil {
		return false, fmt.Errorf("confirm totp: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	if err := replaceRecoveryCodes(ctx, tx, accountID, codeHashes, now); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// UseTOTPStep records step as used, if it is after the last one used:
// checked and set in one statement, so two requests with one code cannot
// both pass. It reports whether the step was taken.
func (s *Store) UseTOTPStep(ctx context.Context, accountID, step int64) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE totp_factors SET last_step = ? WHERE account_id = ? AND confirmed_at <> 0 AND last_step < ?`,
		step, accountID, step)
	if err != nil {
		return false, fmt.Errorf("use totp step: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func replaceRecoveryCodes(ctx context.Context, tx *writeTx, accountID int64, codeHashes []string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = ?`, accountID); err != nil {
		return fmt.Errorf("recovery codes: %w", err)
	}
	for _, h := range codeHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES (?, ?, ?)`,
			accountID, h, ms(now)); err != nil {
			return fmt.Errorf("recovery codes: %w", err)
		}
	}
	return nil
}

// ReplaceRecoveryCodes makes codeHashes the account's only recovery codes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, accountID int64, codeHashes []string, now time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recovery codes: %w", err)
	}
	defer tx.Rollback()
	if err := replaceRecoveryCodes(ctx, tx, accountID, codeHashes, now); err != nil {
		return err
	}
	return tx.Commit()
}

// UseRecoveryCode deletes the account's code of that hash, reporting
// whether there was one: a code works once.
func (s *Store) UseRecoveryCode(ctx context.Context, accountID int64, codeHash string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = ? AND code_hash = ?`, accountID, codeHash)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecoveryCodesLeft counts the account's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, accountID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE account_id = ?`, accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("recovery codes: %w", err)
	}
	return n, nil
}

// RemovedFactors is what DeleteSecondFactors removed.
type RemovedFactors struct {
	TOTP          bool // a confirmed TOTP secret (an unconfirmed one goes too, uncounted)
	RecoveryCodes int
	Passkeys      int // DeleteSecondFactors only; DeleteTOTPFactors leaves them
}

// DeleteSecondFactors removes every second factor of the account (its TOTP
// secret, recovery codes and passkeys, with their ceremonies in progress)
// and its pending sign-ins, in one transaction: an admin's reset.
func (s *Store) DeleteSecondFactors(ctx context.Context, accountID int64) (RemovedFactors, error) {
	return s.deleteFactors(ctx, accountID, true)
}

// DeleteTOTPFactors removes the account's TOTP secret and recovery codes
// and its pending sign-ins, in one transaction, leaving its passkeys: the
// owner's turning TOTP off, which speaks for TOTP alone (passkeys are
// removed one by one on their own page).
func (s *Store) DeleteTOTPFactors(ctx context.Context, accountID int64) (RemovedFactors, error) {
	return s.deleteFactors(ctx, accountID, false)
}

func (s *Store) deleteFactors(ctx context.Context, accountID int64, passkeys bool) (RemovedFactors, error) {
	var out RemovedFactors
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("delete second factors: %w", err)
	}
	defer tx.Rollback()
	count := func(q string) (int, error) {
		res, err := tx.ExecContext(ctx, q, accountID)
		if err != nil {
			return 0, fmt.Errorf("delete second factors: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("delete second factors: %w", err)
		}
		return int(n), nil
	}
	n, err := count(`DELETE FROM totp_factors WHERE account_id = ? AND confirmed_at <> 0`)
	if err != nil {
		return out, err
	}
	out.TOTP = n == 1
	for _, q := range []string{`DELETE FROM totp_factors WHERE account_id = ?`, `DELETE FROM pending_sign_ins WHERE account_id = ?`} {
		if _, err := count(q); err != nil {
			return out, err
		}
	}
	if out.RecoveryCodes, err = count(`DELETE FROM recovery_codes WHERE account_id = ?`); err != nil {
		return out, err
	}
	if passkeys {
		if out.Passkeys, err = count(`DELETE FROM passkeys WHERE account_id = ?`); err != nil {
			return out, err
		}
		if _, err := count(`DELETE FROM passkey_ceremonies WHERE account_id = ?`); err != nil {
			return out, err
		}
	}
	if err := tx.Commit(); err != nil {
		return out, fmt.Errorf("delete second factors: %w", err)
	}
	return out, nil
}

// StaffMember is an admin or moderator account.
type StaffMember struct {
	AccountID int64
	Username  string
	Role      string
}

// Staff lists the admins and moderators that are not disabled, by
// username (the start-up check of security.require_staff_second_factor).
func (s *Store) Staff(ctx context.Context) ([]StaffMember, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT a.id, a.username, u.role FROM users u JOIN accounts a ON a.id = u.account_id
		WHERE u.role IN ('admin', 'moderator') AND u.disabled = 0 ORDER BY a.username`)
	if err != nil {
		return nil, fmt.Errorf("staff: %w", err)
	}
	defer rows.Close()
	var out []StaffMember
	for rows.Next() {
		var m StaffMember
		if err := rows.Scan(&m.AccountID, &m.Username, &m.Role); err != nil {
			return nil, fmt.Errorf("staff: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PendingSignIn is a sign-in whose password was right, waiting for a second
// factor from the browser that typed it.
type PendingSignIn struct {
	VisitorHash string // SHA-256 of the browser's anonymous session cookie value
	AccountID   int64
	ReturnTo    string // where to go once signed in (a local path)
	Device      string // the device token the password step issued
	Attempts    int    // wrong second factors so far
	NewBrowser  bool   // the password step saw no device token of the account
	ExpiresAt   time.Time
}

// PutPendingSignIn stores p, replacing the visitor's earlier one, and drops
// every pending sign-in that has expired (they are few and short-lived).
func (s *Store) PutPendingSignIn(ctx context.Context, p *PendingSignIn, now time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pending sign-in: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM pending_sign_ins WHERE visitor_hash = ? OR expires_at <= ?`, p.VisitorHash, ms(now)); err != nil {
		return fmt.Errorf("pending sign-in: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pending_sign_ins (visitor_hash, account_id, return_to, device, attempts, new_browser, expires_at)
		VALUES (?, ?, ?, ?, 0, ?, ?)`, p.VisitorHash, p.AccountID, p.ReturnTo, p.Device, boolInt(p.NewBrowser), ms(p.ExpiresAt)); err != nil {
		return fmt.Errorf("pending sign-in: %w", err)
	}
	return tx.Commit()
}

// PendingSignInByHash is the visitor's pending sign-in if it has not
// expired (ErrNotFound otherwise).
func (s *Store) PendingSignInByHash(ctx context.Context, visitorHash string, now time.Time) (*PendingSignIn, error) {
	var p PendingSignIn
	var exp, newBrowser int64
	err := s.read.QueryRowContext(ctx, `SELECT visitor_hash, account_id, return_to, device, attempts, new_browser, expires_at FROM pending_sign_ins
		WHERE visitor_hash = ? AND expires_at > ?`, visitorHash, ms(now)).Scan(&p.VisitorHash, &p.AccountID, &p.ReturnTo, &p.Device, &p.Attempts, &newBrowser, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pending sign-in: %w", err)
	}
	p.ExpiresAt, p.NewBrowser = fromMs(exp), newBrowser == 1
	return &p, nil
}

// FailPendingSignIn counts a wrong second factor against the visitor's
// pending sign-in and returns the count; at max it is deleted (the
// password must be typed again).
func (s *Store) FailPendingSignIn(ctx context.Context, visitorHash string, max int) (int, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("pending sign-in: %w", err)
	}
	defer tx.Rollback()
	var n int
	err = tx.QueryRowContext(ctx, `UPDATE pending_sign_ins SET attempts = attempts + 1 WHERE visitor_hash = ? RETURNING attempts`, visitorHash).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return max, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pending sign-in: %w", err)
	}
	if n >= max {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_sign_ins WHERE visitor_hash = ?`, visitorHash); err != nil {
			return 0, fmt.Errorf("pending sign-in: %w", err)
		}
	}
	return n, tx.Commit()
}

// TakePendingSignIn deletes the visitor's pending sign-in if it is
// accountID's, reporting whether it was there: the one step that completes
// it, so it completes once, and only for the account whose second factor
// was checked (not one that replaced it meanwhile).
func (s *Store) TakePendingSignIn(ctx context.Context, visitorHash string, accountID int64) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM pending_sign_ins WHERE visitor_hash = ? AND account_id = ?`, visitorHash, accountID)
	if err != nil {
		return false, fmt.Errorf("pending sign-in: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
