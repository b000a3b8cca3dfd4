package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
)

const cb = "https://app.example/cb"

type fixture struct {
	s      *Service
	st     *store.Store
	ids    *id.Generator
	app    *store.App // redirect URIs cb and OOB, scopes "read write"
	secret string
	alice  int64 // approved user
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	ids := id.NewGenerator()
	f := &fixture{s: New(st, ids, testLimiterKey), st: st, ids: ids}
	f.app, f.secret = f.register(t, AppParams{Name: "App", RedirectURIs: []string{cb + "\n" + OOB}, Scopes: "read write"})
	f.alice = f.user(t, "alice")
	return f
}

func (f *fixture) register(t testing.TB, p AppParams) (*store.App, string) {
	t.Helper()
	app, secret, err := f.s.RegisterApp(context.Background(), p)
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	return app, secret
}

// user stores an approved local account directly (no password hashing needed here).
func (f *fixture) user(t testing.TB, name string) int64 {
	t.Helper()
	now := time.Now().UTC()
	a := &store.Account{ID: f.ids.Next(), Username: name, URI: "https://example.test/users/" + name,
		URL: "https://example.test/@" + name, Discoverable: true, CreatedAt: now, UpdatedAt: now}
	u := &store.User{Email: name + "@example.test", PasswordHash: "unused", Role: "user", Approved: true,
		Locale: "en", DefaultPrivacy: "public", CreatedAt: now}
	if err := f.st.CreateLocalAccount(context.Background(), a, u); err != nil {
		t.Fatalf("CreateLocalAccount: %v", err)
	}
	return a.ID
}

