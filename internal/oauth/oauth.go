// Package oauth is Rampart's OAuth 2.0 authorization server with Mastodon's
// semantics: app registration, the authorization-code flow (state, PKCE S256,
// out-of-band codes), client_credentials, revocation and bearer-token checks.
// Secrets, codes and tokens are random and stored only as SHA-256 hashes;
// codes are single-use and short-lived; redirect URIs match exactly. It knows
// nothing of HTTP beyond the parameter names of the RFCs.
package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/hostname"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/ratelimit"
	"github.com/rampart-social/rampart/internal/store"
)

// OOB is the out-of-band redirect URI: the code is shown on a page.
const OOB = "urn:ietf:wg:oauth:2.0:oob"

// CodeLifetime bounds how long an authorization code can be exchanged.
const CodeLifetime = 5 * time.Minute

// Error is an OAuth error response (RFC 6749 §4.1.2.1, §5.2).
type Error struct {
	Code        string // invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, access_denied, unsupported_response_type
	Description string
	// Redirectable errors of the authorize endpoint go back to the client's
	// redirect URI; the others (unknown client, bad redirect URI) must not.
	Redirectable bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func oerr(code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// ErrInvalidToken means a bearer token is unknown, revoked or expired.
var ErrInvalidToken = errors.New("the access token is invalid")

// Service runs the authorization server.
type Service struct {
	store *store.Store
	ids   *id.Generator
	now   func() time.Time
	apps  *ratelimit.Shared // app registrations per client address, counted in the database
	// lifetime is how long a token grants access from its issue; 0: until
	// revoked (security.access_token_lifetime).
	lifetime time.Duration
}

// WithTokenLifetime makes the tokens issued from now on expire lifetime
// after their issue (0: never). It returns s.
func (s *Service) WithTokenLifetime(lifetime time.Duration) *Service {
	s.lifetime = lifetime
	return s
}

// New builds the service. limiterKey keys the digests of the app
// registration limit (accounts.LimiterKey): the same in every process, so
// that they count together.
func New(st *store.Store, ids *id.Generator, limiterKey []byte) *Service {
	s := &Service{store: st, ids: ids, now: time.Now}
	s.apps = ratelimit.NewShared(st, limiterKey, "apps.address", AppsPerWindow, AppsWindow, func() time.Time { return s.now() })
	return s
}

// App registrations per client address per window: they need no token, so
// they are limited like sign-ups.
const (
	AppsPerWindow = 30
	AppsWindow    = 5 * time.Minute
)

// RegisterAppFrom is POST /api/v1/apps from clientIP: RegisterApp, limited
// per client address (an IPv6 address by its /64) with a *ratelimit.WaitError.
// When the limit cannot be counted, the registration fails.
func (s *Service) RegisterAppFrom(ctx context.Context, clientIP string, p AppParams) (*store.App, string, error) {
	if wait, err := s.apps.Take(ctx, ratelimit.AddressKey(clientIP)); err != nil {
		return nil, "", fmt.Errorf("app registration limit: %w", err)
	} else if wait > 0 {
		return nil, "", &ratelimit.WaitError{What: "app registrations from this address", RetryAfter: wait}
	}
	return s.RegisterApp(ctx, p)
}

// AppParams are the inputs of POST /api/v1/apps.
type AppParams struct {
	Name         string
	Website      string
	RedirectURIs []string // each may hold several URIs separated by newlines
	Scopes       string
}

// ValidationError is a bad app registration.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

// RegisterApp validates and stores a client; the secret is returned once.
func (s *Service) RegisterApp(ctx context.Context, p AppParams) (*store.App, string, error) {
	name := strings.TrimSpace(p.Name)
	if name == "" || len(name) > 60 {
		return nil, "", &ValidationError{"client_name must be 1 to 60 characters"}
	}
	uris, err := ParseRedirectURIs(p.RedirectURIs)
	if err != nil {
		return nil, "", err
	}
	scopes, bad := ParseScopes(p.Scopes)
	if len(bad) > 0 {
		return nil, "", &ValidationError{fmt.Sprintf("scopes: unknown scope %q", bad[0])}
	}
	website := strings.TrimSpace(p.Website)
	if website != "" {
		if u, err := url.Parse(website); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(website) > 2000 {
			return nil, "", &ValidationError{"website must be an http(s) URL"}
		}
	}
	secret := id.Secret()
	app := &store.App{ID: s.ids.Next(), Name: name, Website: website, RedirectURIs: uris, Scopes: scopes.String(),
		ClientID: id.Secret(), ClientSecretHash: Hash(secret), CreatedAt: s.now().UTC()}
	if err := s.store.CreateApp(ctx, app); err != nil {
		return nil, "", err
	}
	return app, secret, nil
}

// ParseRedirectURIs accepts newline-separated strings or a list, and refuses
// URIs that could run script or have no place to return to.
func ParseRedirectURIs(raw []string) ([]string, error) {
	var out []string
	for _, r := range raw {
		for _, u := range strings.Fields(r) {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return nil, &ValidationError{"redirect_uris must name at least one URI"}
	}
	if len(out) > 10 {
		return nil, &ValidationError{"redirect_uris may name at most 10 URIs"}
	}
	for _, u := range out {
		if u == OOB {
			continue
		}
		parsed, err := url.Parse(u)
		if err != nil || parsed.Scheme == "" || len(u) > 2000 || strings.ContainsAny(u, "#\"'<>\\ ") {
			return nil, &ValidationError{fmt.Sprintf("redirect_uris: %q must be an absolute URI without a fragment", u)}
		}
		// A wildcard is no place to return to, and the consent page would
		// widen its CSP form-action to it (https://*).
		if strings.Contains(u, "*") {
			return nil, &ValidationError{fmt.Sprintf("redirect_uris: %q must not contain a wildcard", u)}
		}
		switch strings.ToLower(parsed.Scheme) {
		case "javascript", "data", "vbscript", "file", "about", "blob", "filesystem":
			return nil, &ValidationError{fmt.Sprintf("redirect_uris: the %s: scheme is not allowed", parsed.Scheme)}
		case "http", "https":
			if parsed.Host == "" {
				return nil, &ValidationError{fmt.Sprintf("redirect_uris: %q has no host", u)}
			}
			if !hostname.Literal(parsed.Host) {
				return nil, &ValidationError{fmt.Sprintf("redirect_uris: %q must name a host name or an IP address", u)}
			}
		}
	}
	return out, nil
}

// AuthRequest is a validated authorization request.
type AuthRequest struct {
	App           *store.App
	RedirectURI   string
	Scopes        Scopes
	State         string
	CodeChallenge string
	ForceLogin    bool
}

// CheckAuthorize validates the parameters of GET/POST /oauth/authorize.
func (s *Service) CheckAuthorize(ctx context.Context, q url.Values) (*AuthRequest, error) {
	app, err := s.store.AppByClientID(ctx, q.Get("client_id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, oerr("invalid_client", "no application has this client_id")
	}
	if err != nil {
		return nil, err
	}
	req := &AuthRequest{App: app, State: q.Get("state"), ForceLogin: q.Get("force_login") == "true" || q.Get("force_login") == "1"}
	req.RedirectURI = q.Get("redirect_uri")
	if req.RedirectURI == "" && len(app.RedirectURIs) == 1 {
		req.RedirectURI = app.RedirectURIs[0]
	}
	if !contains(app.RedirectURIs, req.RedirectURI) {
		return nil, oerr("invalid_request", "redirect_uri does not match one registered for this application")
	}
	redirectable := func(e *Error) error { e.Redirectable = true; return e }
	if q.Get("response_type") != "code" {
		return nil, redirectable(oerr("unsupported_response_type", "response_type must be code"))
	}
	scopes, bad := ParseScopes(q.Get("scope"))
	appScopes, _ := ParseScopes(app.Scopes)
	if len(bad) > 0 || !scopes.Within(appScopes) {
		return nil, redirectable(oerr("invalid_scope", "the requested scope is unknown or was not registered by the application"))
	}
	req.Scopes = scopes
	method, challenge := q.Get("code_challenge_method"), q.Get("code_challenge")
	switch {
	case challenge == "" && method == "":
	case method != "S256":
		return nil, redirectable(oerr("invalid_request", "code_challenge_method must be S256"))
	case !validVerifier(challenge) || len(challenge) != 43:
		return nil, redirectable(oerr("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)"))
	default:
		req.CodeChallenge = challenge
	}
	if len(req.State) > 2000 {
		return nil, redirectable(oerr("invalid_request", "state is too long"))
	}
	return req, nil
}

// RedirectURL builds where the browser goes back to with params (code or error) and state.
func RedirectURL(req *AuthRequest, params url.Values) string {
	if req.State != "" {
		params.Set("state", req.State)
	}
	u, _ := url.Parse(req.RedirectURI)
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// IssueCode makes an authorization code for an approved request.
func (s *Service) IssueCode(ctx context.Context, req *AuthRequest, accountID int64) (string, error) {
	code := id.Secret()
	err := s.store.CreateCode(ctx, &store.Code{CodeHash: Hash(code), AppID: req.App.ID, AccountID: accountID,
		RedirectURI: req.RedirectURI, Scopes: req.Scopes.String(), CodeChallenge: req.CodeChallenge,
		ExpiresAt: s.now().Add(CodeLifetime)})
	if err != nil {
		return "", err
	}
	return code, nil
}

// TokenParams are the inputs of POST /oauth/token.
type TokenParams struct {
	GrantType    string
	Code         string
	RedirectURI  string
	ClientID     string
	ClientSecret string
	CodeVerifier string
	Scope        string
}

// Issued is a new access token.
type Issued struct {
	Token  string
	Scopes Scopes
	At     time.Time
}

// Exchange runs the token endpoint.
func (s *Service) Exchange(ctx context.Context, p TokenParams) (*Issued, error) {
	app, err := s.authenticateClient(ctx, p.ClientID, p.ClientSecret)
	if err != nil {
		return nil, err
	}
	switch p.GrantType {
	case "authorization_code":
		return s.exchangeCode(ctx, app, p)
	case "client_credentials":
		scopes, bad := ParseScopes(p.Scope)
		appScopes, _ := ParseScopes(app.Scopes)
		if len(bad) > 0 || !scopes.Within(appScopes) {
			return nil, oerr("invalid_scope", "the requested scope is unknown or was not registered by the application")
		}
		return s.issue(ctx, app.ID, 0, scopes)
	case "":
		return nil, oerr("invalid_request", "grant_type is missing")
	default:
		return nil, oerr("unsupported_grant_type", "grant_type must be authorization_code or client_credentials")
	}
}

func (s *Service) exchangeCode(ctx context.Context, app *store.App, p TokenParams) (*Issued, error) {
	if p.Code == "" {
		return nil, oerr("invalid_request", "code is missing")
	}
	code, err := s.store.TakeCode(ctx, Hash(p.Code)) // deleted now: a second use finds nothing
	if errors.Is(err, store.ErrNotFound) {
		return nil, oerr("invalid_grant", "the authorization code is invalid, expired or already used")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case code.AppID != app.ID:
		return nil, oerr("invalid_grant", "the authorization code was issued to another client")
	case s.now().After(code.ExpiresAt):
		return nil, oerr("invalid_grant", "the authorization code is invalid, expired or already used")
	case p.RedirectURI != code.RedirectURI:
		return nil, oerr("invalid_grant", "redirect_uri does not match the authorization request")
	case code.CodeChallenge == "" && p.CodeVerifier != "":
		// A verifier for a code issued without a challenge means PKCE was stripped on the way (RFC 9700 §4.8.2).
		return nil, oerr("invalid_grant", "code_verifier was sent but the authorization request had no code_challenge")
	}
	if code.CodeChallenge != "" {
		sum := sha256.Sum256([]byte(p.CodeVerifier))
		got := base64.RawURLEncoding.EncodeToString(sum[:])
		if !validVerifier(p.CodeVerifier) || subtle.ConstantTimeCompare([]byte(got), []byte(code.CodeChallenge)) != 1 {
			return nil, oerr("invalid_grant", "code_verifier does not match the code_challenge")
		}
	}
	u, err := s.store.UserByAccountID(ctx, code.AccountID)
	if err != nil {
		return nil, err
	}
	if err := accounts.Usable(u); err != nil {
		return nil, oerr("invalid_grant", "%v", err)
	}
	scopes, _ := ParseScopes(code.Scopes)
	return s.issue(ctx, app.ID, code.AccountID, scopes)
}

func (s *Service) issue(ctx context.Context, appID, accountID int64, scopes Scopes) (*Issued, error) {
	raw := id.Secret()
	now := s.now().UTC()
	t := &store.Token{ID: s.ids.Next(), TokenHash: Hash(raw), AppID: appID, AccountID: accountID, Scopes: scopes.String(), CreatedAt: now}
	if s.lifetime > 0 {
		t.ExpiresAt = now.Add(s.lifetime)
	}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return nil, err
	}
	return &Issued{Token: raw, Scopes: scopes, At: now}, nil
}

// IssueForAccount makes a user token directly (registration returns one).
func (s *Service) IssueForAccount(ctx context.Context, appID, accountID int64, scopes Scopes) (*Issued, error) {
	return s.issue(ctx, appID, accountID, scopes)
}

func (s *Service) authenticateClient(ctx context.Context, clientID, secret string) (*store.App, error) {
	if clientID == "" || secret == "" {
		return nil, oerr("invalid_client", "client_id and client_secret are required")
	}
	app, err := s.store.AppByClientID(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oerr("invalid_client", "client authentication failed")
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(Hash(secret)), []byte(app.ClientSecretHash)) != 1 {
		return nil, oerr("invalid_client", "client authentication failed")
	}
	return app, nil
}

// Revoke ends a token held by the authenticated client (RFC 7009: unknown
// tokens are not an error).
func (s *Service) Revoke(ctx context.Context, clientID, secret, token string) error {
	app, err := s.authenticateClient(ctx, clientID, secret)
	if err != nil {
		return err
	}
	if token == "" {
		return oerr("invalid_request", "token is missing")
	}
	_, err = s.store.DeleteToken(ctx, Hash(token), app.ID)
	return err
}

// Bearer resolves an access token to the token, its client and, for a
// user's token, the user (nil for an app-only token). It is the one place
// a token is accepted: an unknown, revoked or expired one is
// ErrInvalidToken. A use is recorded on the token at most once per
// store.LastUseEvery (the loaded time says whether to write at all).
func (s *Service) Bearer(ctx context.Context, raw string) (*store.Token, *store.App, *store.LocalUser, error) {
	if raw == "" || len(raw) > 200 {
		return nil, nil, nil, ErrInvalidToken
	}
	hash := Hash(raw)
	now := s.now()
	t, app, user, err := s.store.UserToken(ctx, hash)
	if err == nil {
		if t.Expired(now) {
			return nil, nil, nil, ErrInvalidToken
		}
		if store.ActiveStale(user.User, now) {
			// Using a token is using the instance (NodeInfo's active users);
			// recorded at most once a day. A failure to record it is a lost
			// statistic, not a reason to refuse the request.
			_ = s.store.TouchUserActive(ctx, user.Account.ID, now)
		}
		s.touch(ctx, t, now)
		return t, app, user, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, err
	}
	// Not a user's token: an app's own (client_credentials), or none.
	t, app, err = s.store.TokenWithApp(ctx, hash)
	if errors.Is(err, store.ErrNotFound) || err == nil && (t.AccountID != 0 || t.Expired(now)) {
		return nil, nil, nil, ErrInvalidToken // none, a user's whose user is gone, or expired
	}
	if err != nil {
		return nil, nil, nil, err
	}
	s.touch(ctx, t, now)
	return t, app, nil, nil
}

// touch records a use of t when the one recorded is older than
// store.LastUseEvery. Like the active-user mark, a failure loses a
// statistic and refuses nothing.
func (s *Service) touch(ctx context.Context, t *store.Token, now time.Time) {
	if store.UseStale(t.LastUsedAt, now) {
		_, _ = s.store.TouchToken(ctx, t.ID, now)
	}
}

// Hash is how secrets, codes and tokens are stored.
func Hash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// validVerifier checks RFC 7636's alphabet and length (43–128).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '~') {
			return false
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
