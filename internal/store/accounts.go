package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique value (username, email) is taken.
var ErrConflict = errors.New("already taken")

// Field is a profile metadata pair.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Account is a local or remote actor.
type Account struct {
	ID           int64
	Username     string
	Domain       string // "" for local
	URI          string
	URL          string
	DisplayName  string
	Note         string // plain text as written
	Fields       []Field
	Locked       bool
	Bot          bool
	Discoverable bool
	// Indexable: its public posts may be found by full-text search on other
	// servers (published on the actor; kept for local accounts only).
	Indexable bool
	// The key pair is written with the account and read only by
	// AccountKeys: rendering an account never copies 2 KiB of PEM.
	PublicKeyPEM  string
	PrivateKeyPEM string
	// Ed25519PrivateKeyPEM is the actor's Ed25519 key (FEP-521a), PKCS #8.
	Ed25519PrivateKeyPEM string
	AvatarKey            string // media storage key; "" for the default image
	HeaderKey            string
	// A remote actor's images, as URLs on its server ("" for none).
	AvatarRemoteURL string
	HeaderRemoteURL string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// The staff's marks (zero: none): a suspended account is hidden from
	// everyone (visibility.go); a sensitized one's media show as sensitive.
	SuspendedAt  time.Time
	SensitizedAt time.Time
}

// User is a local account's credentials, role and preferences.
type User struct {
	AccountID    int64
	Email        string
	PasswordHash string
	Role         string // user, moderator, admin
	Approved     bool
	Disabled     bool
	// Suspended: the account is suspended by the staff (read from it).
	Suspended        bool
	Locale           string
	DefaultPrivacy   string
	DefaultSensitive bool
	DefaultLanguage  string
	SignupReason     string
	CreatedAt        time.Time
	// LastActiveAt is when the user last used the instance, to the day
	// (TouchUserActive).
	LastActiveAt time.Time
}

func ms(t time.Time) int64     { return t.UnixMilli() }
func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

// markMs is a mark's time: 0 (not marked) is the zero time.
func markMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMs(v)
}
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const accountCols = `a.id, a.username, a.domain, a.uri, a.url, a.display_name, a.note, a.fields, a.locked, a.bot,
	a.discoverable, a.avatar_key, a.header_key, a.avatar_remote_url, a.header_remote_url, a.created_at, a.updated_at,
	a.suspended_at, a.sensitized_at, a.indexable`

type scanner interface{ Scan(...any) error }