func authorizeQuery(clientID string, kv ...string) url.Values {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {cb}, "response_type": {"code"}, "scope": {"read"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

// code runs CheckAuthorize and IssueCode for alice.
func (f *fixture) code(t *testing.T, kv ...string) string {
	t.Helper()
	ctx := context.Background()
	req, err := f.s.CheckAuthorize(ctx, authorizeQuery(f.app.ClientID, kv...))
	if err != nil {
		t.Fatalf("CheckAuthorize: %v", err)
	}
	code, err := f.s.IssueCode(ctx, req, f.alice)
	if err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	return code
}

func (f *fixture) exchange(code string, kv ...string) (*Issued, error) {
	p := TokenParams{GrantType: "authorization_code", Code: code, RedirectURI: cb, ClientID: f.app.ClientID, ClientSecret: f.secret}
	for i := 0; i+1 < len(kv); i += 2 {
		switch kv[i] {
		case "redirect_uri":
			p.RedirectURI = kv[i+1]
		case "code_verifier":
			p.CodeVerifier = kv[i+1]
		case "client_id":
			p.ClientID = kv[i+1]
		case "client_secret":
			p.ClientSecret = kv[i+1]
		default:
			panic("exchange: " + kv[i])
		}
	}
	return f.s.Exchange(context.Background(), p)
}

// wantOAuthError checks err is an *Error with code (and redirectability, when asked).
func wantOAuthError(t *testing.T, what string, err error, code string, redirectable ...bool) {
	t.Helper()
	var oe *Error
	if !errors.As(err, &oe) {
		t.Errorf("%s: err = %v, want OAuth error %s", what, err, code)
		return
	}
	if oe.Code != code {
		t.Errorf("%s: error %q (%s), want %q", what, oe.Code, oe.Description, code)
	}
	if len(redirectable) > 0 && oe.Redirectable != redirectable[0] {
		t.Errorf("%s: Redirectable = %v, want %v", what, oe.Redirectable, redirectable[0])
	}
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ---------------------------------------------------------------------------

func TestParseRedirectURIs(t *testing.T) {
	many := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("https://app.example/cb%d", i))
		}
		return out
	}
	for _, c := range []struct {
		in   []string
		want []string
	}{
		{[]string{cb}, []string{cb}},
		{[]string{OOB}, []string{OOB}},
		{[]string{cb + "\n" + OOB}, []string{cb, OOB}},
		{[]string{cb + "\r\n" + OOB + "\n"}, []string{cb, OOB}},
		{[]string{cb, OOB}, []string{cb, OOB}},
		{[]string{"myapp://oauth/callback", "com.example.app:/cb"}, []string{"myapp://oauth/callback", "com.example.app:/cb"}},
		{[]string{"http://127.0.0.1:8080/cb?x=1"}, []string{"http://127.0.0.1:8080/cb?x=1"}},
		{[]string{"http://[::1]:8080/cb", "https://[2001:db8::1]/cb"}, []string{"http://[::1]:8080/cb", "https://[2001:db8::1]/cb"}},
		{[]string{"https://App-1.Example.:8443/cb"}, []string{"https://App-1.Example.:8443/cb"}},
		{many(10), many(10)},
		{[]string{strings.Join(many(10), "\n")}, many(10)},
	} {
		got, err := ParseRedirectURIs(c.in)
		if err != nil || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("ParseRedirectURIs(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for name, in := range map[string][]string{
		"none":          nil,
		"empty":         {""},
		"blank":         {" \n\t "},
		"javascript":    {"javascript:alert(1)"},
		"JavaScript":    {"JavaScript:alert(document.cookie)"},
		"javascript //": {"javascript://app.example/%0aalert(1)"},
		"data":          {"data:text/html,<script>alert(1)</script>"},
		"vbscript":      {"vbscript:msgbox(1)"},
		"file":          {"file:///etc/passwd"},
		"fragment":      {cb + "#frag"},
		"relative":      {"/cb"},
		"scheme-less":   {"//app.example/cb"},
		"no host":       {"https:///cb"},
		"opaque https":  {"https:app.example"},
		"quote":         {`https://app.example/cb?x="`},
		"angle":         {"https://app.example/cb?<x>"},
		"11":            many(11),
		"11 in one":     {strings.Join(many(11), "\n")},
		"one bad of 2":  {cb, "javascript:alert(1)"},
		"too long":      {"https://app.example/" + strings.Repeat("a", 2001)},
		// Wildcards would widen the consent page's form-action to https://*.
		"wildcard host":        {"https://*/cb"},
		"wildcard subdomain":   {"https://*.app.example/cb"},
		"escaped wildcard":     {"https://%2A/cb"},
		"escaped in subdomain": {"https://%2a.app.example/cb"},
		"wildcard port":        {"https://app.example:*/cb"},
		"wildcard path":        {"https://app.example/*"},
		"wildcard app scheme":  {"myapp://*/cb"},
		"percent host":         {"https://app%2Eexample/cb"},
		"underscore host":      {"https://app_example/cb"},
		"empty port":           {"https://app.example:/cb"},
		"dot host":             {"https://./cb"},
		"IPv6 zone":            {"http://[fe80::1%25en0]/cb"},
	} {
		got, err := ParseRedirectURIs(in)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: ParseRedirectURIs(%.60q) = %q, %v; want a ValidationError", name, in, got, err)
		}
	}
}

func TestRegisterApp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	app, secret := f.register(t, AppParams{Name: "  Spaced  ", Website: "https://app.example", RedirectURIs: []string{OOB},
		Scopes: "write read read"})
	if app.Name != "Spaced" || app.Scopes != "read write" || app.Website != "https://app.example" {
		t.Errorf("stored app = %+v", app)
	}
	if app.ClientID == "" || secret == "" || app.ClientID == secret {
		t.Errorf("client_id %q / secret %q", app.ClientID, secret)
	}
	// The secret is stored only as its hash.
	stored, err := f.st.AppByClientID(ctx, app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.ClientSecretHash != Hash(secret) || strings.Contains(stored.ClientSecretHash, secret) {
		t.Errorf("client secret stored as %q, want Hash(secret)", stored.ClientSecretHash)
	}
	other, secret2 := f.register(t, AppParams{Name: "Other", RedirectURIs: []string{OOB}})
	if other.ClientID == app.ClientID || secret2 == secret {
		t.Errorf("two apps share credentials")
	}
	if other.Scopes != "read" {
		t.Errorf("default scopes %q, want read", other.Scopes)
	}

	for name, p := range map[string]AppParams{
		"no name":       {RedirectURIs: []string{OOB}},
		"blank name":    {Name: "   ", RedirectURIs: []string{OOB}},
		"long name":     {Name: strings.Repeat("n", 61), RedirectURIs: []string{OOB}},
		"no redirect":   {Name: "x"},
		"unknown scope": {Name: "x", RedirectURIs: []string{OOB}, Scopes: "read admin"},
		"js website":    {Name: "x", RedirectURIs: []string{OOB}, Website: "javascript:alert(1)"},
		"bare website":  {Name: "x", RedirectURIs: []string{OOB}, Website: "app.example"},
	} {
		_, _, err := f.s.RegisterApp(ctx, p)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a ValidationError", name, err)
		}
	}
}

