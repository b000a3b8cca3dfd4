package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
)

// Who may search what. Anonymous callers (no token, or an app's own token)
// cannot page and find only discoverable accounts, or the one they name
// exactly; signed-in users find every usable account by name and may page.
func TestSearchAccountsAnonymousAndSignedIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	no, hidden := false, "Quiet Person"
	for _, name := range []string{"anna", "andy"} {
		acc, _, err := e.acc.Create(ctx, accounts.NewParams{Username: name, Email: name + "@example.test",
			Password: fixturePassword, Role: accounts.RoleUser, Approved: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.acc.UpdateProfile(ctx, acc.ID, accounts.ProfileUpdate{Discoverable: &no, DisplayName: &hidden}); err != nil {
			t.Fatal(err)
		}
	}
	app := e.createApp(t, `{"client_name":"Searcher","redirect_uris":"urn:ietf:wg:oauth:2.0:oob","scopes":"read"}`)
	appTok := e.clientToken(t, app["client_id"].(string), app["client_secret"].(string), "read")["access_token"].(string)
	userTok := e.userToken(t, e.bob, "read")

	names := func(t *testing.T, tok, path string, q url.Values) []string {
		t.Helper()
		var h []string
		if tok != "" {
			h = bearerHeader(tok)
		}
		rec := e.do(t, http.MethodGet, path+"?"+q.Encode(), nil, h...)
		var list []any
		if path == "/api/v2/search" {
			list, _ = wantJSON(t, rec, http.StatusOK)["accounts"].([]any)
		} else {
			list, _ = decodeAny(t, rec, http.StatusOK).([]any)
		}
		var out []string
		for _, a := range list {
			out = append(out, a.(map[string]any)["username"].(string))
		}
		slices.Sort(out)
		return out
	}
	want := func(t *testing.T, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("found %v, want %v", got, want)
		}
	}
	v2 := func(q string, kv ...string) url.Values {
		v := url.Values{"q": {q}, "type": {"accounts"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	for _, anon := range []struct{ name, tok string }{{"no token", ""}, {"app token", appTok}} {
		t.Run(anon.name, func(t *testing.T) {
			// The review's enumeration: every page past the first is refused, as Mastodon refuses it.
			for _, q := range []url.Values{v2("@", "offset", "1"), v2("a", "offset", "40"), {"q": {"a"}, "offset": {"1"}}} {
				var h []string
				if anon.tok != "" {
					h = bearerHeader(anon.tok)
				}
				rec := e.do(t, http.MethodGet, "/api/v2/search?"+q.Encode(), nil, h...)
				v := wantJSON(t, rec, http.StatusUnauthorized)
				if v["error"] != "Search queries pagination is not supported without authentication" {
					t.Errorf("%v: error %v", q, v["error"])
				}
			}
			want(t, names(t, anon.tok, "/api/v2/search", v2("@")))          // names nobody
			want(t, names(t, anon.tok, "/api/v2/search", v2("a")), "alice") // anna and andy are not discoverable
			want(t, names(t, anon.tok, "/api/v2/search", v2("a", "offset", "0")), "alice")
			want(t, names(t, anon.tok, "/api/v2/search", v2("quiet")))         // nor found by display name
			want(t, names(t, anon.tok, "/api/v2/search", v2("ann")))           // nor by a prefix
			want(t, names(t, anon.tok, "/api/v2/search", v2("anna")), "anna")  // named exactly, as lookup finds it
			want(t, names(t, anon.tok, "/api/v2/search", v2("@ANNA")), "anna") // in any case
			want(t, names(t, anon.tok, "/api/v2/search", v2("anna@"+testHost)), "anna")
			want(t, names(t, anon.tok, "/api/v2/search", url.Values{"q": {"b"}}), "bob")
		})
	}

	t.Run("signed in", func(t *testing.T) {
		// As Mastodon's account search for users: by username and display
		// name, discoverable or not; carol, waiting for approval, never.
		want(t, names(t, userTok, "/api/v2/search", v2("a")), "alice", "andy", "anna")
		want(t, names(t, userTok, "/api/v2/search", v2("quiet")), "andy", "anna")
		want(t, names(t, userTok, "/api/v2/search", v2("carol")))
		want(t, names(t, userTok, "/api/v2/search", v2("@")))
		// Paging works: three accounts, one at a time.
		var paged []string
		for off := range 4 {
			paged = append(paged, names(t, userTok, "/api/v2/search", v2("a", "limit", "1", "offset", string(rune('0'+off))))...)
		}
		slices.Sort(paged)
		want(t, paged, "alice", "andy", "anna")
		want(t, names(t, userTok, "/api/v1/accounts/search", url.Values{"q": {"a"}, "offset": {"2"}, "limit": {"1"}}), "anna")
	})
}
