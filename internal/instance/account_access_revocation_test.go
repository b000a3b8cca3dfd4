package instance

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/oauth"
)

// TestDisabledOrPendingAccountsSessionIsSignedOut: a session row of an
// account that is disabled or not approved counts as signed out on the
// pages and at the consent page, even while the row exists. Disabling
// through the account service deletes the row too, so re-enabling does not
// bring the old session back.
func TestDisabledOrPendingAccountsSessionIsSignedOut(t *testing.T) {
	ti := startTLS(t)
	ctx := context.Background()
	ti.createUser("alice", "correct horse battery")
	acc, err := ti.inst.Store().AccountByUsername(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	a := ti.registerApp("https://client.test/cb", "read")
	authorize := "/oauth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {a.id},
		"redirect_uri": {"https://client.test/cb"}, "scope": {"read"}}.Encode()
	if r := ti.signIn(ti.client, "alice", "correct horse battery", "/"); r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.status)
	}
	consent := ti.call(ti.client, "GET", authorize, nil, "")
	if consent.status != http.StatusOK {
		t.Fatalf("consent page: %d", consent.status)
	}
	approve := url.Values{"csrf_token": {csrfOf(t, consent.body)}, "decision": {"approve"}}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(consent.body, -1) {
		if m[1] != "csrf_token" {
			approve.Set(m[1], m[2])
		}
	}
	signedIn := func() bool {
		return strings.Contains(ti.call(ti.client, "GET", "/", nil, "").body, "Signed in as <strong>@alice</strong>")
	}
	if !signedIn() {
		t.Fatal("not signed in to begin with")
	}

	// The flags change in the store alone, so the session row stays: only the pages' check stands.
	for _, state := range []struct {
		name               string
		approved, disabled bool
	}{{"disabled", true, true}, {"pending", false, false}} {
		if err := ti.inst.Store().SetUserFlags(ctx, acc.ID, accounts.RoleUser, state.approved, state.disabled); err != nil {
			t.Fatal(err)
		}
		if signedIn() {
			t.Errorf("%s: the home page still greets alice", state.name)
		}
		if r := ti.call(ti.client, "GET", authorize, nil, ""); r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "/auth/sign_in") {
			t.Errorf("%s: the consent page: %d → %q, want the sign-in page", state.name, r.status, r.header.Get("Location"))
		}
		if r := ti.call(ti.client, "POST", "/oauth/authorize", approve, ""); r.status != http.StatusForbidden || strings.Contains(r.header.Get("Location"), "code=") {
			t.Errorf("%s: approving with the old form: %d → %q, want 403 and no code", state.name, r.status, r.header.Get("Location"))
		}
	}
	if err := ti.inst.Store().SetUserFlags(ctx, acc.ID, accounts.RoleUser, true, false); err != nil {
		t.Fatal(err)
	}
	if !signedIn() {
		t.Fatal("the session did not come back with the account: the checks above did not test the pages' rule")
	}

	// Disabling through the service ends the session for good.
	disabled, enabled := true, false
	if _, err := ti.inst.Accounts().Modify(ctx, acc.ID, accounts.Change{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if signedIn() {
		t.Error("signed in while disabled")
	}
	if _, err := ti.inst.Accounts().Modify(ctx, acc.ID, accounts.Change{Disabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	if signedIn() {
		t.Error("re-enabling the account brought its old session back: disabling did not delete it")
	}
}

// TestPasswordResetAndDisablingRevokeTokens: a token issued before a
// password reset or before disabling stops working on the API at once, and
// re-enabling the account does not revive it.
func TestPasswordResetAndDisablingRevokeTokens(t *testing.T) {
	ti := startTLS(t)
	ctx := context.Background()
	ti.createUser("alice", "correct horse battery")
	acc, err := ti.inst.Store().AccountByUsername(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := ti.inst.OAuth().RegisterApp(ctx, oauth.AppParams{Name: "client", RedirectURIs: []string{oauth.OOB}, Scopes: "read write"})
	if err != nil {
		t.Fatal(err)
	}
	token := func() string {
		sc, _ := oauth.ParseScopes("read write")
		tok, err := ti.inst.OAuth().IssueForAccount(ctx, app.ID, acc.ID, sc)
		if err != nil {
			t.Fatal(err)
		}
		if r := ti.call(ti.client, "GET", "/api/v1/accounts/verify_credentials", nil, tok.Token); r.status != 200 {
			t.Fatalf("a fresh token does not work: %d", r.status)
		}
		return tok.Token
	}
	works := func(tok string) (bool, int) {
		r := ti.call(ti.client, "POST", "/api/v1/statuses", url.Values{"status": {"still here"}}, tok)
		return r.status == 200, r.status
	}

	beforeReset := token()
	if err := ti.inst.Accounts().ResetPassword(ctx, acc.ID, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if ok, status := works(beforeReset); ok || status != http.StatusUnauthorized {
		t.Errorf("a token from before the password reset: %d, want 401", status)
	}

	beforeDisable := token()
	disabled, enabled := true, false
	if _, err := ti.inst.Accounts().Modify(ctx, acc.ID, accounts.Change{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if ok, status := works(beforeDisable); ok {
		t.Errorf("a token of a disabled account posted: %d", status)
	}
	if _, err := ti.inst.Accounts().Modify(ctx, acc.ID, accounts.Change{Disabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	if ok, status := works(beforeDisable); ok || status != http.StatusUnauthorized {
		t.Errorf("a token from before disabling, after re-enabling: %d, want 401 (revoked, not suspended)", status)
	}
	if ok, status := works(token()); !ok {
		t.Errorf("a token issued after re-enabling: %d", status)
	}
}
