package remote

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/outbound"
	"github.com/rampart-social/rampart/internal/sanitize"
	"github.com/rampart-social/rampart/internal/store"
)

// newTestAccounts is a resolver over a real store, reaching the test
// servers at hosts over http.
func newTestAccounts(t *testing.T, hosts ...string) (*Accounts, *store.Store) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "r.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	client := outbound.New(outbound.Config{TestHosts: hosts})
	f := NewFetcher(client, Signing{}, mustParse("http://own.test"), mustParse("http://media.own.test"))
	return NewAccounts(log, client, f, st, id.NewGenerator()), st
}

// webfingerFor serves acct's WebFinger answer naming actor.
func webfingerFor(subject, actor string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jrd+json")
		json.NewEncoder(w).Encode(map[string]any{"subject": subject,
			"links": []any{map[string]any{"rel": "self", "type": "application/activity+json", "href": actor}}})
	}
}

func noteJSON(id, attributedTo, content string, to ...string) []byte {
	if len(to) == 0 {
		to = []string{activitypub.Public}
	}
	b, _ := json.Marshal(map[string]any{"id": id, "type": "Note", "attributedTo": attributedTo, "content": content,
		"to": to, "cc": []string{}, "published": "2026-01-02T03:04:05Z", "url": id,
		"tag": []any{map[string]any{"type": "Hashtag", "name": "#Fedi", "href": "x"}}})
	return b
}

