package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// indexable is a setting of its own (Mastodon's): update_credentials sets
// it apart from discoverable, and the account shows what was set.
func TestUpdateCredentialsSetsIndexable(t *testing.T) {
	e := newEnv(t)
	tok := e.userToken(t, e.bob, "read write")
	if v := e.getJSON(t, "/api/v1/accounts/verify_credentials", bearerHeader(tok)...); v["indexable"] != true || v["discoverable"] != true {
		t.Fatalf("a new account: indexable %v discoverable %v, want both true (as its actor published before)", v["indexable"], v["discoverable"])
	}
	rec := e.do(t, http.MethodPatch, "/api/v1/accounts/update_credentials", strings.NewReader(url.Values{"indexable": {"false"}}.Encode()),
		append(bearerHeader(tok), "Content-Type", "application/x-www-form-urlencoded")...)
	if rec.Code != http.StatusOK {
		t.Fatalf("update_credentials: %d %s", rec.Code, rec.Body)
	}
	v := e.getJSON(t, "/api/v1/accounts/verify_credentials", bearerHeader(tok)...)
	src, _ := v["source"].(map[string]any)
	if v["indexable"] != false || src["indexable"] != false || v["discoverable"] != true {
		t.Errorf("after indexable=false: indexable %v (source %v), discoverable %v", v["indexable"], src["indexable"], v["discoverable"])
	}
}
