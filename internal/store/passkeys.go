package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Passkey is a WebAuthn credential an account registered (a passkey or a
// security key). The store keeps what verifying an assertion needs and what
// the settings page shows; the rules are internal/passkeys'.
type Passkey struct {
	ID             int64
	AccountID      int64
	CredentialID   []byte
	PublicKey      []byte // COSE, as registered
	SignCount      uint32
	AAGUID         []byte
	Transports     []string
	BackupEligible bool
	BackupState    bool
	Name           string
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero: never used
}

const passkeyCols = `id, account_id, credential_id, public_key, sign_count, aaguid, transports, backup_eligible, backup_state, name, created_at, last_used_at`

func scanPasskey(row interface{ Scan(...any) error }) (*Passkey, error) {
	var p Passkey
	var count, created, used int64
	var be, bs int
	var transports string
	if err := row.Scan(&p.ID, &p.AccountID, &p.CredentialID, &p.PublicKey, &count, &p.AAGUID, &transports, &be, &bs, &p.Name,
		&created, &used); err != nil {
		return nil, err
	}
	p.SignCount = uint32(count)
	p.Transports = strings.Fields(transports)
	p.BackupEligible, p.BackupState = be != 0, bs != 0
	p.CreatedAt = fromMs(created)
	if used != 0 {
		p.LastUsedAt = fromMs(used)
	}
	return &p, nil
}

// ErrPasskeyLimit refuses a passkey over the account's allowance.
var ErrPasskeyLimit = errors.New("too many passkeys")

// ErrPasskeyExists refuses a credential id already registered (to any account).
var ErrPasskeyExists = errors.New("this passkey is already registered")

// CreatePasskey stores p when its account holds fewer than limit passkeys,
// counted in the same transaction; else ErrPasskeyLimit.
func (s *Store) CreatePasskey(ctx context.Context, p *Passkey, limit int) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	defer tx.Rollback()
	var n, taken int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM passkeys WHERE account_id = ?`, p.AccountID).Scan(&n); err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	if n >= limit {
		return ErrPasskeyLimit
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM passkeys WHERE credential_id = ?`, p.CredentialID).Scan(&taken); err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	if taken > 0 {
		return ErrPasskeyExists
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO passkeys (`+passkeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.AccountID, p.CredentialID, p.PublicKey, int64(p.SignCount), nonNil(p.AAGUID), strings.Join(p.Transports, " "),
		boolInt(p.BackupEligible), boolInt(p.BackupState), p.Name, ms(p.CreatedAt), msOrZero(p.LastUsedAt)); err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	return tx.Commit()
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// PasskeysOf lists an account's passkeys, oldest first.
func (s *Store) PasskeysOf(ctx context.Context, accountID int64) ([]*Passkey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE account_id = ? ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	defer rows.Close()
	var out []*Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("passkeys: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return out, nil
}

// CountPasskeys counts an account's passkeys (whether it has a second
// factor, for internal/secondfactor).
func (s *Store) CountPasskeys(ctx context.Context, accountID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM passkeys WHERE account_id = ?`, accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("passkeys: %w", err)
	}
	return n, nil
}