func TestCheckAuthorize(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	single, _ := f.register(t, AppParams{Name: "Single", RedirectURIs: []string{cb}, Scopes: "read write"})

	t.Run("valid", func(t *testing.T) {
		challenge := s256(strings.Repeat("v", 43))
		req, err := f.s.CheckAuthorize(ctx, authorizeQuery(f.app.ClientID, "scope", "read:accounts write",
			"state", "xyz", "code_challenge", challenge, "code_challenge_method", "S256", "force_login", "true"))
		if err != nil {
			t.Fatal(err)
		}
		if req.App.ID != f.app.ID || req.RedirectURI != cb || req.State != "xyz" || req.CodeChallenge != challenge ||
			req.Scopes.String() != "read:accounts write" || !req.ForceLogin {
			t.Errorf("request = %+v", req)
		}
		// One registered URI may be left out.
		req, err = f.s.CheckAuthorize(ctx, authorizeQuery(single.ClientID, "redirect_uri", ""))
		if err != nil || req.RedirectURI != cb {
			t.Errorf("omitted redirect_uri with one registered: %+v, %v", req, err)
		}
		// No scope means read.
		req, err = f.s.CheckAuthorize(ctx, authorizeQuery(f.app.ClientID, "scope", ""))
		if err != nil || req.Scopes.String() != "read" {
			t.Errorf("default scope: %+v, %v", req, err)
		}
	})

	// Errors that must not go to the redirect URI: the client or URI is not trusted.
	for name, q := range map[string]url.Values{
		"unknown client":        authorizeQuery("nobody"),
		"no client":             authorizeQuery("", "client_id", ""),
		"wrong redirect_uri":    authorizeQuery(f.app.ClientID, "redirect_uri", "https://evil.example/cb"),
		"prefix redirect_uri":   authorizeQuery(f.app.ClientID, "redirect_uri", cb+"/more"),
		"ambiguous omitted":     authorizeQuery(f.app.ClientID, "redirect_uri", ""),
		"redirect differs":      authorizeQuery(f.app.ClientID, "redirect_uri", "HTTPS://app.example/cb"),
		"bad uri, bad type":     authorizeQuery(f.app.ClientID, "redirect_uri", "https://evil.example/", "response_type", "token"),
		"unknown, bad type":     authorizeQuery("nobody", "response_type", "token"),
		"unknown client, scope": authorizeQuery("nobody", "scope", "admin:write"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.s.CheckAuthorize(ctx, q)
			var oe *Error
			if !errors.As(err, &oe) || oe.Redirectable {
				t.Errorf("err = %#v, want a non-redirectable OAuth error", err)
			}
		})
	}
	t.Run("unknown client code", func(t *testing.T) {
		_, err := f.s.CheckAuthorize(ctx, authorizeQuery("nobody"))
		wantOAuthError(t, "unknown client", err, "invalid_client", false)
		_, err = f.s.CheckAuthorize(ctx, authorizeQuery(f.app.ClientID, "redirect_uri", "https://evil.example/cb"))
		wantOAuthError(t, "wrong redirect", err, "invalid_request", false)
	})

	// Errors about the request itself go back to the (verified) client.
	for name, c := range map[string]struct {
		kv   []string
		code string
	}{
		"response_type token":  {[]string{"response_type", "token"}, "unsupported_response_type"},
		"no response_type":     {[]string{"response_type", ""}, "unsupported_response_type"},
		"unknown scope":        {[]string{"scope", "read bogus"}, "invalid_scope"},
		"scope beyond the app": {[]string{"scope", "read follow"}, "invalid_scope"},
		"admin scope":          {[]string{"scope", "admin:read"}, "invalid_scope"},
		"plain PKCE":           {[]string{"code_challenge", strings.Repeat("a", 43), "code_challenge_method", "plain"}, "invalid_request"},
		"challenge, no method": {[]string{"code_challenge", s256(strings.Repeat("v", 43))}, "invalid_request"},
		"method, no challenge": {[]string{"code_challenge_method", "S256"}, "invalid_request"},
		"short challenge":      {[]string{"code_challenge", "abc", "code_challenge_method", "S256"}, "invalid_request"},
		"bad challenge chars":  {[]string{"code_challenge", strings.Repeat("+", 43), "code_challenge_method", "S256"}, "invalid_request"},
		"long challenge":       {[]string{"code_challenge", strings.Repeat("a", 44), "code_challenge_method", "S256"}, "invalid_request"},
		"long state":           {[]string{"state", strings.Repeat("s", 2001)}, "invalid_request"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.s.CheckAuthorize(ctx, authorizeQuery(f.app.ClientID, c.kv...))
			wantOAuthError(t, name, err, c.code, true)
		})
	}
}

