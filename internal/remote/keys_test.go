package remote

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/outbound"
)

// hostile is a server a test fills with documents, to show each spoofing
// case refused.
func hostile(t *testing.T) (*httptest.Server, map[string]func(w http.ResponseWriter, r *http.Request), *atomic.Int64) {
	t.Helper()
	routes := map[string]func(w http.ResponseWriter, r *http.Request){}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h := routes[r.URL.Path]; h != nil {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, routes, &hits
}

func actorJSON(t *testing.T, id, keyOwner string, pub *rsa.PublicKey) []byte {
	t.Helper()
	der, _ := x509.MarshalPKIXPublicKey(pub)
	b, _ := json.Marshal(map[string]any{"id": id, "type": "Person", "preferredUsername": "bob", "inbox": id + "/inbox",
		"publicKey": map[string]any{"id": id + "#main-key", "owner": keyOwner,
			"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}})
	return b
}

func serve(contentType string, body []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Write(body)
	}
}

func TestKeyFetchesFollowTheOriginRules(t *testing.T) {
	srv, routes, hits := hostile(t)
	other, otherRoutes, otherHits := hostile(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	base, otherBase := srv.URL, other.URL
	ap := "application/activity+json"

	routes["/good"] = serve(ap, actorJSON(t, base+"/good", base+"/good", &key.PublicKey))
	routes["/ldjson"] = serve(`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, actorJSON(t, base+"/ldjson", base+"/ldjson", &key.PublicKey))
	routes["/plain-json"] = serve("application/json", actorJSON(t, base+"/plain-json", base+"/plain-json", &key.PublicKey))
	routes["/no-type"] = serve("", actorJSON(t, base+"/no-type", base+"/no-type", &key.PublicKey))
	routes["/html"] = serve("text/html", actorJSON(t, base+"/html", base+"/html", &key.PublicKey))
	routes["/to-other-host"] = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, otherBase+"/bob", http.StatusFound) }
	otherRoutes["/bob"] = serve(ap, actorJSON(t, otherBase+"/bob", otherBase+"/bob", &key.PublicKey))
	routes["/claims-other-id"] = serve(ap, actorJSON(t, base+"/someone-else", base+"/someone-else", &key.PublicKey))
	routes["/someone-else"] = serve(ap, actorJSON(t, base+"/someone-else", base+"/someone-else", &key.PublicKey))
	routes["/claims-other-host"] = serve(ap, actorJSON(t, otherBase+"/bob", otherBase+"/bob", &key.PublicKey))
	routes["/key-of-another"] = serve(ap, actorJSON(t, base+"/key-of-another", base+"/carol", &key.PublicKey))
	routes["/redirect-same-host"] = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/good", http.StatusFound) }

	client := outbound.New(outbound.Config{TestHosts: []string{strings.TrimPrefix(base, "http://"), strings.TrimPrefix(otherBase, "http://")}})
	own := "http://own.test"
	k := NewKeys(NewFetcher(client, Signing{}, mustParse(own), mustParse("http://media.own.test")))
	ctx := context.Background()

	for _, path := range []string{"/good", "/ldjson"} {
		if f, err := k.Key(ctx, base+path+"#main-key", false); err != nil || f.Owner != base+path {
			t.Errorf("%s: %v %+v", path, err, f)
		}
	}
	for _, path := range []string{"/plain-json", "/no-type", "/html", "/to-other-host", "/claims-other-host", "/key-of-another", "/redirect-same-host"} {
		if f, err := k.Key(ctx, base+path+"#main-key", false); err == nil {
			t.Errorf("%s: accepted %+v", path, f)
		}
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("a redirect to another origin was followed (%d requests reached it)", n)
	}
	// A key URL whose document is another actor on the same origin is
	// fetched once more at that actor's id, whose key it is not.
	if f, err := k.Key(ctx, base+"/claims-other-id#main-key", false); err == nil {
		t.Errorf("/claims-other-id: accepted %+v", f)
	}
	before := hits.Load()
	for _, keyID := range []string{own + "/actor#main-key", "http://media.own.test/x#main-key", "https://10.0.0.1/actor#main-key", "http://plain.example/actor#k"} {
		if f, err := k.Key(ctx, keyID, false); err == nil {
			t.Errorf("%s: accepted %+v", keyID, f)
		}
	}
	if hits.Load() != before {
		t.Error("a refused keyId reached the test server")
	}
}

func TestKeysAreCachedAndRefetchedAtMostOncePerInterval(t *testing.T) {
	srv, routes, hits := hostile(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	routes["/bob"] = serve("application/activity+json", actorJSON(t, srv.URL+"/bob", srv.URL+"/bob", &key.PublicKey))
	client := outbound.New(outbound.Config{TestHosts: []string{strings.TrimPrefix(srv.URL, "http://")}})
	k := NewKeys(NewFetcher(client, Signing{}, mustParse("http://own.test")))
	now := time.Now()
	k.now = func() time.Time { return now }
	ctx := context.Background()
	keyID := srv.URL + "/bob#main-key"
	for range 5 {
		if _, err := k.Key(ctx, keyID, false); err != nil {
			t.Fatal(err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("%d fetches for one key; want 1, then the cache", hits.Load())
	}
	for range 5 {
		k.Key(ctx, keyID, true) // a failed verification asks for a fresh copy
	}
	if hits.Load() != 1 {
		t.Fatalf("%d fetches within the refetch interval; want none after the first", hits.Load())
	}
	now = now.Add(keyRefetchInterval + time.Second)
	if _, err := k.Key(ctx, keyID, true); err != nil || hits.Load() != 2 {
		t.Fatalf("after the interval: %v, %d fetches; want one more", err, hits.Load())
	}
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// A key document of its own counts only when its owner's actor lists it:
// a file placed on the origin cannot speak for the actors there.
func TestAKeyStubNeedsItsOwnerToListIt(t *testing.T) {
	srv, routes, _ := hostile(t)
	real, _ := rsa.GenerateKey(rand.Reader, 2048)
	planted, _ := rsa.GenerateKey(rand.Reader, 2048)
	stub := func(id string, pub *rsa.PublicKey) []byte {
		der, _ := x509.MarshalPKIXPublicKey(pub)
		b, _ := json.Marshal(map[string]any{"id": id, "owner": srv.URL + "/users/admin",
			"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))})
		return b
	}
	ap := "application/activity+json"
	// The admin's actor lists its key at /keys/admin, not the planted one.
	admin, _ := json.Marshal(map[string]any{"id": srv.URL + "/users/admin", "type": "Person",
		"publicKey": map[string]any{"id": srv.URL + "/keys/admin", "owner": srv.URL + "/users/admin", "publicKeyPem": func() string {
			der, _ := x509.MarshalPKIXPublicKey(&real.PublicKey)
			return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		}()}})
	routes["/users/admin"] = serve(ap, admin)
	routes["/keys/admin"] = serve(ap, stub(srv.URL+"/keys/admin", &real.PublicKey))
	routes["/media/upload-123.json"] = serve(ap, stub(srv.URL+"/media/upload-123.json", &planted.PublicKey))
	client := outbound.New(outbound.Config{TestHosts: []string{strings.TrimPrefix(srv.URL, "http://")}})
	k := NewKeys(NewFetcher(client, Signing{}, mustParse("http://own.test")))
	ctx := context.Background()
	if f, err := k.Key(ctx, srv.URL+"/keys/admin", false); err != nil || f.Owner != srv.URL+"/users/admin" {
		t.Fatalf("the admin's own key document: %v %+v", err, f)
	}
	if f, err := k.Key(ctx, srv.URL+"/media/upload-123.json", false); err == nil {
		t.Fatalf("a planted key document spoke for the admin: %+v", f)
	}
}

// What is refused without the network is not remembered: a flood of keyIds
// that are not URLs, or are on this instance, leaves nothing behind.
func TestRefusedKeyIDsLeaveNothingBehind(t *testing.T) {
	k := NewKeys(NewFetcher(outbound.New(outbound.Config{}), Signing{}, mustParse("http://own.test")))
	ctx := context.Background()
	for i := range 1000 {
		for _, keyID := range []string{strings.Repeat("x", 100) + fmt.Sprint(i), "http://own.test/actor" + fmt.Sprint(i), "https://b.example/" + strings.Repeat("y", maxKeyIDLength)} {
			if _, err := k.Key(ctx, keyID, false); err == nil {
				t.Fatalf("%.40s… accepted", keyID)
			}
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.fetched) != 0 || len(k.cache) != 0 {
		t.Fatalf("%d refetch times and %d keys kept for refused keyIds", len(k.fetched), len(k.cache))
	}
}

type fixedKey struct{ k *rsa.PrivateKey }

func (f fixedKey) InstanceKey(context.Context) (*rsa.PrivateKey, string, error) { return f.k, "", nil }

// Draft-cavage first; a host that answers 401 gets RFC 9421, and is
// remembered: its next fetch is signed that way at once.
func TestAHostThatRefusesDraftCavageGetsRFC9421(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, only := range []httpsig.Generation{httpsig.Cavage, httpsig.RFC9421} {
		var seen []httpsig.Generation
		var mu sync.Mutex
		srv, routes, _ := hostile(t)
		doc := actorJSON(t, srv.URL+"/bob", srv.URL+"/bob", &key.PublicKey)
		routes["/bob"] = func(w http.ResponseWriter, r *http.Request) {
			s, err := httpsig.Parse(r, "http")
			if err != nil {
				t.Errorf("an unsigned or malformed fetch: %v", err)
				return
			}
			mu.Lock()
			seen = append(seen, s.Generation)
			mu.Unlock()
			if s.Generation != only || s.Verify(&key.PublicKey) != nil {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			serve("application/activity+json", doc)(w, r)
		}
		client := outbound.New(outbound.Config{TestHosts: []string{strings.TrimPrefix(srv.URL, "http://")}})
		f := NewFetcher(client, InstanceSigning(fixedKey{key}, "https://own.test/actor#main-key"), mustParse("https://own.test"))
		for range 2 {
			if _, _, err := f.Document(context.Background(), mustParse(srv.URL+"/bob")); err != nil {
				t.Fatalf("%s only: %v", only, err)
			}
		}
		want := []httpsig.Generation{httpsig.Cavage, httpsig.Cavage}
		if only == httpsig.RFC9421 {
			want = []httpsig.Generation{httpsig.Cavage, httpsig.RFC9421, httpsig.RFC9421}
		}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Errorf("a host taking %s only saw %v; want %v", only, seen, want)
		}
	}
}

// One host gets a share of the key fetches, not all of them (found in
// review): at most 2 in flight and 100 distinct keys per 5 minutes; past
// that its keyIds wait, while another host's are fetched.
func TestOneHostCannotSpendTheKeyFetchBudget(t *testing.T) {
	release := make(chan struct{})
	slow, slowRoutes, slowHits := hostile(t)
	var inSlow sync.WaitGroup
	inSlow.Add(2)
	slowRoutes["/hold"] = func(w http.ResponseWriter, r *http.Request) { inSlow.Done(); <-release; http.NotFound(w, r) }
	busy, _, busyHits := hostile(t)
	other, otherRoutes, _ := hostile(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherRoutes["/good"] = serve("application/activity+json", actorJSON(t, other.URL+"/good", other.URL+"/good", &key.PublicKey))
	client := outbound.New(outbound.Config{TestHosts: []string{strings.TrimPrefix(slow.URL, "http://"),
		strings.TrimPrefix(busy.URL, "http://"), strings.TrimPrefix(other.URL, "http://")}})
	k := NewKeys(NewFetcher(client, Signing{}, mustParse("http://own.test")))
	ctx := context.Background()

	// Two slow fetches from one host hold its share of the slots.
	done := make(chan struct{}, 2)
	for i := range 2 {
		go func() { k.Key(ctx, fmt.Sprintf("%s/hold?%d#k", slow.URL, i), false); done <- struct{}{} }()
	}
	inSlow.Wait()
	if _, err := k.Key(ctx, slow.URL+"/hold?third#k", false); !errors.Is(err, errBusy) {
		t.Errorf("a third fetch from the slow host: %v; want errBusy", err)
	}
	if f, err := k.Key(ctx, other.URL+"/good#main-key", false); err != nil || f.Owner != other.URL+"/good" {
		t.Errorf("another host while the slow one holds two slots: %v", err)
	}
	close(release)
	<-done
	<-done
	if n := slowHits.Load(); n != 2 {
		t.Errorf("the slow host was asked %d times; want 2", n)
	}

	// A hundred distinct keys from one host, then it waits.
	for i := range maxKeysPerHost {
		k.Key(ctx, fmt.Sprintf("%s/k%d#main-key", busy.URL, i), false)
	}
	if _, err := k.Key(ctx, busy.URL+"/one-more#main-key", false); !errors.Is(err, errBusy) {
		t.Errorf("key %d from one host within the interval: %v; want errBusy", maxKeysPerHost+1, err)
	}
	if n := busyHits.Load(); n != maxKeysPerHost {
		t.Errorf("the busy host was asked %d times; want %d", n, maxKeysPerHost)
	}
	k.now = func() time.Time { return time.Now().Add(keyRefetchInterval) }
	if _, err := k.Key(ctx, busy.URL+"/one-more#main-key", false); errors.Is(err, errBusy) {
		t.Error("after the interval the host is still refused")
	}
}
