package instance

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/httpsig"
)

// The inbox is the gate every delivery passes: a signed activity from the
// key of its own actor, its body's digest recomputed, within the window and
// never twice. Every variant the issue names is refused with 401 (or the
// status its fault earns) and leaves nothing behind. A delivery that passes
// is answered 202 and processed once.
func TestDeliveriesAreVerifiedAtTheInbox(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	aliceTok := tokenFor(t, a, "alice")
	tokenFor(t, b, "bob")
	ctx := t.Context()
	bob, err := b.inst.Store().AccountByUsername(ctx, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	edText, err := b.inst.store.AccountEd25519Key(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(edText))
	edKey, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	bobKey := httpsig.Key{ID: b.base + "/users/bob#ed25519-key", Private: edKey.(ed25519.PrivateKey)}
	follow := func(actor string) []byte {
		return []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"` + b.base + `/follows/1","type":"Follow","actor":"` +
			actor + `","object":"` + a.base + `/users/alice"}`)
	}
	type delivery struct {
		to     string // where it is sent (alice's inbox by default)
		url    string // signed for (to by default)
		body   []byte // signed
		sent   []byte // sent, when it differs
		ctype  string
		at     time.Time
		gen    string
		edit   func(h http.Header)
		signed bool
	}
	inbox := a.base + "/users/alice/inbox"
	send := func(d delivery) (*http.Request, int) {
		t.Helper()
		if d.ctype == "" {
			d.ctype = "application/activity+json"
		}
		if d.to == "" {
			d.to = inbox
		}
		if d.url == "" {
			d.url = d.to
		}
		if d.at.IsZero() {
			d.at = time.Now()
		}
		signedReq, _ := http.NewRequest("POST", d.url, strings.NewReader(string(d.body)))
		signedReq.Header.Set("Content-Type", d.ctype)
		if d.signed {
			sign := httpsig.SignCavage
			if d.gen == "rfc9421" {
				sign = httpsig.SignRFC9421
			}
			if err := sign(signedReq, d.body, bobKey, d.at); err != nil {
				t.Fatal(err)
			}
		}
		if d.edit != nil {
			d.edit(signedReq.Header)
		}
		sent := d.sent
		if sent == nil {
			sent = d.body
		}
		req, _ := http.NewRequest("POST", d.to, strings.NewReader(string(sent)))
		req.Header = signedReq.Header.Clone()
		return req, do(t, req)
	}

	good := follow(b.base + "/users/bob")
	flip := func(s string, i int) string { b := []byte(s); b[i] ^= 1; return string(b) }
	// Each variant is signed at its own second: one signed like the good
	// delivery would be refused as its replay, and hide the rule under test.
	step := 0
	for name, d := range map[string]delivery{
		"unsigned":                {body: good},
		"a byte of the body":      {body: good, sent: []byte(flip(string(good), 40)), signed: true},
		"a byte of the body 9421": {body: good, sent: []byte(flip(string(good), 40)), signed: true, gen: "rfc9421"},
		"a byte of the signature": {body: good, signed: true, edit: func(h http.Header) {
			v := h.Get("Signature")
			i := strings.Index(v, `signature="`) + len(`signature="`) + 5
			h.Set("Signature", flip(v, i))
		}},
		"a byte of the RFC 9421 signature": {body: good, signed: true, gen: "rfc9421", edit: func(h http.Header) {
			v := h.Get("Signature")
			h.Set("Signature", v[:len(v)-6]+flip(v[len(v)-6:], 0))
		}},
		"signed 13 hours ago":  {body: good, signed: true, at: time.Now().Add(-13 * time.Hour)},
		"signed 2 hours ahead": {body: good, signed: true, at: time.Now().Add(2 * time.Hour), gen: "rfc9421"},
		"a wrong digest": {body: good, signed: true, edit: func(h http.Header) {
			h.Set("Digest", "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
		}},
		"signed for another host":      {url: "http://evil.example/users/alice/inbox", body: good, signed: true},
		"signed for another host 9421": {url: "http://evil.example/users/alice/inbox", body: good, signed: true, gen: "rfc9421"},
		"digest not signed": {body: good, signed: true, edit: func(h http.Header) {
			h.Set("Signature", strings.Replace(h.Get("Signature"), " digest", "", 1))
		}},
		"content-digest not signed": {body: good, signed: true, gen: "rfc9421", edit: func(h http.Header) {
			h.Set("Signature-Input", strings.Replace(h.Get("Signature-Input"), ` "content-digest"`, "", 1))
		}},
		"another actor than the signer": {body: follow(b.base + "/users/carol"), signed: true},
	} {
		step++
		if d.at.IsZero() {
			d.at = time.Now().Add(-time.Duration(step) * time.Minute)
		}
		if _, status := send(d); status != http.StatusUnauthorized {
			t.Errorf("%s: %d; want 401", name, status)
		}
	}
	if _, status := send(delivery{body: good, signed: true, ctype: "application/json"}); status != http.StatusUnsupportedMediaType {
		t.Errorf("application/json: %d; want 415", status)
	}
	big := []byte(`{"type":"Note","actor":"x","content":"` + strings.Repeat("a", 300<<10) + `"}`)
	if _, status := send(delivery{body: big, signed: true}); status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 300 KiB activity: %d; want 413", status)
	}
	if _, status := send(delivery{body: []byte(`{"actor":`), signed: true}); status != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d; want 400", status)
	}
	// Nothing of any of it was kept: bob is not even known on A, and
	// alice has no follower or request. (Checked before alice looks bob
	// up, below.)
	if _, err := a.inst.Store().AccountByURI(ctx, b.base+"/users/bob"); err == nil {
		t.Error("a delivery stored its actor")
	}
	alice, _ := a.inst.Store().AccountByUsername(ctx, "alice", "")
	if st, _ := a.inst.Store().StatsFor(ctx, []int64{alice.ID}); st[alice.ID].Followers != 0 || st[alice.ID].FollowRequests != 0 {
		t.Errorf("alice's counters moved: %+v", st[alice.ID])
	}

	// Now the good delivery, in both generations: 202, the same request
	// again is a replay, and the one activity id is processed once.
	for i, gen := range []string{"cavage", "rfc9421"} {
		req, status := send(delivery{body: good, gen: gen, signed: true, at: time.Now().Add(-time.Duration(i) * time.Second)})
		if status != http.StatusAccepted {
			t.Fatalf("%s: a good delivery: %d; want 202\nA's log:\n%s", gen, status, a.logs.String())
		}
		again, _ := http.NewRequest("POST", inbox, strings.NewReader(string(good)))
		again.Header = req.Header.Clone()
		if status := do(t, again); status != http.StatusUnauthorized {
			t.Errorf("%s: a replayed delivery: %d; want 401", gen, status)
		}
	}
	// The Follow is processed: alice (not locked) has bob as her follower,
	// once.
	waitFor(t, "alice to have bob as her follower", func() bool {
		st, _ := a.inst.Store().StatsFor(ctx, []int64{alice.ID})
		return st[alice.ID].Followers == 1
	})

	// Alice blocks bob: his deliveries to her inbox get 403; the shared
	// inbox still takes them to the gate's end.
	var found struct{ Accounts []struct{ ID string } }
	getJSON(t, a, aliceTok, "/api/v2/search?resolve=true&q="+url.QueryEscape("@bob@localhost:"+portB), &found)
	if len(found.Accounts) != 1 {
		t.Fatalf("alice's search for bob: %+v\n%s", found, a.logs.String())
	}
	req, _ := http.NewRequest("POST", a.base+"/api/v1/accounts/"+found.Accounts[0].ID+"/block", nil)
	req.Header.Set("Authorization", "Bearer "+aliceTok)
	if status := do(t, req); status != http.StatusOK {
		t.Fatalf("block: %d", status)
	}
	if _, status := send(delivery{body: good, signed: true, at: time.Now().Add(-30 * time.Second)}); status != http.StatusForbidden {
		t.Errorf("a delivery from an account alice blocked: %d; want 403", status)
	}
	if _, status := send(delivery{to: a.base + "/inbox", body: good, signed: true, at: time.Now().Add(-40 * time.Second)}); status != http.StatusAccepted {
		t.Errorf("the same to the shared inbox: %d; want 202", status)
	}
}

// do sends req and returns its status.
func do(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls cond until it holds, failing the test after 30 s: for work
// the job runner does after a request is answered. The bound is a safety
// net for a stuck test, not a speed target.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
