package remote

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/outbound"
)

func TestImageURLs(t *testing.T) {
	https, http := mustParse("https://b.example/users/bob"), mustParse("http://127.0.0.1:8080/users/bob")
	for _, tc := range []struct {
		raw   string
		actor *url.URL
		want  string
	}{
		{`{"type":"Image","url":"https://cdn.b.example/a.png"}`, https, "https://cdn.b.example/a.png"},
		{`[{"url":"https://cdn.b.example/a.png"},{"url":"https://x/"}]`, https, "https://cdn.b.example/a.png"},
		{`{"url":"http://192.168.1.1/cgi-bin/reboot"}`, https, ""},
		{`{"url":"https://192.168.1.1/x.png"}`, https, ""},
		{`{"url":"https://[::1]/x.png"}`, https, ""},
		{`{"url":"javascript:alert(1)"}`, https, ""},
		{`{"url":"data:image/png;base64,AAAA"}`, https, ""},
		{`{"url":"https://user:pw@b.example/x.png"}`, https, ""},
		{`{"url":"https://b.example/` + strings.Repeat("a", maxURLLength) + `"}`, https, ""},
		{`{"url":"http://127.0.0.1:8080/a.png"}`, http, "http://127.0.0.1:8080/a.png"},
		{`"https://b.example/a.png"`, https, ""},
	} {
		if got := imageURL(json.RawMessage(tc.raw), tc.actor); got != tc.want {
			t.Errorf("imageURL(%.60s) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

// Peers shape type, publicKey and flags in more than one way; each shape
// reads the same.
func TestActorShapesPeersSend(t *testing.T) {
	srv, routes, _ := hostile(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	id := srv.URL + "/users/bob"
	doc := map[string]any{
		"id": id, "type": []string{"Person", "https://example/ns#Extra"}, "preferredUsername": "bob",
		"name": nil, "summary": "<p>hi <script>x</script></p>", "inbox": id + "/inbox",
		"discoverable": "yes", "manuallyApprovesFollowers": true,
		"publicKey":  []any{map[string]any{"id": id + "#main-key", "owner": id, "publicKeyPem": pemText}},
		"attachment": []any{map[string]any{"type": "PropertyValue", "name": "<b>Site</b>", "value": `<a href="https://b.example/">b</a>`}},
	}
	body, _ := json.Marshal(doc)
	routes["/users/bob"] = serve("application/activity+json", body)
	host := strings.TrimPrefix(srv.URL, "http://")
	client := outbound.New(outbound.Config{TestHosts: []string{host}})
	a := &Accounts{client: client, fetcher: NewFetcher(client, Signing{}, mustParse("http://own.test"))}
	a.now = time.Now
	ra, _, err := a.fetchActor(context.Background(), mustParse(id), Acct{User: "bob", Host: host})
	if err != nil {
		t.Fatal(err)
	}
	acc := ra.Account
	if acc.Username != "bob" || !acc.Locked || acc.Discoverable || acc.DisplayName != "" || strings.Contains(acc.Note, "script") || acc.PublicKeyPEM == "" {
		t.Fatalf("read as %+v", acc)
	}
	if len(acc.Fields) != 1 || acc.Fields[0].Name != "Site" || !strings.Contains(acc.Fields[0].Value, `rel="nofollow`) {
		t.Fatalf("fields %+v", acc.Fields)
	}
}