func countStatuses(t *testing.T, st *store.Store, author int64) int {
	t.Helper()
	ids, err := st.AccountStatuses(context.Background(), 0, author, store.AccountFilter{}, store.Page{Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}

// The spoofing suite for Notes looked up by URL: each case is refused and
// leaves nothing behind; only a Note that holds up on every rule is kept,
// sanitized.
func TestNotesByURLFollowTheOriginRules(t *testing.T) {
	srv, routes, _ := hostile(t)
	other, otherRoutes, otherHits := hostile(t)
	base, otherBase := srv.URL, other.URL
	host := strings.TrimPrefix(base, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	ap := "application/activity+json"
	bob := base + "/users/bob"
	routes["/users/bob"] = serve(ap, actorJSON(t, bob, bob, &key.PublicKey))
	routes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+host, bob)
	otherRoutes["/users/bob"] = serve(ap, actorJSON(t, otherBase+"/users/bob", otherBase+"/users/bob", &key.PublicKey))

	routes["/good"] = serve(ap, noteJSON(base+"/good", bob, `<p>hi <script>alert(1)</script><a href="javascript:x()">x</a></p>`))
	routes["/plain-json"] = serve("application/json", noteJSON(base+"/plain-json", bob, "x"))
	routes["/no-type"] = serve("", noteJSON(base+"/no-type", bob, "x"))
	routes["/other-id"] = serve(ap, noteJSON(base+"/someone-elses", bob, "x"))
	routes["/to-other-host"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherBase+"/note", http.StatusFound)
	}
	otherRoutes["/note"] = serve(ap, noteJSON(otherBase+"/note", otherBase+"/users/bob", "x"))
	routes["/attributed-elsewhere"] = serve(ap, noteJSON(base+"/attributed-elsewhere", otherBase+"/users/bob", "x"))
	routes["/followers-only"] = serve(ap, noteJSON(base+"/followers-only", bob, "x", bob+"/followers"))
	routes["/deep"] = serve(ap, []byte(`{"id":"`+base+`/deep","type":"Note","attributedTo":"`+bob+`","x":`+
		strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`))

	a, st := newTestAccounts(t, host, strings.TrimPrefix(otherBase, "http://"))
	ctx := context.Background()
	for _, path := range []string{"/plain-json", "/no-type", "/other-id", "/to-other-host", "/attributed-elsewhere", "/followers-only", "/deep"} {
		if acc, sid, err := a.ResolveURL(ctx, 1, mustParse(base+path)); err == nil {
			t.Errorf("%s: accepted (account %d, status %d)", path, acc, sid)
		}
	}
	for _, u := range []string{"http://own.test/users/x/statuses/1", "http://media.own.test/x.json"} {
		if _, _, err := a.ResolveURL(ctx, 1, mustParse(u)); err == nil {
			t.Errorf("%s: a document on this instance's own origins was accepted", u)
		}
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other origin was reached %d times", n)
	}
	if bobHere, err := st.AccountByURI(ctx, bob); err == nil {
		if n := countStatuses(t, st, bobHere.ID); n != 0 {
			t.Fatalf("refused notes left %d statuses behind", n)
		}
	}

	accID, sid, err := a.ResolveURL(ctx, 1, mustParse(base+"/good"))
	if err != nil || sid == 0 {
		t.Fatalf("the good note: %v", err)
	}
	got, err := st.StatusByID(ctx, sid)
	if err != nil || got.AccountID != accID || got.Local || got.URI != base+"/good" || got.Visibility != store.Public {
		t.Fatalf("stored %+v, %v", got, err)
	}
	if strings.Contains(got.Content, "script") || strings.Contains(got.Content, "javascript") || !strings.Contains(got.Content, "hi") {
		t.Errorf("content not sanitized: %q", got.Content)
	}
	if got.CreatedAt.Year() != 2026 || got.CreatedAt.Month() != time.January {
		t.Errorf("published read as %v", got.CreatedAt)
	}
	// Its id sorts by when it was written, not when it arrived.
	if !id.Time(sid).Equal(got.CreatedAt) {
		t.Errorf("id made at %v, for a status published %v", id.Time(sid), got.CreatedAt)
	}
	tags, _ := st.StatusTags(ctx, []int64{sid})
	if len(tags[sid]) != 1 || tags[sid][0] != "fedi" {
		t.Errorf("tags %v", tags[sid])
	}
	// Looked up again: the same row, from the store.
	if _, again, err := a.ResolveURL(ctx, 1, mustParse(base+"/good")); err != nil || again != sid {
		t.Errorf("second lookup: %d %v; want %d", again, err, sid)
	}
}

// An actor's outbox is read when the actor is looked up: its public and
// unlisted Notes are kept; an activity by someone else, a Note on another
// origin or attributed to someone else, a private one and a reblog are
// skipped, each on its own.
func TestLookupReadsTheOutbox(t *testing.T) {
	srv, routes, _ := hostile(t)
	base := srv.URL
	host := strings.TrimPrefix(base, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	ap := "application/activity+json"
	bob := base + "/users/bob"
	var actor map[string]any
	_ = json.Unmarshal(actorJSON(t, bob, bob, &key.PublicKey), &actor)
	actor["outbox"] = bob + "/outbox"
	actorBody, _ := json.Marshal(actor)
	routes["/users/bob"] = serve(ap, actorBody)
	routes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+host, bob)
	create := func(actor string, note []byte) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"type": "Create", "actor": actor, "object": json.RawMessage(note)})
		return b
	}
	page, _ := json.Marshal(map[string]any{"id": bob + "/outbox?page=true", "type": "OrderedCollectionPage", "orderedItems": []json.RawMessage{
		create(bob, noteJSON(bob+"/statuses/1", bob, "<p>public one</p>")),
		create(bob, noteJSON(bob+"/statuses/2", bob, "<p>unlisted one</p>", bob+"/followers")),
		create(bob, noteJSON(bob+"/statuses/3", bob, "<p>private one</p>", bob+"/followers")),
		create(base+"/users/carol", noteJSON(bob+"/statuses/4", bob, "<p>created by carol</p>")),
		create(bob, noteJSON("https://elsewhere.example/statuses/5", bob, "<p>another origin</p>")),
		create(bob, noteJSON(bob+"/statuses/6", base+"/users/carol", "<p>carol's</p>")),
		json.RawMessage(`{"type":"Announce","actor":"` + bob + `","object":"https://elsewhere.example/x"}`),
	}})
	// Make statuses/2 unlisted: public in cc.
	page = []byte(strings.Replace(string(page), `"cc":[],"content":"\u003cp\u003eunlisted one`, `"cc":["`+activitypub.Public+`"],"content":"\u003cp\u003eunlisted one`, 1))
	routes["/users/bob/outbox"] = serve(ap, []byte(`{"id":"`+bob+`/outbox","type":"OrderedCollection","totalItems":7,"first":"`+bob+`/outbox?page=true"}`))
	// The page is served at the path; its query is the page's.
	routes["/users/bob/outbox"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ap)
		if r.URL.Query().Get("page") == "true" {
			w.Write(page)
			return
		}
		w.Write([]byte(`{"id":"` + bob + `/outbox","type":"OrderedCollection","totalItems":7,"first":"` + bob + `/outbox?page=true"}`))
	}

	a, st := newTestAccounts(t, host)
	ctx := context.Background()
	acc, err := a.Resolve(ctx, 1, Acct{User: "bob", Host: host})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := st.AccountStatuses(ctx, 0, acc.ID, store.AccountFilter{}, store.Page{Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	var contents []string
	for _, id := range ids {
		s, _ := st.StatusByID(ctx, id)
		contents = append(contents, s.Content)
	}
	if len(ids) != 2 || !strings.Contains(strings.Join(contents, " "), "public one") || !strings.Contains(strings.Join(contents, " "), "unlisted one") {
		t.Fatalf("kept from the outbox: %q; want the public and the unlisted one", contents)
	}
}

// An actor served from another host than its acct's is believed only
// when its own host's WebFinger names it, and is kept under the name that
// host gives it.
func TestAnActorOnAnotherHostNeedsItsHostsWord(t *testing.T) {
	home, homeRoutes, _ := hostile(t)      // where the acct points: example.com
	actorSrv, actorRoutes, _ := hostile(t) // where the actor lives: social.example.com
	homeHost, actorHost := strings.TrimPrefix(home.URL, "http://"), strings.TrimPrefix(actorSrv.URL, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	bob := actorSrv.URL + "/users/bob"
	actorRoutes["/users/bob"] = serve("application/activity+json", actorJSON(t, bob, bob, &key.PublicKey))
	homeRoutes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+homeHost, bob)
	third, thirdRoutes, _ := hostile(t) // a host that claims bob too
	thirdHost := strings.TrimPrefix(third.URL, "http://")
	thirdRoutes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+thirdHost, bob)
	a, st := newTestAccounts(t, homeHost, actorHost, thirdHost)
	ctx := context.Background()

	// The actor's host does not confirm: refused.
	if acc, err := a.Resolve(ctx, 1, Acct{User: "bob", Host: homeHost}); err == nil {
		t.Fatalf("an actor its own host does not vouch for was kept as %s@%s", acc.Username, acc.Domain)
	}
	// It names the acct's host as its canonical domain: kept under it.
	actorRoutes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+homeHost, bob)
	acc, err := a.Resolve(ctx, 1, Acct{User: "bob", Host: homeHost})
	if err != nil || acc.Domain != homeHost || acc.URI != bob {
		t.Fatalf("delegated: %+v %v", acc, err)
	}
	// A third host pointing its bob at the same actor is not believed:
	// the actor's host calls him bob@home.
	if acc, err := a.Resolve(ctx, 1, Acct{User: "bob", Host: thirdHost}); err == nil {
		t.Errorf("an acct on a third host took the actor: %s@%s", acc.Username, acc.Domain)
	}
	if _, err := st.AccountByUsername(ctx, "bob", thirdHost); err == nil {
		t.Error("bob is stored under the third host")
	}
}

// FuzzParseNote: any bytes are a Note that holds to the rules or a
// refusal; what is kept is sanitized and attributed to the author.
func FuzzParseNote(f *testing.F) {
	author := &store.Account{ID: 7, URI: "https://b.example/users/bob", Domain: "b.example"}
	origin := mustParse("https://b.example/users/bob/statuses/1")
	f.Add(noteJSON(origin.String(), author.URI, `<p>hi <script>x</script></p>`))
	f.Add([]byte(`{"id":"https://b.example/n","type":["Note"],"attributedTo":[{"id":"https://b.example/users/bob"}],"to":"as:Public",` +
		`"contentMap":{"de":"<p>Hallo</p>"},"attachment":[{"url":[{"href":"https://b.example/a.png"}],"name":"<b>x</b>"}],"tag":{"type":"Mention"}}`))
	f.Add([]byte(`{"type":"Article","name":"<i>T</i>","id":"https://b.example/a","attributedTo":"https://b.example/users/bob","cc":["https://www.w3.org/ns/activitystreams#Public"]}`))
	f.Add([]byte(`{"type":"Question","id":"https://b.example/q","attributedTo":"https://b.example/users/bob","to":"as:Public","endTime":"2030-01-01T00:00:00Z",` +
		`"votersCount":1e300,"anyOf":[{"name":"<b>A</b>","replies":{"totalItems":-3}},{"name":{"x":1}}],"closed":true}`))
	f.Add([]byte(`{"type":"Question","id":"https://b.example/q","attributedTo":"https://b.example/users/bob","to":"as:Public",` +
		`"oneOf":[{"name":"A","replies":{"totalItems":3}},{"name":"B","replies":{"totalItems":"9"}}],"closed":"2020-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		delivered := len(raw)%2 == 0
		n, err := parseNote(raw, author, origin, time.Now(), delivered)
		if err != nil {
			var ne *NoteError
			if !errors.As(err, &ne) {
				t.Fatalf("refused with %T %v", err, err)
			}
			return
		}
		if n.status.AccountID != author.ID || !delivered && n.status.Visibility > store.Unlisted {
			t.Fatalf("kept %+v", n.status)
		}
		if n.status.Content != sanitize.HTML(n.status.Content) {
			t.Fatalf("content not sanitized: %q", n.status.Content)
		}
		if u := mustParse(n.status.URI); !activitypub.SameOrigin(u, origin) {
			t.Fatalf("id %q off the origin", n.status.URI)
		}
		if p := n.poll; p != nil {
			// A poll: from a Question only, within bounds, its titles
			// plain text, its tallies never negative.
			if !n.question || len(p.Options) == 0 || len(p.Options) > maxChoices || p.VotersCount < 0 || p.VotersCount > maxVotes {
				t.Fatalf("poll %+v", p)
			}
			for _, o := range p.Options {
				if o.Title == "" || o.Title != sanitize.Text(o.Title) || o.VotesCount < 0 || o.VotesCount > maxVotes {
					t.Fatalf("option %+v", o)
				}
			}
		}
	})
}

// Another server's upload host is learned from its actors' images (only a
// subdomain of the actor's own host), and no document is taken from it,
// before any request.
func TestDocumentsOnAnotherServersUploadHostAreRefused(t *testing.T) {
	for _, tc := range []struct{ actor, image, want string }{
		{"https://example.social/users/bob", "https://files.example.social/a.png", "files.example.social"},
		{"https://social.example.com/users/bob", "https://media.example.com/a.png", ""},     // a neighbour, not below it
		{"https://tenant.host.example/users/eve", "https://host.example/a.png", ""},         // the hosting domain itself
		{"https://example.social/users/bob", "https://files.example.social:8443/a.png", ""}, // another port
		{"https://example.social/users/bob", "https://a.files.example.social/a.png", "a.files.example.social"},
		{"https://example.social/users/bob", "https://example.social/system/a.png", ""}, // its own host
		{"https://evil.example/users/eve", "https://example.social/a.png", ""},          // another domain: not believed
		{"https://example.social/users/bob", "not a url\x7f", ""},
	} {
		if got := uploadHost(mustParse(tc.actor), tc.image); got != tc.want {
			t.Errorf("uploadHost(%s, %s) = %q; want %q", tc.actor, tc.image, got, tc.want)
		}
	}

	srv, routes, hits := hostile(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	a, st := newTestAccounts(t, host)
	ctx := context.Background()
	// What an account's images teach (recordMediaHosts runs on every
	// account stored or refreshed).
	if err := a.recordMediaHosts(ctx, &store.Account{URI: "https://example.social/users/bob",
		AvatarRemoteURL: "https://files.example.social/a.png", HeaderRemoteURL: "https://elsewhere.example/h.png"}); err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"files.example.social": true, "elsewhere.example": false, "example.social": false} {
		if got, err := st.RemoteMediaHost(ctx, host); err != nil || got != want {
			t.Errorf("%s recorded as an upload host: %v %v; want %v", host, got, err, want)
		}
	}
	routes["/users/x"] = serve("application/activity+json", actorJSON(t, srv.URL+"/users/x", srv.URL+"/users/x", &key.PublicKey))
	a.fetcher.WithMediaHosts(st.RemoteMediaHost)
	if _, _, err := a.fetcher.Document(ctx, mustParse(srv.URL+"/users/x")); err != nil {
		t.Fatalf("before it is known as an upload host: %v", err)
	}
	if err := st.AddRemoteMediaHost(ctx, host, time.Now()); err != nil {
		t.Fatal(err)
	}
	before := hits.Load()
	if _, _, err := a.fetcher.Document(ctx, mustParse(srv.URL+"/users/x")); err == nil {
		t.Fatal("a document on an upload host was accepted")
	}
	if hits.Load() != before {
		t.Error("the upload host was asked")
	}
}

// outboxActor serves an actor at base/users/<name> whose outbox is served
// by outbox (nil: none), with WebFinger for it.
func outboxActor(t *testing.T, routes map[string]func(http.ResponseWriter, *http.Request), base, name string,
	outbox func(w http.ResponseWriter, r *http.Request)) {
	t.Helper()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	id := base + "/users/" + name
	der := actorJSON(t, id, id, &key.PublicKey)
	der = []byte(strings.Replace(string(der), `"preferredUsername":"bob"`, `"preferredUsername":"`+name+`","outbox":"`+id+`/outbox"`, 1))
	routes["/users/"+name] = serve("application/activity+json", der)
	routes["/users/"+name+"/outbox"] = outbox
}

// The outbox's own rules, each on its own (found in review: no test failed
// without them): its id is the URL it came from; its first page is on its
// origin; an item that is only an id is not fetched; a Note over 64 KiB is
// skipped while the others are kept.
func TestOutboxRules(t *testing.T) {
	srv, routes, _ := hostile(t)
	other, otherRoutes, otherHits := hostile(t)
	base := srv.URL
	host := strings.TrimPrefix(base, "http://")
	users := map[string]string{}
	routes["/.well-known/webfinger"] = func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Query().Get("resource"), "acct:"), "@"+host)
		webfingerFor("acct:"+name+"@"+host, base+"/users/"+name)(w, r)
	}
	ap := "application/activity+json"
	page := func(actor string, items ...string) []byte {
		return []byte(`{"id":"` + actor + `/outbox","type":"OrderedCollection","orderedItems":[` + strings.Join(items, ",") + `]}`)
	}
	create := func(actor string, note []byte) string {
		return `{"type":"Create","actor":"` + actor + `","object":` + string(note) + `}`
	}
	good := func(actor, n string) string {
		return create(actor, noteJSON(actor+"/statuses/"+n, actor, "<p>ok "+n+"</p>"))
	}
	bytesIn := func(name string) string { users[name] = base + "/users/" + name; return users[name] }

	a1 := bytesIn("wrongid")
	outboxActor(t, routes, base, "wrongid", serve(ap, []byte(strings.Replace(string(page(a1, good(a1, "1"))), a1+"/outbox", a1+"/elsewhere", 1))))
	a2 := bytesIn("farpage")
	outboxActor(t, routes, base, "farpage", serve(ap, []byte(`{"id":"`+a2+`/outbox","type":"OrderedCollection","first":"`+other.URL+`/page"}`)))
	otherRoutes["/page"] = serve(ap, page(a2, good(a2, "1")))
	a3 := bytesIn("bareid")
	fetchedBare := false
	routes["/users/bareid/statuses/1"] = func(w http.ResponseWriter, r *http.Request) { fetchedBare = true; http.NotFound(w, r) }
	outboxActor(t, routes, base, "bareid", serve(ap, page(a3, `{"type":"Create","actor":"`+a3+`","object":"`+a3+`/statuses/1"}`)))
	a4 := bytesIn("big")
	huge := create(a4, noteJSON(a4+"/statuses/2", a4, "<p>"+strings.Repeat("x", maxNoteContent)+"</p>"))
	outboxActor(t, routes, base, "big", serve(ap, page(a4, good(a4, "1"), huge, good(a4, "3"))))

	a, st := newTestAccounts(t, host, strings.TrimPrefix(other.URL, "http://"))
	ctx := context.Background()
	for name, want := range map[string]int{"wrongid": 0, "farpage": 0, "bareid": 0, "big": 2} {
		acc, err := a.Resolve(ctx, 1, Acct{User: name, Host: host})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := countStatuses(t, st, acc.ID); n != want {
			t.Errorf("%s: %d statuses kept from the outbox; want %d", name, n, want)
		}
	}
	if otherHits.Load() != 0 || fetchedBare {
		t.Errorf("fetched beyond the outbox: another origin %d times, a bare id %v", otherHits.Load(), fetchedBare)
	}
}

