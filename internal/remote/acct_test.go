package remote

import (
	"strings"
	"testing"
)

func TestParseAcct(t *testing.T) {
	for in, want := range map[string]string{
		"acct:alice@example.test":      "alice@example.test",
		"alice@Example.Test":           "alice@example.test",
		"@alice@example.test":          "alice@example.test",
		"Alice_1.x-y@a-b.example:8443": "Alice_1.x-y@a-b.example:8443",
	} {
		a, ok := ParseAcct(in)
		if !ok || a.String() != want {
			t.Errorf("ParseAcct(%q) = %v, %v; want %s", in, a, ok, want)
		}
	}
	for _, in := range []string{
		"", "alice", "acct:alice", "@example.test", "alice@", "al ice@example.test", "alice@exa_mple.test",
		"alice@example.test/x", "alice@-example.test", "alice@example..test", "alice@example.test:", "alice@example.test:99999x",
		"a@b@c", "alice@ex%61mple.test", "<script>@example.test", strings.Repeat("a", 65) + "@example.test",
		"alice@" + strings.Repeat("a", 600),
	} {
		if a, ok := ParseAcct(in); ok {
			t.Errorf("ParseAcct(%q) accepted as %v", in, a)
		}
	}
}

// FuzzParseAcct: whatever the input, an accepted acct is made only of the
// characters a username and a host may hold, and reads back as itself.
func FuzzParseAcct(f *testing.F) {
	for _, s := range []string{"acct:alice@example.test", "@bob@b.example:8443", "x@y", "acct:@", "a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := ParseAcct(s)
		if !ok {
			return
		}
		if strings.ContainsAny(a.String(), " \t\r\n/?#%<>\"'\\") {
			t.Fatalf("%q accepted as %q", s, a)
		}
		again, ok := ParseAcct("acct:" + a.String())
		if !ok || again != a {
			t.Fatalf("%q: %v does not read back (%v, %v)", s, a, again, ok)
		}
	})
}
