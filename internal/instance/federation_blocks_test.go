package instance

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/remote"
)

// countingListener counts the connections made to a peer.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// getRaw is getActor with the body as it came.
func getRaw(t *testing.T, p *peer, path string, sign func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", p.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/activity+json")
	if sign != nil {
		sign(req)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, "127.0.0.1:"+p.port())
	}}
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// blockPeers are A (at 127.0.0.1) and B (at localhost) reaching each other,
// with alice and carol on A and bob on B; B's listener counts connections.
type blockPeers struct {
	a, b    *peer
	toB     *countingListener
	portB   string
	alice   int64
	bob     int64
	tokens  map[string]string   // alice's and carol's on A
	signedB func(*http.Request) // by B's instance actor
	signBob func(*http.Request) // by bob's Ed25519 key
}

func newBlockPeers(t *testing.T) *blockPeers {
	t.Helper()
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	bp := &blockPeers{toB: &countingListener{Listener: lnB}, portB: portB}
	bp.b = startPeer(t, bp.toB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	bp.a = startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := context.Background()
	bp.tokens = map[string]string{}
	for _, name := range []string{"alice", "carol"} {
		bp.tokens[name] = tokenFor(t, bp.a, name)
	}
	alice, err := bp.a.inst.Store().AccountByUsername(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	bp.alice = alice.ID
	bob, _, err := bp.b.inst.Accounts().Create(ctx, accounts.NewParams{Username: "bob", Email: "bob@b.test",
		Password: "a long enough password", Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	bp.bob = bob.ID
	bKey, _, err := bp.b.inst.Accounts().InstanceKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	edText, err := bp.b.inst.store.AccountEd25519Key(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(edText))
	edKey, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	signer := func(key httpsig.Key) func(*http.Request) {
		return func(r *http.Request) {
			if err := httpsig.SignCavage(r, nil, key, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	bp.signedB = signer(httpsig.Key{ID: bp.b.base + "/actor#main-key", Private: bKey})
	bp.signBob = signer(httpsig.Key{ID: bp.b.base + "/users/bob#ed25519-key", Private: edKey.(ed25519.PrivateKey)})
	return bp
}

// A blocks B's domain: B's signed fetches get 403 and a word, nothing of
// the actor or the Note, and A does not fetch B's key to find that out,
// even a key it had cached; what A stored of B is gone, and A neither
// looks up nor fetches anything on B any more. The instance actor stays
// served to everyone (key discovery).
func TestDomainBlockRefusesSignedRequestsAndOutboundFetches(t *testing.T) {
	bp := newBlockPeers(t)
	a := bp.a
	ctx := context.Background()
	tok := bp.tokens["alice"]
	_, noteURI := post(t, a, tok, url.Values{"status": {"hello"}, "visibility": {"public"}})
	notePath := strings.TrimPrefix(noteURI, a.base)

	// Before the block: B's signature is verified (A fetches B's key) and
	// bob is resolved onto A.
	if status, body := getRaw(t, a, "/users/alice", bp.signedB); status != http.StatusOK || !strings.Contains(body, `"outbox"`) {
		t.Fatalf("before the block: %d %s\nA's log:\n%s", status, body, a.logs.String())
	}
	bobOnA, err := a.inst.remote.Resolve(ctx, bp.alice, remote.Acct{User: "bob", Host: "localhost:" + bp.portB})
	if err != nil {
		t.Fatalf("resolving bob before the block: %v", err)
	}

	removed, err := a.inst.Store().BlockDomain(ctx, "LocalHost", "test", time.Now())
	if err != nil || removed != 1 {
		t.Fatalf("BlockDomain: %d %v; want bob removed", removed, err)
	}
	if _, err := a.inst.Store().AccountByID(ctx, bobOnA.ID); err == nil {
		t.Error("bob is still stored on A")
	}
	before := bp.toB.accepted.Load()
	for _, path := range []string{"/users/alice", notePath} {
		for name, sign := range map[string]func(*http.Request){"B's instance actor": bp.signedB, "bob": bp.signBob} {
			status, body := getRaw(t, a, path, sign)
			if status != http.StatusForbidden || strings.TrimSpace(body) != "Forbidden" {
				t.Errorf("%s signed by %s of a blocked domain: %d %q; want 403 and nothing else", path, name, status, body)
			}
		}
	}
	// Not looked up again either, through the search API or the resolver.
	if _, err := a.inst.remote.Resolve(ctx, bp.alice, remote.Acct{User: "bob", Host: "localhost:" + bp.portB}); !errors.Is(err, remote.ErrNotFound) {
		t.Errorf("resolving bob after the block: %v; want ErrNotFound", err)
	}
	req, _ := http.NewRequest("GET", a.base+"/api/v2/search?type=accounts&resolve=true&q="+url.QueryEscape("@bob@localhost:"+bp.portB), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "bob") {
		t.Errorf("search after the block: %d %s", resp.StatusCode, body)
	}
	if n := bp.toB.accepted.Load() - before; n != 0 {
		t.Errorf("A made %d connections to the blocked B", n)
	}

	// What anyone may have stays served: the instance actor, and the
	// stripped actor to an unsigned fetch (a blocked server can always
	// fetch unsigned; it cannot be told apart).
	if status, body := getRaw(t, a, "/actor", bp.signedB); status != http.StatusOK || !strings.Contains(body, "publicKey") {
		t.Errorf("instance actor to a blocked signer: %d %s", status, body)
	}
	if status, body := getRaw(t, a, "/users/alice", nil); status != http.StatusOK || strings.Contains(body, `"outbox"`) {
		t.Errorf("unsigned fetch: %d %s; want the stripped actor", status, body)
	}

	// Unblocked, B is verified again and bob can be found.
	if err := a.inst.Store().UnblockDomain(ctx, "localhost"); err != nil {
		t.Fatal(err)
	}
	if status, body := getRaw(t, a, "/users/alice", bp.signedB); status != http.StatusOK || !strings.Contains(body, `"outbox"`) {
		t.Errorf("after the unblock: %d %s", status, body)
	}
	if _, err := a.inst.remote.Resolve(ctx, bp.alice, remote.Acct{User: "bob", Host: "localhost:" + bp.portB}); err != nil {
		t.Errorf("resolving bob after the unblock: %v", err)
	}
}

// alice on A blocks bob on B: bob's signed fetches of alice's actor and of
// her Notes get 403 and a word; of carol's, what they got before. B's
// instance actor, whom alice has not blocked, still gets alice's.
func TestAccountBlockRefusesTheBlockedSigner(t *testing.T) {
	bp := newBlockPeers(t)
	a := bp.a
	ctx := context.Background()
	bobOnA, err := a.inst.remote.Resolve(ctx, bp.alice, remote.Acct{User: "bob", Host: "localhost:" + bp.portB})
	if err != nil {
		t.Fatal(err)
	}
	path := func(uri string) string { return strings.TrimPrefix(uri, a.base) }
	_, aliceNote := post(t, a, bp.tokens["alice"], url.Values{"status": {"alice says hi"}, "visibility": {"public"}})
	_, carolNote := post(t, a, bp.tokens["carol"], url.Values{"status": {"carol says hi"}, "visibility": {"public"}})
	want := func(what string, sign func(*http.Request), p string, wantStatus int, wantIn string) {
		t.Helper()
		status, body := getRaw(t, a, p, sign)
		if status != wantStatus || !strings.Contains(body, wantIn) {
			t.Errorf("%s: %d %q; want %d with %q\nA's log:\n%s", what, status, body, wantStatus, wantIn, a.logs.String())
		}
	}
	want("bob, alice's actor, before the block", bp.signBob, "/users/alice", http.StatusOK, `"outbox"`)
	want("bob, alice's note, before the block", bp.signBob, path(aliceNote), http.StatusOK, "alice says hi")

	if err := a.inst.Store().Block(ctx, time.Now().UnixNano(), bp.alice, bobOnA.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/users/alice", path(aliceNote)} {
		status, body := getRaw(t, a, p, bp.signBob)
		if status != http.StatusForbidden || strings.TrimSpace(body) != "Forbidden" {
			t.Errorf("bob, blocked by alice, %s: %d %q; want 403 and nothing else", p, status, body)
		}
	}
	want("bob, carol's actor", bp.signBob, "/users/carol", http.StatusOK, `"outbox"`)
	want("bob, carol's note", bp.signBob, path(carolNote), http.StatusOK, "carol says hi")
	want("B's instance actor, alice's actor", bp.signedB, "/users/alice", http.StatusOK, `"outbox"`)
	want("B's instance actor, alice's note", bp.signedB, path(aliceNote), http.StatusOK, "alice says hi")
}

// In allow-list mode (federation.mode = "allowlist") only allowed domains
// federate: before B's domain is allowed, A neither looks bob up nor takes
// his deliveries (403); once it is, both work, and bob's post reaches alice.
func TestAllowListModeFederatesOnlyWithAllowedDomains(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `mode = "allowlist"`, `test_hosts = ["localhost:`+portB+`"]`)
	ctx := t.Context()
	aliceTok := tokenFor(t, a, "alice")
	bobTok := tokenFor(t, b, "bob")
	var found struct{ Accounts []struct{ ID string } }
	getJSON(t, a, aliceTok, "/api/v2/search?type=accounts&resolve=true&q="+url.QueryEscape("@bob@localhost:"+portB), &found)
	if len(found.Accounts) != 0 {
		t.Fatalf("A looked bob up before his domain was allowed: %+v", found)
	}
	follow := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"` + b.base + `/users/bob#follows/1","type":"Follow","actor":"` +
		b.base + `/users/bob","object":"` + a.base + `/users/alice"}`)
	if code := deliver(t, b, "bob", a.base+"/inbox", follow); code != http.StatusForbidden {
		t.Errorf("a delivery from a domain not allowed: %d; want 403", code)
	}
	if err := a.inst.Store().AllowDomain(ctx, "localhost", time.Now()); err != nil {
		t.Fatal(err)
	}
	bobOnA := resolveOn(t, a, aliceTok, "bob@localhost:"+portB)
	if code := apiCall(t, a, aliceTok, "POST", "/api/v1/accounts/"+bobOnA+"/follow", url.Values{}); code != 200 {
		t.Fatalf("follow: %d", code)
	}
	waitFor(t, "B to accept alice's follow", func() bool {
		var rels []map[string]any
		getJSON(t, a, aliceTok, "/api/v1/accounts/relationships?id[]="+bobOnA, &rels)
		return len(rels) == 1 && rels[0]["following"] == true
	})
	_, hello := post(t, b, bobTok, url.Values{"status": {"allowed at last"}, "visibility": {"public"}})
	waitFor(t, "bob's post on A", func() bool {
		_, err := a.inst.Store().StatusByURI(ctx, hello)
		return err == nil
	})
}

// A silenced domain still federates, limited: its posts reach those who
// follow its people but stay out of the public timelines; a follow from it
// is a request, even of an unlocked account; and it notifies only those who
// follow it.
func TestASilencedDomainIsLimited(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := t.Context()
	aliceTok, carolTok := tokenFor(t, a, "alice"), tokenFor(t, a, "carol")
	bobTok := tokenFor(t, b, "bob")
	if _, err := a.inst.Store().LimitDomain(ctx, "localhost", "loud", true, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	bobOnA := resolveOn(t, a, aliceTok, "bob@localhost:"+portB)
	if code := apiCall(t, a, aliceTok, "POST", "/api/v1/accounts/"+bobOnA+"/follow", url.Values{}); code != 200 {
		t.Fatalf("alice follows bob: %d", code)
	}
	waitFor(t, "the follow", func() bool {
		var rels []map[string]any
		getJSON(t, a, aliceTok, "/api/v1/accounts/relationships?id[]="+bobOnA, &rels)
		return len(rels) == 1 && rels[0]["following"] == true
	})
	_, hello := post(t, b, bobTok, url.Values{"status": {"loud hello #noise"}, "visibility": {"public"}})
	var home []struct{ URI string }
	waitFor(t, "bob's post in alice's home", func() bool {
		getJSON(t, a, aliceTok, "/api/v1/timelines/home", &home)
		return len(home) > 0 && home[0].URI == hello
	})
	for _, path := range []string{"/api/v1/timelines/public", "/api/v1/timelines/public?remote=true", "/api/v1/timelines/tag/noise"} {
		var list []struct{ URI string }
		getJSON(t, a, aliceTok, path, &list)
		for _, s := range list {
			if s.URI == hello {
				t.Errorf("%s on A lists a silenced domain's post", path)
			}
		}
	}
	// Bob follows carol, who is not locked: a request all the same.
	carolOnB := resolveOn(t, b, bobTok, "carol@127.0.0.1:"+portA)
	if code := apiCall(t, b, bobTok, "POST", "/api/v1/accounts/"+carolOnB+"/follow", url.Values{}); code != 200 {
		t.Fatalf("bob follows carol: %d", code)
	}
	var requests []struct{ Acct string }
	waitFor(t, "bob's request to carol", func() bool {
		getJSON(t, a, carolTok, "/api/v1/follow_requests", &requests)
		return len(requests) == 1
	})
	// Bob favourites a post of each: alice, who follows him, is told;
	// carol, who does not, is not.
	_, alicePost := post(t, a, aliceTok, url.Values{"status": {"alice speaks"}, "visibility": {"public"}})
	_, carolPost := post(t, a, carolTok, url.Values{"status": {"carol speaks"}, "visibility": {"public"}})
	for _, uri := range []string{alicePost, carolPost} {
		var found struct{ Statuses []struct{ ID string } }
		getJSON(t, b, bobTok, "/api/v2/search?type=statuses&resolve=true&q="+url.QueryEscape(uri), &found)
		if len(found.Statuses) != 1 {
			t.Fatalf("bob finds %s: %+v", uri, found)
		}
		if code := apiCall(t, b, bobTok, "POST", "/api/v1/statuses/"+found.Statuses[0].ID+"/favourite", url.Values{}); code != 200 {
			t.Fatalf("favourite: %d", code)
		}
	}
	waitFor(t, "both favourites on A", func() bool {
		a1, _ := a.inst.Store().StatusByURI(ctx, alicePost)
		c1, _ := a.inst.Store().StatusByURI(ctx, carolPost)
		return a1 != nil && c1 != nil && a1.FavouritesCount == 1 && c1.FavouritesCount == 1
	})
	count := func(tok string) int {
		var notes []struct{ Type string }
		getJSON(t, a, tok, "/api/v1/notifications?types[]=favourite", &notes)
		return len(notes)
	}
	if count(aliceTok) != 1 || count(carolTok) != 0 {
		t.Errorf("favourite notifications: alice %d (want 1), carol %d (want 0)", count(aliceTok), count(carolTok))
	}
	// A direct message of his to both reaches the home of alice, who
	// follows him, and not carol's.
	bob, alice, carol := b.base+"/users/bob", a.base+"/users/alice", a.base+"/users/carol"
	dm := b.base + "/users/bob/statuses/777"
	create := []byte(`{"id":"` + dm + `/activity","type":"Create","actor":"` + bob + `","object":{"id":"` + dm + `","type":"Note",` +
		`"attributedTo":"` + bob + `","content":"<p>psst</p>","to":["` + alice + `","` + carol + `"],"cc":[],` +
		`"tag":[{"type":"Mention","href":"` + alice + `"},{"type":"Mention","href":"` + carol + `"}]}}`)
	if code := deliver(t, b, "bob", a.base+"/inbox", create); code != http.StatusAccepted {
		t.Fatalf("the direct message: %d", code)
	}
	waitFor(t, "A's queue to drain", func() bool { return queueDrained(t, a) })
	inHome := func(tok string) bool {
		var home []struct{ URI string }
		getJSON(t, a, tok, "/api/v1/timelines/home", &home)
		for _, h := range home {
			if h.URI == dm {
				return true
			}
		}
		return false
	}
	if !inHome(aliceTok) || inHome(carolTok) {
		t.Errorf("a silenced account's direct message: in alice's home %v (want true), in carol's %v (want false)", inHome(aliceTok), inHome(carolTok))
	}
}
