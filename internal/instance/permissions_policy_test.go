package instance

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// wantPermissionsPolicy checks that a response carries one Permissions-Policy
// denying every feature it must (testutil.DeniedFeatures), and allowing none.
func wantPermissionsPolicy(t *testing.T, resp *http.Response, what string) {
	t.Helper()
	got := resp.Header.Values("Permissions-Policy")
	if len(got) != 1 {
		t.Errorf("%s: Permissions-Policy %q, want one header", what, got)
		return
	}
	if problems := testutil.PermissionsPolicyProblems(got[0]); len(problems) > 0 {
		t.Errorf("%s: Permissions-Policy %q: %s", what, got[0], strings.Join(problems, "; "))
	}
}
