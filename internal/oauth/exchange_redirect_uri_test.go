package oauth

import (
	"testing"
)

// TestExchangeComparesRedirectURIExactly: at the token endpoint the
// redirect_uri must be the code's, character for character. Every near miss
// a loose comparison would let through (a prefix, an added path, a trailing
// slash, another letter case, an added query or fragment, an explicit default
// port, an escaped letter, surrounding space) is refused; so is the code's
// own URI sent for a code that was issued for a longer one.
func TestExchangeComparesRedirectURIExactly(t *testing.T) {
	f := newFixture(t)
	for name, sent := range map[string]string{
		"a prefix":             "https://app.example/c",
		"the origin only":      "https://app.example",
		"the origin and slash": "https://app.example/",
		"an added path":        cb + "/more",
		"a trailing slash":     cb + "/",
		"an upper-case host":   "https://APP.EXAMPLE/cb",
		"an upper-case scheme": "HTTPS://app.example/cb",
		"an upper-case path":   "https://app.example/CB",
		"an added query":       cb + "?next=https://evil.example",
		"an empty query":       cb + "?",
		"an empty fragment":    cb + "#",
		"the default port":     "https://app.example:443/cb",
		"an escaped letter":    "https://app.example/%63b",
		"a dot segment":        "https://app.example/./cb",
		"a leading space":      " " + cb,
		"a trailing space":     cb + " ",
		"plain http":           "http://app.example/cb",
	} {
		_, err := f.exchange(f.code(t), "redirect_uri", sent)
		wantOAuthError(t, name+" ("+sent+")", err, "invalid_grant")
	}

	// A code for a longer URI is not redeemed with a prefix of it.
	long := "https://app.example/cb/deeper"
	app, secret := f.register(t, AppParams{Name: "Long", RedirectURIs: []string{long + "\n" + cb}, Scopes: "read"})
	code := func(redirect string) string {
		q := authorizeQuery(app.ClientID, "redirect_uri", redirect)
		req, err := f.s.CheckAuthorize(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.s.IssueCode(t.Context(), req, f.alice)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	exchange := func(c, redirect string) error {
		_, err := f.s.Exchange(t.Context(), TokenParams{GrantType: "authorization_code", Code: c, RedirectURI: redirect,
			ClientID: app.ClientID, ClientSecret: secret})
		return err
	}
	wantOAuthError(t, "a prefix of the code's URI", exchange(code(long), cb), "invalid_grant")
	wantOAuthError(t, "an extension of the code's URI", exchange(code(cb), long), "invalid_grant")

	// The exact URI works: the refusals above are the comparison's doing.
	if _, err := f.exchange(f.code(t), "redirect_uri", cb); err != nil {
		t.Errorf("the exact redirect_uri: %v", err)
	}
	if err := exchange(code(long), long); err != nil {
		t.Errorf("the exact longer redirect_uri: %v", err)
	}
}
