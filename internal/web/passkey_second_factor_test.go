package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testdb"
)

// pendingAttempts is the wrong attempts counted against the only pending
// sign-in; -1 when there is none.
func pendingAttempts(t *testing.T, cfg *config.Config) int {
	t.Helper()
	db := testdb.Open(t, cfg.DatabasePath())
	n := -1
	if err := db.QueryRow(`SELECT attempts FROM pending_sign_ins`).Scan(&n); err != nil && !strings.Contains(err.Error(), "no rows") {
		t.Fatal(err)
	}
	return n
}

// TestPasskeyOnlyAccountGetsTheSecondStep: an account whose only second
// factor is a passkey is not signed in by its password; the second step
// offers the passkey (not a code form it could not fill), its options name
// the account's credential, and made-up answers are refused and counted
// as wrong codes are, ending the pending sign-in at the third.
func TestPasskeyOnlyAccountGetsTheSecondStep(t *testing.T) {
	s, cfg := openSiteWithConfig(t)
	s.user("alice")
	ctx := context.Background()
	key := &store.Passkey{ID: 42, AccountID: s.account("alice").ID, CredentialID: []byte("cred"), PublicKey: []byte("key"),
		AAGUID: make([]byte, 16), Name: "Blue key", CreatedAt: time.Now()}
	if err := s.inst.Store().CreatePasskey(ctx, key, 20); err != nil {
		t.Fatal(err)
	}
	if _, err := s.inst.Store().PasskeyHandle(ctx, key.AccountID, []byte("a handle of thirty-two bytes....")); err != nil {
		t.Fatal(err)
	}

	// Nobody's second step: the options refuse.
	anon := s.newFormClient()
	anonToken := csrfIn(t, anon.do(http.MethodGet, "/auth/sign_in", nil).Body.String())
	if r := anon.do(http.MethodPost, "/auth/second_factor/passkey/options", url.Values{"csrf_token": {anonToken}}); r.Code != http.StatusUnauthorized ||
		!strings.HasPrefix(r.Header().Get("Content-Type"), "application/json") {
		t.Errorf("options without a pending sign-in: %d %s", r.Code, r.Body)
	}

	c := s.newFormClient()
	c.passwordStep("alice", "/settings/passkeys") // fails unless the password leads to the second step
	if who := c.signedInAs(); who != "" {
		t.Fatalf("the password alone signed in %s", who)
	}
	step := c.do(http.MethodGet, "/auth/second_factor", nil)
	body := step.Body.String()
	if step.Code != http.StatusOK || !strings.Contains(body, `action="/auth/second_factor/passkey"`) || !strings.Contains(body, "Use a passkey") {
		t.Fatalf("the second step does not offer the passkey: %d\n%s", step.Code, body)
	}
	if strings.Contains(body, `name="code"`) {
		t.Error("the second step of an account without TOTP asks for a code")
	}
	if pp := step.Header().Get("Permissions-Policy"); !strings.Contains(pp, "publickey-credentials-get=(self)") {
		t.Errorf("the second step's Permissions-Policy %q does not open publickey-credentials-get to self", pp)
	}
	token := csrfIn(t, body)
	if r := c.do(http.MethodPost, "/auth/second_factor/passkey/options", url.Values{}); r.Code != http.StatusForbidden {
		t.Errorf("options without the token: %d", r.Code)
	}
	r := c.do(http.MethodPost, "/auth/second_factor/passkey/options", url.Values{"csrf_token": {token}})
	var opts struct {
		PublicKey struct {
			RPID  string `json:"rpId"`
			Allow []struct {
				ID string `json:"id"`
			} `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if r.Code != http.StatusOK || json.Unmarshal(r.Body.Bytes(), &opts) != nil || opts.PublicKey.RPID != "example.test" ||
		len(opts.PublicKey.Allow) != 1 || opts.PublicKey.Allow[0].ID != base64.RawURLEncoding.EncodeToString([]byte("cred")) {
		t.Fatalf("the second step's options: %d %s", r.Code, r.Body)
	}

	// A made-up answer is refused and counted; so is one without options.
	for i := 1; i <= 2; i++ {
		r = c.do(http.MethodPost, "/auth/second_factor/passkey", url.Values{"csrf_token": {token}, "credential": {`{"id":"Y3JlZA","type":"public-key"}`}})
		if r.Code != http.StatusUnauthorized || !strings.Contains(r.Body.String(), "Use a passkey") || c.signedInAs() != "" {
			t.Fatalf("made-up answer %d: %d\n%s", i, r.Code, r.Body)
		}
		if n := pendingAttempts(t, cfg); n != i {
			t.Fatalf("after made-up answer %d the pending sign-in counts %d wrong attempts", i, n)
		}
	}
	r = c.do(http.MethodPost, "/auth/second_factor/passkey", url.Values{"csrf_token": {token}, "credential": {`{}`}})
	if r.Code != http.StatusUnauthorized || !strings.Contains(r.Body.String(), "Your sign-in ended") || c.signedInAs() != "" {
		t.Fatalf("the third wrong answer: %d\n%s", r.Code, r.Body)
	}
	if n := pendingAttempts(t, cfg); n != -1 {
		t.Errorf("the pending sign-in outlived three wrong answers (%d)", n)
	}
	if r := c.do(http.MethodGet, "/auth/second_factor", nil); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/auth/sign_in" {
		t.Errorf("the second step after it ended: %d %s", r.Code, r.Header().Get("Location"))
	}
}

// TestSecondStepOffersBothFactors: an account with TOTP and a passkey is
// offered both at the second step, and its code still signs it in.
func TestSecondStepOffersBothFactors(t *testing.T) {
	s := openSite(t)
	s.user("bob")
	c := s.newFormClient()
	c.signIn("bob")
	secret, _ := c.enableTOTP("bob")
	key := &store.Passkey{ID: 7, AccountID: s.account("bob").ID, CredentialID: []byte("bob's"), PublicKey: []byte("key"),
		AAGUID: make([]byte, 16), Name: "Key", CreatedAt: time.Now()}
	if err := s.inst.Store().CreatePasskey(context.Background(), key, 20); err != nil {
		t.Fatal(err)
	}
	other := s.newFormClient()
	other.passwordStep("bob", "/")
	body := other.do(http.MethodGet, "/auth/second_factor", nil).Body.String()
	if !strings.Contains(body, `name="code"`) || !strings.Contains(body, `action="/auth/second_factor/passkey"`) {
		t.Fatalf("the second step of an account with TOTP and a passkey:\n%s", body)
	}
	if r := other.submitCode(totpCode(t, secret, 1)); r.Code != http.StatusSeeOther || other.signedInAs() != "bob" {
		t.Fatalf("the code at a step that also offers a passkey: %d", r.Code)
	}
}