// PasskeyByCredentialID finds a passkey by the id its authenticator gave it
// (ErrNotFound: none).
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error) {
	p, err := scanPasskey(s.read.QueryRowContext(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE credential_id = ?`, credentialID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return p, nil
}

// UsePasskey records an assertion: the new signature counter, backup state
// and time of use. It reports false, changing nothing, when the counter
// does not grow past the stored one (both zero is an authenticator without
// a counter, and passes): a clone, or a replay racing this one. The check
// and the write are one statement, so two assertions with one counter
// cannot both pass.
func (s *Store) UsePasskey(ctx context.Context, id int64, signCount uint32, backupState bool, at time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE passkeys SET sign_count = ?, backup_state = ?, last_used_at = ?
		WHERE id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		int64(signCount), boolInt(backupState), ms(at), id, int64(signCount), int64(signCount))
	if err != nil {
		return false, fmt.Errorf("use passkey: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use passkey: %w", err)
	}
	return n > 0, nil
}

// DeletePasskey removes one of an account's passkeys; it reports whether
// there was one.
func (s *Store) DeletePasskey(ctx context.Context, accountID, id int64) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM passkeys WHERE id = ? AND account_id = ?`, id, accountID)
	if err != nil {
		return false, fmt.Errorf("delete passkey: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("delete passkey: %w", err)
	}
	return n > 0, nil
}

// DeleteAccountPasskeys removes every passkey of an account (an
// administrator's reset of its second factors); it returns how many.
func (s *Store) DeleteAccountPasskeys(ctx context.Context, accountID int64) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM passkeys WHERE account_id = ?`, accountID)
	if err != nil {
		return 0, fmt.Errorf("delete passkeys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete passkeys: %w", err)
	}
	return int(n), nil
}

// PasskeyHandle returns the account's WebAuthn user handle, storing fresh
// as the handle when the account has none yet (the first of concurrent
// callers wins; every caller gets the stored one).
func (s *Store) PasskeyHandle(ctx context.Context, accountID int64, fresh []byte) ([]byte, error) {
	if _, err := s.write.ExecContext(ctx, `INSERT INTO passkey_handles (account_id, handle) VALUES (?, ?)
		ON CONFLICT (account_id) DO NOTHING`, accountID, fresh); err != nil {
		return nil, fmt.Errorf("passkey handle: %w", err)
	}
	var h []byte
	if err := s.write.QueryRowContext(ctx, `SELECT handle FROM passkey_handles WHERE account_id = ?`, accountID).Scan(&h); err != nil {
		return nil, fmt.Errorf("passkey handle: %w", err)
	}
	return h, nil
}

// PasskeyHandleOf returns the account's user handle (ErrNotFound: it has
// never registered a passkey).
func (s *Store) PasskeyHandleOf(ctx context.Context, accountID int64) ([]byte, error) {
	var h []byte
	err := s.read.QueryRowContext(ctx, `SELECT handle FROM passkey_handles WHERE account_id = ?`, accountID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("passkey handle: %w", err)
	}
	return h, nil
}

// PasskeyCeremony is a WebAuthn ceremony between its begin and its finish.
type PasskeyCeremony struct {
	Binding   string // SHA-256 (hex) of the visitor's session cookie value
	Kind      string
	AccountID int64  // 0: a passwordless sign-in
	Name      string // a registration's passkey name
	Data      []byte // the library's session data (JSON)
	ExpiresAt time.Time
}

// PutPasskeyCeremony keeps c, replacing the visitor's ceremony of the same
// kind, and deletes every ceremony expired by now (so the table holds only
// the last few minutes' ceremonies, whatever the janitor does).
func (s *Store) PutPasskeyCeremony(ctx context.Context, c *PasskeyCeremony, now time.Time) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM passkey_ceremonies WHERE expires_at <= ?`, ms(now)); err != nil {
		return fmt.Errorf("passkey ceremony: %w", err)
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO passkey_ceremonies (binding, kind, account_id, name, data, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (binding, kind) DO UPDATE SET account_id = excluded.account_id, name = excluded.name, data = excluded.data,
			expires_at = excluded.expires_at`,
		c.Binding, c.Kind, c.AccountID, c.Name, c.Data, ms(c.ExpiresAt)); err != nil {
		return fmt.Errorf("passkey ceremony: %w", err)
	}
	return nil
}

// TakePasskeyCeremony removes and returns the visitor's ceremony of kind,
// if it has one that has not expired by now (ErrNotFound otherwise). The
// delete is the read, so a ceremony is taken once however many finishes
// race for it.
func (s *Store) TakePasskeyCeremony(ctx context.Context, binding, kind string, now time.Time) (*PasskeyCeremony, error) {
	c := PasskeyCeremony{Binding: binding, Kind: kind}
	var exp int64
	err := s.write.QueryRowContext(ctx, `DELETE FROM passkey_ceremonies WHERE binding = ? AND kind = ?
		RETURNING account_id, name, data, expires_at`, binding, kind).Scan(&c.AccountID, &c.Name, &c.Data, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("passkey ceremony: %w", err)
	}
	c.ExpiresAt = fromMs(exp)
	if !c.ExpiresAt.After(now) {
		return nil, ErrNotFound
	}
	return &c, nil
}