func TestRedirectURL(t *testing.T) {
	req := &AuthRequest{RedirectURI: "https://app.example/cb?keep=1", State: "a b&c"}
	got, err := url.Parse(RedirectURL(req, url.Values{"code": {"C"}}))
	if err != nil {
		t.Fatal(err)
	}
	q := got.Query()
	if got.Host != "app.example" || got.Path != "/cb" || q.Get("keep") != "1" || q.Get("code") != "C" || q.Get("state") != "a b&c" {
		t.Errorf("RedirectURL = %s", got)
	}
	req.State = ""
	if u := RedirectURL(req, url.Values{"error": {"access_denied"}}); strings.Contains(u, "state=") {
		t.Errorf("empty state added: %s", u)
	}
}

func TestExchangeCode(t *testing.T) {
	ctx := context.Background()

	t.Run("single use", func(t *testing.T) {
		f := newFixture(t)
		code := f.code(t, "scope", "read write")
		issued, err := f.exchange(code)
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		if issued.Scopes.String() != "read write" || issued.Token == "" || issued.At.IsZero() {
			t.Errorf("issued = %+v", issued)
		}
		tok, _, _, err := f.s.Bearer(ctx, issued.Token)
		if err != nil || tok.AccountID != f.alice || tok.AppID != f.app.ID || tok.Scopes != "read write" {
			t.Errorf("Bearer = %+v, %v", tok, err)
		}
		_, err = f.exchange(code)
		wantOAuthError(t, "second exchange", err, "invalid_grant")
	})

	t.Run("expired", func(t *testing.T) {
		f := newFixture(t)
		base := time.Now()
		f.s.now = func() time.Time { return base }
		code := f.code(t)
		f.s.now = func() time.Time { return base.Add(CodeLifetime + time.Second) }
		_, err := f.exchange(code)
		wantOAuthError(t, "expired code", err, "invalid_grant")

		f.s.now = func() time.Time { return base }
		code = f.code(t)
		f.s.now = func() time.Time { return base.Add(CodeLifetime - time.Second) }
		if _, err := f.exchange(code); err != nil {
			t.Errorf("code just before expiry: %v", err)
		}
	})

	t.Run("redirect_uri", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.exchange(f.code(t), "redirect_uri", OOB)
		wantOAuthError(t, "other registered redirect_uri", err, "invalid_grant")
		_, err = f.exchange(f.code(t), "redirect_uri", "https://evil.example/cb")
		wantOAuthError(t, "unregistered redirect_uri", err, "invalid_grant")
		// Two registered: it cannot be left out.
		_, err = f.exchange(f.code(t), "redirect_uri", "")
		wantOAuthError(t, "omitted redirect_uri", err, "invalid_grant")
		// A failed exchange used the code up.
		code := f.code(t)
		if _, err := f.exchange(code, "redirect_uri", OOB); err == nil {
			t.Fatal("wrong redirect_uri accepted")
		}
		_, err = f.exchange(code)
		wantOAuthError(t, "code after a failed exchange", err, "invalid_grant")
		// Out-of-band codes need the OOB URI back.
		if _, err := f.exchange(f.code(t, "redirect_uri", OOB), "redirect_uri", OOB); err != nil {
			t.Errorf("oob exchange: %v", err)
		}
	})

	t.Run("PKCE", func(t *testing.T) {
		f := newFixture(t)
		verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
		withPKCE := func() string {
			return f.code(t, "code_challenge", s256(verifier), "code_challenge_method", "S256")
		}
		if _, err := f.exchange(withPKCE(), "code_verifier", verifier); err != nil {
			t.Errorf("right verifier: %v", err)
		}
		_, err := f.exchange(withPKCE(), "code_verifier", verifier[:42]+"Y")
		wantOAuthError(t, "wrong verifier", err, "invalid_grant")
		_, err = f.exchange(withPKCE())
		wantOAuthError(t, "missing verifier", err, "invalid_grant")
		_, err = f.exchange(withPKCE(), "code_verifier", s256(verifier))
		wantOAuthError(t, "challenge as verifier", err, "invalid_grant")
		// RFC 7636's alphabet and length apply to the verifier too.
		short := "abc"
		_, err = f.exchange(f.code(t, "code_challenge", s256(short), "code_challenge_method", "S256"), "code_verifier", short)
		wantOAuthError(t, "short verifier", err, "invalid_grant")
	})

	t.Run("another client", func(t *testing.T) {
		f := newFixture(t)
		other, otherSecret := f.register(t, AppParams{Name: "Other", RedirectURIs: []string{cb}, Scopes: "read write"})
		code := f.code(t)
		_, err := f.exchange(code, "client_id", other.ClientID, "client_secret", otherSecret)
		wantOAuthError(t, "code of another client", err, "invalid_grant")
	})

	t.Run("client authentication", func(t *testing.T) {
		f := newFixture(t)
		code := f.code(t)
		_, err := f.exchange(code, "client_secret", "wrong")
		wantOAuthError(t, "wrong secret", err, "invalid_client")
		_, err = f.exchange(code, "client_secret", "")
		wantOAuthError(t, "no secret", err, "invalid_client")
		_, err = f.exchange(code, "client_id", "nobody")
		wantOAuthError(t, "unknown client", err, "invalid_client")
		// Failed client authentication does not use the code up.
		if _, err := f.exchange(code); err != nil {
			t.Errorf("code after failed client authentication: %v", err)
		}
	})

	t.Run("bad codes", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.exchange("")
		wantOAuthError(t, "no code", err, "invalid_request")
		_, err = f.exchange("made-up")
		wantOAuthError(t, "unknown code", err, "invalid_grant")
	})

	t.Run("disabled user", func(t *testing.T) {
		f := newFixture(t)
		code := f.code(t)
		if err := f.st.SetUserFlags(ctx, f.alice, "user", true, true); err != nil {
			t.Fatal(err)
		}
		_, err := f.exchange(code)
		wantOAuthError(t, "disabled user", err, "invalid_grant")
	})

	t.Run("grant types", func(t *testing.T) {
		f := newFixture(t)
		for gt, want := range map[string]string{"": "invalid_request", "password": "unsupported_grant_type",
			"refresh_token": "unsupported_grant_type", "implicit": "unsupported_grant_type"} {
			_, err := f.s.Exchange(ctx, TokenParams{GrantType: gt, ClientID: f.app.ClientID, ClientSecret: f.secret})
			wantOAuthError(t, "grant_type "+gt, err, want)
		}
	})
}