// A reply is linked to what it answers only when its author may see that
// status, by the store's visibility rule (found in review: a remote server
// could attach replies to a local private status and inflate its count); a
// publication time before 2000 is not believed; a Note attributed to a
// local account is refused.
func TestRemoteRepliesAndTimes(t *testing.T) {
	srv, routes, _ := hostile(t)
	base := srv.URL
	host := strings.TrimPrefix(base, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	ap := "application/activity+json"
	bob := base + "/users/bob"
	routes["/users/bob"] = serve(ap, actorJSON(t, bob, bob, &key.PublicKey))
	routes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+host, bob)
	a, st := newTestAccounts(t, host)
	ctx := context.Background()
	now := time.Now()

	alice := &store.Account{ID: 100, Username: "alice", URI: "https://own.test/users/alice", URL: "https://own.test/@alice", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateLocalAccount(ctx, alice, &store.User{Email: "a@own.test", PasswordHash: "x", Role: "user", Approved: true,
		Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	public := &store.Status{ID: 200, URI: "https://own.test/users/alice/statuses/200", AccountID: alice.ID, Local: true, Visibility: store.Public, CreatedAt: now}
	private := &store.Status{ID: 201, URI: "https://own.test/users/alice/statuses/201", AccountID: alice.ID, Local: true, Visibility: store.Private, CreatedAt: now}
	for _, s := range []*store.Status{public, private} {
		if err := st.CreateStatus(ctx, store.NewStatus{Status: s}); err != nil {
			t.Fatal(err)
		}
	}
	reply := func(path, parent, published string) {
		var doc map[string]any
		_ = json.Unmarshal(noteJSON(base+path, bob, "<p>re</p>"), &doc)
		doc["inReplyTo"], doc["published"] = parent, published
		b, _ := json.Marshal(doc)
		routes[path] = serve(ap, b)
	}
	reply("/r1", public.URI, "2026-01-02T03:04:05Z")
	reply("/r2", private.URI, "1969-12-31T23:59:59Z")
	for path, want := range map[string]int64{"/r1": public.ID, "/r2": 0} {
		_, sid, err := a.ResolveURL(ctx, 1, mustParse(base+path))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got, _ := st.StatusByID(ctx, sid)
		if got.InReplyToID != want {
			t.Errorf("%s: in reply to %d; want %d", path, got.InReplyToID, want)
		}
		if path == "/r2" && (now.Sub(got.CreatedAt) > time.Minute || sid <= 0) {
			t.Errorf("published in 1969: kept as %v, id %d", got.CreatedAt, sid)
		}
	}
	if p, _ := st.StatusByID(ctx, private.ID); p.RepliesCount != 0 {
		t.Errorf("the private status counts %d replies", p.RepliesCount)
	}

	// A Note on this origin attributed to a local account's id there: the
	// store never writes a remote status under a local author.
	carol := &store.Account{ID: 101, Username: "carol", URI: base + "/users/carol", URL: base + "/@carol", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateLocalAccount(ctx, carol, &store.User{Email: "c@own.test", PasswordHash: "x", Role: "user", Approved: true,
		Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	routes["/c1"] = serve(ap, noteJSON(base+"/c1", carol.URI, "<p>as carol</p>"))
	if _, sid, err := a.ResolveURL(ctx, 1, mustParse(base+"/c1")); err == nil {
		t.Errorf("a Note attributed to a local account was stored as %d", sid)
	}
}

// A Move is believed only when its target names the account moving among
// its aliases (alsoKnownAs), read from the target's own origin.
func TestAMoveTargetMustNameTheOldAccount(t *testing.T) {
	srv, routes, _ := hostile(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	old, target := "https://old.example/users/bob", srv.URL+"/users/bob"
	withAliases := func(aliases ...string) []byte {
		var doc map[string]any
		_ = json.Unmarshal(actorJSON(t, target, target, &key.PublicKey), &doc)
		doc["alsoKnownAs"] = aliases
		b, _ := json.Marshal(doc)
		return b
	}
	routes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+host, target)
	a, _ := newTestAccounts(t, host)
	ctx := context.Background()
	routes["/users/bob"] = serve("application/activity+json", withAliases("https://elsewhere.example/users/bob"))
	if acc, err := a.MoveTarget(ctx, old, target); err == nil {
		t.Fatalf("a target that does not name the old account was believed: %+v", acc)
	}
	routes["/users/bob"] = serve("application/activity+json", withAliases(old))
	acc, err := a.MoveTarget(ctx, old, target)
	if err != nil || acc.URI != target {
		t.Fatalf("a target naming the old account: %+v %v", acc, err)
	}
}

// A Question is kept as a status with its poll: its options (titles as
// plain text, whatever markup they carry) with their tallies, single or
// multiple choice, its end and its voters; its text alone is its content.
func TestAQuestionKeepsItsPoll(t *testing.T) {
	author := &store.Account{ID: 7, URI: "https://b.example/users/bob", Domain: "b.example"}
	origin := mustParse("https://b.example/users/bob/statuses/9")
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	raw := []byte(`{"id":"https://b.example/users/bob/statuses/9","type":"Question","attributedTo":"https://b.example/users/bob",
		"content":"<p>Tea or coffee?</p>","to":["https://www.w3.org/ns/activitystreams#Public"],"endTime":"2026-12-02T10:00:00Z",
		"votersCount":4,"oneOf":[{"type":"Note","name":"Tea <script>x</script>","replies":{"type":"Collection","totalItems":3}},
		{"type":"Note","name":"Coffee","replies":{"type":"Collection","totalItems":1}}]}`)
	n, err := parseNote(raw, author, origin, now, true)
	if err != nil {
		t.Fatal(err)
	}
	if n.status.Content != "<p>Tea or coffee?</p>" {
		t.Errorf("content %q; want the text alone", n.status.Content)
	}
	p := n.poll
	if p == nil || p.Multiple || len(p.Options) != 2 || p.Options[0] != (store.PollOption{Title: "Tea", VotesCount: 3}) ||
		p.Options[1] != (store.PollOption{Title: "Coffee", VotesCount: 1}) || p.VotersCount != 4 ||
		!p.ExpiresAt.Equal(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("poll %+v", p)
	}
	// anyOf is several choices; closed ends it (now, when it says true);
	// no end at all is an open poll.
	for _, tc := range []struct {
		extra string
		end   time.Time
	}{
		{`"closed":"2026-11-30T00:00:00Z"`, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{`"closed":true`, now},
		{`"votersCount":-5`, time.Time{}},
	} {
		raw := []byte(`{"id":"https://b.example/q","type":"Question","attributedTo":"https://b.example/users/bob","content":"x",
			"to":["https://www.w3.org/ns/activitystreams#Public"],` + tc.extra + `,"anyOf":[{"name":"A","replies":{"totalItems":"junk"}},{"name":"B"}]}`)
		n, err := parseNote(raw, author, origin, now, true)
		if err != nil {
			t.Fatal(err)
		}
		if p := n.poll; p == nil || !p.Multiple || !p.ExpiresAt.Equal(tc.end) || p.VotersCount != 0 || p.Options[0].VotesCount != 0 {
			t.Errorf("%s: poll %+v", tc.extra, p)
		}
	}
	// Options without titles cannot be voted in (a vote names its option):
	// they are shown as text, as before.
	raw = []byte(`{"id":"https://b.example/q2","type":"Question","attributedTo":"https://b.example/users/bob","content":"<p>Q</p>",
		"to":["https://www.w3.org/ns/activitystreams#Public"],"oneOf":[{"name":"","replies":{"totalItems":2}}]}`)
	if n, err := parseNote(raw, author, origin, now, true); err != nil || n.poll != nil || n.status.Content != "<p>Q</p><ul><li>: 2 votes</li></ul>" {
		t.Errorf("untitled options: %+v %v", n, err)
	}
}

// A poll's Update with new results replaces its tallies in place: no edit
// in its history, nobody to tell; its poll is a poll (PollsForStatuses).
func TestAPollsResultsMoveWithoutEdits(t *testing.T) {
	srv, routes, _ := hostile(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	bob := srv.URL + "/users/bob"
	routes["/users/bob"] = serve("application/activity+json", actorJSON(t, bob, bob, &key.PublicKey))
	routes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+host, bob)
	a, st := newTestAccounts(t, host)
	ctx := context.Background()
	author, err := a.Actor(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	poll := func(votes int) []byte {
		return []byte(fmt.Sprintf(`{"id":"%s/q/1","type":"Question","attributedTo":"%s","content":"<p>Tea?</p>",
			"to":["https://www.w3.org/ns/activitystreams#Public"],"oneOf":[{"name":"Yes","replies":{"totalItems":%d}}]}`, srv.URL, bob, votes))
	}
	id, _, _, err := a.DeliveredNote(ctx, poll(1), author, mustParse(bob))
	if err != nil {
		t.Fatal(err)
	}
	if _, changed, err := a.DeliveredEdit(ctx, poll(5), author, mustParse(bob)); err != nil || changed {
		t.Fatalf("the results' Update: changed %v, %v; want it applied silently", changed, err)
	}
	got, _ := st.StatusByID(ctx, id)
	edits, _ := st.StatusEdits(ctx, id)
	if got.Content != "<p>Tea?</p>" || !got.EditedAt.IsZero() || len(edits) != 0 {
		t.Errorf("after the results' Update: %q, edited %v, %d edits", got.Content, got.EditedAt, len(edits))
	}
	polls, err := st.PollsForStatuses(ctx, 0, []int64{id})
	if p := polls[id]; err != nil || p == nil || len(p.Options) != 1 || p.Options[0].VotesCount != 5 || p.VotesCount != 5 ||
		p.AccountID != author.ID || !p.ExpiresAt.IsZero() {
		t.Errorf("the poll after the Update: %+v %v", p, err)
	}
}