// scanAccount scans accountCols, then any further columns into after.
func scanAccount(row scanner, after ...any) (*Account, error) {
	var a Account
	var fields string
	var created, updated, suspended, sensitized int64
	err := row.Scan(append([]any{&a.ID, &a.Username, &a.Domain, &a.URI, &a.URL, &a.DisplayName, &a.Note, &fields,
		&a.Locked, &a.Bot, &a.Discoverable, &a.AvatarKey, &a.HeaderKey, &a.AvatarRemoteURL, &a.HeaderRemoteURL, &created, &updated,
		&suspended, &sensitized, &a.Indexable}, after...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if a.Fields, err = decodeFields(fields); err != nil {
		return nil, fmt.Errorf("account %d fields: %w", a.ID, err)
	}
	a.CreatedAt, a.UpdatedAt = fromMs(created), fromMs(updated)
	a.SuspendedAt, a.SensitizedAt = markMs(suspended), markMs(sensitized)
	return &a, nil
}

// decodeFields reads an account's profile fields. Most accounts have none,
// and every rendered account passes here, so "[]" skips the decoder.
func decodeFields(s string) ([]Field, error) {
	if s == "[]" {
		return []Field{}, nil
	}
	var out []Field
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

// isForeignKeyViolation reports a FOREIGN KEY constraint failure: SQLite's
// message, or PostgreSQL's foreign_key_violation (SQLSTATE 23503).
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// isUniqueViolation reports a UNIQUE constraint failure: SQLite's message,
// or PostgreSQL's unique_violation (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// CreateLocalAccount inserts an account and its user row in one transaction.
// A taken username or email gives ErrConflict naming which.
func (s *Store) CreateLocalAccount(ctx context.Context, a *Account, u *User) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	defer tx.Rollback()
	fields, _ := json.Marshal(nonNilFields(a.Fields))
	_, err = tx.ExecContext(ctx, `INSERT INTO accounts (id, username, domain, uri, url, display_name, note, fields, locked, bot,
		discoverable, indexable, public_key_pem, private_key_pem, ed25519_private_key_pem, created_at, updated_at)
		VALUES (?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Username, a.URI, a.URL, a.DisplayName, a.Note, string(fields), boolInt(a.Locked), boolInt(a.Bot),
		boolInt(a.Discoverable), boolInt(a.Indexable), a.PublicKeyPEM, a.PrivateKeyPEM, a.Ed25519PrivateKeyPEM, ms(a.CreatedAt), ms(a.UpdatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("username %q: %w", a.Username, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO users (account_id, email, password_hash, role, approved, disabled, locale,
		default_privacy, default_sensitive, default_language, signup_reason, created_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, u.Email, u.PasswordHash, u.Role, boolInt(u.Approved), boolInt(u.Disabled), u.Locale, u.DefaultPrivacy,
		boolInt(u.DefaultSensitive), u.DefaultLanguage, u.SignupReason, ms(u.CreatedAt), ms(u.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("email %q: %w", u.Email, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	u.AccountID = a.ID
	return tx.Commit()
}

func nonNilFields(f []Field) []Field {
	if f == nil {
		return []Field{}
	}
	return f
}

// AccountByID loads one account.
func (s *Store) AccountByID(ctx context.Context, id int64) (*Account, error) {
	return scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.id = ?`, id))
}

// AccountKeys reads an account's key pair (PEM).
func (s *Store) AccountKeys(ctx context.Context, id int64) (public, private string, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT public_key_pem, private_key_pem FROM accounts WHERE id = ?`, id).Scan(&public, &private)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("account %d keys: %w", id, err)
	}
	return public, private, nil
}

// RemoteAccount is a remote actor as fetched: the account, its key and
// inboxes, and when it was fetched.
type RemoteAccount struct {
	Account        Account
	InboxURL       string
	SharedInboxURL string
	FetchedAt      time.Time
}

// UpsertRemoteAccount stores a fetched remote actor, keyed by its id (uri):
// a new one gets newID, a known one is brought up to date and keeps its id.
// It returns the account's id. A remote actor never takes a local row: the
// domain must not be empty, nor blocked (ErrDomainBlocked).
func (s *Store) UpsertRemoteAccount(ctx context.Context, r *RemoteAccount, newID int64) (int64, error) {
	a := &r.Account
	if a.Domain == "" {
		return 0, fmt.Errorf("remote account %q: no domain", a.URI)
	}
	fields, _ := json.Marshal(nonNilFields(a.Fields))
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("remote account %s: %w", a.URI, err)
	}
	defer tx.Rollback()
	// Checked in the write transaction: a lookup that began before its
	// domain was blocked cannot bring an account back after the block.
	if blocked, err := domainBlocked(ctx, tx, a.Domain, s.allowList.Load()); err != nil {
		return 0, err
	} else if blocked {
		return 0, fmt.Errorf("remote account %s: %w", a.URI, ErrDomainBlocked)
	}
	silenced, rejectMedia, err := domainLimits(ctx, tx, a.Domain)
	if err != nil {
		return 0, err
	}
	avatar, header := a.AvatarRemoteURL, a.HeaderRemoteURL
	if rejectMedia {
		avatar, header = "", ""
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO accounts (id, username, domain, uri, url, display_name, note, fields, locked, bot,
		discoverable, public_key_pem, avatar_remote_url, header_remote_url, inbox_url, shared_inbox_url, fetched_at, created_at, updated_at,
		silenced)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (uri) DO UPDATE SET username = excluded.username, url = excluded.url, display_name = excluded.display_name,
			note = excluded.note, fields = excluded.fields, locked = excluded.locked, bot = excluded.bot,
			discoverable = excluded.discoverable, public_key_pem = excluded.public_key_pem,
			avatar_remote_url = excluded.avatar_remote_url, header_remote_url = excluded.header_remote_url,
			inbox_url = excluded.inbox_url, shared_inbox_url = excluded.shared_inbox_url, fetched_at = excluded.fetched_at,
			updated_at = excluded.updated_at, silenced = excluded.silenced
		WHERE accounts.domain = excluded.domain
		RETURNING id`,
		newID, a.Username, a.Domain, a.URI, a.URL, a.DisplayName, a.Note, string(fields), boolInt(a.Locked), boolInt(a.Bot),
		boolInt(a.Discoverable), a.PublicKeyPEM, avatar, header, r.InboxURL, r.SharedInboxURL,
		ms(r.FetchedAt), ms(a.CreatedAt), ms(r.FetchedAt), boolInt(silenced)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) || isUniqueViolation(err) {
		return 0, fmt.Errorf("remote account %s@%s (%s): %w", a.Username, a.Domain, a.URI, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("remote account %s: %w", a.URI, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("remote account %s: %w", a.URI, err)
	}
	return id, nil
}

// StaleRemoteAccounts lists remote accounts last fetched before before,
// the longest unrefreshed first, at most limit.
func (s *Store) StaleRemoteAccounts(ctx context.Context, before time.Time, limit int) ([]*Account, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.domain <> '' AND a.fetched_at < ?
		ORDER BY a.fetched_at`+limitSQL, ms(before), limit)
	if err != nil {
		return nil, fmt.Errorf("stale remote accounts: %w", err)
	}
	defer rows.Close()
	var out []*Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetRemoteAccountFetchedAt sets when a remote account counts as fetched:
// a refresh that failed moves it back in the queue this way.
func (s *Store) SetRemoteAccountFetchedAt(ctx context.Context, id int64, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `UPDATE accounts SET fetched_at = ? WHERE id = ? AND domain <> ''`, ms(at), id)
	if err != nil {
		return fmt.Errorf("remote account %d: %w", id, err)
	}
	return nil
}

// AccountByURI loads an account by its actor id.
func (s *Store) AccountByURI(ctx context.Context, uri string) (*Account, error) {
	return scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.uri = ?`, uri))
}