func TestClientCredentials(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	narrow, narrowSecret := f.register(t, AppParams{Name: "Narrow", RedirectURIs: []string{OOB}, Scopes: "read:accounts write:statuses"})
	cc := func(app *store.App, secret, scope string) (*Issued, error) {
		return f.s.Exchange(ctx, TokenParams{GrantType: "client_credentials", ClientID: app.ClientID, ClientSecret: secret, Scope: scope})
	}
	for scope, want := range map[string]string{"": "read", "read": "read", "read:statuses write": "read:statuses write"} {
		issued, err := cc(f.app, f.secret, scope)
		if err != nil || issued.Scopes.String() != want {
			t.Errorf("scope %q: %+v, %v; want %q", scope, issued, err, want)
			continue
		}
		tok, _, _, err := f.s.Bearer(ctx, issued.Token)
		if err != nil || tok.AccountID != 0 || tok.AppID != f.app.ID {
			t.Errorf("Bearer of an app token = %+v, %v", tok, err)
		}
	}
	for _, scope := range []string{"follow", "push", "read admin:read", "bogus", "write:media read bogus"} {
		_, err := cc(f.app, f.secret, scope)
		wantOAuthError(t, "scope "+scope, err, "invalid_scope")
	}
	if _, err := cc(narrow, narrowSecret, "read:accounts"); err != nil {
		t.Errorf("narrow app, its own scope: %v", err)
	}
	for _, scope := range []string{"", "read", "write", "read:statuses"} {
		_, err := cc(narrow, narrowSecret, scope)
		wantOAuthError(t, "narrow app, scope "+scope, err, "invalid_scope")
	}
	_, err := cc(f.app, "wrong", "read")
	wantOAuthError(t, "wrong secret", err, "invalid_client")
	_, err = cc(f.app, narrowSecret, "read")
	wantOAuthError(t, "another app's secret", err, "invalid_client")
	_, err = cc(&store.App{ClientID: ""}, f.secret, "read")
	wantOAuthError(t, "no client_id", err, "invalid_client")
}

