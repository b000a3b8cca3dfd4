package instance

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

const host = "example.test"

func makeUser(t *testing.T, r *running, name string, approved bool, profile accounts.ProfileUpdate) int64 {
	t.Helper()
	ctx := context.Background()
	acc, _, err := r.inst.Accounts().Create(ctx, accounts.NewParams{Username: name, Email: name + "@example.test",
		Password: "a long enough password", Approved: approved})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.inst.Accounts().UpdateProfile(ctx, acc.ID, profile); err != nil {
		t.Fatal(err)
	}
	return acc.ID
}

// WebFinger finds a visible local account by acct or by URL, and answers a
// pending, disabled, suspended or unknown one with the same 404.
func TestWebFingerFindsVisibleAccountsOnly(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	makeUser(t, r, "alice", true, accounts.ProfileUpdate{})
	makeUser(t, r, "pending", false, accounts.ProfileUpdate{})
	gone := makeUser(t, r, "gone", true, accounts.ProfileUpdate{})
	disabled := true
	if _, err := r.inst.Accounts().Modify(context.Background(), gone, accounts.Change{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	suspended := makeUser(t, r, "suspended", true, accounts.ProfileUpdate{})
	if _, err := r.inst.Accounts().Modify(context.Background(), suspended, accounts.Change{Suspended: &disabled}); err != nil {
		t.Fatal(err)
	}

	for _, resource := range []string{
		"acct:alice@example.test", "alice@example.test", "acct:ALICE@Example.Test",
		"https://example.test/users/alice", "https://example.test/@alice", "https://EXAMPLE.test/users/alice",
	} {
		resp, body := r.fetch(t, "GET", host, "/.well-known/webfinger?resource="+url.QueryEscape(resource), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", resource, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/jrd+json") {
			t.Errorf("%s: Content-Type %q", resource, ct)
		}
		var doc struct {
			Subject string   `json:"subject"`
			Aliases []string `json:"aliases"`
			Links   []struct {
				Rel, Type, Href string
			} `json:"links"`
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Subject != "acct:alice@example.test" {
			t.Errorf("%s: subject %q", resource, doc.Subject)
		}
		var self, page string
		for _, l := range doc.Links {
			switch l.Rel {
			case "self":
				if l.Type == "application/activity+json" {
					self = l.Href
				}
			case "http://webfinger.net/rel/profile-page":
				page = l.Href
			}
		}
		if self != "https://example.test/users/alice" || page != "https://example.test/@alice" {
			t.Errorf("%s: self %q, profile page %q", resource, self, page)
		}
		wantAppHeaders(t, resp, "webfinger")
	}

	var notFound []string
	for _, resource := range []string{
		"acct:pending@example.test", "acct:gone@example.test", "acct:nobody@example.test",
		"acct:alice@other.test", "https://other.test/users/alice", "https://example.test/users/alice/x",
		"acct:alice", "acct:al ice@example.test", "acct:alice@exa_mple.test",
		"http://example.test/users/alice", // not the instance's scheme
		"acct:suspended@example.test", "https://example.test/users/suspended",
	} {
		resp, body := r.fetch(t, "GET", host, "/.well-known/webfinger?resource="+url.QueryEscape(resource), nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d; want 404", resource, resp.StatusCode)
		}
		notFound = append(notFound, body)
	}
	// No hint: a pending, a disabled, a suspended and an unknown account
	// read the same.
	if notFound[0] != notFound[2] || notFound[1] != notFound[2] || notFound[len(notFound)-2] != notFound[2] {
		t.Errorf("pending, disabled and unknown answered differently: %q %q %q", notFound[0], notFound[1], notFound[2])
	}
	if resp, _ := r.fetch(t, "GET", host, "/.well-known/webfinger", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no resource: %d; want 400", resp.StatusCode)
	}
}

func TestHostMetaGivesTheWebFingerTemplate(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	resp, body := r.fetch(t, "GET", host, "/.well-known/host-meta", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xrd+xml") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(body, `<Link rel="lrdd" template="https://example.test/.well-known/webfinger?resource={uri}"/>`) {
		t.Fatalf("host-meta: %s", body)
	}
}

type actorDoc struct {
	Context           any    `json:"@context"`
	ID                string `json:"id"`
	Type              string `json:"type"`
	PreferredUsername string `json:"preferredUsername"`
	Name              string `json:"name"`
	Summary           string `json:"summary"`
	Inbox             string `json:"inbox"`
	Outbox            string `json:"outbox"`
	Followers         string `json:"followers"`
	Endpoints         struct {
		SharedInbox string `json:"sharedInbox"`
	} `json:"endpoints"`
	ManuallyApprovesFollowers *bool `json:"manuallyApprovesFollowers"`
	PublicKey                 struct {
		ID, Owner, PublicKeyPEM string
	} `json:"publicKey"`
}

func fetchActor(t *testing.T, r *running, path, accept string) (*http.Response, actorDoc, map[string]any) {
	t.Helper()
	resp, body := r.fetch(t, "GET", host, path, nil, "Accept: "+accept)
	var doc actorDoc
	var raw map[string]any
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, body)
		}
		_ = json.Unmarshal([]byte(body), &raw)
		// publicKey's JSON name is publicKeyPem; decode it by hand.
		if pk, ok := raw["publicKey"].(map[string]any); ok {
			doc.PublicKey.ID, _ = pk["id"].(string)
			doc.PublicKey.Owner, _ = pk["owner"].(string)
			doc.PublicKey.PublicKeyPEM, _ = pk["publicKeyPem"].(string)
		}
	}
	return resp, doc, raw
}

