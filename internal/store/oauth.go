package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// App is a registered OAuth client.
type App struct {
	ID               int64
	Name             string
	Website          string
	RedirectURIs     []string
	Scopes           string // space-separated
	ClientID         string
	ClientSecretHash string
	CreatedAt        time.Time
}

// Code is an authorization code awaiting exchange.
type Code struct {
	CodeHash      string
	AppID         int64
	AccountID     int64
	RedirectURI   string
	Scopes        string
	CodeChallenge string // S256 challenge, "" without PKCE
	ExpiresAt     time.Time
}

// Token is an access token's record.
type Token struct {
	ID        int64
	TokenHash string
	AppID     int64
	AccountID int64 // 0 for client_credentials tokens
	Scopes    string
	CreatedAt time.Time
	// LastUsedAt is when the token was last used, to within LastUseEvery
	// (zero: not since it was made, or before this was recorded).
	LastUsedAt time.Time
	// ExpiresAt is when the token stops granting access; zero: never
	// (security.access_token_lifetime = 0).
	ExpiresAt time.Time
}

// Expired reports whether t no longer grants access at now.
func (t *Token) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// CreateApp stores a client.
func (s *Store) CreateApp(ctx context.Context, a *App) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO oauth_apps (id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Name, a.Website, strings.Join(a.RedirectURIs, "\n"), a.Scopes, a.ClientID,
		a.ClientSecretHash, ms(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("create app: %w", err)
	}
	return nil
}

// appScan is where a row's appCols go, so a query can read them beside
// other columns; app finishes the App.
type appScan struct {
	a       App
	uris    string
	created int64
}

func (x *appScan) dest() []any {
	return []any{&x.a.ID, &x.a.Name, &x.a.Website, &x.uris, &x.a.Scopes, &x.a.ClientID, &x.a.ClientSecretHash, &x.created}
}

func (x *appScan) app() *App {
	x.a.RedirectURIs = strings.Split(x.uris, "\n")
	x.a.CreatedAt = fromMs(x.created)
	return &x.a
}