func TestRevokeAndBearer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	issued, err := f.exchange(f.code(t))
	if err != nil {
		t.Fatal(err)
	}
	other, otherSecret := f.register(t, AppParams{Name: "Other", RedirectURIs: []string{OOB}})

	wantOAuthError(t, "revoke, wrong secret", f.s.Revoke(ctx, f.app.ClientID, "wrong", issued.Token), "invalid_client")
	wantOAuthError(t, "revoke, no token", f.s.Revoke(ctx, f.app.ClientID, f.secret, ""), "invalid_request")
	// Another client cannot revoke it (and learns nothing: no error).
	if err := f.s.Revoke(ctx, other.ClientID, otherSecret, issued.Token); err != nil {
		t.Errorf("revoke by another client: %v", err)
	}
	if _, _, _, err := f.s.Bearer(ctx, issued.Token); err != nil {
		t.Errorf("token revoked by another client: %v", err)
	}
	if err := f.s.Revoke(ctx, f.app.ClientID, f.secret, "unknown-token"); err != nil {
		t.Errorf("revoke of an unknown token: %v (RFC 7009: not an error)", err)
	}
	if err := f.s.Revoke(ctx, f.app.ClientID, f.secret, issued.Token); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, _, _, err := f.s.Bearer(ctx, issued.Token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Bearer after revoke: %v, want ErrInvalidToken", err)
	}
	if err := f.s.Revoke(ctx, f.app.ClientID, f.secret, issued.Token); err != nil {
		t.Errorf("second revoke: %v", err)
	}

	for _, raw := range []string{"", "x", strings.Repeat("a", 201), issued.Token + " "} {
		if _, _, _, err := f.s.Bearer(ctx, raw); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Bearer(%.20q) = %v, want ErrInvalidToken", raw, err)
		}
	}
}