func TestActorDocuments(t *testing.T) {
	for _, authorized := range []bool{true, false} {
		extra := []string{}
		if !authorized {
			extra = []string{"[federation]", "authorized_fetch = false"}
		}
		r := start(t, testutil.ProdConfig(t, t.TempDir(), extra...))
		bio, bot := "<b>hi</b>", true
		makeUser(t, r, "alice", true, accounts.ProfileUpdate{Note: &bio})
		makeUser(t, r, "robot", true, accounts.ProfileUpdate{Bot: &bot})
		makeUser(t, r, "pending", false, accounts.ProfileUpdate{})

		for _, accept := range []string{"application/activity+json", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`} {
			resp, doc, raw := fetchActor(t, r, "/users/alice", accept)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/activity+json") {
				t.Fatalf("authorized_fetch=%v, Accept %q: %d %q", authorized, accept, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			wantAppHeaders(t, resp, "actor")
			// What key discovery needs is always there.
			if doc.ID != "https://example.test/users/alice" || doc.Type != "Person" || doc.PreferredUsername != "alice" ||
				doc.Inbox != doc.ID+"/inbox" || doc.Endpoints.SharedInbox != "https://example.test/inbox" ||
				doc.PublicKey.ID != doc.ID+"#main-key" || doc.PublicKey.Owner != doc.ID {
				t.Fatalf("authorized_fetch=%v: actor %+v", authorized, doc)
			}
			block, _ := pem.Decode([]byte(doc.PublicKey.PublicKeyPEM))
			if block == nil {
				t.Fatal("publicKeyPem is not PEM")
			}
			if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
				t.Fatalf("publicKeyPem: %v", err)
			}
			if _, leaked := raw["privateKey"]; leaked || strings.Contains(doc.PublicKey.PublicKeyPEM, "PRIVATE") {
				t.Fatal("the actor carries a private key")
			}
			am, _ := raw["assertionMethod"].([]any)
			if len(am) != 1 {
				t.Fatalf("assertionMethod %v; want the actor's Ed25519 Multikey", raw["assertionMethod"])
			}
			mk := am[0].(map[string]any)
			if mk["id"] != doc.ID+"#ed25519-key" || mk["type"] != "Multikey" || mk["controller"] != doc.ID {
				t.Errorf("Multikey %v", mk)
			}
			if _, err := activitypub.DecodeMultikey(fmt.Sprint(mk["publicKeyMultibase"])); err != nil {
				t.Errorf("publicKeyMultibase: %v", err)
			}
			stripped := []string{"outbox", "followers", "following", "featured", "summary", "url", "published", "manuallyApprovesFollowers", "discoverable"}
			for _, k := range stripped {
				_, has := raw[k]
				if authorized && has {
					t.Errorf("authorized fetch, unsigned: %q served; the stripped actor has only what key discovery needs", k)
				}
				if !authorized && !has {
					t.Errorf("authorized_fetch = false: %q missing from the actor", k)
				}
			}
			if !authorized && (doc.Summary != "<p>&lt;b&gt;hi&lt;/b&gt;</p>" || doc.Outbox != doc.ID+"/outbox" || doc.ManuallyApprovesFollowers == nil) {
				t.Errorf("full actor: summary %q outbox %q", doc.Summary, doc.Outbox)
			}
		}
		if _, doc, _ := fetchActor(t, r, "/users/robot", "application/activity+json"); doc.Type != "Service" {
			t.Errorf("a bot's actor type is %q; want Service", doc.Type)
		}
		for _, name := range []string{"pending", "nobody"} {
			if resp, _, _ := fetchActor(t, r, "/users/"+name, "application/activity+json"); resp.StatusCode != http.StatusNotFound {
				t.Errorf("/users/%s: %d; want 404", name, resp.StatusCode)
			}
		}
	}
}

// Content negotiation: a browser gets the page, an ActivityPub client the actor.
func TestProfileAndActorNegotiate(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	makeUser(t, r, "alice", true, accounts.ProfileUpdate{})
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

	resp, _ := r.fetch(t, "GET", host, "/users/alice", nil, "Accept: "+browser)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.test/@alice" {
		t.Errorf("a browser at the actor id: %d to %q; want a redirect to the profile page", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := r.fetch(t, "GET", host, "/@alice", nil, "Accept: "+browser)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "alice") {
		t.Errorf("a browser at the profile: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, _ = r.fetch(t, "GET", host, "/@alice", nil, "Accept: application/activity+json")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.test/users/alice" {
		t.Errorf("an ActivityPub client at the profile: %d to %q; want the actor id", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept") {
		t.Errorf("the profile's answer depends on Accept but Vary is %q", resp.Header.Get("Vary"))
	}
}

// The instance actor: an Application, served whole without a signature,
// found by WebFinger as acct:host@host, with one key for the instance's life.
func TestInstanceActor(t *testing.T) {
	dir := t.TempDir()
	var first string
	t.Run("served", func(t *testing.T) {
		r := start(t, testutil.ProdConfig(t, dir))
		resp, doc, raw := fetchActor(t, r, "/actor", "application/activity+json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/actor: %d", resp.StatusCode)
		}
		if doc.ID != "https://example.test/actor" || doc.Type != "Application" || doc.PreferredUsername != "example.test" ||
			doc.PublicKey.ID != doc.ID+"#main-key" || doc.PublicKey.Owner != doc.ID || doc.Outbox == "" {
			t.Fatalf("instance actor %+v", doc)
		}
		if _, ok := raw["manuallyApprovesFollowers"]; !ok {
			t.Error("the instance actor is served stripped; it must be whole to anyone")
		}
		block, _ := pem.Decode([]byte(doc.PublicKey.PublicKeyPEM))
		if block == nil {
			t.Fatal("no PEM key")
		}
		if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			t.Fatal(err)
		}
		resp, body := r.fetch(t, "GET", host, "/.well-known/webfinger?resource="+url.QueryEscape("acct:example.test@example.test"), nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"href":"https://example.test/actor"`) {
			t.Fatalf("webfinger for the instance actor: %d %s", resp.StatusCode, body)
		}
		resp, body = r.fetch(t, "GET", host, "/.well-known/webfinger?resource="+url.QueryEscape("https://example.test/users/example.test"), nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("/users/<host name> named the instance actor: %d %s", resp.StatusCode, body)
		}
		resp, _ = r.fetch(t, "GET", host, "/actor", nil, "Accept: text/html")
		if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Vary"), "Accept") {
			t.Errorf("a browser at /actor: %d, Vary %q; want a redirect that varies on Accept", resp.StatusCode, resp.Header.Get("Vary"))
		}
		_, again, _ := fetchActor(t, r, "/actor", "application/activity+json")
		if again.PublicKey.PublicKeyPEM != doc.PublicKey.PublicKeyPEM {
			t.Fatal("the instance actor's key changed between two requests")
		}
		first = doc.PublicKey.PublicKeyPEM
	})
	t.Run("after a restart", func(t *testing.T) {
		r := start(t, testutil.ProdConfig(t, dir))
		if _, after, _ := fetchActor(t, r, "/actor", "application/activity+json"); first == "" || after.PublicKey.PublicKeyPEM != first {
			t.Fatal("the instance actor's key changed across a restart")
		}
	})
}

