package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/store"
)

// This file holds the rules of the sessions and apps a person controls
// (/settings/sessions) and of their security history (/settings/history):
// which sessions and tokens are whose, revoking them, and the event log.
// The pages in internal/web only show what these return.

// SecurityEventKind is what happened to an account's security.
type SecurityEventKind string

// The kinds of security events. Stored by name: never rename one.
const (
	EventNewBrowserSignIn    SecurityEventKind = "new_browser_sign_in"
	EventPasswordChanged     SecurityEventKind = "password_changed"
	EventSecondFactorAdded   SecurityEventKind = "second_factor_added"
	EventSecondFactorRemoved SecurityEventKind = "second_factor_removed"
	EventPasskeyAdded        SecurityEventKind = "passkey_added"
	EventPasskeyRemoved      SecurityEventKind = "passkey_removed"
	EventSessionsRevoked     SecurityEventKind = "sessions_revoked"
	EventAppRevoked          SecurityEventKind = "app_revoked"
)

// Words is the kind as the history page says it.
func (k SecurityEventKind) Words() string {
	switch k {
	case EventNewBrowserSignIn:
		return "Signed in from a new browser"
	case EventPasswordChanged:
		return "Password changed"
	case EventSecondFactorAdded:
		return "Two-factor authentication turned on"
	case EventSecondFactorRemoved:
		return "Two-factor authentication turned off"
	case EventPasskeyAdded:
		return "Passkey added"
	case EventPasskeyRemoved:
		return "Passkey removed"
	case EventSessionsRevoked:
		return "Signed out other browsers"
	case EventAppRevoked:
		return "App access revoked"
	}
	return "Security change" // a kind a newer version wrote
}

// Bounds of what an event keeps.
const (
	maxUserAgent = 300
	maxDetail    = 200
)

// WithEvents makes revocations reach the live streams (events.TokensRevoked),
// so that a revoked app's open sockets close at once. It returns s.
func (s *Service) WithEvents(pub events.Publisher) *Service {
	s.events = pub
	return s
}

// RecordSecurityEvent adds an entry to accountID's security history:
// clientIP is kept as its network only (Network), userAgent and detail
// bounded. The newest store.SecurityEventsKept entries are kept, none
// longer than store.SecurityEventsAge.
func (s *Service) RecordSecurityEvent(ctx context.Context, accountID int64, kind SecurityEventKind, clientIP, userAgent, detail string) error {
	err := s.store.AddSecurityEvent(ctx, &store.SecurityEvent{ID: s.ids.Next(), AccountID: accountID, Kind: string(kind),
		CreatedAt: s.now().UTC(), Address: Network(clientIP), UserAgent: bound(userAgent, maxUserAgent), Detail: bound(detail, maxDetail)})
	if err != nil {
		return fmt.Errorf("security event %s: %w", kind, err)
	}
	return nil
}

// bound cuts v to at most n bytes of valid UTF-8.
func bound(v string, n int) string {
	v = strings.ToValidUTF8(v, "")
	if len(v) <= n {
		return v
	}
	v = v[:n]
	for !utf8.ValidString(v) {
		v = v[:len(v)-1]
	}
	return v
}

// Network is how a client address is kept and shown in the security pages:
// its IPv4 /24 or IPv6 /48 network ("192.0.2.0/24", "2001:db8:1::/48"),
// enough to tell a place apart, not a household. An IPv4-mapped IPv6
// address is its IPv4 network; anything unparsable is "".
func Network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// SecurityEvent is an entry of the history as the page shows it.
type SecurityEvent struct {
	Kind    SecurityEventKind
	At      time.Time
	Network string
	Browser string // the user agent in words (Browser)
	Detail  string
}

