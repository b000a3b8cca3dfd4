package instance

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/rampart-social/rampart/internal/password"
)

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

// checkStoredHash fails unless hash is argon2id with at least the documented
// parameters (m=19 MiB, t=2, p=1, a 16-byte salt, a 32-byte key).
func checkStoredHash(t *testing.T, what, hash string) {
	t.Helper()
	m := phcRE.FindStringSubmatch(hash)
	if m == nil {
		t.Errorf("%s: %q is not an argon2id PHC string", what, hash)
		return
	}
	mem, _ := strconv.Atoi(m[1])
	iter, _ := strconv.Atoi(m[2])
	par, _ := strconv.Atoi(m[3])
	salt, err1 := base64.RawStdEncoding.DecodeString(m[4])
	key, err2 := base64.RawStdEncoding.DecodeString(m[5])
	if mem < 19*1024 || iter < 2 || par < 1 || err1 != nil || err2 != nil || len(salt) < 16 || len(key) < 32 {
		t.Errorf("%s: m=%d t=%d p=%d salt %d bytes key %d bytes, weaker than m=19456 t=2 p=1, 16 and 32 bytes", what, mem, iter, par, len(salt), len(key))
	}
}

// TestStoredPasswordHashesKeepTheDocumentedCost: the running instance hashes
// with at least the documented argon2id parameters, and a stored hash made
// with weaker ones is replaced at the next successful sign-in.
func TestStoredPasswordHashesKeepTheDocumentedCost(t *testing.T) {
	ti := startTLS(t)
	ctx := context.Background()
	ti.createUser("alice", "correct horse battery")
	acc, err := ti.inst.Store().AccountByUsername(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	stored := func() string {
		u, err := ti.inst.Store().UserByAccountID(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u.PasswordHash
	}
	checkStoredHash(t, "a new account's hash", stored())

	weak, err := password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}, 1).Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := ti.inst.Store().SetPasswordHash(ctx, acc.ID, weak); err != nil {
		t.Fatal(err)
	}
	if r := ti.signIn(ti.client, "alice", "correct horse battery", "/"); r.status != http.StatusSeeOther {
		t.Fatalf("sign in with a weakly hashed password: %d", r.status)
	}
	if now := stored(); now == weak {
		t.Error("the weak hash was kept after a successful sign-in")
	} else {
		checkStoredHash(t, "the hash after sign-in", now)
	}
	if err := ti.inst.Accounts().ResetPassword(ctx, acc.ID, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	checkStoredHash(t, "a reset password's hash", stored())
}
