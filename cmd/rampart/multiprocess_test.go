package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testdb"
)

// servedPaths counts the request log lines of p (JSON) whose path matches.
func servedPaths(p *proc, path *regexp.Regexp) int {
	n := 0
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		var l struct{ Msg, Path string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "request" && path.MatchString(l.Path) {
			n++
		}
	}
	return n
}

// Two `rampart serve` processes on one PostgreSQL database, behind the site
// `rampart gen nginx --backend A --backend B` prints, are one
// instance: a session and a token made through one work through the other,
// an upload through one is served by either, the sign-in limit counts the
// attempts made through both, a job enqueued through one is done exactly
// once, and killing one in the middle of its jobs loses none of them.
func TestTwoProcessesBehindNginxAreOneInstance(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("several processes share a PostgreSQL database: scripts/test's PostgreSQL pass runs this")
	}
	// Test inboxes for the deliveries, on loopback (test_hosts).
	ib := &inboxes{received: map[string]map[string]int{}, delay: 20 * time.Millisecond}
	var hostPorts []string
	for range 4 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: ib}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		hostPorts = append(hostPorts, ln.Addr().String())
	}

	second := "127.0.0.1:" + freePort(t)
	// The site gen nginx prints for both processes: an upstream block, round
	// robin, request by request.
	d := deploy(t, deployOptions{appHost: nginxAppHost, mediaHost: nginxMediaHost, backends: []string{second},
		config: map[string]string{"test_hosts = []": `test_hosts = ["` + strings.Join(hostPorts, `", "`) + `"]`}})
	first := d.rampart
	other := startProc(t, []string{config.EnvVarPrefix + "HTTP_LISTEN=" + second}, "serve", "--config", d.cfg)
	waitReady(t, other, second, nginxAppHost)
	client := proxyClient(t, d.pool, "", nil)

	app := nginxRegisterApp(t, d, client)
	if _, stderr, code := runStdin(t, nil, socialPassword+"\n", "admin", "user", "create", "--config", d.cfg,
		"--username", "nina", "--email", "nina@example.test", "--password-stdin"); code != 0 {
		t.Fatalf("admin user create: %d %s", code, stderr)
	}

	t.Run("a session and a token from one process work on the other", func(t *testing.T) {
		// The flow's pages alternate between the processes: the session
		// cookie made by one signs in the consent on the other, the code
		// made by one is redeemed by the other.
		token := nginxSignIn(t, d, app.ClientID, app.ClientSecret)
		for i := range 8 {
			req, _ := http.NewRequest("GET", d.app+"/api/v1/accounts/verify_credentials", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(t, resp); resp.StatusCode != 200 {
				t.Fatalf("request %d with the token: %d %s", i, resp.StatusCode, body)
			}
		}
		verify := regexp.MustCompile(`^/api/v1/accounts/verify_credentials$`)
		signIn := regexp.MustCompile(`^/(auth/sign_in|oauth/authorize|oauth/token)$`)
		if a, b := servedPaths(first, verify), servedPaths(other, verify); a == 0 || b == 0 {
			t.Errorf("the token's requests: %d served by one process, %d by the other; want both", a, b)
		}
		if a, b := servedPaths(first, signIn), servedPaths(other, signIn); a == 0 || b == 0 {
			t.Errorf("the sign-in flow: %d requests served by one process, %d by the other; want both", a, b)
		}
	})

	t.Run("an upload through one is served by both", func(t *testing.T) {
		token := nginxSignIn(t, d, app.ClientID, app.ClientSecret)
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, _ := mw.CreateFormFile("file", "noise.png")
		fw.Write(noisePNG(t, 64, 64))
		mw.Close()
		req, _ := http.NewRequest("POST", d.app+"/api/v1/media", &form)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var att struct{ URL string }
		if body := readAll(t, resp); resp.StatusCode != 200 || json.Unmarshal(body, &att) != nil || att.URL == "" {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		u, _ := url.Parse(att.URL)
		file := regexp.MustCompile("^" + regexp.QuoteMeta(u.Path) + "$")
		for i := range 4 {
			resp, err := client.Get(att.URL)
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(t, resp); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("fetch %d of the upload: %d %s", i, resp.StatusCode, body)
			}
		}
		if a, b := servedPaths(first, file), servedPaths(other, file); a == 0 || b == 0 {
			t.Errorf("the upload was served %d times by one process, %d by the other; want both", a, b)
		}
	})

	// 400 remote followers of nina's, each with an inbox of its own.
	ctx := context.Background()
	raw, err := os.ReadFile(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(raw, []string{"RAMPART_SECURITY_ALLOW_ROOT=true"})
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, filepath.Join(cfg.DataDir, "rampart.db"), slog.New(slog.DiscardHandler))
	nina, err := st.AccountByUsername(ctx, "nina", "")
	if err != nil {
		t.Fatal(err)
	}
	ids := id.NewGenerator()
	ids.SetWorker(id.Workers - 1) // the test's own ids stay clear of the processes'
	seedRemoteFollowers(t, st, ids, nina.ID, hostPorts, 100)
	st.Close()
	const followers = 400
	token := nginxSignIn(t, d, app.ClientID, app.ClientSecret)
	post := func(text string) {
		t.Helper()
		req, _ := http.NewRequest("POST", d.app+"/api/v1/statuses", strings.NewReader(url.Values{"status": {text}, "visibility": {"public"}}.Encode()))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != 200 {
			t.Fatalf("post: %d %s", resp.StatusCode, body)
		}
	}
	// perActivity is, for each activity, how many inboxes got it and the
	// most times one inbox got it.
	perActivity := func() map[string][2]int {
		ib.mu.Lock()
		defer ib.mu.Unlock()
		out := map[string][2]int{}
		for _, byID := range ib.received {
			for act, n := range byID {
				c := out[act]
				c[0]++
				c[1] = max(c[1], n)
				out[act] = c
			}
		}
		return out
	}
	waitDelivered := func(what string, activities int) map[string][2]int {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			got := perActivity()
			done := len(got) == activities
			for _, c := range got {
				done = done && c[0] == followers
			}
			if done {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: deliveries per activity %v; want %d activities to %d inboxes each", what, got, activities, followers)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	t.Run("a job enqueued through one is done exactly once", func(t *testing.T) {
		post("to four hundred inboxes")
		for act, c := range waitDelivered("the first post", 1) {
			if c[1] != 1 {
				t.Errorf("%s reached an inbox %d times; want once", act, c[1])
			}
		}
	})

	t.Run("killing one process mid-job loses nothing", func(t *testing.T) {
		_, before := ib.counts()
		post("and again, with a process killed")
		deadline := time.Now().Add(time.Minute)
		for {
			if _, n := ib.counts(); n >= before+40 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no deliveries started")
			}
			time.Sleep(2 * time.Millisecond)
		}
		first.cmd.Process.Kill()
		first.wait(t)
		_, atKill := ib.counts()
		if atKill-before >= followers {
			t.Fatalf("the deliveries were over before the kill (%d): nothing was tested", atKill-before)
		}
		waitDelivered("after the kill", 2)
		repeats := 0 // the first post's were none
		ib.mu.Lock()
		for _, byID := range ib.received {
			for _, n := range byID {
				repeats += n - 1
			}
		}
		ib.mu.Unlock()
		// Only what the killed process had in hand goes twice: at most
		// its delivery workers (16).
		if repeats > 16 {
			t.Errorf("%d inboxes got an activity twice; want at most the 16 in flight at the kill", repeats)
		}
		t.Logf("%d deliveries at the kill; the other process made the rest", atKill-before)
	})
	// The killed process comes back, on its own address, into the instance.
	first = startProc(t, nil, "serve", "--config", d.cfg)
	waitReady(t, first, d.rampartAddr, nginxAppHost)

	t.Run("the sign-in limit counts attempts made through both", func(t *testing.T) {
		attempts := int(config.Defaults().Security.LoginAttempts)
		c := d.browser(t, mustJar(t))
		before := servedPaths(first, regexp.MustCompile(`^/auth/sign_in$`))
		for i := range attempts {
			if code := nginxFailSignIn(t, d, c, "nina", ""); code == http.StatusTooManyRequests {
				t.Fatalf("attempt %d of %d was refused already", i+1, attempts)
			}
		}
		if code := nginxFailSignIn(t, d, c, "nina", ""); code != http.StatusTooManyRequests {
			t.Fatalf("attempt %d through two processes: %d; want 429 (each process counting alone would allow %d)", attempts+1, code, 2*attempts)
		}
		if servedPaths(first, regexp.MustCompile(`^/auth/sign_in$`)) == before {
			t.Error("no attempt went through the first process")
		}
	})

}

// Two processes started together on a new database: exactly one applies
// the migrations, the other waits its turn and finds the schema current,
// and both serve.
func TestTwoProcessesStartingTogetherMigrateOnce(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("processes sharing a PostgreSQL database: scripts/test's PostgreSQL pass runs this")
	}
	cfg := prodConfig(t)
	data := t.TempDir()
	addrs := []string{"127.0.0.1:" + freePort(t), "127.0.0.1:" + freePort(t)}
	var procs []*proc
	for _, addr := range addrs {
		procs = append(procs, startProc(t, []string{config.EnvVarPrefix + "HTTP_LISTEN=" + addr, config.EnvVarPrefix + "DATA_DIR=" + data}, "serve", "--config", cfg))
	}
	for i, p := range procs {
		waitReady(t, p, addrs[i], "example.test")
	}
	migrated, current := 0, 0
	for _, p := range procs {
		migrated += strings.Count(p.stderr.String(), `"msg":"database migrated"`)
		current += strings.Count(p.stderr.String(), `"msg":"database schema is current"`)
	}
	if migrated != 1 || current != 1 {
		t.Errorf("%d processes migrated and %d found the schema current; want one each", migrated, current)
	}
}
