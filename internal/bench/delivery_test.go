package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/store"
)

// The delivery benchmark's shape: the issue's one public post to 10,000
// followers on 100 hosts.
const (
	deliveryHosts     = 100
	followersPerHost  = 100
	deliveryTimeLimit = 10 * time.Minute
)

// testInboxes are local test inboxes: they take any signed activity with
// 202 and count the deliveries of each activity id.
type testInboxes struct {
	deliveries atomic.Int64
	mu         sync.Mutex
	last       time.Time
}

func (ti *testInboxes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if r.Method != http.MethodPost || r.Header.Get("Signature") == "" || !bytes.Contains(body, []byte(`"Create"`)) {
		http.Error(w, "not a signed Create", http.StatusBadRequest)
		return
	}
	ti.deliveries.Add(1)
	ti.mu.Lock()
	ti.last = time.Now()
	ti.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// BenchmarkDelivery posts once as an account with 10,000 remote followers
// on 100 hosts (test inboxes on loopback, served by this process) and
// reports the time from the post's answer to the last delivery, and the
// server's peak RSS. shared_inboxes: each host has a shared inbox, so the
// post is 100 deliveries, as with Mastodon peers; personal_inboxes: none
// has, so it is 10,000 (the worst case).
func BenchmarkDelivery(b *testing.B) {
	if os.Getenv("BENCH_BINARY") == "" {
		b.Skip("BENCH_BINARY is not set; run scripts/bench")
	}
	skipOnPostgres(b)
	for _, shared := range []bool{true, false} {
		name := "personal_inboxes"
		if shared {
			name = "shared_inboxes"
		}
		// One post per run: the seeding makes a run longer than any
		// benchtime, so Go does not ask for a second; the figures are
		// the reported metrics, not ns/op.
		b.Run(name, func(b *testing.B) {
			for range b.N {
				runDelivery(b, shared)
			}
		})
	}
}

func runDelivery(b *testing.B, shared bool) {
	ctx := context.Background()
	binary, err := filepath.Abs(os.Getenv("BENCH_BINARY"))
	if err != nil {
		b.Fatal(err)
	}
	inboxes := &testInboxes{}
	var hosts []string
	for range deliveryHosts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: inboxes, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		hosts = append(hosts, ln.Addr().String())
	}

	runDir := b.TempDir()
	var out, errOut bytes.Buffer
	gen := exec.Command(binary, "gen", "config", "--domain", domain, "--media-domain", "media."+domain)
	gen.Env, gen.Stdout, gen.Stderr = cleanEnv(), &out, &errOut
	if err := gen.Run(); err != nil {
		b.Fatalf("rampart gen config: %v: %s", err, errOut.String())
	}
	cfgText := strings.Replace(out.String(), "test_hosts = []", `test_hosts = ["`+strings.Join(hosts, `", "`)+`"]`, 1)
	cfgPath := filepath.Join(runDir, "rampart.toml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		b.Fatal(err)
	}
	addr, err := freeAddr()
	if err != nil {
		b.Fatal(err)
	}
	dataDir := filepath.Join(runDir, "data")
	serverEnv := []string{"RAMPART_HTTP_LISTEN=" + addr, "RAMPART_DATA_DIR=" + dataDir}
	if os.Geteuid() == 0 {
		serverEnv = append(serverEnv, "RAMPART_SECURITY_ALLOW_ROOT=true")
	}
	cfg, err := config.Load(cfgPath, serverEnv)
	if err != nil {
		b.Fatal(err)
	}
	t := time.Now()
	token, err := seedFollowers(ctx, cfg.DatabasePath(), strings.TrimSuffix(cfg.InstanceURL().String(), "/"), hosts, shared)
	if err != nil {
		b.Fatal(err)
	}
	logf("delivery: seeded %d remote followers on %d hosts (shared inboxes %v) in %.1f s",
		deliveryHosts*followersPerHost, deliveryHosts, shared, time.Since(t).Seconds())

	e := &env{runDir: runDir, logPath: filepath.Join(runDir, "server.log"), base: "http://" + addr,
		client: &http.Client{Timeout: time.Minute}}
	logFile, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	e.cmd = exec.Command(binary, "serve", "--config", cfgPath)
	e.cmd.Env = append(cleanEnv(), serverEnv...)
	e.cmd.Stdout, e.cmd.Stderr = logFile, logFile
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := e.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	e.exited = make(chan struct{})
	go func() { e.cmd.Wait(); logFile.Close(); close(e.exited) }()
	defer stopProcess(e.cmd, e.exited)
	if err := e.waitReady(e.base, e.exited); err != nil {
		b.Fatal(err)
	}
	idle, _ := e.rss()

	want := int64(deliveryHosts)
	if !shared {
		want = deliveryHosts * followersPerHost
	}
	status, body, err := e.request("POST", "/api/v1/statuses", token, url.Values{"status": {"one post for ten thousand followers"}, "visibility": {"public"}}, "")
	if err != nil || status != 200 {
		b.Fatalf("post: %d %v %.300s", status, err, body)
	}
	posted := time.Now()
	peak := idle
	deadline := posted.Add(deliveryTimeLimit)
	for inboxes.deliveries.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d deliveries after %s:\n%s", inboxes.deliveries.Load(), want, deliveryTimeLimit, e.serverLog())
		}
		if _, p := e.rss(); p > peak {
			peak = p
		}
		time.Sleep(10 * time.Millisecond)
	}
	inboxes.mu.Lock()
	took := inboxes.last.Sub(posted)
	inboxes.mu.Unlock()
	if _, p := e.rss(); p > peak {
		peak = p
	}
	// A moment for a repeat to show, if any was made.
	time.Sleep(200 * time.Millisecond)
	if got := inboxes.deliveries.Load(); got != want {
		b.Errorf("%d deliveries; want %d", got, want)
	}
	b.ReportMetric(took.Seconds(), "s_to_last_delivery")
	b.ReportMetric(float64(want)/took.Seconds(), "deliveries/s")
	b.ReportMetric(peak, "peak_rss_MiB")
	b.ReportMetric(idle, "idle_rss_MiB")
	b.ReportMetric(0, "ns/op")
	logf("delivery: %d deliveries, the last %.1f s after the post's answer; peak RSS %.1f MiB (idle %.1f)",
		want, took.Seconds(), peak, idle)
}

