package session

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

// newManager builds a manager over a fresh store from a prod test config,
// with secret_key replaced by secret when it is not empty.
func newManager(t *testing.T, secret string, extra ...string) (*Manager, *store.Store) {
	t.Helper()
	text := testutil.ProdConfigText(t.TempDir(), extra...)
	if secret != "" {
		text = strings.Replace(text, testutil.Secret, secret, 1)
	}
	cfg, err := config.Parse([]byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.UseTestDatabase(t, cfg)
	st, err := storetest.OpenErr(t, cfg.DatabasePath(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	return m, st
}

// TestCSRFRefusesEmptyAndForeignTokens: a visitor without a cookie has no
// token, so nothing it sends passes, an empty token least of all; a visitor
// with a cookie passes only with the token of that very value, made with this
// instance's secret.
func TestCSRFRefusesEmptyAndForeignTokens(t *testing.T) {
	m, _ := newManager(t, "")
	none := State{}
	if tok := m.CSRFToken(none); tok != "" {
		t.Errorf("a visitor without a cookie has a token: %q", tok)
	}
	for _, tok := range []string{"", " ", "\x00"} {
		if m.CheckCSRF(none, tok) {
			t.Errorf("no cookie, token %q: accepted", tok)
		}
	}

	mine, theirs := State{Raw: id.Secret()}, State{Raw: id.Secret()}
	if !m.CheckCSRF(mine, m.CSRFToken(mine)) {
		t.Fatal("the visitor's own token is refused")
	}
	other, _ := newManager(t, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	for name, tok := range map[string]string{
		"empty":                   "",
		"another visitor's":       m.CSRFToken(theirs),
		"the cookie value itself": mine.Raw,
		"another instance's":      other.CSRFToken(mine),
		"truncated":               m.CSRFToken(mine)[:42],
		"with a byte appended":    m.CSRFToken(mine) + "A",
	} {
		if m.CheckCSRF(mine, tok) {
			t.Errorf("%s token accepted", name)
		}
	}
}
