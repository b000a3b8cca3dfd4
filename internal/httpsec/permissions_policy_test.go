package httpsec

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// TestPermissionsPolicyDeniesPowerfulFeatures checks the header the instance
// host sends against what it must deny (camera, microphone, geolocation,
// payment, usb, … each =()), not against the constant that produces it, so
// weakening the constant fails here.
func TestPermissionsPolicyDeniesPowerfulFeatures(t *testing.T) {
	rec := httptest.NewRecorder()
	New(testutil.ProdConfig(t, t.TempDir())).App(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	got := rec.Header().Values("Permissions-Policy")
	if len(got) != 1 {
		t.Fatalf("Permissions-Policy headers: %q, want one", got)
	}
	if problems := testutil.PermissionsPolicyProblems(got[0]); len(problems) > 0 {
		t.Errorf("Permissions-Policy %q:\n%s", got[0], strings.Join(problems, "\n"))
	}
}

// TestPermissionsPolicyCheckerRefusesWeakenedPolicies proves the check above
// cannot pass vacuously: each weakening is reported.
func TestPermissionsPolicyCheckerRefusesWeakenedPolicies(t *testing.T) {
	full := strings.Join(testutil.DeniedFeatures, "=(), ") + "=()"
	if p := testutil.PermissionsPolicyProblems(full); len(p) > 0 {
		t.Fatalf("the complete policy is reported: %q", p)
	}
	for name, weak := range map[string]string{
		"camera left out":           strings.Replace(full, "camera=(), ", "", 1),
		"camera for self":           strings.Replace(full, "camera=()", "camera=(self)", 1),
		"microphone for everyone":   strings.Replace(full, "microphone=()", "microphone=*", 1),
		"geolocation for an origin": strings.Replace(full, "geolocation=()", `geolocation=("https://evil.test")`, 1),
		"usb allowed again":         full + ", usb=*",
		"payment without a value":   strings.Replace(full, "payment=()", "payment", 1),
		"empty":                     "",
	} {
		if p := testutil.PermissionsPolicyProblems(weak); len(p) == 0 {
			t.Errorf("%s: %q passes the check", name, weak)
		}
	}
}