// seedFollowers makes the poster (a local account with a token) and its
// remote followers, followersPerHost on each host, and returns the token.
func seedFollowers(ctx context.Context, dbPath, base string, hosts []string, shared bool) (string, error) {
	st, err := store.OpenSQLite(ctx, dbPath, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	defer st.Close()
	ids := id.NewGenerator()
	now := time.Now().UTC()
	pub, priv, err := accounts.NewKeyPair()
	if err != nil {
		return "", err
	}
	hash, err := password.NewHasher(password.Default, 1).Hash(ctx, "bench password, not a secret")
	if err != nil {
		return "", err
	}
	poster := &store.Account{ID: ids.Next(), Username: "poster", URI: base + "/users/poster", URL: base + "/@poster",
		PublicKeyPEM: pub, PrivateKeyPEM: priv, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateLocalAccount(ctx, poster, &store.User{Email: "poster@" + domain, PasswordHash: hash, Role: "user",
		Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
		return "", err
	}
	for _, h := range hosts {
		for i := range followersPerHost {
			name := fmt.Sprintf("f%03d", i)
			actor := "http://" + h + "/users/" + name
			ra := &store.RemoteAccount{Account: store.Account{Username: name, Domain: h, URI: actor, URL: "http://" + h + "/@" + name,
				CreatedAt: now, UpdatedAt: now}, InboxURL: actor + "/inbox", FetchedAt: now}
			if shared {
				ra.SharedInboxURL = "http://" + h + "/inbox"
			}
			fid, err := st.UpsertRemoteAccount(ctx, ra, ids.Next())
			if err != nil {
				return "", err
			}
			if _, err := st.Follow(ctx, ids.Next(), fid, poster.ID, store.FollowOptions{ShowReblogs: true, URI: actor + "#follow"}, now); err != nil {
				return "", err
			}
		}
	}
	oa := oauth.New(st, ids, []byte("bench rate-limit key"))
	app, _, err := oa.RegisterApp(ctx, oauth.AppParams{Name: "rampart-bench", RedirectURIs: []string{oauth.OOB}, Scopes: "read write"})
	if err != nil {
		return "", err
	}
	scopes, _ := oauth.ParseScopes("read write")
	tok, err := oa.IssueForAccount(ctx, app.ID, poster.ID, scopes)
	if err != nil {
		return "", err
	}
	return tok.Token, nil
}