// AccountFetchedAt is when a remote account was last fetched (zero for a
// local one).
func (s *Store) AccountFetchedAt(ctx context.Context, id int64) (time.Time, error) {
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT fetched_at FROM accounts WHERE id = ?`, id).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, ErrNotFound
	}
	if err != nil || at == 0 {
		return time.Time{}, err
	}
	return fromMs(at), nil
}

// AccountEd25519Key is a local account's Ed25519 private key, PKCS #8
// PEM ("" when it has none yet).
func (s *Store) AccountEd25519Key(ctx context.Context, id int64) (string, error) {
	var pemText string
	err := s.read.QueryRowContext(ctx, `SELECT ed25519_private_key_pem FROM accounts WHERE id = ?`, id).Scan(&pemText)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("account %d ed25519 key: %w", id, err)
	}
	return pemText, nil
}

// LocalAccountsWithoutEd25519Key lists local accounts made before their
// actors had an Ed25519 key, at most limit of them.
func (s *Store) LocalAccountsWithoutEd25519Key(ctx context.Context, limit int) ([]int64, error) {
	return s.queryIDs(ctx, `SELECT id FROM accounts WHERE domain = '' AND ed25519_private_key_pem = '' ORDER BY id`+limitSQL, limit)
}

// SetEd25519Key gives a local account its Ed25519 key, unless it has one.
func (s *Store) SetEd25519Key(ctx context.Context, id int64, pemText string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE accounts SET ed25519_private_key_pem = ? WHERE id = ? AND ed25519_private_key_pem = ''`, pemText, id)
	if err != nil {
		return fmt.Errorf("account %d ed25519 key: %w", id, err)
	}
	return nil
}

