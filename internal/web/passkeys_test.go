package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/store"
)

// TestPasskeyEndpointsNeedTheirToken: every passkey POST without the
// visitor's CSRF token is refused and begins or changes nothing; the
// settings endpoints refuse a signed-out visitor; with the token, the
// options come back as JSON for this instance's RP id.
func TestPasskeyEndpointsNeedTheirToken(t *testing.T) {
	s, cfg := openSiteWithConfig(t)
	s.user("alice")
	alice := s.newFormClient()
	alice.signIn("alice")
	for _, target := range []string{"/settings/passkeys/options", "/auth/passkey/options"} {
		r := alice.do(http.MethodPost, target, url.Values{"name": {"key"}})
		if r.Code != http.StatusForbidden || !strings.HasPrefix(r.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s without a token: %d %s", target, r.Code, r.Header().Get("Content-Type"))
		}
	}
	if r := alice.do(http.MethodPost, "/auth/passkey", url.Values{"credential": {"{}"}}); r.Code != http.StatusForbidden ||
		!strings.Contains(r.Body.String(), "Your form expired") {
		t.Errorf("the passkey sign-in without a token: %d", r.Code)
	}
	if r := alice.do(http.MethodPost, "/settings/passkeys", url.Values{"credential": {"{}"}}); r.Code != http.StatusForbidden {
		t.Errorf("adding without a token: %d", r.Code)
	}
	if n := countRows(t, cfg, "passkey_ceremonies"); n != 0 {
		t.Errorf("%d ceremonies begun without a token", n)
	}

	// Signed out: the settings page sends to the sign-in page, its endpoint refuses.
	anon := s.newFormClient()
	if r := anon.do(http.MethodGet, "/settings/passkeys", nil); r.Code != http.StatusSeeOther ||
		r.Header().Get("Location") != "/auth/sign_in?return_to=%2Fsettings%2Fpasskeys" {
		t.Errorf("the settings page signed out: %d %s", r.Code, r.Header().Get("Location"))
	}
	if r := anon.do(http.MethodPost, "/settings/passkeys/options", url.Values{}); r.Code != http.StatusUnauthorized {
		t.Errorf("the registration options signed out: %d", r.Code)
	}

	// With the token.
	page := alice.do(http.MethodGet, "/settings/passkeys", nil)
	if page.Code != http.StatusOK {
		t.Fatalf("the settings page: %d", page.Code)
	}
	if pp := page.Header().Get("Permissions-Policy"); !strings.Contains(pp, "publickey-credentials-get=(self)") {
		t.Errorf("the settings page's Permissions-Policy %q does not open publickey-credentials-get to self", pp)
	}
	if pp := alice.do(http.MethodGet, "/", nil).Header().Get("Permissions-Policy"); !strings.Contains(pp, "publickey-credentials-get=()") {
		t.Errorf("the home page's Permissions-Policy %q opens publickey-credentials-get", pp)
	}
	token := csrfIn(t, page.Body.String())
	// Without the password, or with a wrong one, nothing is begun: a
	// session alone cannot plant a passkey.
	for _, pw := range []string{"", "not my password"} {
		if r := alice.do(http.MethodPost, "/settings/passkeys/options", url.Values{"csrf_token": {token}, "name": {"Laptop"},
			"password": {pw}}); r.Code != http.StatusUnauthorized || !strings.Contains(r.Body.String(), "Wrong password.") {
			t.Errorf("the registration options with the password %q: %d %s", pw, r.Code, r.Body)
		}
	}
	if n := countRows(t, cfg, "passkey_ceremonies"); n != 0 {
		t.Errorf("%d ceremonies begun without the password", n)
	}
	r := alice.do(http.MethodPost, "/settings/passkeys/options", url.Values{"csrf_token": {token}, "name": {"Laptop"},
		"password": {"correct horse battery"}})
	var opts struct {
		PublicKey struct {
			RP struct{ ID string } `json:"rp"`
		} `json:"publicKey"`
	}
	if r.Code != http.StatusOK || json.Unmarshal(r.Body.Bytes(), &opts) != nil || opts.PublicKey.RP.ID != "example.test" {
		t.Errorf("the registration options: %d %s", r.Code, r.Body)
	}
	if r := alice.do(http.MethodPost, "/settings/passkeys/options", url.Values{"csrf_token": {token}, "name": {""},
		"password": {"correct horse battery"}}); r.Code != http.StatusBadRequest ||
		!strings.Contains(r.Body.String(), "name") {
		t.Errorf("options for a nameless passkey: %d %s", r.Code, r.Body)
	}
	// A made-up answer is refused with the sign-in page, not a 500.
	signin := anon.do(http.MethodGet, "/auth/sign_in", nil)
	if pp := signin.Header().Get("Permissions-Policy"); !strings.Contains(pp, "publickey-credentials-get=(self)") {
		t.Errorf("the sign-in page's Permissions-Policy %q does not open publickey-credentials-get to self", pp)
	}
	anonToken := csrfIn(t, signin.Body.String())
	if r := anon.do(http.MethodPost, "/auth/passkey/options", url.Values{"csrf_token": {anonToken}}); r.Code != http.StatusOK {
		t.Fatalf("the sign-in options: %d %s", r.Code, r.Body)
	}
	r = anon.do(http.MethodPost, "/auth/passkey", url.Values{"csrf_token": {anonToken}, "credential": {`{"id":"AAAA","type":"public-key"}`},
		"return_to": {"/settings/passkeys"}})
	if r.Code != http.StatusForbidden || !strings.Contains(r.Body.String(), "The passkey was not accepted.") || anon.signedInAs() != "" {
		t.Errorf("a made-up answer: %d\n%s", r.Code, r.Body)
	}
	// The ceremony was used by that attempt: the same again has nothing to finish.
	r = anon.do(http.MethodPost, "/auth/passkey", url.Values{"csrf_token": {anonToken}, "credential": {`{}`}})
	if r.Code != http.StatusForbidden || !strings.Contains(r.Body.String(), "expired") {
		t.Errorf("a second answer to one ceremony: %d\n%s", r.Code, r.Body)
	}
	// A body over the bound is refused before it is read.
	big := strings.Repeat("A", 300<<10)
	if r := anon.do(http.MethodPost, "/auth/passkey", url.Values{"csrf_token": {anonToken}, "credential": {big}}); r.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 300 KiB answer: %d", r.Code)
	}
	if r := anon.do(http.MethodPost, "/auth/passkey/options", url.Values{"csrf_token": {anonToken}, "pad": {big}}); r.Code != http.StatusRequestEntityTooLarge ||
		!strings.HasPrefix(r.Header().Get("Content-Type"), "application/json") {
		t.Errorf("300 KiB of options request: %d %s", r.Code, r.Header().Get("Content-Type"))
	}
}

