package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/rampart-social/rampart/internal/push"
)

// TestMastodonClientLibraryWebPush drives Web Push through go-mastodon
// against the binary: the library subscribes (its AddPushSubscription
// sends the standard keys and alerts), reads and updates the
// subscription, and bob's mention reaches a push receiver (on the test
// allow-list) encrypted for the library's key, in Mastodon's default
// aesgcm encoding; RemovePushSubscription ends it.
func TestMastodonClientLibraryWebPush(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	defer receiver.Close()
	host := strings.TrimPrefix(receiver.URL, "http://")

	data := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	p := startProc(t, []string{"RAMPART_FEDERATION_TEST_HOSTS=" + host}, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	cfg := filepath.Join(data, "rampart.toml")
	for _, u := range []string{"alice", "bob"} {
		cmd := []string{"admin", "user", "create", "--config", cfg, "--username", u, "--email", u + "@example.test", "--password-stdin"}
		if _, stderr, code := runStdin(t, []string{"RAMPART_FEDERATION_TEST_HOSTS=" + host}, socialPassword+"\n", cmd...); code != 0 {
			t.Fatalf("admin user create %s: %d %s", u, code, stderr)
		}
	}
	server := "http://localhost:" + port
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const clientName = "go-mastodon push test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write follow push"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	alice := signInThroughBrowser(t, ctx, server, app, clientName, "alice")
	bob := signInThroughBrowser(t, ctx, server, app, clientName, "bob")

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	yes, no := mastodon.Sbool(true), mastodon.Sbool(false)
	sub, err := alice.AddPushSubscription(ctx, receiver.URL+"/push/1", key.PublicKey, auth, mastodon.PushAlerts{Mention: &yes, Favourite: &no})
	if err != nil {
		t.Fatalf("AddPushSubscription: %v", err)
	}
	if sub.ServerKey == "" || sub.Alerts == nil || sub.Alerts.Mention == nil || !bool(*sub.Alerts.Mention) || sub.Alerts.Favourite == nil || bool(*sub.Alerts.Favourite) {
		t.Errorf("subscription %+v", sub)
	}
	if again, err := alice.GetPushSubscription(ctx); err != nil || again.ID != sub.ID || again.Endpoint != receiver.URL+"/push/1" {
		t.Errorf("GetPushSubscription: %+v, %v", again, err)
	}
	if upd, err := alice.UpdatePushSubscription(ctx, &mastodon.PushAlerts{Mention: &yes, Follow: &yes}); err != nil || !bool(*upd.Alerts.Follow) {
		t.Errorf("UpdatePushSubscription: %+v, %v", upd, err)
	}

	if _, err := bob.PostStatus(ctx, &mastodon.Toot{Status: "@alice a push for you", Visibility: "public"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no push within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	r, body := got[0], bodies[0]
	mu.Unlock()
	ua, err := key.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	salt, _ := decodeB64(strings.TrimPrefix(r.Header.Get("Encryption"), "salt="))
	dh, _, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Crypto-Key"), "dh="), ";")
	sender, _ := decodeB64(dh)
	plain, err := push.DecryptAESGCM(body, ua, auth, sender, salt)
	if err != nil || r.Header.Get("Content-Encoding") != "aesgcm" {
		t.Fatalf("the push (%s) does not open: %v", r.Header.Get("Content-Encoding"), err)
	}
	var payload map[string]any
	if err := json.Unmarshal(plain, &payload); err != nil || payload["notification_type"] != "mention" ||
		payload["access_token"] != alice.Config.AccessToken || !strings.Contains(payload["body"].(string), "a push for you") {
		t.Errorf("payload %s (%v)", plain, err)
	}
	if err := alice.RemovePushSubscription(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.GetPushSubscription(ctx); err == nil {
		t.Error("the subscription outlived RemovePushSubscription")
	}
}

func decodeB64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