// AccountByUsername loads an account by name (case-insensitive) and domain ("" local).
func (s *Store) AccountByUsername(ctx context.Context, username, domain string) (*Account, error) {
	return scanAccount(s.read.QueryRowContext(ctx,
		`SELECT `+accountCols+` FROM accounts a WHERE lower(a.username) = lower(?) AND a.domain = ?`, username, domain))
}

// execer is a connection or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// UpdateProfile writes the editable profile fields of an account.
func (s *Store) UpdateProfile(ctx context.Context, a *Account) error {
	return updateProfile(ctx, s.write, a)
}

// SaveProfile writes a user's profile change, the account's fields and the
// user's preferences, in one transaction: either both are stored or
// neither, so a caller whose change failed knows the profile names none of
// the images it stored for it. federate, when not nil, is enqueued with
// it if the account has followers on other servers (their copy of the
// profile is to be updated).
func (s *Store) SaveProfile(ctx context.Context, a *Account, u *User, federate *NewJob) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	defer tx.Rollback()
	if err := updateProfile(ctx, tx, a); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE users SET default_privacy = ?, default_sensitive = ?, default_language = ? WHERE account_id = ?`,
		u.DefaultPrivacy, boolInt(u.DefaultSensitive), u.DefaultLanguage, u.AccountID)
	if err := expectOne(res, err, "update preferences"); err != nil {
		return err
	}
	if federate != nil {
		if err := enqueueIfRemoteAudience(ctx, tx, *federate, &Status{AccountID: a.ID, Visibility: Public}); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	return nil
}

func updateProfile(ctx context.Context, ex execer, a *Account) error {
	fields, _ := json.Marshal(nonNilFields(a.Fields))
	res, err := ex.ExecContext(ctx, `UPDATE accounts SET display_name = ?, note = ?, fields = ?, locked = ?, bot = ?,
		discoverable = ?, indexable = ?, avatar_key = ?, header_key = ?, updated_at = ? WHERE id = ?`,
		a.DisplayName, a.Note, string(fields), boolInt(a.Locked), boolInt(a.Bot), boolInt(a.Discoverable), boolInt(a.Indexable), a.AvatarKey, a.HeaderKey,
		ms(a.UpdatedAt), a.ID)
	return expectOne(res, err, "update profile")
}

func expectOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// tokenUserCols are userCols without the password hash: a request
// authenticated by a token never needs it, so the API's path never holds it.
const tokenUserCols = `u.account_id, u.email, '', u.role, u.approved, u.disabled, u.locale, u.default_privacy,
	u.default_sensitive, u.default_language, u.signup_reason, u.created_at, u.last_active_at, ` + userSuspendedCol

const userCols = `u.account_id, u.email, u.password_hash, u.role, u.approved, u.disabled, u.locale, u.default_privacy,
	u.default_sensitive, u.default_language, u.signup_reason, u.created_at, u.last_active_at, ` + userSuspendedCol

// userSuspendedCol is whether the user's account is suspended (a mark on
// the account, local or remote), read with the user so that
// accounts.Usable refuses it wherever a user is loaded.
const userSuspendedCol = `(SELECT CASE WHEN us.suspended_at <> 0 THEN 1 ELSE 0 END FROM accounts us WHERE us.id = u.account_id)`

func scanUser(row scanner, extra ...any) (*User, error) {
	var u User
	var created, active int64
	dest := append([]any{&u.AccountID, &u.Email, &u.PasswordHash, &u.Role, &u.Approved, &u.Disabled, &u.Locale,
		&u.DefaultPrivacy, &u.DefaultSensitive, &u.DefaultLanguage, &u.SignupReason, &created, &active, &u.Suspended}, extra...)
	err := row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u.CreatedAt, u.LastActiveAt = fromMs(created), fromMs(active)
	return &u, nil
}

// UserByAccountID loads a local account's credentials.
func (s *Store) UserByAccountID(ctx context.Context, accountID int64) (*User, error) {
	return scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.account_id = ?`, accountID))
}

