package instance

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// peer is an instance serving on its own loopback listener, configured
// with the URL it is reached at.
type peer struct {
	inst *Instance
	base string // http://host:port
	logs *testutil.SyncBuffer
}

// listen opens a loopback listener and returns it with its port.
func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return ln, port
}

// startPeer runs a dev instance on ln at http://<appHost>:<port> (its media
// host <mediaHost> on the same port), with extra config lines.
func startPeer(t *testing.T, ln net.Listener, appHost, mediaHost string, extra ...string) *peer {
	t.Helper()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var err error
	text := strings.Join(append([]string{
		`env = "dev"`,
		`url = "http://` + appHost + `:` + port + `"`,
		`media_url = "http://` + mediaHost + `:` + port + `"`,
		`data_dir = "` + t.TempDir() + `"`,
		`secret_key = "` + testutil.Secret + `"`,
	}, extra...), "\n") + "\n"
	cfg, err := config.Parse([]byte(text), nil)
	if err != nil {
		t.Fatalf("peer config: %v", err)
	}
	testutil.UseTestDatabase(t, cfg)
	storetest.Seed(cfg.DatabasePath())
	p := &peer{base: "http://" + appHost + ":" + port, logs: &testutil.SyncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	if p.inst, err = Open(ctx, cfg, slog.New(slog.NewJSONHandler(p.logs, nil)), Options{KeyPairs: testutil.RSAKeyPair}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.inst.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		p.inst.Close()
	})
	return p
}

func (p *peer) port() string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(p.base, "http://"))
	return port
}

// getActor fetches an actor from p, signed by sign when not nil, and
// decodes it (nil when it is not JSON).
func getActor(t *testing.T, p *peer, path string, sign func(*http.Request)) (int, map[string]any) {
	t.Helper()
	status, body := getRaw(t, p, path, sign)
	var doc map[string]any
	_ = json.Unmarshal([]byte(body), &doc)
	return status, doc
}

