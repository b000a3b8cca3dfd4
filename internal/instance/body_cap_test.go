package instance

import (
	"io"
	"strings"
	"testing"
)

// A body that grows past http.max_body_bytes while it is read (chunked, no
// Content-Length to refuse up front) gets 413 wherever it is read, like one
// whose Content-Length declared it: the API, the OAuth endpoints and the
// pages' forms. Each answer names the limit and carries the headers.
func TestBodyOverTheCapWhileReadIs413(t *testing.T) {
	ti := startTLS(t, "[http]", `max_body_bytes = "4KiB"`)
	token, _ := ti.userToken("ann", "read write follow")
	_, bob := ti.userToken("bob", "read")
	over := func(prefix string) io.Reader { // no Len(): sent chunked
		return io.MultiReader(strings.NewReader(prefix), strings.NewReader(strings.Repeat("a", 8<<10)))
	}
	form, json := "application/x-www-form-urlencoded", "application/json"
	for _, c := range []struct {
		path, ctype, prefix, token, wantIn string
	}{
		{"/api/v1/apps", form, "client_name=", "", `"error":"the request body is larger than 4096 bytes"`},
		{"/api/v1/apps", json, `{"client_name":"`, "", "larger than 4096 bytes"},
		{"/api/v1/statuses", form, "status=", token, "larger than 4096 bytes"},
		{"/api/v1/accounts/" + bob + "/follow", form, "notify=", token, "larger than 4096 bytes"},
		{"/oauth/token", form, "grant_type=", "", "larger than 4096 bytes"},
		{"/auth/sign_in", form, "username=", "", "larger than this server accepts"},
		{"/oauth/authorize", form, "client_id=", "", "larger than this server accepts"},
	} {
		r, err := ti.request("POST", c.path, over(c.prefix), c.token, "Content-Type", c.ctype, "Accept", "text/html")
		if err != nil {
			t.Fatal(err)
		}
		want := 413
		if c.path == "/oauth/token" {
			want = 400 // RFC 6749's invalid_request, naming the limit
		}
		if r.status != want || !strings.Contains(r.body, c.wantIn) {
			t.Errorf("POST %s (%s) over the cap: %d %q, want %d naming the limit", c.path, c.ctype, r.status, r.body, want)
		}
		if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("POST %s: the answer lacks the security headers: %v", c.path, r.header)
		}
	}
}