// SecurityHistory lists accountID's own security events, the newest first.
func (s *Service) SecurityHistory(ctx context.Context, accountID int64) ([]SecurityEvent, error) {
	rows, err := s.store.SecurityEvents(ctx, accountID, store.SecurityEventsKept)
	if err != nil {
		return nil, err
	}
	out := make([]SecurityEvent, len(rows))
	for i, r := range rows {
		out[i] = SecurityEvent{Kind: SecurityEventKind(r.Kind), At: r.CreatedAt, Network: r.Address, Browser: Browser(r.UserAgent), Detail: r.Detail}
	}
	return out, nil
}

// BrowserSession is a signed-in browser as the sessions page shows it.
type BrowserSession struct {
	// ID names the session in a revoke form: the stored SHA-256 of its
	// cookie, from which the cookie cannot be had.
	ID         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	Network    string
	Browser    string
	Current    bool // the browser asking
}

// Sessions lists accountID's live browser sessions: currentID (the asking
// session's store id), marked, then the others, the most recently seen first.
func (s *Service) Sessions(ctx context.Context, accountID int64, currentID string) ([]BrowserSession, error) {
	rows, err := s.store.AccountSessions(ctx, accountID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]BrowserSession, 0, len(rows))
	for _, r := range rows {
		se := BrowserSession{ID: r.IDHash, CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, Network: Network(r.IP),
			Browser: Browser(r.UserAgent), Current: r.IDHash == currentID}
		if se.Current {
			out = append([]BrowserSession{se}, out...)
		} else {
			out = append(out, se)
		}
	}
	return out, nil
}

// ErrNotYours is a session or app that the account does not hold (or that
// does not exist): nothing was revoked.
var ErrNotYours = errors.New("no such session or app of this account")

// Actor is who asks for a revocation, for the history.
type Actor struct {
	ClientIP  string
	UserAgent string
}

// RevokeSession ends accountID's session id at once (that browser's next
// request is signed out). Another account's session, or none, is
// ErrNotYours and nothing is deleted.
func (s *Service) RevokeSession(ctx context.Context, accountID int64, id string, by Actor) error {
	gone, err := s.store.DeleteAccountSession(ctx, accountID, id)
	if err != nil {
		return err
	}
	if !gone {
		return ErrNotYours
	}
	return s.RecordSecurityEvent(ctx, accountID, EventSessionsRevoked, by.ClientIP, by.UserAgent, "1 browser signed out")
}

// RevokeOtherSessions ends every session of accountID but currentID, and
// returns how many it ended.
func (s *Service) RevokeOtherSessions(ctx context.Context, accountID int64, currentID string, by Actor) (int64, error) {
	n, err := s.store.DeleteOtherSessions(ctx, accountID, currentID)
	if err != nil || n == 0 {
		return n, err
	}
	detail := fmt.Sprintf("%d browsers signed out", n)
	if n == 1 {
		detail = "1 browser signed out"
	}
	return n, s.RecordSecurityEvent(ctx, accountID, EventSessionsRevoked, by.ClientIP, by.UserAgent, detail)
}

// AuthorizedApps lists the apps holding live tokens of accountID, one row
// per app.
func (s *Service) AuthorizedApps(ctx context.Context, accountID int64) ([]store.AuthorizedApp, error) {
	return s.store.AuthorizedApps(ctx, accountID, s.now())
}

// RevokeApp deletes every token app appID holds for accountID at once (its
// next API call gets 401) and tells the streams, which close its sockets.
// An app holding none of the account's tokens is ErrNotYours.
func (s *Service) RevokeApp(ctx context.Context, accountID, appID int64, by Actor) error {
	app, err := s.store.AppByID(ctx, appID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotYours
	}
	if err != nil {
		return err
	}
	ids, err := s.store.DeleteAccountAppTokens(ctx, accountID, appID)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return ErrNotYours
	}
	if s.events != nil {
		s.events.Publish(events.Event{Kind: events.TokensRevoked, Account: accountID})
	}
	return s.RecordSecurityEvent(ctx, accountID, EventAppRevoked, by.ClientIP, by.UserAgent, app.Name)
}
