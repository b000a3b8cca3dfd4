package instance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"
)

// openDB opens the instance's database beside it, read-write, for tests that
// look at or age rows directly.
func (ti *tlsInstance) openDB() *testdb.DB {
	ti.t.Helper()
	return testdb.Open(ti.t, ti.inst.cfg.DatabasePath())
}

type sessionRow struct {
	idHash             string
	created, expiresAt int64 // Unix milliseconds
}

func sessionRows(t *testing.T, db *testdb.DB) []sessionRow {
	t.Helper()
	rows, err := db.Query(`SELECT id_hash, created_at, expires_at FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sessionRow
	for rows.Next() {
		var r sessionRow
		if err := rows.Scan(&r.idHash, &r.created, &r.expiresAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestSessionLifetimeIsBoundedAndExpiredSessionsAreRefused: a session lasts
// security.session_lifetime from sign-in — the cookie's Max-Age and the
// stored expiry both — and using it does not extend it. Once its expiry has
// passed it no longer signs in, although its row is still there (the hourly
// janitor has not run).
func TestSessionLifetimeIsBoundedAndExpiredSessionsAreRefused(t *testing.T) {
	ti := startTLS(t, "[security]", `session_lifetime = "2h"`)
	ti.createUser("alice", "correct horse battery")
	db := ti.openDB()

	signedIn := time.Now()
	r := ti.signIn(ti.client, "alice", "correct horse battery", "/")
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.status)
	}
	_, c := sessionCookie(t, r.header)
	if c.MaxAge != 7200 {
		t.Errorf("Max-Age %d, want security.session_lifetime (7200 s)", c.MaxAge)
	}
	rows := sessionRows(t, db)
	if len(rows) != 1 {
		t.Fatalf("%d session rows, want 1", len(rows))
	}
	first := rows[0]
	if d := time.Duration(first.expiresAt-first.created) * time.Millisecond; d != 2*time.Hour {
		t.Errorf("stored lifetime %v, want 2h", d)
	}
	if created := time.UnixMilli(first.created); created.Before(signedIn.Add(-time.Second)) || created.After(time.Now().Add(time.Second)) {
		t.Errorf("created_at %v is not the sign-in time %v", created, signedIn)
	}

	// Using the session, on pages and forms, neither moves its expiry nor sets a new cookie.
	bare, _ := ti.newClient()
	bare.Jar = nil
	visit := func(path string) reply {
		return ti.call(bare, "GET", path, nil, "", "Cookie", c.Name+"="+c.Value)
	}
	for _, path := range []string{"/", "/auth/sign_in", "/", "/@alice"} {
		r := visit(path)
		if len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("GET %s with a live session set %q", path, r.header.Values("Set-Cookie"))
		}
	}
	if !strings.Contains(visit("/").body, "Signed in as <strong>@alice</strong>") {
		t.Fatal("the session does not sign in")
	}
	if rows := sessionRows(t, db); len(rows) != 1 || rows[0] != first {
		t.Errorf("using the session changed it: %+v → %+v", first, rows)
	}

	// Past its expiry the row is still there but no longer signs in, anywhere.
	if _, err := db.Exec(`UPDATE sessions SET expires_at = ?`, time.Now().Add(-time.Second).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(visit("/").body, "Signed in as") {
		t.Error("an expired session still signs in")
	}
	a := ti.registerApp("https://client.test/cb", "read")
	q := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {"https://client.test/cb"}, "scope": {"read"}}
	if r := visit("/oauth/authorize?" + q.Encode()); r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "/auth/sign_in") {
		t.Errorf("the consent page with an expired session: %d → %q, want the sign-in page", r.status, r.header.Get("Location"))
	}
	if n := len(sessionRows(t, db)); n != 1 {
		t.Fatalf("%d session rows; the expired row should still be there for this test to mean anything", n)
	}
}

// TestSessionValueIsStoredOnlyAsItsDigest: the sessions table keys a session
// by the SHA-256 of the cookie value, and the value itself is in no file of
// the data directory (database, WAL or shared memory).
func TestSessionValueIsStoredOnlyAsItsDigest(t *testing.T) {
	ti := startTLS(t)
	ti.createUser("alice", "correct horse battery")
	r := ti.signIn(ti.client, "alice", "correct horse battery", "/")
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.status)
	}
	_, c := sessionCookie(t, r.header)
	sum := sha256.Sum256([]byte(c.Value))
	rows := sessionRows(t, ti.openDB())
	if len(rows) != 1 || rows[0].idHash != hex.EncodeToString(sum[:]) {
		t.Errorf("sessions hold %+v, want only the SHA-256 of the cookie value", rows)
	}
	err := filepath.WalkDir(ti.inst.cfg.DataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(c.Value)) {
			t.Errorf("%s holds the session cookie's value", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
