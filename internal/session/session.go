// Package session is the one home of the browser session cookie and of CSRF
// protection (the seed's secure_cookie_flag, made the default).
//
// The cookie is __Host-rampart_session: Secure, HttpOnly, SameSite=Lax,
// Path=/, no Domain. Its value is 32 random bytes; the server keeps only
// their SHA-256, so the value is neither readable nor forgeable, and a
// session can be revoked by deleting its row. A visitor who is not signed in
// gets a value too (stored nowhere), so forms shown before sign-in — the
// sign-in form itself — carry a CSRF token bound to it.
//
// The device cookie (__Host-rampart_device) carries the device token that
// accounts.(*Service).Authenticate issues at every successful sign-in, so the
// sign-in limits know a browser that has signed in before. It has the session
// cookie's attributes, from the same place (Manager.cookie), and outlives
// sign-out: it grants nothing but a browser's own count of failed sign-ins.
package session

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
)

// Cookie names: the __Host- prefix makes browsers refuse the cookie unless it
// is Secure, Path=/ and host-only, so a sibling host (the media origin) can
// never set or overwrite it.
const (
	CookieName         = "__Host-rampart_session"
	InsecureCookieName = "rampart_session"

	DeviceCookieName         = "__Host-rampart_device"
	InsecureDeviceCookieName = "rampart_device"
)

// CSRFField is the form field that carries the CSRF token.
const CSRFField = "csrf_token"

// Manager issues, reads and ends sessions.
type Manager struct {
	store    *store.Store
	csrfKey  []byte
	name     string
	device   string // the device cookie's name
	secure   bool
	lifetime time.Duration
	now      func() time.Time
}

// New builds the manager from the config.
func New(cfg *config.Config, st *store.Store) (*Manager, error) {
	csrfKey, err := cfg.SecretKey.Derive("rampart csrf key v1")
	if err != nil {
		return nil, fmt.Errorf("secret_key: %w", err)
	}
	m := &Manager{store: st, csrfKey: csrfKey, name: CookieName, device: DeviceCookieName, secure: true,
		lifetime: cfg.Security.SessionLifetime.D(), now: time.Now}
	if !cfg.Security.SecureCookies {
		m.name, m.device, m.secure = InsecureCookieName, InsecureDeviceCookieName, false
	}
	return m, nil
}

// Name is the cookie's name as configured.
func (m *Manager) Name() string { return m.name }

// State is what a request's cookie says.
type State struct {
	Raw     string         // the cookie value ("" when none)
	Session *store.Session // nil when not signed in
}

// SignedIn reports whether the request belongs to a live session.
func (s State) SignedIn() bool { return s.Session != nil }

// Load reads the request's cookie and its session, if any.
func (m *Manager) Load(ctx context.Context, r *http.Request) (State, error) {
	c, err := r.Cookie(m.name)
	if err != nil || !validValue(c.Value) {
		return State{}, nil
	}
	st := State{Raw: c.Value}
	se, err := m.store.SessionByHash(ctx, hash(c.Value), m.now())
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return State{}, err
	}
	if now := m.now(); store.UseStale(se.LastSeenAt, now) {
		// Last seen, for the sessions page: at most one write an hour per
		// session. A failure loses that mark, not the request.
		if _, err := m.store.TouchSession(ctx, se.IDHash, now); err == nil {
			se.LastSeenAt = now
		}
	}
	st.Session = se
	return st, nil
}

// Ensure makes sure the visitor has a cookie value to bind CSRF tokens to,
// setting an anonymous one when there is none.
func (m *Manager) Ensure(w http.ResponseWriter, st State) State {
	if st.Raw != "" {
		return st
	}
	st.Raw = id.Secret()
	http.SetCookie(w, m.cookie(st.Raw, 0))
	return st
}

// Start signs accountID in: a fresh value (the old one, and its session if
// any, are dropped — the id rotates on every sign-in).
func (m *Manager) Start(ctx context.Context, w http.ResponseWriter, old State, accountID int64, userAgent, ip string) error {
	if old.Raw != "" {
		if err := m.store.DeleteSession(ctx, hash(old.Raw)); err != nil {
			return err
		}
	}
	raw := id.Secret()
	now := m.now().UTC()
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	if err := m.store.CreateSession(ctx, &store.Session{IDHash: hash(raw), AccountID: accountID, CreatedAt: now,
		ExpiresAt: now.Add(m.lifetime), UserAgent: userAgent, IP: ip}); err != nil {
		return err
	}
	http.SetCookie(w, m.cookie(raw, int(m.lifetime/time.Second)))
	return nil
}

// End signs out: the session row is deleted and the cookie expired.
func (m *Manager) End(ctx context.Context, w http.ResponseWriter, st State) error {
	if st.Raw != "" {
		if err := m.store.DeleteSession(ctx, hash(st.Raw)); err != nil {
			return err
		}
	}
	http.SetCookie(w, m.cookie("", -1))
	return nil
}

// cookie is the only place cookie attributes are decided: the session
// cookie's, and through deviceCookie the device cookie's.
func (m *Manager) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     m.name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   m.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// DeviceToken is the request's device token, "" when it has none. Its
// validity is for accounts to decide.
func (m *Manager) DeviceToken(r *http.Request) string {
	c, err := r.Cookie(m.device)
	if err != nil || len(c.Value) > maxDeviceToken {
		return ""
	}
	return c.Value
}

// maxDeviceToken bounds what DeviceToken passes on (a real token is shorter).
const maxDeviceToken = 256

// SetDevice keeps a device token in the browser for lifetime.
func (m *Manager) SetDevice(w http.ResponseWriter, token string, lifetime time.Duration) {
	http.SetCookie(w, m.deviceCookie(token, int(lifetime/time.Second)))
}

// ForgetDevice removes the browser's device token (a revoked one).
func (m *Manager) ForgetDevice(w http.ResponseWriter) {
	http.SetCookie(w, m.deviceCookie("", -1))
}

// deviceCookie is the session cookie's attributes under the device cookie's name.
func (m *Manager) deviceCookie(value string, maxAge int) *http.Cookie {
	c := m.cookie(value, maxAge)
	c.Name = m.device
	return c
}

// CSRFToken is the token forms carry for this visitor.
func (m *Manager) CSRFToken(st State) string {
	if st.Raw == "" {
		return ""
	}
	mac := hmac.New(sha256.New, m.csrfKey)
	mac.Write([]byte(st.Raw))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CheckCSRF verifies a submitted token in constant time.
func (m *Manager) CheckCSRF(st State, token string) bool {
	want := m.CSRFToken(st)
	return want != "" && hmac.Equal([]byte(want), []byte(token))
}

func validValue(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

func hash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
