package api

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testdb"

	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/testutil"
)

// dbFingerprint renders every row of every table, so that a test can tell
// whether a request changed anything at all.
func dbFingerprint(t *testing.T, path string) string {
	t.Helper()
	db := testdb.Open(t, path)
	tables, err := db.Tables()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, c := range cols {
				// Using a token marks its last use (once an hour): the
				// authentication's bookkeeping, not a change the route made.
				if table == "oauth_tokens" && c == "last_used_at" {
					vals[i] = nil
				}
			}
			lines = append(lines, fmt.Sprintf("%q", vals))
		}
		rows.Close()
		sort.Strings(lines)
		fmt.Fprintf(&out, "%s: %d rows\n%s\n", table, len(lines), strings.Join(lines, "\n"))
	}
	return out.String()
}

// TestWriteRoutesRefuseTokensWithoutTheirWriteScope takes one write route of
// each write scope family. A token with only read scopes, or with every write
// scope but the route's own, gets 403 insufficient_scope and changes nothing
// in the database; a token with exactly the route's scope succeeds.
func TestWriteRoutesRefuseTokensWithoutTheirWriteScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Bob mentions alice: a status to favourite and bookmark, a notification to clear.
	posted := wantJSON(t, e.do(t, "POST", "/api/v1/statuses", strings.NewReader("status=%40alice+hello"),
		append(bearerHeader(e.userToken(t, e.bob, "write:statuses")), "Content-Type", "application/x-www-form-urlencoded")...), http.StatusOK)
	bobID, statusID := fmt.Sprint(e.bob.ID), posted["id"].(string)
	// And writes to her directly: a conversation to mark read.
	direct := wantJSON(t, e.do(t, "POST", "/api/v1/statuses", strings.NewReader("status=%40alice+psst&visibility=direct"),
		append(bearerHeader(e.userToken(t, e.bob, "write:statuses")), "Content-Type", "application/x-www-form-urlencoded")...), http.StatusOK)
	form := func(kv ...string) func() (io.Reader, string) {
		return func() (io.Reader, string) {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
		}
	}
	upload := func() (io.Reader, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "picture.png")
		fw.Write(testutil.GradientPNG(t, 8, 8))
		mw.Close()
		return &buf, mw.FormDataContentType()
	}
	routes := []struct {
		scope, method, path string
		body                func() (io.Reader, string)
	}{
		{"write:statuses", "POST", "/api/v1/statuses", form("status", "posted with a read token")},
		{"write:accounts", "PATCH", "/api/v1/accounts/update_credentials", form("display_name", "Renamed")},
		{"write:follows", "POST", "/api/v1/accounts/" + bobID + "/follow", form()},
		{"write:favourites", "POST", "/api/v1/statuses/" + statusID + "/favourite", form()},
		{"write:bookmarks", "POST", "/api/v1/statuses/" + statusID + "/bookmark", form()},
		{"write:notifications", "POST", "/api/v1/notifications/clear", form()},
		{"write:media", "POST", "/api/v1/media", upload},
		{"write:filters", "POST", "/api/v2/filters", form("title", "t", "context[]", "home", "keywords_attributes[][keyword]", "k")},
		{"write:mutes", "POST", "/api/v1/accounts/" + bobID + "/mute", form()},
		{"write:conversations", "POST", "/api/v1/conversations/" + direct["id"].(string) + "/read", form()},
		{"write:blocks", "POST", "/api/v1/accounts/" + bobID + "/block", form()}, // last: a block ends the rest
	}
	allWrite := map[string]bool{}
	for _, s := range oauth.AllScopes() {
		if strings.HasPrefix(s, "write:") {
			allWrite[s] = true
		}
	}
	for _, rt := range routes {
		if !allWrite[rt.scope] {
			t.Fatalf("%s is not a write scope", rt.scope)
		}
		var others []string
		for s := range allWrite {
			if s != rt.scope {
				others = append(others, s)
			}
		}
		sort.Strings(others)
		for _, scopes := range []string{"read", "read profile push", strings.Join(others, " ")} {
			token := e.userToken(t, e.alice, scopes)
			before := dbFingerprint(t, e.cfg.DatabasePath())
			body, ctype := rt.body()
			rec := e.do(t, rt.method, rt.path, body, append(bearerHeader(token), "Content-Type", ctype)...)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`) {
				t.Errorf("%s %s with a token for %q: %d %s, want 403 insufficient_scope", rt.method, rt.path, scopes, rec.Code, rec.Body)
			}
			if after := dbFingerprint(t, e.cfg.DatabasePath()); before != after {
				t.Errorf("%s %s with a token for %q changed the database", rt.method, rt.path, scopes)
			}
		}
		body, ctype := rt.body()
		if rec := e.do(t, rt.method, rt.path, body, append(bearerHeader(e.userToken(t, e.alice, rt.scope)), "Content-Type", ctype)...); rec.Code != http.StatusOK {
			t.Errorf("%s %s with a token for %s: %d %s", rt.method, rt.path, rt.scope, rec.Code, rec.Body)
		}
	}
}
