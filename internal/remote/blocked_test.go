package remote

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/outbound"
)

// A host on a blocked domain is never asked anything: no WebFinger, no
// actor, no key. The same server under a host that is not blocked is
// reached, so the refusal is the block's.
func TestBlockedDomainsAreNeverFetched(t *testing.T) {
	ctx := context.Background()
	srv, routes, hits := hostile(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	blockedHost, openHost := "localhost:"+port, "127.0.0.1:"+port
	routes["/users/bob"] = serve("application/activity+json", actorJSON(t, "http://"+openHost+"/users/bob", "http://"+openHost+"/users/bob", &key.PublicKey))

	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.BlockDomain(ctx, "LOCALHOST", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	client := outbound.New(outbound.Config{TestHosts: []string{blockedHost, openHost}})
	f := NewFetcher(client, Signing{}, mustParse("http://own.test")).WithBlocked(st.DomainBlocked)
	a := NewAccounts(slog.New(slog.NewTextHandler(io.Discard, nil)), client, f, st, id.NewGenerator())
	keys := NewKeys(f)

	if _, err := a.Resolve(ctx, 1, Acct{User: "bob", Host: blockedHost}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve bob@%s: %v; want ErrNotFound", blockedHost, err)
	}
	if _, _, err := f.Document(ctx, mustParse("http://"+blockedHost+"/users/bob")); !errors.Is(err, ErrBlocked) {
		t.Errorf("Document on a blocked host: %v; want ErrBlocked", err)
	}
	if _, err := keys.Key(ctx, "http://"+blockedHost+"/users/bob#main-key", false); !errors.Is(err, ErrBlocked) {
		t.Errorf("Key on a blocked host: %v; want ErrBlocked", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the blocked host", n)
	}
	if _, err := keys.Key(ctx, "http://"+openHost+"/users/bob#main-key", false); err != nil {
		t.Fatalf("Key on a host that is not blocked: %v", err)
	}
	if hits.Load() == 0 {
		t.Fatal("the host that is not blocked was not fetched either: the test proves nothing")
	}

	// A block that cannot be read refuses rather than lets through.
	broken := NewFetcher(client, Signing{}).WithBlocked(func(context.Context, string) (bool, error) { return false, errors.New("disk on fire") })
	before := hits.Load()
	if _, _, err := broken.Document(ctx, mustParse("http://"+openHost+"/users/bob")); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Document when the block cannot be read: %v", err)
	}
	if hits.Load() != before {
		t.Error("a fetch was made although the block could not be read")
	}
}
