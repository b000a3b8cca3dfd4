package activitypub

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func pemOf(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestKeyFromDocumentAppliesTheOriginRules(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _, _ := ed25519.GenerateKey(rand.Reader)
	actor := func(mod func(m map[string]any)) []byte {
		m := map[string]any{
			"id": "https://b.example/users/bob", "type": "Person", "preferredUsername": "bob",
			"publicKey": map[string]any{"id": "https://b.example/users/bob#main-key", "owner": "https://b.example/users/bob", "publicKeyPem": pemOf(t, &rk.PublicKey)},
			"assertionMethod": []any{map[string]any{"id": "https://b.example/users/bob#ed25519-key", "type": "Multikey",
				"controller": "https://b.example/users/bob", "publicKeyMultibase": EncodeMultikey(ek)}},
		}
		if mod != nil {
			mod(m)
		}
		b, _ := json.Marshal(m)
		return b
	}
	final := mustURL("https://b.example/users/bob")
	for _, keyID := range []string{"https://b.example/users/bob#main-key", "https://b.example/users/bob#ed25519-key"} {
		k, err := KeyFromDocument(actor(nil), final, keyID)
		if err != nil || k.Owner != "https://b.example/users/bob" {
			t.Fatalf("%s: %v %+v", keyID, err, k)
		}
	}
	if k, _ := KeyFromDocument(actor(nil), final, "https://b.example/users/bob#ed25519-key"); k != nil {
		if _, ok := k.Key.(ed25519.PublicKey); !ok {
			t.Fatalf("the Multikey came back as %T", k.Key)
		}
	}
	stub, _ := json.Marshal(map[string]any{"id": "https://b.example/keys/1", "owner": "https://b.example/users/bob", "publicKeyPem": pemOf(t, &rk.PublicKey)})
	if _, err := KeyFromDocument(stub, mustURL("https://b.example/keys/1"), "https://b.example/keys/1"); err != nil {
		t.Fatalf("a key document at the key's URL: %v", err)
	}

	for name, tc := range map[string]struct {
		body  []byte
		final string
		keyID string
	}{
		"id is not the URL fetched": {actor(nil), "https://b.example/users/mallory", "https://b.example/users/bob#main-key"},
		"fetched from another host": {actor(nil), "https://c.example/users/bob", "https://b.example/users/bob#main-key"},
		"keyId on another host":     {actor(nil), "https://b.example/users/bob", "https://c.example/users/bob#main-key"},
		"key owned by someone else": {actor(func(m map[string]any) {
			m["publicKey"].(map[string]any)["owner"] = "https://b.example/users/carol"
		}), "https://b.example/users/bob", "https://b.example/users/bob#main-key"},
		"key owned on another host": {actor(func(m map[string]any) {
			m["publicKey"].(map[string]any)["owner"] = "https://c.example/users/bob"
		}), "https://b.example/users/bob", "https://b.example/users/bob#main-key"},
		"key not published": {actor(nil), "https://b.example/users/bob", "https://b.example/users/bob#other-key"},
		"key stub owned off origin": {func() []byte {
			b, _ := json.Marshal(map[string]any{"id": "https://b.example/keys/1", "owner": "https://c.example/users/bob", "publicKeyPem": pemOf(t, &rk.PublicKey)})
			return b
		}(), "https://b.example/keys/1", "https://b.example/keys/1"},
		"not JSON":        {[]byte("<html>"), "https://b.example/users/bob", "https://b.example/users/bob#main-key"},
		"keyId not a URL": {actor(nil), "https://b.example/users/bob", "main-key"},
		"bad PEM": {actor(func(m map[string]any) {
			m["publicKey"].(map[string]any)["publicKeyPem"] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
		}), "https://b.example/users/bob", "https://b.example/users/bob#main-key"},
	} {
		k, err := KeyFromDocument(tc.body, mustURL(tc.final), tc.keyID)
		if err == nil {
			t.Errorf("%s: accepted %+v", name, k)
			continue
		}
		var oe *OriginError
		if !errors.As(err, &oe) && !strings.Contains(err.Error(), "publicKeyPem") {
			t.Errorf("%s: %v is not an origin refusal", name, err)
		}
	}
}

// FuzzKeyFromDocument: any document is a key or a refusal, never a panic.
func FuzzKeyFromDocument(f *testing.F) {
	f.Add([]byte(`{"id":"https://b.example/u","publicKey":{"id":"https://b.example/u#k","owner":"https://b.example/u","publicKeyPem":"x"}}`), "https://b.example/u#k")
	f.Add([]byte(`{"id":"https://b.example/u","publicKey":[{"id":"https://b.example/u#k"}],"assertionMethod":{"id":"https://b.example/u#k","publicKeyMultibase":"z6Mk"}}`), "https://b.example/u#k")
	f.Fuzz(func(t *testing.T, body []byte, keyID string) {
		k, err := KeyFromDocument(body, mustURL("https://b.example/u"), keyID)
		if err == nil && (k == nil || k.Key == nil || k.KeyID != keyID) {
			t.Fatalf("accepted without a key: %+v", k)
		}
	})
}
