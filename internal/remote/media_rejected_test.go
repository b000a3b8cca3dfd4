package remote

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
)

// A domain whose media are rejected has its attachments left out of a
// delivered Create and of the edits that follow it.
func TestRejectedMediaStayOutOfEdits(t *testing.T) {
	srv, routes, _ := hostile(t)
	base := srv.URL
	host := strings.TrimPrefix(base, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	bob := base + "/users/bob"
	routes["/users/bob"] = serve("application/activity+json", actorJSON(t, bob, bob, &key.PublicKey))
	routes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+host, bob)
	a, st := newTestAccounts(t, host)
	ctx := context.Background()
	if _, err := st.LimitDomain(ctx, "127.0.0.1", "", false, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	author, err := a.Actor(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	note := func(content string) []byte {
		b, _ := json.Marshal(map[string]any{"id": base + "/n1", "type": "Note", "attributedTo": bob, "content": content,
			"to": []string{activitypub.Public}, "attachment": []any{map[string]any{"type": "Document", "url": "https://pics.example/evil.png"}}})
		return b
	}
	origin := mustParse(bob)
	id, _, _, err := a.DeliveredNote(ctx, note("<p>v1</p>"), author, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := st.StatusByID(ctx, id)
	if strings.Contains(s.Content, "pics.example") {
		t.Fatalf("Create kept the link: %s", s.Content)
	}
	if _, _, err := a.DeliveredEdit(ctx, note("<p>v2</p>"), author, origin); err != nil {
		t.Fatal(err)
	}
	s, _ = st.StatusByID(ctx, id)
	if strings.Contains(s.Content, "pics.example") {
		t.Errorf("after an Update, a reject_media domain's attachment is linked: %s", s.Content)
	}
}

// A post of only media (no text) of such a domain links none of them
// either.
func TestRejectedMediaStayOutOfMediaOnlyPosts(t *testing.T) {
	srv, routes, _ := hostile(t)
	base := srv.URL
	host := strings.TrimPrefix(base, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	bob := base + "/users/bob"
	routes["/users/bob"] = serve("application/activity+json", actorJSON(t, bob, bob, &key.PublicKey))
	routes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+host, bob)
	a, st := newTestAccounts(t, host)
	ctx := context.Background()
	if _, err := st.LimitDomain(ctx, "127.0.0.1", "", false, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	author, err := a.Actor(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": base + "/n2", "type": "Note", "attributedTo": bob, "content": "",
		"to": []string{activitypub.Public}, "attachment": []any{map[string]any{"type": "Document", "url": "https://pics.example/evil.png"}}})
	id, _, _, err := a.DeliveredNote(ctx, b, author, mustParse(bob))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := st.StatusByID(ctx, id)
	if strings.Contains(s.Content, "pics.example") {
		t.Errorf("a media-only Create of a reject_media domain links its attachment: %s", s.Content)
	}
}