func scanApp(row scanner, before ...any) (*App, error) {
	var x appScan
	err := row.Scan(append(before, x.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load app: %w", err)
	}
	return x.app(), nil
}

const appCols = `id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at`

// AppsByIDs loads clients by row id, keyed by id.
func (s *Store) AppsByIDs(ctx context.Context, ids []int64) (map[int64]*App, error) {
	out := map[int64]*App{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.read.QueryContext(ctx, `SELECT `+appCols+` FROM oauth_apps WHERE id IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("load apps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		app, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("load apps: %w", err)
		}
		out[app.ID] = app
	}
	return out, rows.Err()
}

// UserToken loads a user's token with its client, and the user with its
// account and counters, in one query: all that authenticating a request
// needs, and all that verify_credentials shows. ErrNotFound when no user
// token has that hash (an app-only token among them: TokenWithApp).
func (s *Store) UserToken(ctx context.Context, hash string) (*Token, *App, *LocalUser, error) {
	var t Token
	var created, used int64
	var expires sql.NullInt64
	var app appScan
	var lu localUserScan
	dest := append(append([]any{&t.ID, &t.TokenHash, &t.AppID, &t.AccountID, &t.Scopes, &created, &used, &expires}, app.dest()...), lu.dest()...)
	err := s.read.QueryRowContext(ctx, `SELECT t.id, t.token_hash, t.app_id, t.account_id, t.scopes, t.created_at, t.last_used_at, t.expires_at,
		ap.id, ap.name, ap.website, ap.redirect_uris, ap.scopes, ap.client_id, ap.client_secret_hash, ap.created_at,
		`+accountCols+`, `+tokenUserCols+`, `+statsCols+`
		FROM oauth_tokens t JOIN oauth_apps ap ON ap.id = t.app_id JOIN accounts a ON a.id = t.account_id
		JOIN users u ON u.account_id = a.id LEFT JOIN account_stats st ON st.account_id = a.id
		WHERE t.token_hash = ?`, hash).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load token: %w", err)
	}
	user, err := lu.localUser()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load token: %w", err)
	}
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt = fromMs(created), markMs(used), markMs(expires.Int64)
	return &t, app.app(), user, nil
}

// TokenWithApp loads a token and its client in one query.
func (s *Store) TokenWithApp(ctx context.Context, hash string) (*Token, *App, error) {
	var t Token
	var account, expires sql.NullInt64
	var created, used int64
	app, err := scanApp(s.read.QueryRowContext(ctx, `SELECT t.id, t.token_hash, t.app_id, t.account_id, t.scopes, t.created_at,
		t.last_used_at, t.expires_at, ap.id, ap.name, ap.website, ap.redirect_uris, ap.scopes, ap.client_id, ap.client_secret_hash, ap.created_at
		FROM oauth_tokens t JOIN oauth_apps ap ON ap.id = t.app_id WHERE t.token_hash = ?`, hash),
		&t.ID, &t.TokenHash, &t.AppID, &account, &t.Scopes, &created, &used, &expires)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load token: %w", err)
	}
	t.AccountID = account.Int64
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt = fromMs(created), markMs(used), markMs(expires.Int64)
	return &t, app, nil
}

// AppByClientID loads a client by its public id.
func (s *Store) AppByClientID(ctx context.Context, clientID string) (*App, error) {
	return scanApp(s.read.QueryRowContext(ctx, `SELECT `+appCols+` FROM oauth_apps WHERE client_id = ?`, clientID))
}

// AppByID loads a client by row id.
func (s *Store) AppByID(ctx context.Context, id int64) (*App, error) {
	return scanApp(s.read.QueryRowContext(ctx, `SELECT `+appCols+` FROM oauth_apps WHERE id = ?`, id))
}

// CreateCode stores an authorization code.
func (s *Store) CreateCode(ctx context.Context, c *Code) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO oauth_codes (code_hash, app_id, account_id, redirect_uri, scopes, code_challenge, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, c.CodeHash, c.AppID, c.AccountID, c.RedirectURI, c.Scopes, c.CodeChallenge, ms(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create code: %w", err)
	}
	return nil
}

// TakeCode deletes and returns a code in one step, so it can be used once
// only even under concurrent exchanges.
func (s *Store) TakeCode(ctx context.Context, codeHash string) (*Code, error) {
	var c Code
	var exp int64
	err := s.write.QueryRowContext(ctx, `DELETE FROM oauth_codes WHERE code_hash = ?
		RETURNING code_hash, app_id, account_id, redirect_uri, scopes, code_challenge, expires_at`, codeHash).
		Scan(&c.CodeHash, &c.AppID, &c.AccountID, &c.RedirectURI, &c.Scopes, &c.CodeChallenge, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("take code: %w", err)
	}
	c.ExpiresAt = fromMs(exp)
	return &c, nil
}

// DeleteExpiredCodes removes codes past their expiry.
func (s *Store) DeleteExpiredCodes(ctx context.Context, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM oauth_codes WHERE expires_at < ?`, ms(now))
	return err
}

// CreateToken stores an access token.
func (s *Store) CreateToken(ctx context.Context, t *Token) error {
	var account, expires any
	if t.AccountID != 0 {
		account = t.AccountID
	}
	if !t.ExpiresAt.IsZero() {
		expires = ms(t.ExpiresAt)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO oauth_tokens (id, token_hash, app_id, account_id, scopes, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, t.TokenHash, t.AppID, account, t.Scopes, ms(t.CreatedAt), expires)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// DeleteToken revokes a token if it belongs to appID; it reports whether one was removed.
func (s *Store) DeleteToken(ctx context.Context, hash string, appID int64) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM oauth_tokens WHERE token_hash = ? AND app_id = ?`, hash, appID)
	if err != nil {
		return false, fmt.Errorf("revoke token: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteAccountTokens revokes every token of an account.
func (s *Store) DeleteAccountTokens(ctx context.Context, accountID int64) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM oauth_tokens WHERE account_id = ?`, accountID)
	if err != nil {
		return fmt.Errorf("revoke tokens: %w", err)
	}
	return nil
}

// Session is a signed-in browser.
type Session struct {
	IDHash    string
	AccountID int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UserAgent string
	IP        string
	// LastSeenAt is when the browser last used the session, to within
	// LastUseEvery.
	LastSeenAt time.Time
}

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, se *Session) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO sessions (id_hash, account_id, created_at, expires_at, user_agent, ip, last_seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, se.IDHash, se.AccountID, ms(se.CreatedAt), ms(se.ExpiresAt), se.UserAgent, se.IP, ms(se.CreatedAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return s.TouchUserActive(ctx, se.AccountID, se.CreatedAt) // signing in is using the instance
}

// SessionByHash loads a live session (expired ones are not found).
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (*Session, error) {
	var se Session
	var created, exp, seen int64
	err := s.read.QueryRowContext(ctx, `SELECT id_hash, account_id, created_at, expires_at, user_agent, ip, last_seen_at FROM sessions
		WHERE id_hash = ? AND expires_at > ?`, hash, ms(now)).Scan(&se.IDHash, &se.AccountID, &created, &exp, &se.UserAgent, &se.IP, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	se.CreatedAt, se.ExpiresAt, se.LastSeenAt = fromMs(created), fromMs(exp), markMs(seen)
	return &se, nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hash)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteAccountSessions ends every session of an account.
func (s *Store) DeleteAccountSessions(ctx context.Context, accountID int64) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ?`, accountID)
	if err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ms(now))
	return err
}

// LiveTokens lists those of ids that still grant access: not revoked nor
// expired at now, and
// for a user's token, its user neither disabled nor pending. Streams ask
// this once a second for all their tokens together.
func (s *Store) LiveTokens(ctx context.Context, ids []int64, now time.Time) (map[int64]bool, error) {
	live := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return live, nil
	}
	all, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	got, err := s.queryIDs(ctx, `SELECT t.id FROM json_each(?) v JOIN oauth_tokens t ON t.id = v.value
		LEFT JOIN users u ON u.account_id = t.account_id
		WHERE (t.expires_at IS NULL OR t.expires_at > ?) AND (t.account_id IS NULL OR (u.disabled = 0 AND u.approved = 1))`,
		string(all), ms(now))
	if err != nil {
		return nil, fmt.Errorf("live tokens: %w", err)
	}
	for _, id := range got {
		live[id] = true
	}
	return live, nil
}
