package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// Two Rampart processes on two host names (localhost and 127.0.0.1: two
// names this machine resolves without DNS), each behind its own nginx with
// real TLS under a certificate the test makes and the processes trust
// (SSL_CERT_FILE). Each person finds the other through search with
// resolve=true: WebFinger, then the actor fetched with a signed GET, which
// the other verifies by fetching the signer's instance actor. The bio
// arriving proves the whole actor was served, which authorized fetch keeps
// for a verified signer; an unsigned fetch gets the stripped actor.
func TestTwoInstancesFederateOverTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := testutil.SelfSignedCert(t, dir, "localhost", "127.0.0.1")
	portA, portB := freePort(t), freePort(t)
	for portB == portA {
		portB = freePort(t)
	}
	env := []string{"SSL_CERT_FILE=" + cert}
	peer := func(app, media, httpsPort, other string) *deployment {
		return deploy(t, deployOptions{appHost: app, mediaHost: media, httpsPort: httpsPort, cert: cert, key: key, pool: pool, env: env,
			config: map[string]string{`test_hosts = []`: `test_hosts = ["` + other + `"]`}})
	}
	a := peer("localhost", "127.0.0.1", portA, "127.0.0.1:"+portB)
	b := peer("127.0.0.1", "localhost", portB, "localhost:"+portA)
	client := proxyClient(t, pool, "", nil)

	// One person on each, signed in through the pages, with a bio.
	person := func(d *deployment, name, bio string) string {
		t.Helper()
		if _, stderr, code := runStdin(t, nil, socialPassword+"\n", "admin", "user", "create", "--config", d.cfg,
			"--username", name, "--email", name+"@example.net", "--password-stdin"); code != 0 {
			t.Fatalf("admin user create %s: %d %s", name, code, stderr)
		}
		resp, err := client.PostForm(d.app+"/api/v1/apps", url.Values{
			"client_name": {"federation test"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write"}})
		if err != nil {
			t.Fatal(err)
		}
		var app struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if body := readAll(t, resp); json.Unmarshal(body, &app) != nil || app.ClientID == "" {
			t.Fatalf("POST /api/v1/apps: %d %s", resp.StatusCode, body)
		}
		token := nginxSignInAs(t, d, app.ClientID, app.ClientSecret, "federation test", name, socialPassword)
		req, _ := http.NewRequest("PATCH", d.app+"/api/v1/accounts/update_credentials", strings.NewReader(url.Values{"note": {bio}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != 200 {
			t.Fatalf("update_credentials: %d %s", resp.StatusCode, body)
		}
		return token
	}
	nina := person(a, "nina", "Nina writes <b>here</b>")
	omar := person(b, "omar", "Omar lives there")

	find := func(d *deployment, token, acct string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("GET", d.app+"/api/v2/search?type=accounts&resolve=true&q="+url.QueryEscape("@"+acct), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		var out struct {
			Accounts []map[string]any `json:"accounts"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil || len(out.Accounts) != 1 {
			t.Fatalf("%s searching @%s: %d %s\nA's log:\n%s\nB's log:\n%s", d.app, acct, resp.StatusCode, body,
				a.rampart.stderr.String(), b.rampart.stderr.String())
		}
		return out.Accounts[0]
	}
	omarOnA := find(a, nina, "omar@127.0.0.1:"+portB)
	if omarOnA["acct"] != "omar@127.0.0.1:"+portB || omarOnA["uri"] != b.app+"/users/omar" || omarOnA["url"] != b.app+"/@omar" {
		t.Errorf("omar as A shows him: %v", omarOnA)
	}
	if note := fmt.Sprint(omarOnA["note"]); !strings.Contains(note, "Omar lives there") {
		t.Errorf("omar's bio did not arrive on A (%q): B served the stripped actor, so it did not verify A's signed fetch", note)
	}
	ninaOnB := find(b, omar, "nina@localhost:"+portA)
	if note := fmt.Sprint(ninaOnB["note"]); !strings.Contains(note, "Nina writes &lt;b&gt;here&lt;/b&gt;") {
		t.Errorf("nina's bio on B: %q", note)
	}

	// Shown through the Mastodon API by id, on the instance that found him.
	resp, err := client.Get(a.app + "/api/v1/accounts/" + fmt.Sprint(omarOnA["id"]))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(string(body), `"acct":"omar@127.0.0.1:`+portB+`"`) {
		t.Errorf("GET the remote account on A: %d %s", resp.StatusCode, body)
	}

	// Unsigned, the actor is what key discovery needs and nothing more.
	req, _ := http.NewRequest("GET", b.app+"/users/omar", nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var actor map[string]any
	if body := readAll(t, resp); resp.StatusCode != 200 || json.Unmarshal(body, &actor) != nil {
		t.Fatalf("unsigned actor fetch: %d %s", resp.StatusCode, body)
	}
	if actor["publicKey"] == nil || actor["summary"] != nil || actor["outbox"] != nil {
		t.Errorf("unsigned fetch got %v; want the stripped actor", actor)
	}
}
