package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
)

// The security history records what the owner should know of, wherever it
// happens: a second factor turned on, new recovery codes, a sign-in from a
// new browser that went through the second step (not at the password,
// which alone signs nobody in), and the factor turned off.
func TestSecondFactorChangesReachTheHistory(t *testing.T) {
	s, _ := openSiteWithConfig(t)
	s.user("dora")
	kinds := func() []accounts.SecurityEventKind {
		t.Helper()
		list, err := s.inst.Accounts().SecurityHistory(context.Background(), s.account("dora").ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []accounts.SecurityEventKind
		for i := len(list) - 1; i >= 0; i-- { // oldest first
			out = append(out, list[i].Kind)
		}
		return out
	}
	owner := s.newFormClient()
	owner.signIn("dora")
	secret, codes := owner.enableTOTP("dora")
	want := []accounts.SecurityEventKind{accounts.EventNewBrowserSignIn, accounts.EventSecondFactorAdded}
	if got := kinds(); !slices.Equal(got, want) {
		t.Fatalf("after turning TOTP on: %v, want %v", got, want)
	}

	other := s.newFormClient()
	other.passwordStep("dora", "/")
	if got := kinds(); !slices.Equal(got, want) {
		t.Fatalf("after the password alone: %v, want no new event %v", got, want)
	}
	if r := other.submitCode(codes[0]); r.Code != http.StatusSeeOther {
		t.Fatalf("second step: %d", r.Code)
	}
	want = append(want, accounts.EventNewBrowserSignIn)
	if got := kinds(); !slices.Equal(got, want) {
		t.Fatalf("after the second step from a new browser: %v, want %v", got, want)
	}

	page := owner.do(http.MethodGet, "/settings/two_factor", nil)
	fresh := owner.do(http.MethodPost, "/settings/two_factor/recovery_codes", url.Values{"csrf_token": {csrfIn(t, page.Body.String())},
		"password": {"correct horse battery"}, "code": {totpCode(t, secret, 1)}})
	renewed := codeOnPage.FindStringSubmatch(fresh.Body.String())
	if fresh.Code != http.StatusOK || renewed == nil {
		t.Fatalf("new recovery codes: %d", fresh.Code)
	}
	want = append(want, accounts.EventSecondFactorAdded)
	if got := kinds(); !slices.Equal(got, want) {
		t.Fatalf("after new recovery codes: %v, want %v", got, want)
	}

	page = owner.do(http.MethodGet, "/settings/two_factor", nil)
	if r := owner.do(http.MethodPost, "/settings/two_factor/disable", url.Values{"csrf_token": {csrfIn(t, page.Body.String())},
		"password": {"correct horse battery"}, "code": {renewed[1]}}); r.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.Code)
	}
	want = append(want, accounts.EventSecondFactorRemoved)
	if got := kinds(); !slices.Equal(got, want) {
		t.Fatalf("after turning TOTP off: %v, want %v", got, want)
	}
	history := owner.do(http.MethodGet, "/settings/history", nil).Body.String()
	for _, words := range []string{"Two-factor authentication turned on", "Two-factor authentication turned off", "new recovery codes"} {
		if !strings.Contains(history, words) {
			t.Errorf("the history page does not say %q:\n%s", words, history)
		}
	}
}