// Tokens and codes are kept only as hashes: the raw value finds nothing.
func TestStoredHashed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	issued, err := f.exchange(f.code(t))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.st.TokenWithApp(ctx, Hash(issued.Token))
	if err != nil {
		t.Fatalf("TokenWithApp(Hash(raw)): %v", err)
	}
	if tok.TokenHash == issued.Token || tok.TokenHash != Hash(issued.Token) {
		t.Errorf("stored token hash %q", tok.TokenHash)
	}
	if _, _, err := f.st.TokenWithApp(ctx, issued.Token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenWithApp(raw) = %v, want ErrNotFound", err)
	}

	code := f.code(t)
	if _, err := f.st.TakeCode(ctx, code); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeCode(raw) = %v, want ErrNotFound", err)
	}
	if _, err := f.exchange(code); err != nil {
		t.Errorf("the code was not found by its hash: %v", err)
	}
	code = f.code(t)
	c, err := f.st.TakeCode(ctx, Hash(code))
	if err != nil || c.CodeHash != Hash(code) || c.AccountID != f.alice {
		t.Errorf("TakeCode(Hash(raw)) = %+v, %v", c, err)
	}
	if c != nil && (time.Until(c.ExpiresAt) > CodeLifetime || time.Until(c.ExpiresAt) < CodeLifetime-time.Minute) {
		t.Errorf("code expires at %v, want about %v from now", c.ExpiresAt, CodeLifetime)
	}

	// Values are unpredictable: 32 random bytes, base64url.
	if len(issued.Token) != 43 || len(code) != 43 || len(f.secret) != 43 || len(f.app.ClientID) != 43 {
		t.Errorf("lengths: token %d, code %d, secret %d, client_id %d", len(issued.Token), len(code), len(f.secret), len(f.app.ClientID))
	}
}

func TestHash(t *testing.T) {
	if got := Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("Hash(abc) = %s", got)
	}
}

func TestValidVerifier(t *testing.T) {
	for v, want := range map[string]bool{
		strings.Repeat("a", 42):                       false,
		strings.Repeat("a", 43):                       true,
		strings.Repeat("a", 128):                      true,
		strings.Repeat("a", 129):                      false,
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk": true,
		strings.Repeat("a", 42) + "~":                 true,
		strings.Repeat("a", 42) + ".":                 true,
		strings.Repeat("a", 42) + "+":                 false,
		strings.Repeat("a", 42) + "=":                 false,
		strings.Repeat("a", 42) + "é":                 false,
	} {
		if got := validVerifier(v); got != want {
			t.Errorf("validVerifier(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestPKCECannotBeStripped(t *testing.T) {
	f := newFixture(t)
	code := f.code(t) // issued without a challenge
	_, err := f.exchange(code, "code_verifier", strings.Repeat("v", 43))
	wantOAuthError(t, "verifier without challenge", err, "invalid_grant")
}

func TestRedirectURIRequiredAtExchange(t *testing.T) {
	f := newFixture(t)
	_, err := f.exchange(f.code(t), "redirect_uri", "")
	wantOAuthError(t, "no redirect_uri at exchange", err, "invalid_grant")
}

func TestEmptyFragmentRefused(t *testing.T) {
	if _, err := ParseRedirectURIs([]string{"https://app.example/cb#"}); err == nil {
		t.Error("a redirect URI with an (empty) fragment was accepted")
	}
}

// Using a token marks its user active (NodeInfo's active users), at most
// once a day.
func TestBearerMarksTheUserActiveOnceADay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	issued, err := f.exchange(f.code(t))
	if err != nil {
		t.Fatal(err)
	}
	lastActive := func() time.Time {
		u, err := f.st.UserByAccountID(ctx, f.alice)
		if err != nil {
			t.Fatal(err)
		}
		return u.LastActiveAt
	}
	start := time.Now()
	f.s.now = func() time.Time { return start.Add(36 * time.Hour) }
	if _, _, _, err := f.s.Bearer(ctx, issued.Token); err != nil {
		t.Fatal(err)
	}
	if got := lastActive(); !got.Equal(start.Add(36 * time.Hour).Truncate(time.Millisecond)) {
		t.Fatalf("after a request a day and a half later: last active %v", got)
	}
	f.s.now = func() time.Time { return start.Add(40 * time.Hour) }
	if _, _, _, err := f.s.Bearer(ctx, issued.Token); err != nil {
		t.Fatal(err)
	}
	if got := lastActive(); !got.Equal(start.Add(36 * time.Hour).Truncate(time.Millisecond)) {
		t.Fatalf("a request four hours later wrote the activity again: %v", got)
	}
}
