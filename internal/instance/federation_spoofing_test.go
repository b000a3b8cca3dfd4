package instance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/httpsig"
)

// deliver POSTs body to inbox on to, signed (draft-cavage) with the key of
// from's local account username, as a peer's delivery would be, and
// returns the status. Each call signs at its own time, so that no two are
// the same signature.
func deliver(t *testing.T, from *peer, username, inbox string, body []byte) int {
	t.Helper()
	acc, err := from.inst.Store().AccountByUsername(t.Context(), username, "")
	if err != nil {
		t.Fatal(err)
	}
	key, err := from.inst.Accounts().SigningKey(t.Context(), acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", inbox, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/activity+json")
	deliverSeq++
	if err := httpsig.SignCavage(req, body, key, time.Now().Add(-time.Duration(deliverSeq)*time.Second)); err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// deliverSeq spaces the signing times of deliver's requests.
var deliverSeq int

// The inbox refuses every spoofing case the origin rules name, and keeps
// nothing of it: a Create of an object attributed to, or on, another
// origin; a Delete or Update of another origin's object, or of another
// actor's on the same origin; an activity whose id is on another origin,
// or whose actor is not its signer; an Undo of another actor's activity; an
// Announce whose embedded copy lies (the original, fetched from its
// origin, is what is kept); a replay; an oversized and a deeply nested
// body.
func TestSpoofedActivitiesAreRefused(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := t.Context()
	aliceTok := tokenFor(t, a, "alice")
	tokenFor(t, b, "bob")
	danTok := tokenFor(t, b, "dan")
	bob := b.base + "/users/bob"
	alice := a.base + "/users/alice"
	inbox := a.base + "/inbox"
	_, alicePost := post(t, a, aliceTok, url.Values{"status": {"alice's own words"}, "visibility": {"public"}})
	_, danKnown := post(t, b, danTok, url.Values{"status": {"dan's first post"}, "visibility": {"public"}})
	_, danUnknown := post(t, b, danTok, url.Values{"status": {"what dan really said"}, "visibility": {"public"}})
	// Dan's first post is known on A (alice looked it up by its URL).
	var found struct{ Statuses []struct{ ID string } }
	getJSON(t, a, aliceTok, "/api/v2/search?type=statuses&resolve=true&q="+url.QueryEscape(danKnown), &found)
	if len(found.Statuses) != 1 {
		t.Fatalf("looking up dan's post: %+v\n%s", found, a.logs.String())
	}

	note := func(id, attributedTo, content string) string {
		return `{"id":"` + id + `","type":"Note","attributedTo":"` + attributedTo + `","content":"` + content +
			`","to":["https://www.w3.org/ns/activitystreams#Public"],"published":"2026-01-02T03:04:05Z"}`
	}
	activity := func(id, typ, actor, object string) []byte {
		return []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"` + id + `","type":"` + typ + `","actor":"` + actor +
			`","object":` + object + `}`)
	}
	q := func(s string) string { return `"` + s + `"` }
	for name, c := range map[string]struct {
		body []byte
		want int
	}{
		"a Create of a Note attributed to another origin": {activity(bob+"#c1", "Create", bob, note(b.base+"/n/1", alice, "forged alice")), 400},
		"a Create of a Note on another origin":            {activity(bob+"#c2", "Create", bob, note(a.base+"/n/2", bob, "planted on A")), 400},
		"a Create given by id alone":                      {activity(bob+"#c3", "Create", bob, q(b.base+"/n/3")), 400},
		"a Delete of another origin's status":             {activity(bob+"#d1", "Delete", bob, q(alicePost)), 400},
		"an Update of another origin's status":            {activity(bob+"#u1", "Update", bob, note(alicePost, alice, "rewritten")), 400},
		"an activity whose id is on another origin":       {activity(a.base+"/activity/1", "Like", bob, q(alicePost)), 400},
		"an Undo of another actor's Follow": {activity(bob+"#undo1", "Undo", bob,
			`{"id":"`+b.base+`/users/dan#follows/1","type":"Follow","actor":"`+b.base+`/users/dan","object":"`+alice+`"}`), 400},
		"an activity whose actor is not its signer": {activity(b.base+"/users/dan#l1", "Like", b.base+"/users/dan", q(alicePost)), 401},
		"a body nested 100 deep": {[]byte(`{"id":"` + bob + `#n","type":"Like","actor":"` + bob + `","object":` +
			strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}`), 400},
		"a body over 256 KiB": {activity(bob+"#big", "Create", bob, note(b.base+"/n/big", bob, strings.Repeat("a", 300<<10))), 413},
	} {
		if got := deliver(t, b, "bob", inbox, c.body); got != c.want {
			t.Errorf("%s: %d; want %d", name, got, c.want)
		}
	}
	// Bob, on dan's origin, deletes dan's known post and announces dan's
	// other post with a lying copy embedded: the first is accepted (the
	// rules that need no network hold) and has no effect; the second keeps
	// what dan's server says.
	if got := deliver(t, b, "bob", inbox, activity(bob+"#d2", "Delete", bob, q(danKnown))); got != http.StatusAccepted {
		t.Errorf("a Delete of another actor's status on the same origin: %d; want 202", got)
	}
	if got := deliver(t, b, "bob", inbox, activity(bob+"#a1", "Announce", bob, note(danUnknown, b.base+"/users/dan", "forged words"))); got != http.StatusAccepted {
		t.Errorf("an Announce with an embedded copy: %d; want 202", got)
	}
	waitFor(t, "A's queue to drain", func() bool { return queueDrained(t, a) })
	if _, err := a.inst.Store().StatusByURI(ctx, danKnown); err != nil {
		t.Errorf("bob deleted dan's post on A: %v", err)
	}
	st, err := a.inst.Store().StatusByURI(ctx, danUnknown)
	if err != nil {
		t.Fatalf("the announced post was not fetched: %v\n%s", err, a.logs.String())
	}
	if strings.Contains(st.Content, "forged") || !strings.Contains(st.Content, "what dan really said") {
		t.Errorf("the announced post's content on A: %q; want dan's own", st.Content)
	}
	// Nothing of the refused cases was stored.
	for _, uri := range []string{b.base + "/n/1", a.base + "/n/2", b.base + "/n/3", b.base + "/n/big"} {
		if _, err := a.inst.Store().StatusByURI(ctx, uri); err == nil {
			t.Errorf("%s was stored", uri)
		}
	}
	if got, _ := a.inst.Store().StatusByURI(ctx, alicePost); got == nil || !strings.Contains(got.Content, "own words") {
		t.Errorf("alice's post after the spoofed Update and Delete: %+v", got)
	}
	if got, _ := a.inst.Store().StatusByURI(ctx, alicePost); got != nil && got.FavouritesCount != 0 {
		t.Errorf("a refused Like counted: %+v", got)
	}
}

// A Flag from another server becomes a report for the admins: of the local
// account it names and that account's statuses among those it names, with
// its comment as plain text, once per Flag id; one that names nothing
// local is dropped.
func TestFlagsBecomeReports(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := t.Context()
	aliceTok, carolTok := tokenFor(t, a, "alice"), tokenFor(t, a, "carol")
	tokenFor(t, b, "bob")
	_, alicePost := post(t, a, aliceTok, url.Values{"status": {"something reportable"}, "visibility": {"public"}})
	_, carolPost := post(t, a, carolTok, url.Values{"status": {"carol is innocent"}, "visibility": {"public"}})
	bob := b.base + "/users/bob"
	flag := func(id string, objects ...string) []byte {
		return []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"` + bob + id + `","type":"Flag","actor":"` + bob +
			`","object":["` + strings.Join(objects, `","`) + `"],"content":"<b>spam</b> &amp; more"}`)
	}
	for _, body := range [][]byte{
		flag("#flag/1", a.base+"/users/alice", alicePost, carolPost),
		flag("#flag/1", a.base+"/users/alice", alicePost), // the same Flag again
		flag("#flag/2", b.base+"/users/dan", "https://elsewhere.example/n/1"),
	} {
		if code := deliver(t, b, "bob", a.base+"/inbox", body); code != http.StatusAccepted {
			t.Fatalf("a Flag: %d", code)
		}
	}
	waitFor(t, "A's queue to drain", func() bool { return queueDrained(t, a) })
	reports, err := a.inst.Store().Reports(ctx, true, 10)
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := a.inst.Store().AccountByUsername(ctx, "alice", "")
	st, _ := a.inst.Store().StatusByURI(ctx, alicePost)
	if len(reports) != 1 || reports[0].TargetID != alice.ID || len(reports[0].StatusIDs) != 1 || reports[0].StatusIDs[0] != st.ID ||
		reports[0].Comment != "spam & more" {
		t.Fatalf("reports: %+v\n%s", reports, a.logs.String())
	}
}
