package store

import (
	"context"
	"fmt"
	"time"
)

// LastUseEvery is how coarsely a session's last_seen_at and a token's
// last_used_at are kept: a use writes only when the stored time is this
// old, so a busy client costs one write an hour, not one a request.
const LastUseEvery = time.Hour

// UseStale reports whether a use at now should be recorded over last.
func UseStale(last, now time.Time) bool { return now.Sub(last) >= LastUseEvery }

// TouchToken records that token id was used at now, unless a use within
// LastUseEvery is recorded already; it reports whether it wrote.
func (s *Store) TouchToken(ctx context.Context, id int64, now time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE oauth_tokens SET last_used_at = ? WHERE id = ? AND last_used_at <= ?`,
		ms(now), id, ms(now.Add(-LastUseEvery)))
	if err != nil {
		return false, fmt.Errorf("token %d last use: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// TouchSession records that the session with hash was used at now, unless
// a use within LastUseEvery is recorded already; it reports whether it wrote.
func (s *Store) TouchSession(ctx context.Context, hash string, now time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at <= ?`,
		ms(now), hash, ms(now.Add(-LastUseEvery)))
	if err != nil {
		return false, fmt.Errorf("session last use: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// MaxListedSessions bounds the sessions AccountSessions lists (the most
// recently seen first); more are still revoked by DeleteOtherSessions.
const MaxListedSessions = 200

// AccountSessions lists the live sessions of an account, the most recently
// seen first.
func (s *Store) AccountSessions(ctx context.Context, accountID int64, now time.Time) ([]Session, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id_hash, account_id, created_at, expires_at, user_agent, ip, last_seen_at
		FROM sessions WHERE account_id = ? AND expires_at > ? ORDER BY last_seen_at DESC, created_at DESC LIMIT ?`,
		accountID, ms(now), MaxListedSessions)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var se Session
		var created, exp, seen int64
		if err := rows.Scan(&se.IDHash, &se.AccountID, &created, &exp, &se.UserAgent, &se.IP, &seen); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		se.CreatedAt, se.ExpiresAt, se.LastSeenAt = fromMs(created), fromMs(exp), markMs(seen)
		out = append(out, se)
	}
	return out, rows.Err()
}

// DeleteAccountSession ends the session with hash if it is accountID's; it
// reports whether one was removed.
func (s *Store) DeleteAccountSession(ctx context.Context, accountID int64, hash string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ? AND id_hash = ?`, accountID, hash)
	if err != nil {
		return false, fmt.Errorf("delete session: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteOtherSessions ends every session of accountID but the one with
// keepHash; it returns how many it ended.
func (s *Store) DeleteOtherSessions(ctx context.Context, accountID int64, keepHash string) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ? AND id_hash <> ?`, accountID, keepHash)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// AuthorizedApp is a client holding live tokens for an account: one row per
// client, however many tokens it holds.
type AuthorizedApp struct {
	App        *App
	Scopes     []string  // every scope any of its tokens holds, in first-seen order
	CreatedAt  time.Time // its oldest live token's
	LastUsedAt time.Time // its most recent recorded use; zero: none recorded
	Tokens     int
}

// MaxListedTokens bounds the tokens AuthorizedApps reads for one account
// (the newest); DeleteAccountAppTokens removes all of a client's anyway.
const MaxListedTokens = 1000

// AuthorizedApps lists the clients that hold tokens of accountID that are
// live at now, the most recently authorized first.
func (s *Store) AuthorizedApps(ctx context.Context, accountID int64, now time.Time) ([]AuthorizedApp, error) {
	var x appScan
	var scopes string
	var created, used int64
	rows, err := s.read.QueryContext(ctx, `SELECT t.scopes, t.created_at, t.last_used_at,
		ap.id, ap.name, ap.website, ap.redirect_uris, ap.scopes, ap.client_id, ap.client_secret_hash, ap.created_at
		FROM oauth_tokens t JOIN oauth_apps ap ON ap.id = t.app_id
		WHERE t.account_id = ? AND (t.expires_at IS NULL OR t.expires_at > ?)
		ORDER BY t.created_at DESC, t.id DESC LIMIT ?`, accountID, ms(now), MaxListedTokens)
	if err != nil {
		return nil, fmt.Errorf("list authorized apps: %w", err)
	}
	defer rows.Close()
	var out []AuthorizedApp
	at := map[int64]int{}
	for rows.Next() {
		x = appScan{}
		if err := rows.Scan(append([]any{&scopes, &created, &used}, x.dest()...)...); err != nil {
			return nil, fmt.Errorf("list authorized apps: %w", err)
		}
		app := x.app()
		i, ok := at[app.ID]
		if !ok {
			i = len(out)
			at[app.ID] = i
			out = append(out, AuthorizedApp{App: app})
		}
		a := &out[i]
		a.Tokens++
		a.CreatedAt = fromMs(created) // rows come newest first: the last seen is the oldest
		if u := markMs(used); u.After(a.LastUsedAt) {
			a.LastUsedAt = u
		}
		for _, sc := range splitScopes(scopes) {
			if !containsString(a.Scopes, sc) {
				a.Scopes = append(a.Scopes, sc)
			}
		}
	}
	return out, rows.Err()
}

func splitScopes(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// DeleteAccountAppTokens revokes every token that client appID holds for
// accountID, and in the same transaction drops the authorization codes it
// was given for accountID and has not exchanged (else it would buy a fresh
// token with one right after the revocation); it returns the ids of the
// tokens it removed.
func (s *Store) DeleteAccountAppTokens(ctx context.Context, accountID, appID int64) ([]int64, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("revoke app tokens: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_codes WHERE account_id = ? AND app_id = ?`, accountID, appID); err != nil {
		return nil, fmt.Errorf("revoke app tokens: drop codes: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `DELETE FROM oauth_tokens WHERE account_id = ? AND app_id = ? RETURNING id`, accountID, appID)
	if err != nil {
		return nil, fmt.Errorf("revoke app tokens: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("revoke app tokens: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("revoke app tokens: %w", err)
	}
	rows.Close()
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("revoke app tokens: %w", err)
	}
	return ids, nil
}

// SecurityEvent is one entry of an account's security history.
type SecurityEvent struct {
	ID        int64
	AccountID int64
	Kind      string
	CreatedAt time.Time
	Address   string // already truncated to its network
	UserAgent string // already bounded
	Detail    string
}

// Security events kept per account: the newest SecurityEventsKept, none
// older than SecurityEventsAge (PruneSecurityEvents, hourly).
const (
	SecurityEventsKept = 100
	SecurityEventsAge  = 365 * 24 * time.Hour
)

// AddSecurityEvent stores e and drops the account's events beyond the
// newest SecurityEventsKept, in one transaction, so the bound holds at
// every moment.
func (s *Store) AddSecurityEvent(ctx context.Context, e *SecurityEvent) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add security event: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO security_events (id, account_id, kind, created_at, address, user_agent, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.ID, e.AccountID, e.Kind, ms(e.CreatedAt), e.Address, e.UserAgent, e.Detail); err != nil {
		return fmt.Errorf("add security event: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM security_events WHERE account_id = ? AND id NOT IN
		(SELECT id FROM security_events WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?)`,
		e.AccountID, e.AccountID, SecurityEventsKept); err != nil {
		return fmt.Errorf("trim security events: %w", err)
	}
	return tx.Commit()
}

// SecurityEvents lists accountID's events, the newest first, at most limit.
func (s *Store) SecurityEvents(ctx context.Context, accountID int64, limit int) ([]SecurityEvent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, account_id, kind, created_at, address, user_agent, detail
		FROM security_events WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("list security events: %w", err)
	}
	defer rows.Close()
	var out []SecurityEvent
	for rows.Next() {
		var e SecurityEvent
		var created int64
		if err := rows.Scan(&e.ID, &e.AccountID, &e.Kind, &created, &e.Address, &e.UserAgent, &e.Detail); err != nil {
			return nil, fmt.Errorf("list security events: %w", err)
		}
		e.CreatedAt = fromMs(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneSecurityEvents removes the events older than before.
func (s *Store) PruneSecurityEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM security_events WHERE created_at < ?`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune security events: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