// Two instances: B fetches A's actor with a signed GET, and A verifies the
// signature with B's instance actor's key, which it fetches from B through
// its outbound client. A verified signer gets the whole actor; an unsigned
// fetch the stripped one, and so does a forged signature.
func TestSignedFetchBetweenTwoInstances(t *testing.T) {
	// Each reaches the other's host:port over http (the test allow-list).
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := context.Background()
	if _, _, err := a.inst.Accounts().Create(ctx, accounts.NewParams{Username: "alice", Email: "alice@a.test",
		Password: "a long enough password", Approved: true}); err != nil {
		t.Fatal(err)
	}
	bKey, _, err := b.inst.Accounts().InstanceKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bKeyID := b.base + "/actor#main-key"
	signWith := func(gen string, key httpsig.Key) func(*http.Request) {
		return func(r *http.Request) {
			sign := httpsig.SignCavage
			if gen == "rfc9421" {
				sign = httpsig.SignRFC9421
			}
			if err := sign(r, nil, key, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}

	status, doc := getActor(t, a, "/users/alice", nil)
	if status != http.StatusOK || doc["outbox"] != nil || doc["publicKey"] == nil {
		t.Fatalf("unsigned: %d %v; want the stripped actor", status, doc)
	}
	for _, gen := range []string{"cavage", "rfc9421"} {
		status, doc = getActor(t, a, "/users/alice", signWith(gen, httpsig.Key{ID: bKeyID, Private: bKey}))
		if status != http.StatusOK || doc["outbox"] != a.base+"/users/alice/outbox" {
			t.Fatalf("%s, signed by B's instance actor: %d %v; want the whole actor\nA's log:\n%s", gen, status, doc, a.logs.String())
		}
	}

	// A user of B signs with its Ed25519 key (hs2019 and RFC 9421's
	// ed25519): A fetches bob's actor from B, itself a signed fetch that B
	// verifies against A's instance actor, and finds the key among bob's
	// assertionMethod Multikeys.
	bob, _, err := b.inst.Accounts().Create(ctx, accounts.NewParams{Username: "bob", Email: "bob@b.test",
		Password: "a long enough password", Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	edText, err := b.inst.store.AccountEd25519Key(ctx, bob.ID)
	if err != nil || edText == "" {
		t.Fatalf("bob's Ed25519 key: %q %v", edText, err)
	}
	block, _ := pem.Decode([]byte(edText))
	edKey, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, gen := range []string{"cavage", "rfc9421"} {
		status, doc = getActor(t, a, "/users/alice", signWith(gen, httpsig.Key{ID: b.base + "/users/bob#ed25519-key", Private: edKey.(ed25519.PrivateKey)}))
		if status != http.StatusOK || doc["outbox"] == nil {
			t.Fatalf("%s, signed by bob's Ed25519 key: %d %v\nA's log:\n%s\nB's log:\n%s", gen, status, doc, a.logs.String(), b.logs.String())
		}
	}

	forger, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, key := range map[string]httpsig.Key{
		"another key under B's keyId":       {ID: bKeyID, Private: forger},
		"a keyId on a host A may not reach": {ID: "http://localhost:1/actor#main-key", Private: forger},
		"a keyId on A's own host":           {ID: a.base + "/actor#main-key", Private: forger},
		"a keyId that is not a URL":         {ID: "main-key", Private: forger},
	} {
		status, doc = getActor(t, a, "/users/alice", signWith("cavage", key))
		if status != http.StatusOK || doc["outbox"] != nil || doc["publicKey"] == nil {
			t.Errorf("%s: %d %v; want the stripped actor, as to an unsigned fetch", name, status, doc)
		}
	}
}

// A person on A searches @bob@B with resolve=true: A asks B's WebFinger,
// fetches bob's actor with a signed GET (B verifies it against A's
// instance actor), keeps him beside its local accounts, and the API shows
// him as Mastodon would, his bio sanitized.
func TestSearchResolvesAnAccountOnAnotherInstance(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := context.Background()
	bob, _, err := b.inst.Accounts().Create(ctx, accounts.NewParams{Username: "bob", Email: "bob@b.test",
		Password: "a long enough password", Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	bio, name := "I <script>alert(1)</script> like <b>Go</b>", "Bob <i>x</i>"
	if _, _, err := b.inst.Accounts().UpdateProfile(ctx, bob.ID, accounts.ProfileUpdate{Note: &bio, DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	alice, _, err := a.inst.Accounts().Create(ctx, accounts.NewParams{Username: "alice", Email: "alice@a.test",
		Password: "a long enough password", Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := a.inst.OAuth().RegisterApp(ctx, oauth.AppParams{Name: "t", RedirectURIs: []string{oauth.OOB}, Scopes: "read"})
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := oauth.ParseScopes("read")
	tok, err := a.inst.OAuth().IssueForAccount(ctx, app.ID, alice.ID, sc)
	if err != nil {
		t.Fatal(err)
	}
	search := func(q string, resolve bool) []map[string]any {
		t.Helper()
		u := a.base + "/api/v2/search?type=accounts&q=" + url.QueryEscape(q)
		if resolve {
			u += "&resolve=true"
		}
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Accounts []map[string]any `json:"accounts"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("search %q: %d %v", q, resp.StatusCode, err)
		}
		return out.Accounts
	}
	acct := "bob@localhost:" + portB
	if got := search("@"+acct, false); len(got) != 0 {
		t.Fatalf("without resolve, an unknown remote account was found: %v", got)
	}
	got := search("@"+acct, true)
	if len(got) != 1 {
		t.Fatalf("with resolve: %v\nA's log:\n%s\nB's log:\n%s", got, a.logs.String(), b.logs.String())
	}
	bobOnA := got[0]
	if bobOnA["acct"] != acct || bobOnA["username"] != "bob" || bobOnA["uri"] != b.base+"/users/bob" || bobOnA["url"] != b.base+"/@bob" {
		t.Errorf("bob as A shows him: %v", bobOnA)
	}
	if note := fmt.Sprint(bobOnA["note"]); strings.Contains(note, "<script") || !strings.Contains(note, "like") {
		t.Errorf("bob's bio on A: %q", note)
	}
	if dn := fmt.Sprint(bobOnA["display_name"]); strings.Contains(dn, "<") || !strings.HasPrefix(dn, "Bob") {
		t.Errorf("bob's display name on A: %q", dn)
	}
	// Found again, now from A's own store, and by id through the API.
	if again := search("@"+acct, true); len(again) != 1 || again[0]["id"] != bobOnA["id"] {
		t.Fatalf("second search: %v", again)
	}
	resp, err := http.Get(a.base + "/api/v1/accounts/" + fmt.Sprint(bobOnA["id"]))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the remote account by id: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if got := search("@nobody@localhost:"+portB, true); len(got) != 0 {
		t.Errorf("an account B does not have was found: %v", got)
	}
}

// tokenFor makes a person on p and a read/write token for them.
func tokenFor(t *testing.T, p *peer, name string) string {
	t.Helper()
	ctx := context.Background()
	acc, _, err := p.inst.Accounts().Create(ctx, accounts.NewParams{Username: name, Email: name + "@example.net",
		Password: "a long enough password", Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := p.inst.OAuth().RegisterApp(ctx, oauth.AppParams{Name: "t", RedirectURIs: []string{oauth.OOB}, Scopes: "read write"})
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := oauth.ParseScopes("read write")
	tok, err := p.inst.OAuth().IssueForAccount(ctx, app.ID, acc.ID, sc)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// post publishes a status on p and returns its id and uri.
func post(t *testing.T, p *peer, token string, form url.Values) (id, uri string) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.base+"/api/v1/statuses", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct{ ID, URI string }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("post: %d %v", resp.StatusCode, err)
	}
	return st.ID, st.URI
}

// Statuses are Notes at their ids, addressed as Mastodon addresses the four
// visibilities, served only as their signer may see them: under authorized
// fetch nothing without a verified signature.
func TestStatusesAreNotes(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	open := startPeer(t, func() net.Listener { ln, _ := listen(t); return ln }(), "127.0.0.1", "localhost", "[federation]", "authorized_fetch = false")
	ctx := context.Background()
	bKey, _, err := b.inst.Accounts().InstanceKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	signedByB := func(r *http.Request) {
		if err := httpsig.SignCavage(r, nil, httpsig.Key{ID: b.base + "/actor#main-key", Private: bKey}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	for _, p := range []*peer{a, open} {
		tok := tokenFor(t, p, "alice")
		_, uri := post(t, p, tok, url.Values{"status": {"hello #fedi"}, "visibility": {"public"}})
		_, unlisted := post(t, p, tok, url.Values{"status": {"quiet"}, "visibility": {"unlisted"}})
		_, private := post(t, p, tok, url.Values{"status": {"friends only"}, "visibility": {"private"}})
		_, direct := post(t, p, tok, url.Values{"status": {"just us"}, "visibility": {"direct"}})
		path := func(u string) string { return strings.TrimPrefix(u, p.base) }
		sign := signedByB
		if p == open {
			sign = nil // authorized fetch off: an unsigned fetch sees what anyone may see
		}

		status, doc := getActor(t, p, path(uri), sign)
		if status != http.StatusOK || doc["type"] != "Note" || doc["id"] != uri || doc["attributedTo"] != p.base+"/users/alice" {
			t.Fatalf("public status: %d %v\n%s", status, doc, p.logs.String())
		}
		followers := p.base + "/users/alice/followers"
		if fmt.Sprint(doc["to"]) != "["+activitypub.Public+"]" || fmt.Sprint(doc["cc"]) != "["+followers+"]" {
			t.Errorf("public: to %v cc %v", doc["to"], doc["cc"])
		}
		if tags := fmt.Sprint(doc["tag"]); !strings.Contains(tags, "Hashtag") || !strings.Contains(tags, "#fedi") {
			t.Errorf("public: tag %v", doc["tag"])
		}
		status, doc = getActor(t, p, path(unlisted), sign)
		if status != http.StatusOK || fmt.Sprint(doc["to"]) != "["+followers+"]" || fmt.Sprint(doc["cc"]) != "["+activitypub.Public+"]" {
			t.Errorf("unlisted: %d to %v cc %v", status, doc["to"], doc["cc"])
		}
		// B's instance actor follows nobody and is mentioned nowhere.
		for _, u := range []string{private, direct} {
			if status, doc = getActor(t, p, path(u), sign); status != http.StatusNotFound {
				t.Errorf("%s to a viewer who may not see it: %d %v", u, status, doc)
			}
		}
		if p == a {
			if status, _ := getActor(t, a, path(uri), nil); status != http.StatusUnauthorized {
				t.Errorf("authorized fetch, unsigned Note fetch: %d; want 401", status)
			}
		}
		// Content negotiation, both ways: a browser at the id gets the
		// page, an ActivityPub client at the page gets the id.
		id := uri[strings.LastIndexByte(uri, '/')+1:]
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, tc := range []struct{ path, accept, want string }{
			{path(uri), "text/html", p.base + "/@alice/" + id},
			{"/@alice/" + id, "application/activity+json", uri},
		} {
			req, _ := http.NewRequest("GET", p.base+tc.path, nil)
			req.Header.Set("Accept", tc.accept)
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tc.want {
				t.Errorf("%s with Accept %s: %d to %q; want %s", tc.path, tc.accept, resp.StatusCode, resp.Header.Get("Location"), tc.want)
			}
		}
	}
}

// The hourly janitor fetches again the remote accounts a day old: what the
// remote server says now replaces what was known.
func TestStaleRemoteAccountsAreRefreshed(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := context.Background()
	bob, _, err := b.inst.Accounts().Create(ctx, accounts.NewParams{Username: "bob", Email: "bob@b.test", Password: "a long enough password", Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	token := tokenFor(t, a, "alice")
	req, _ := http.NewRequest("GET", a.base+"/api/v2/search?type=accounts&resolve=true&q="+url.QueryEscape("@bob@localhost:"+portB), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	onA, err := a.inst.Store().AccountByUsername(ctx, "bob", "localhost:"+portB)
	if err != nil {
		t.Fatalf("bob was not resolved: %v\n%s", err, a.logs.String())
	}
	name := "Robert"
	if _, _, err := b.inst.Accounts().UpdateProfile(ctx, bob.ID, accounts.ProfileUpdate{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	// A round now changes nothing: bob was fetched just now.
	a.inst.janitorRound(ctx)
	if got, _ := a.inst.Store().AccountByID(ctx, onA.ID); got.DisplayName == "Robert" {
		t.Fatal("a fresh account was fetched again")
	}
	// A day later, the round brings his new name.
	if err := a.inst.Store().SetRemoteAccountFetchedAt(ctx, onA.ID, time.Now().Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	a.inst.janitorRound(ctx)
	if got, _ := a.inst.Store().AccountByID(ctx, onA.ID); got.DisplayName != "Robert" {
		t.Fatalf("after a refresh round bob is %q\n%s", got.DisplayName, a.logs.String())
	}
}
