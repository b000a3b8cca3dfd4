package instance

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-social/rampart/internal/push"
)

// pushReceiver is a push service: it records each push and answers with
// the status next holds (201 by default).
type pushReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []receivedPush
	next int
}

type receivedPush struct {
	header http.Header
	body   []byte
	path   string
}

func newPushReceiver(t *testing.T) *pushReceiver {
	pr := &pushReceiver{next: http.StatusCreated}
	pr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		pr.mu.Lock()
		pr.got = append(pr.got, receivedPush{r.Header.Clone(), b, r.URL.Path})
		status := pr.next
		pr.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(pr.srv.Close)
	return pr
}

// wait returns the n-th push received (0-based).
func (pr *pushReceiver) wait(t *testing.T, n int) receivedPush {
	t.Helper()
	waitFor(t, "push "+string(rune('0'+n)), func() bool {
		pr.mu.Lock()
		defer pr.mu.Unlock()
		return len(pr.got) > n
	})
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.got[n]
}

func (pr *pushReceiver) answer(status int) {
	pr.mu.Lock()
	pr.next = status
	pr.mu.Unlock()
}

// TestWebPushDeliversAMention drives Web Push end to end: a client
// subscribes (scope push), a mention is pushed to the subscription's
// endpoint through the outbound guard (the receiver is on its test
// allow-list), encrypted so that only the subscriber's private key opens
// it, signed with the instance's VAPID key; a type the alerts leave out
// is not pushed; the legacy aesgcm encoding works as well; a 410 from
// the push service ends the subscription.
func TestWebPushDeliversAMention(t *testing.T) {
	pr := newPushReceiver(t)
	host := strings.TrimPrefix(pr.srv.URL, "http://")
	s := newSocial(t, "[federation]", `test_hosts = ["`+host+`"]`)
	tok, id := s.ti.userToken("alice", "read write push")
	alice := user{"alice", tok, id}
	bob := s.user("bob")

	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	b64 := base64.RawURLEncoding
	endpoint := pr.srv.URL + "/push/alice-device"
	subscribe := func(standard string) map[string]any {
		return s.must(alice, "POST", "/api/v1/push/subscription", url.Values{
			"subscription[endpoint]":     {endpoint},
			"subscription[keys][p256dh]": {b64.EncodeToString(ua.PublicKey().Bytes())},
			"subscription[keys][auth]":   {b64.EncodeToString(auth)},
			"subscription[standard]":     {standard},
			"data[alerts][mention]":      {"true"},
			"data[alerts][favourite]":    {"false"},
			"data[policy]":               {"all"},
		}).json(t)
	}
	// A token without the push scope may not subscribe.
	if r := s.req(bob, "POST", "/api/v1/push/subscription", url.Values{"subscription[endpoint]": {endpoint}}); r.status != 403 {
		t.Errorf("subscribing without the push scope: %d, want 403", r.status)
	}
	sub := subscribe("true")
	serverKey, _ := sub["server_key"].(string)
	vapid := s.must(alice, "GET", "/api/v2/instance", nil).json(t)["configuration"].(map[string]any)["vapid"].(map[string]any)["public_key"]
	if serverKey == "" || vapid != serverKey {
		t.Fatalf("server_key %q, instance vapid key %v: want one key", serverKey, vapid)
	}
	if sub["standard"] != true || sub["alerts"].(map[string]any)["mention"] != true || sub["alerts"].(map[string]any)["favourite"] != false {
		t.Errorf("subscription %v", sub)
	}
	vapidKey, _ := b64.DecodeString(serverKey)

	post := s.post(alice, "a post to favourite", "visibility", "public")
	s.must(bob, "POST", "/api/v1/statuses/"+post+"/favourite", url.Values{}) // not among the alerts: no push
	s.post(bob, "@alice hello there", "visibility", "public")

	got := pr.wait(t, 0)
	if got.path != "/push/alice-device" || got.header.Get("Content-Encoding") != "aes128gcm" || got.header.Get("TTL") == "" || got.header.Get("Urgency") == "" {
		t.Errorf("push request: path %q, headers %v", got.path, got.header)
	}
	authz := got.header.Get("Authorization")
	jwt, k, ok := strings.Cut(strings.TrimPrefix(authz, "vapid t="), ", k=")
	if !ok || k != serverKey {
		t.Fatalf("Authorization %q", authz)
	}
	claims, err := push.VerifyVAPIDToken(jwt, vapidKey)
	if err != nil || claims["aud"] != pr.srv.URL {
		t.Errorf("VAPID token: %v, claims %v (aud want %s)", err, claims, pr.srv.URL)
	}
	plain, err := push.Decrypt128GCM(got.body, ua, auth)
	if err != nil {
		t.Fatalf("decrypt the push: %v", err)
	}
	var p map[string]any
	dec := json.NewDecoder(strings.NewReader(string(plain)))
	dec.UseNumber() // notification_id is a number, as Mastodon's, beyond a float's precision
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	// The first push is the mention: the favourite before it was not pushed.
	if p["notification_type"] != "mention" || p["access_token"] != alice.tok || p["title"] != "bob mentioned you" ||
		!strings.Contains(p["body"].(string), "hello there") || p["preferred_locale"] == "" || p["icon"] == "" {
		t.Errorf("payload %s", plain)
	}
	notes := s.must(alice, "GET", "/api/v1/notifications?types[]=mention", nil).body
	if nid, _ := p["notification_id"].(json.Number); nid == "" || !strings.Contains(notes, `"id":"`+string(nid)+`"`) {
		t.Errorf("notification_id %v is not alice's mention: %s", p["notification_id"], notes)
	}

	// The legacy encoding: the salt and the sender's key in the headers.
	if sub := subscribe("false"); sub["standard"] != false {
		t.Fatalf("resubscribed: %v", sub)
	}
	s.post(bob, "@alice once more", "visibility", "public")
	got = pr.wait(t, 1)
	salt, _ := b64.DecodeString(strings.TrimPrefix(got.header.Get("Encryption"), "salt="))
	dh, _, _ := strings.Cut(strings.TrimPrefix(got.header.Get("Crypto-Key"), "dh="), ";")
	sender, _ := b64.DecodeString(dh)
	if got.header.Get("Content-Encoding") != "aesgcm" || !strings.HasPrefix(got.header.Get("Authorization"), "WebPush ") ||
		!strings.Contains(got.header.Get("Crypto-Key"), "p256ecdsa="+serverKey) {
		t.Errorf("aesgcm headers %v", got.header)
	}
	plain, err = push.DecryptAESGCM(got.body, ua, auth, sender, salt)
	if err != nil || !strings.Contains(string(plain), "once more") {
		t.Fatalf("decrypt the aesgcm push: %q, %v", plain, err)
	}

	// The push service says the subscription is gone: so is it here.
	pr.answer(http.StatusGone)
	s.post(bob, "@alice are you there", "visibility", "public")
	pr.wait(t, 2)
	waitFor(t, "the subscription to end", func() bool {
		return s.req(alice, "GET", "/api/v1/push/subscription", nil).status == 404
	})
}
