package httpsec

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// TestAllowPasskeys: the pages that ask for a passkey get
// publickey-credentials-get for their own origin, and nothing else changes:
// every other feature stays denied, and with security.headers off nothing
// is added.
func TestAllowPasskeys(t *testing.T) {
	cfg := testutil.ProdConfig(t, t.TempDir())
	l := New(cfg)
	rec := httptest.NewRecorder()
	copyHeaders(rec.Header(), l.app)
	l.AllowPasskeys(rec)
	got := rec.Header().Values("Permissions-Policy")
	if len(got) != 1 {
		t.Fatalf("Permissions-Policy %q, want one", got)
	}
	var others []string
	for _, item := range strings.Split(got[0], ", ") {
		if item == "publickey-credentials-get=(self)" {
			continue
		}
		others = append(others, item)
	}
	if len(others) != len(strings.Split(PermissionsPolicy, ", "))-1 {
		t.Errorf("Permissions-Policy %q: want publickey-credentials-get=(self) in place of =()", got[0])
	}
	if want := strings.Replace(PermissionsPolicy, "publickey-credentials-get=(), ", "", 1); strings.Join(others, ", ") != want {
		t.Errorf("the other features changed: %q, want %q", strings.Join(others, ", "), want)
	}
	cfg.Security.Headers = false
	off := httptest.NewRecorder()
	New(cfg).AllowPasskeys(off)
	if v := off.Header().Values("Permissions-Policy"); len(v) != 0 {
		t.Errorf("with security.headers off: %q", v)
	}
}