// UserByLogin finds a local user by username or email (case-insensitive).
func (s *Store) UserByLogin(ctx context.Context, login string) (*User, error) {
	return scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u JOIN accounts a ON a.id = u.account_id
		WHERE a.domain = '' AND (lower(a.username) = lower(?) OR lower(u.email) = lower(?))`, login, login))
}

// localUserScan is where a row's accountCols, userCols and statsCols go,
// so a query can read them beside other columns; localUser finishes it.
type localUserScan struct {
	a                          Account
	u                          User
	st                         AccountStats
	fields                     string
	created, updated, ucreated int64
	suspended, sensitized      int64
	last, active               int64
}

func (x *localUserScan) dest() []any {
	a, u, st := &x.a, &x.u, &x.st
	return []any{&a.ID, &a.Username, &a.Domain, &a.URI, &a.URL, &a.DisplayName, &a.Note, &x.fields, &a.Locked, &a.Bot,
		&a.Discoverable, &a.AvatarKey, &a.HeaderKey, &a.AvatarRemoteURL, &a.HeaderRemoteURL, &x.created, &x.updated,
		&x.suspended, &x.sensitized, &a.Indexable,
		&u.AccountID, &u.Email, &u.PasswordHash, &u.Role, &u.Approved, &u.Disabled, &u.Locale, &u.DefaultPrivacy,
		&u.DefaultSensitive, &u.DefaultLanguage, &u.SignupReason, &x.ucreated, &x.active, &u.Suspended,
		&st.Statuses, &st.Followers, &st.Following, &x.last, &st.FollowRequests}
}

func (x *localUserScan) localUser() (*LocalUser, error) {
	var err error
	if x.a.Fields, err = decodeFields(x.fields); err != nil {
		return nil, fmt.Errorf("account %d fields: %w", x.a.ID, err)
	}
	x.a.CreatedAt, x.a.UpdatedAt, x.u.CreatedAt = fromMs(x.created), fromMs(x.updated), fromMs(x.ucreated)
	x.a.SuspendedAt, x.a.SensitizedAt = markMs(x.suspended), markMs(x.sensitized)
	x.u.LastActiveAt = fromMs(x.active)
	if x.last > 0 {
		x.st.LastStatusAt = fromMs(x.last)
	}
	return &LocalUser{Account: &x.a, User: &x.u, Stats: x.st}, nil
}

// statsCols are an account's counters (alias st, LEFT JOINed: 0 without a row).
const statsCols = `COALESCE(st.statuses_count, 0), COALESCE(st.followers_count, 0), COALESCE(st.following_count, 0),
	COALESCE(st.last_status_at, 0), COALESCE(st.follow_requests_count, 0)`

// LocalUser pairs a local account with its credentials.
type LocalUser struct {
	Account *Account
	User    *User
	Stats   AccountStats
}

// ListLocalUsers returns every local user, oldest first.
func (s *Store) ListLocalUsers(ctx context.Context) ([]LocalUser, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountCols+`, `+userCols+`, `+statsCols+` FROM accounts a JOIN users u ON u.account_id = a.id
		LEFT JOIN account_stats st ON st.account_id = a.id WHERE a.domain = '' ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []LocalUser
	for rows.Next() {
		var x localUserScan
		if err := rows.Scan(x.dest()...); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		lu, err := x.localUser()
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, *lu)
	}
	return out, rows.Err()
}