// TestRemovePasskeyTakesThePassword: the remove form with a wrong password
// keeps the passkey (401), with the right one removes it; another
// account's passkey cannot be removed.
func TestRemovePasskeyTakesThePassword(t *testing.T) {
	s := openSite(t)
	s.user("alice")
	s.user("bob")
	ctx := context.Background()
	st := s.inst.Store()
	aliceID := s.account("alice").ID
	key := &store.Passkey{ID: 42, AccountID: aliceID, CredentialID: []byte("cred"), PublicKey: []byte("key"), AAGUID: make([]byte, 16),
		Name: "Blue key", CreatedAt: time.Now()}
	alice, bob := s.newFormClient(), s.newFormClient()
	alice.signIn("alice") // before the passkey, which would make the password ask for it
	bob.signIn("bob")
	if err := st.CreatePasskey(ctx, key, 20); err != nil {
		t.Fatal(err)
	}

	// Bob, with his own password, cannot remove alice's.
	bobToken := csrfIn(t, bob.do(http.MethodGet, "/settings/passkeys", nil).Body.String())
	if r := bob.do(http.MethodPost, "/settings/passkeys/42/remove", url.Values{"csrf_token": {bobToken}, "password": {"correct horse battery"}}); r.Code != http.StatusNotFound {
		t.Errorf("bob removing alice's passkey: %d", r.Code)
	}
	page := alice.do(http.MethodGet, "/settings/passkeys", nil)
	if !strings.Contains(page.Body.String(), "Blue key") || !strings.Contains(page.Body.String(), "never used") {
		t.Fatalf("the settings page does not list the passkey:\n%s", page.Body)
	}
	token := csrfIn(t, page.Body.String())
	r := alice.do(http.MethodPost, "/settings/passkeys/42/remove", url.Values{"csrf_token": {token}, "password": {"not my password"}})
	if r.Code != http.StatusUnauthorized || !strings.Contains(r.Body.String(), "Wrong password.") {
		t.Errorf("with a wrong password: %d", r.Code)
	}
	if keys, _ := st.PasskeysOf(ctx, aliceID); len(keys) != 1 {
		t.Fatal("a wrong password removed the passkey")
	}
	r = alice.do(http.MethodPost, "/settings/passkeys/42/remove", url.Values{"csrf_token": {token}, "password": {"correct horse battery"}})
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/settings/passkeys?done=removed" {
		t.Fatalf("with the password: %d %s", r.Code, r.Header().Get("Location"))
	}
	if keys, _ := st.PasskeysOf(ctx, aliceID); len(keys) != 0 {
		t.Error("the passkey is still there")
	}
	// The history has the removal, and nothing of the refused attempts.
	history, err := s.inst.Accounts().SecurityHistory(ctx, aliceID)
	if err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, e := range history {
		if e.Kind == accounts.EventPasskeyRemoved {
			removed++
		}
	}
	if removed != 1 {
		t.Errorf("%d passkey removals in alice's history, want 1", removed)
	}
	if body := alice.do(http.MethodGet, "/settings/passkeys?done=removed", nil).Body.String(); !strings.Contains(body, "Passkey removed.") ||
		!strings.Contains(body, "You have no passkey yet") {
		t.Errorf("the page after removal:\n%s", body)
	}
}