// An account made before actors had an Ed25519 key gets one at the next
// start, and its actor publishes it.
func TestAccountsWithoutAnEd25519KeyGetOneAtStart(t *testing.T) {
	dir := t.TempDir()
	t.Run("an old account", func(t *testing.T) {
		r := start(t, testutil.ProdConfig(t, dir))
		pub, priv, err := accounts.NewKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		a := &store.Account{ID: 42, Username: "old", URI: "https://example.test/users/old", URL: "https://example.test/@old",
			Discoverable: true, PublicKeyPEM: pub, PrivateKeyPEM: priv, CreatedAt: now, UpdatedAt: now}
		u := &store.User{Email: "old@example.test", PasswordHash: "x", Role: "user", Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: now}
		if err := r.inst.store.CreateLocalAccount(context.Background(), a, u); err != nil {
			t.Fatal(err)
		}
		if _, _, raw := fetchActor(t, r, "/users/old", "application/activity+json"); raw["assertionMethod"] != nil {
			t.Fatalf("before the restart the old account already has %v", raw["assertionMethod"])
		}
	})
	t.Run("after a restart", func(t *testing.T) {
		r := start(t, testutil.ProdConfig(t, dir))
		if _, _, raw := fetchActor(t, r, "/users/old", "application/activity+json"); raw["assertionMethod"] == nil {
			t.Fatal("the old account's actor still has no Ed25519 key after a restart")
		}
	})
}