// SetPasswordHash replaces a user's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, accountID int64, hash string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE account_id = ?`, hash, accountID)
	return expectOne(res, err, "set password")
}

// SetUserFlags sets role, approval and disabled state.
func (s *Store) SetUserFlags(ctx context.Context, accountID int64, role string, approved, disabled bool) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET role = ?, approved = ?, disabled = ? WHERE account_id = ?`,
		role, boolInt(approved), boolInt(disabled), accountID)
	return expectOne(res, err, "update user")
}

// InstanceStats are the instance's own figures, kept on write (the
// instance_stats triggers): reading them is one row, whatever the size.
type InstanceStats struct {
	LocalUsers int64 // approved, enabled local users
	LocalPosts int64 // local original statuses (not reblogs)
	// Of the local users, those active in the last 30 and 180 days, as
	// of the last CountActiveUsers.
	ActiveMonth, ActiveHalfyear int64
}

const instanceStatsSQL = `SELECT local_users, local_posts, active_month, active_halfyear FROM instance_stats WHERE id = 1`

// InstanceStats reads the instance's figures.
func (s *Store) InstanceStats(ctx context.Context) (InstanceStats, error) {
	var st InstanceStats
	err := s.read.QueryRowContext(ctx, instanceStatsSQL).Scan(&st.LocalUsers, &st.LocalPosts, &st.ActiveMonth, &st.ActiveHalfyear)
	if err != nil {
		return st, fmt.Errorf("instance stats: %w", err)
	}
	return st, nil
}

// HiddenAccounts reports which of ids are accounts others must not see
// (disabled or waiting for approval, or suspended).
func (s *Store) HiddenAccounts(ctx context.Context, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	hidden, err := s.queryIDs(ctx, `SELECT account_id FROM users WHERE (disabled = 1 OR approved = 0) AND account_id IN `+in+`
		UNION SELECT id FROM accounts WHERE suspended_at <> 0 AND id IN `+in, append(args, args...)...)
	if err != nil {
		return nil, fmt.Errorf("hidden accounts: %w", err)
	}
	for _, id := range hidden {
		out[id] = true
	}
	return out, nil
}

// activeGranularity is how precisely a user's last activity is kept: a
// day, so that using the instance writes at most once a day per user.
const activeGranularity = 24 * time.Hour

// TouchUserActive records that the user used the instance at at, unless
// that was recorded within the day already (the caller may skip the call
// when the loaded user's LastActiveAt says so).
func (s *Store) TouchUserActive(ctx context.Context, accountID int64, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `UPDATE users SET last_active_at = ? WHERE account_id = ? AND last_active_at < ?`,
		ms(at), accountID, ms(at.Add(-activeGranularity)))
	if err != nil {
		return fmt.Errorf("user %d activity: %w", accountID, err)
	}
	return nil
}

// ActiveStale reports whether a user's last activity, as loaded, is old
// enough that TouchUserActive would write.
func ActiveStale(u *User, now time.Time) bool {
	return now.Sub(u.LastActiveAt) >= activeGranularity
}

// CountActiveUsers counts the approved, enabled local users active in the
// 30 and 180 days before now into instance_stats: an index range each, run
// by the hourly janitor, never by a request.
func (s *Store) CountActiveUsers(ctx context.Context, now time.Time) error {
	const q = `SELECT COUNT(*) FROM users INDEXED BY users_last_active WHERE approved = 1 AND disabled = 0 AND last_active_at >= ?`
	_, err := s.write.ExecContext(ctx, `UPDATE instance_stats SET active_month = (`+q+`), active_halfyear = (`+q+`) WHERE id = 1`,
		ms(now.AddDate(0, 0, -30)), ms(now.AddDate(0, 0, -180)))
	if err != nil {
		return fmt.Errorf("count active users: %w", err)
	}
	return nil
}
