//go:build linux

package bench

// The load benchmark of the real server. scripts/bench builds the binary
// and runs this with BENCH_BINARY set; without it every benchmark
// skips, and `go test ./...` never runs benchmarks anyway (no -bench).
//
// The dataset is seeded straight into the database, before the server
// starts, through the store's own write paths (store.CreateLocalAccount,
// store.Follow, store.CreateStatus, which fans out into home_feed,
// store.AddMark and store.CreateNotification) —
// signing 1,000 users up over HTTP would spend most of the time in argon2id
// and RSA key generation. As bench data, every account shares one password
// hash and one RSA key pair. It is seeded once per process, on first use (a
// sync.Once, never in TestMain), or reused from BENCH_SEED_DIR.
//
// Environment:
//
//	BENCH_BINARY           the rampart executable to run (required)
//	BENCH_SEED_DIR         keep the seeded dataset here and reuse it on later runs
//	BENCH_STATUSES         statuses to seed (default 100000)
//	BENCH_CLIENTS          concurrent HTTP clients (default 8)
//	BENCH_CEILING_TIME     how long the hello-world ceiling runs before each benchmark (default 1.5s)
//	BENCH_PROFILE          1: profile the server under each benchmark (its pprof listener)
//	BENCH_PROFILE_SECONDS  length of each profile (default 10)
//	BENCH_PROFILE_DIR      where profiles go (default: a new directory under /var/tmp)
//	BENCH_DB               sqlite (default) or postgres: the seed moved into a fresh
//	                       PostgreSQL database by `rampart admin db migrate` (postgres_test.go)
//	BENCH_POSTGRES         postgres: a DSN of a role that may create databases there
//	BENCH_PROCESSES        postgres: serve processes sharing the database (default 1);
//	                       requests go to them in turn
//	BENCH_HELLO_LISTEN     internal: makes this binary the hello-world server
//
// Each benchmark first runs the hello-world ceiling for BENCH_CEILING_TIME
// with its own client count and reports its req/s as a fraction of it
// (of_ceiling): on a shared machine the two move together, so the fraction
// holds still where req/s does not.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
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
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// The dataset.
const (
	numUsers        = 1000
	defaultStatuses = 100_000
	minFollowing    = 20
	maxFollowing    = 150
	// seedVersion changes whenever the seeding changes, so a stale
	// BENCH_SEED_DIR is seeded again rather than reused.
	seedVersion = 3
	domain      = "example.test"
	// timelineLimit is what clients ask for (Mastodon's default page).
	timelineLimit = 20
	// Shares of seeded statuses that are replies and reblogs.
	replyShare  = 0.10
	reblogShare = 0.07
	// Share of public originals and replies that get 1–3 favourites.
	favouriteShare = 0.20
	// publicSample is how many public statuses dataset.json lists for
	// GET /api/v1/statuses/:id.
	publicSample = 1000
)

// benchUser is a seeded account and what the benchmark needs to know of it.
type benchUser struct {
	ID        int64  `json:"id"`
	Username  string `json:"username"`
	Token     string `json:"token"` // bench data: a throwaway instance's token
	Followers int    `json:"followers"`
	Following int    `json:"following"`
	Statuses  int    `json:"statuses"`
	HomeFeed  int    `json:"home_feed"` // rows in its home_feed
	// Notifications is the notifications it received.
	Notifications int `json:"notifications"`
}

// dataset describes a seeded database (dataset.json next to it).
type dataset struct {
	Version      int                `json:"version"`
	Users        []benchUser        `json:"users"`
	Follows      int                `json:"follows"`
	Statuses     int                `json:"statuses"`
	Replies      int                `json:"replies"`
	Reblogs      int                `json:"reblogs"`
	Visibility   map[string]int     `json:"visibility"`
	MeanChars    float64            `json:"mean_chars"`
	HomeFeedRows int64              `json:"home_feed_rows"`
	DBBytes      int64              `json:"db_bytes"`
	Phases       map[string]float64 `json:"phase_seconds"`
	SeedSeconds  float64            `json:"seed_seconds"`
	SeededAt     time.Time          `json:"seeded_at"`

	// Notifications counts the notifications seeded, by type.
	Notifications map[string]int `json:"notifications"`
	Favourites    int            `json:"favourites"`
	Favourited    int            `json:"favourited_statuses"`
	// Threads are public or unlisted replies that have a public or
	// unlisted reply themselves: a context with ancestors and descendants
	// whoever asks. ThreadDepth is the longest reply chain.
	Threads     []int64 `json:"thread_statuses"`
	ThreadDepth int     `json:"thread_depth"`
	// Public is a sample of public originals and replies, spread over time.
	Public []int64 `json:"public_statuses"`
	// Tags counts the hashtags of public statuses.
	Tags map[string]int `json:"tags"`
}

// env is the running server and the seeded users.
type env struct {
	data    *dataset
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
	runDir  string
	base    string // http://127.0.0.1:port
	client  *http.Client
	clients int

	// more are the serve processes after the first (BENCH_PROCESSES > 1,
	// PostgreSQL only), on the same database and config; next turns the
	// requests among all of them, one each in turn, as a proxy's
	// round-robin would.
	more []*serverProc
	next atomic.Uint64
	// pg is the run's PostgreSQL database (BENCH_DB=postgres), else nil.
	pg *pgRun

	mostFollowed int // index in data.Users
	// mostWritten is the user with the most followers whose posts are still
	// written to each follower's home_feed (below the store's
	// fanOutOnReadFollowers, 500): the largest written fan-out.
	mostWritten  int
	following150 int

	// Start-up: from exec to the first 200 from /readyz, and the RSS then.
	readyIn time.Duration
	idleRSS float64

	// The ceiling: a bare net/http hello-world, this test binary re-executed.
	hello       *exec.Cmd
	helloExited chan struct{}
	helloBase   string
	ceilingTime time.Duration

	// Profiles (BENCH_PROFILE=1): the server's pprof listener, where the
	// profiles go, for how long, and which benchmarks have theirs already.
	pprofBase      string
	profileDir     string
	profileSeconds int
	profiled       map[string]bool
}

// serverProc is one more `rampart serve` process.
type serverProc struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
	base    string
}

var (
	setupOnce sync.Once
	theEnv    *env
	setupErr  error
)

func TestMain(m *testing.M) {
	if addr := os.Getenv("BENCH_HELLO_LISTEN"); addr != "" {
		os.Exit(serveHello(addr))
	}
	code := m.Run()
	if theEnv != nil {
		theEnv.stop()
	}
	os.Exit(code)
}

// serveHello is the ceiling: the least a Go HTTP server can do per request,
// served by this test binary re-executed (startHello) until SIGTERM.
func serveHello(addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logf("hello: %v", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("Hello, World!"))
	}))
	<-ctx.Done()
	return 0
}

// getEnv seeds and starts the server on first use; it skips without a binary.
func getEnv(b *testing.B) *env {
	b.Helper()
	if os.Getenv("BENCH_BINARY") == "" {
		b.Skip("BENCH_BINARY is not set; run scripts/bench")
	}
	setupOnce.Do(func() { theEnv, setupErr = setup() })
	if setupErr != nil {
		b.Fatal(setupErr)
	}
	return theEnv
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }

func setup() (*env, error) {
	ctx := context.Background()
	binary, err := filepath.Abs(os.Getenv("BENCH_BINARY"))
	if err != nil {
		return nil, err
	}
	clients, err := positiveInt("BENCH_CLIENTS", 8)
	if err != nil {
		return nil, err
	}
	statuses, err := positiveInt("BENCH_STATUSES", defaultStatuses)
	if err != nil {
		return nil, err
	}
	engine, err := benchDB()
	if err != nil {
		return nil, err
	}
	processes, err := positiveInt("BENCH_PROCESSES", 1)
	if err != nil {
		return nil, err
	}
	if processes > 1 && engine != "postgres" {
		// SQLite is one serving process's: its write lock and page cache
		// are the process's, and the relay between processes' streams is
		// PostgreSQL's NOTIFY.
		return nil, fmt.Errorf("BENCH_PROCESSES=%d needs BENCH_DB=postgres", processes)
	}
	ceilingTime := 1500 * time.Millisecond
	if v := os.Getenv("BENCH_CEILING_TIME"); v != "" {
		if ceilingTime, err = time.ParseDuration(v); err != nil || ceilingTime <= 0 {
			return nil, fmt.Errorf("BENCH_CEILING_TIME=%q: want a positive duration such as 1.5s", v)
		}
	}
	runDir, err := os.MkdirTemp("", "rampart-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{runDir: runDir, clients: clients, logPath: filepath.Join(runDir, "server.log"), ceilingTime: ceilingTime}
	ok := false
	defer func() {
		if !ok {
			e.stop()
		}
	}()
	if os.Getenv("BENCH_PROFILE") == "1" {
		if e.profileSeconds, err = positiveInt("BENCH_PROFILE_SECONDS", 10); err != nil {
			return nil, err
		}
		if e.profileDir = os.Getenv("BENCH_PROFILE_DIR"); e.profileDir == "" {
			if e.profileDir, err = os.MkdirTemp("/var/tmp", "rampart-bench-profiles-"); err != nil {
				return nil, err
			}
		} else if err := os.MkdirAll(e.profileDir, 0o700); err != nil {
			return nil, err
		}
		e.profiled = map[string]bool{}
		logf("profiles (%d s per benchmark) go to %s", e.profileSeconds, e.profileDir)
	}

	// A prod config for example.test, as an operator would make it. TLS is
	// the reverse proxy's job, so the server speaks plain http on loopback.
	var out, errOut bytes.Buffer
	gen := exec.Command(binary, "gen", "config", "--domain", domain, "--media-domain", "media."+domain)
	gen.Env, gen.Stdout, gen.Stderr = cleanEnv(), &out, &errOut
	if err := gen.Run(); err != nil {
		return nil, fmt.Errorf("rampart gen config: %v: %s", err, errOut.String())
	}
	cfgPath := filepath.Join(runDir, "rampart.toml")
	if err := os.WriteFile(cfgPath, out.Bytes(), 0o600); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(runDir, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return nil, err
	}
	// The benchmark is many clients' worth of requests from a few tokens and
	// one address: Mastodon's per-client throttles (limits.*) are off, since
	// what is measured is the server's capacity, not a client's allowance.
	serverEnv := []string{"RAMPART_HTTP_LISTEN=" + addr, "RAMPART_DATA_DIR=" + dataDir,
		"RAMPART_LIMITS_API_REQUESTS=0", "RAMPART_LIMITS_API_REQUESTS_ANONYMOUS=0", "RAMPART_LIMITS_POSTS=0",
		"RAMPART_LIMITS_UPLOADS=0", "RAMPART_LIMITS_FOLLOWS=0"}
	if os.Geteuid() == 0 {
		// serve refuses root in prod (tested elsewhere); a throwaway
		// benchmark instance on loopback may run as root, say, in a container.
		serverEnv = append(serverEnv, "RAMPART_SECURITY_ALLOW_ROOT=true")
		logf("running as root: the server gets security.allow_root = true")
	}
	cfg, err := config.Load(cfgPath, serverEnv)
	if err != nil {
		return nil, err
	}
	dbPath := cfg.DatabasePath()
	base := cfg.InstanceURL().String()
	// The first process's own variables; the others get theirs below.
	firstEnv := []string{}
	if e.profileDir != "" {
		// Only then: serve refuses a RAMPART_* key it does not know, and a
		// tree without the pprof listener would not start at all. (Past
		// config.Load above, which needs no part of it.) With several
		// processes, the first one's profiles only.
		pprofAddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		firstEnv = append(firstEnv, "RAMPART_DEBUG_PPROF_LISTEN="+pprofAddr)
		e.pprofBase = "http://" + pprofAddr
	}

	if seedDir := os.Getenv("BENCH_SEED_DIR"); seedDir != "" {
		if err := os.MkdirAll(seedDir, 0o700); err != nil {
			return nil, err
		}
		seedDB := filepath.Join(seedDir, filepath.Base(dbPath))
		e.data, err = loadDataset(seedDir, statuses)
		if err != nil {
			logf("no usable dataset in %s (%v): seeding it", seedDir, err)
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(seedDB + suffix)
			}
			if e.data, err = seed(ctx, seedDB, base, statuses); err != nil {
				return nil, err
			}
			if err := saveDataset(seedDir, e.data); err != nil {
				return nil, err
			}
		} else {
			logf("reusing the dataset in %s (seeded %s in %.0f s)", seedDir, e.data.SeededAt.Format(time.RFC3339), e.data.SeedSeconds)
		}
		// The benchmark posts statuses: run on a copy, keep the seed pristine.
		t := time.Now()
		for _, suffix := range []string{"", "-wal"} {
			if err := copyFile(seedDB+suffix, dbPath+suffix); err != nil && !(suffix != "" && errors.Is(err, os.ErrNotExist)) {
				return nil, err
			}
		}
		logf("copied the database in %.1f s", time.Since(t).Seconds())
	} else {
		if e.data, err = seed(ctx, dbPath, base, statuses); err != nil {
			return nil, err
		}
	}
	e.describe()
	t := time.Now()
	if engine == "postgres" {
		// The run's copy moves into a database of its own, as an operator
		// moves an instance; the move migrates the copy to this tree's
		// schema first, so start-up includes no migration here either.
		if e.pg, err = newPostgres(ctx); err != nil {
			return nil, err
		}
		if err := e.pg.move(ctx, binary, dbPath); err != nil {
			return nil, err
		}
		// Gone, so that nothing can read the SQLite copy by mistake.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(dbPath + suffix)
		}
		serverEnv = append(serverEnv, "RAMPART_DATABASE_DRIVER=postgres", "RAMPART_DATABASE_DSN="+e.pg.dsn)
	} else {
		// Apply any migration the tree under test has and the seed lacks
		// now, so that the server's start-up (a measured target) does not
		// include it.
		st, err := store.OpenSQLite(ctx, dbPath, slog.New(slog.DiscardHandler))
		if err != nil {
			return nil, err
		}
		if err := st.Close(); err != nil {
			return nil, err
		}
		logf("opened the database once (migrations) in %.2f s", time.Since(t).Seconds())
	}

	// Start the real server; start-up counts from the exec.
	e.base = "http://" + addr
	e.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: 4 * clients, MaxIdleConnsPerHost: 4 * clients, IdleConnTimeout: time.Minute,
	}}
	logFile, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	e.cmd = exec.Command(binary, "serve", "--config", cfgPath)
	e.cmd.Env = append(append(cleanEnv(), serverEnv...), firstEnv...)
	e.cmd.Stdout, e.cmd.Stderr = logFile, logFile
	// A benchmark that dies must not leave the server running.
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	t = time.Now()
	if err := e.cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	e.exited = make(chan struct{})
	go func() { e.cmd.Wait(); logFile.Close(); close(e.exited) }()
	if err := e.waitReady(e.base, e.exited); err != nil {
		return nil, err
	}
	e.readyIn = time.Since(t)
	e.idleRSS, _ = e.rss()
	logf("server pid %d ready (/readyz) %.0f ms after exec; RSS then (idle) %.1f MiB", e.cmd.Process.Pid,
		float64(e.readyIn.Microseconds())/1000, e.idleRSS)
	// The others one after another, once the first is up: Startup's
	// ready_ms stays one process's start, on either engine.
	for i := 1; i < processes; i++ {
		if err := e.startMore(binary, cfgPath, serverEnv, i); err != nil {
			return nil, err
		}
	}
	if processes > 1 {
		// Startup's idle_rss_MiB stays the first process's, as ready_ms does.
		all, _ := e.rss()
		logf("%d serve processes on one database; requests go to each in turn; RSS (idle, all) %.1f MiB", processes, all)
	}

	if err := e.startHello(); err != nil {
		return nil, err
	}

	// Sanity: a home timeline is a full page of statuses.
	u := e.data.Users[e.following150]
	status, body, err := e.request("GET", "/api/v1/timelines/home?limit="+strconv.Itoa(timelineLimit), u.Token, nil, "")
	if err != nil {
		return nil, err
	}
	var page []map[string]any
	if status != 200 || json.Unmarshal(body, &page) != nil || len(page) != timelineLimit {
		return nil, fmt.Errorf("home timeline of %s: %d, %d statuses: %.300s", u.Username, status, len(page), body)
	}
	// Warm up: every user reads their home timeline once. Cold-start
	// latency is not what the benchmarks measure.
	t = time.Now()
	var next atomic.Int64
	lat, _, err := runClients(clients, len(e.data.Users), time.Time{}, func(*mrand.Rand) error {
		return e.home(e.data.Users[int(next.Add(1)-1)%len(e.data.Users)].Token)
	})
	if err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	logf("warm-up: %d home timelines in %.1f s (p50 %.1f ms, p99 %.1f ms); RSS %s",
		len(lat), time.Since(t).Seconds(), percentileMs(lat, 0.50), percentileMs(lat, 0.99), e.rssString())
	ok = true
	return e, nil
}

// startMore starts the i-th serve process (i ≥ 1) on the same config and
// database as the first, on a loopback port of its own.
func (e *env) startMore(binary, cfgPath string, serverEnv []string, i int) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	p := &serverProc{logPath: filepath.Join(e.runDir, fmt.Sprintf("server%d.log", i+1)), base: "http://" + addr}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	p.cmd = exec.Command(binary, "serve", "--config", cfgPath)
	env := append(cleanEnv(), "RAMPART_HTTP_LISTEN="+addr)
	for _, kv := range serverEnv {
		if !strings.HasPrefix(kv, "RAMPART_HTTP_LISTEN=") { // the first's
			env = append(env, kv)
		}
	}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	t := time.Now()
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	p.exited = make(chan struct{})
	go func() { p.cmd.Wait(); logFile.Close(); close(p.exited) }()
	e.more = append(e.more, p)
	if err := e.waitReady(p.base, p.exited); err != nil {
		return err
	}
	logf("server %d pid %d on %s ready (/readyz) %.0f ms after exec", i+1, p.cmd.Process.Pid, addr,
		float64(time.Since(t).Microseconds())/1000)
	return nil
}

// pids are the serve processes' ids.
func (e *env) pids() []int {
	pids := []int{e.cmd.Process.Pid}
	for _, p := range e.more {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

// describe prints the dataset.
func (e *env) describe() {
	d := e.data
	followers := make([]int, len(d.Users))
	following := make([]int, len(d.Users))
	statuses := make([]int, len(d.Users))
	notifications := make([]int, len(d.Users))
	for i, u := range d.Users {
		followers[i], following[i], statuses[i], notifications[i] = u.Followers, u.Following, u.Statuses, u.Notifications
		if u.Followers > d.Users[e.mostFollowed].Followers {
			e.mostFollowed = i
		}
		if u.Followers < 500 && u.Followers > d.Users[e.mostWritten].Followers {
			e.mostWritten = i
		}
		if u.Following == maxFollowing && d.Users[e.following150].Following != maxFollowing {
			e.following150 = i
		}
	}
	dist := func(v []int) string {
		s := slices.Clone(v)
		slices.Sort(s)
		q := func(p float64) int { return s[min(len(s)-1, int(p*float64(len(s))))] }
		return fmt.Sprintf("min %d, p50 %d, p90 %d, p99 %d, max %d", s[0], q(0.5), q(0.9), q(0.99), s[len(s)-1])
	}
	logf("dataset: %d users, %d follows, %d statuses (%d replies, %d reblogs; visibility %v; %.0f characters on average)",
		len(d.Users), d.Follows, d.Statuses, d.Replies, d.Reblogs, d.Visibility, d.MeanChars)
	logf("  followers per user: %s", dist(followers))
	logf("  following per user: %s", dist(following))
	logf("  statuses per user:  %s", dist(statuses))
	logf("  favourites: %d, on %d public statuses", d.Favourites, d.Favourited)
	logf("  notifications: %v", d.Notifications)
	logf("  notifications per user: %s", dist(notifications))
	tag := e.commonTag()
	logf("  threads: %d replies with both ancestors and descendants; longest reply chain %d; %d public statuses sampled; #%s on %d public statuses",
		len(d.Threads), d.ThreadDepth, len(d.Public), tag, d.Tags[tag])
	logf("  home_feed: %d rows; database %.0f MiB", d.HomeFeedRows, float64(d.DBBytes)/(1<<20))
	for _, p := range []string{"accounts", "follows", "statuses", "interactions", "tokens"} {
		logf("  seeding %-12s %6.1f s", p, d.Phases[p])
	}
	logf("  seeding total        %6.1f s", d.SeedSeconds)
	mf, f150 := d.Users[e.mostFollowed], d.Users[e.following150]
	logf("  most followed: %s (%d followers, follows %d, home_feed %d rows)", mf.Username, mf.Followers, mf.Following, mf.HomeFeed)
	logf("  following 150: %s (%d followers, follows %d, home_feed %d rows)", f150.Username, f150.Followers, f150.Following, f150.HomeFeed)
}

// commonTag is the hashtag on the most public statuses.
func (e *env) commonTag() string {
	best := ""
	for tag, n := range e.data.Tags {
		if n > e.data.Tags[best] || (n == e.data.Tags[best] && tag < best) {
			best = tag
		}
	}
	return best
}

func (e *env) stop() {
	stopProcess(e.cmd, e.exited)
	for _, p := range e.more {
		stopProcess(p.cmd, p.exited)
	}
	e.pg.drop()
	stopProcess(e.hello, e.helloExited)
	if e.runDir != "" {
		os.RemoveAll(e.runDir)
	}
}

// stopProcess ends a started child with SIGTERM (SIGKILL after 30 s).
func stopProcess(cmd *exec.Cmd, exited chan struct{}) {
	if cmd == nil || cmd.Process == nil || exited == nil {
		return
	}
	select {
	case <-exited:
	default:
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
}

// startHello starts the ceiling's server: this test binary again, which
// serves hello-world instead of benchmarking (TestMain).
func (e *env) startHello() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	e.hello = exec.Command(self)
	e.hello.Env = append(cleanEnv(), "BENCH_HELLO_LISTEN="+addr)
	e.hello.Stdout, e.hello.Stderr = os.Stderr, os.Stderr
	e.hello.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := e.hello.Start(); err != nil {
		return err
	}
	e.helloExited = make(chan struct{})
	go func() { e.hello.Wait(); close(e.helloExited) }()
	e.helloBase = "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-e.helloExited:
			return errors.New("the hello-world server exited early")
		default:
		}
		if e.helloOp(nil) == nil {
			logf("hello-world server pid %d on %s", e.hello.Process.Pid, addr)
			return nil
		}
	}
	return fmt.Errorf("the hello-world server did not answer on %s", addr)
}

// helloOp is one request of the ceiling, made as the benchmarks make theirs.
func (e *env) helloOp(*mrand.Rand) error {
	status, body, err := e.requestTo(e.helloBase, "GET", "/", "", nil, "")
	if err != nil {
		return err
	}
	if status != 200 || string(body) != "Hello, World!" {
		return fmt.Errorf("hello-world: %d %.100q", status, body)
	}
	return nil
}

// positiveInt reads a positive integer from the environment.
func positiveInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a positive integer", name, v)
	}
	return n, nil
}

// cleanEnv drops RAMPART_* variables of the surrounding shell (the
// benchmark's own among them).
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RAMPART_") {
			out = append(out, kv)
		}
	}
	return out
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady waits for the serve process at base to answer /readyz.
func (e *env) waitReady(base string, exited chan struct{}) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("rampart serve exited early:\n%s", e.serverLog())
		default:
		}
		if status, _, err := e.requestTo(base, "GET", "/readyz", "", nil, ""); err == nil && status == 200 {
			return nil
		}
		// Finely: start-up is a measured target of a few hundred ms.
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("rampart serve did not answer on %s:\n%s", base, e.serverLog())
}

// serverLog is the end of each serve process's log.
func (e *env) serverLog() string {
	tail := func(path string) string {
		b, _ := os.ReadFile(path)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		return string(b)
	}
	out := tail(e.logPath)
	for i, p := range e.more {
		out += fmt.Sprintf("\n-- server %d (%s):\n%s", i+2, p.base, tail(p.logPath))
	}
	return out
}

// request makes one API call as the client of a real instance would: Host
// example.test, a bearer token, a form body.
func (e *env) request(method, path, token string, form url.Values, idempotencyKey string) (int, []byte, error) {
	base := e.base
	if len(e.more) > 0 {
		if i := int(e.next.Add(1) % uint64(len(e.more)+1)); i > 0 {
			base = e.more[i-1].base
		}
	}
	return e.requestTo(base, method, path, token, form, idempotencyKey)
}

// requestTo is request to another server (the ceiling's).
func (e *env) requestTo(base, method, path, token string, form url.Values, idempotencyKey string) (int, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Host = domain
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// home reads one page of a home timeline.
func (e *env) home(token string) error {
	status, body, err := e.request("GET", "/api/v1/timelines/home?limit="+strconv.Itoa(timelineLimit), token, nil, "")
	if err != nil {
		return err
	}
	if status != 200 || len(body) < 2 || body[0] != '[' {
		return fmt.Errorf("home timeline: %d %.300s", status, body)
	}
	return nil
}

// post writes a status the way a client does (with an Idempotency-Key).
func (e *env) post(rng *mrand.Rand, token string) error {
	mention := ""
	if rng.Float64() < 0.08 {
		mention = e.data.Users[rng.IntN(len(e.data.Users))].Username
	}
	form := url.Values{"status": {statusText(rng, mention)}, "visibility": {pickVisibility(rng)}, "language": {"en"}}
	var key [16]byte
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	status, body, err := e.request("POST", "/api/v1/statuses", token, form, hex.EncodeToString(key[:]))
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("post status: %d %.300s", status, body)
	}
	return nil
}

// runClients has clients goroutines make n calls of op between them, or as
// many as they can until until (when not zero), and returns every call's
// latency and the wall time.
func runClients(clients, n int, until time.Time, op func(rng *mrand.Rand) error) ([]time.Duration, time.Duration, error) {
	var next atomic.Int64
	var failed atomic.Bool
	lats := make([][]time.Duration, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(c), uint64(start.UnixNano())))
			lats[c] = make([]time.Duration, 0, min(n/clients, 1<<16)+1)
			for !failed.Load() && next.Add(1) <= int64(n) && (until.IsZero() || time.Now().Before(until)) {
				t := time.Now()
				err := op(rng)
				lats[c] = append(lats[c], time.Since(t))
				if err != nil {
					errs[c] = err
					failed.Store(true) // stop the others too
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return all, elapsed, errors.Join(errs...)
}

// measure runs b.N calls of op on clients concurrent clients and reports
// throughput, latency percentiles, the server's CPU time per request and
// its memory, and the hello-world ceiling measured just before with as many
// clients: of_ceiling (req/s ÷ ceiling) is the figure that holds still
// while other work shares the machine. With BENCH_PROFILE=1 it profiles the
// server under op first, once per benchmark.
func (e *env) measure(b *testing.B, clients int, op func(rng *mrand.Rand) error) {
	if e.profileDir != "" && !e.profiled[b.Name()] {
		e.profiled[b.Name()] = true
		e.profile(b, clients, op)
	}
	ceiling := e.ceiling(b, clients)
	db0 := e.pg.cpu()
	reqs := e.load(b, clients, e.pids(), op)
	if db := e.pg.cpu() - db0; e.pg != nil && e.pg.postmaster != 0 {
		// PostgreSQL's share of the work, which SQLite does inside the
		// server (and srv_cpu_ms/op counts there).
		b.ReportMetric(float64(db.Microseconds())/1000/float64(b.N), "db_cpu_ms/op")
	}
	b.ReportMetric(ceiling, "ceiling_req/s")
	b.ReportMetric(reqs/ceiling, "of_ceiling")
	rss, hwm := e.rss()
	b.ReportMetric(rss, "rss_MiB")
	b.ReportMetric(hwm, "peak_rss_MiB")
}

// load runs b.N calls of op on clients concurrent clients against the
// processes pids and reports throughput (which it returns), latency
// percentiles and CPU time per request (theirs together). ns/op is
// suppressed: with concurrent clients it would only be the inverse of req/s.
func (e *env) load(b *testing.B, clients int, pids []int, op func(rng *mrand.Rand) error) float64 {
	cpu := func() (d time.Duration) {
		for _, pid := range pids {
			d += cpuTime(pid)
		}
		return d
	}
	srv0, cli0 := cpu(), selfCPU()
	b.ResetTimer()
	lat, elapsed, err := runClients(clients, b.N, time.Time{}, op)
	b.StopTimer()
	if err != nil {
		b.Fatalf("%v\nserver log:\n%s", err, e.serverLog())
	}
	srv, cli := cpu()-srv0, selfCPU()-cli0
	reqs := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(reqs, "req/s")
	b.ReportMetric(percentileMs(lat, 0.50), "p50_ms")
	b.ReportMetric(percentileMs(lat, 0.99), "p99_ms")
	b.ReportMetric(float64(srv.Microseconds())/1000/float64(b.N), "srv_cpu_ms/op")
	b.ReportMetric(float64(cli.Microseconds())/1000/float64(b.N), "client_cpu_ms/op")
	return reqs
}

// ceiling measures the hello-world server's throughput for ceilingTime
// with clients concurrent clients.
func (e *env) ceiling(b *testing.B, clients int) float64 {
	lat, elapsed, err := runClients(clients, math.MaxInt, time.Now().Add(e.ceilingTime), e.helloOp)
	if err != nil {
		b.Fatalf("ceiling: %v", err)
	}
	return float64(len(lat)) / elapsed.Seconds()
}

// profile runs op on clients concurrent clients for profileSeconds (and a
// second more, so the load spans both profiles) while fetching a CPU profile
// and a delta allocation profile of that window from the server's pprof
// listener, and writes them to profileDir as <benchmark>.cpu.pprof and
// <benchmark>.allocs.pprof.
func (e *env) profile(b *testing.B, clients int, op func(rng *mrand.Rand) error) {
	name := strings.ReplaceAll(strings.TrimPrefix(b.Name(), "Benchmark"), "/", "-")
	secs := strconv.Itoa(e.profileSeconds)
	kinds := []string{"cpu", "allocs"}
	paths := []string{"/debug/pprof/profile?seconds=" + secs, "/debug/pprof/allocs?seconds=" + secs}
	errs := make([]error, len(kinds))
	var wg sync.WaitGroup
	for i := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fetchProfile(e.pprofBase+paths[i], filepath.Join(e.profileDir, name+"."+kinds[i]+".pprof"),
				time.Duration(e.profileSeconds+60)*time.Second)
		}()
	}
	until := time.Now().Add(time.Duration(e.profileSeconds+1) * time.Second)
	_, _, loadErr := runClients(clients, math.MaxInt, until, op)
	wg.Wait()
	if err := errors.Join(append(errs, loadErr)...); err != nil {
		b.Fatalf("profile: %v\nserver log:\n%s", err, e.serverLog())
	}
}

// fetchProfile saves one profile from the pprof listener.
func fetchProfile(from, to string, timeout time.Duration) error {
	resp, err := (&http.Client{Timeout: timeout}).Get(from)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d %.300s", from, resp.StatusCode, body)
	}
	return os.WriteFile(to, body, 0o600)
}

func percentileMs(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return float64(s[max(0, min(i, len(s)-1))].Microseconds()) / 1000
}

// rss reads the server's resident memory now and at its peak (VmRSS and
// VmHWM), in MiB; with several serve processes, the sum of theirs.
func (e *env) rss() (rss, peak float64) {
	if len(e.more) == 0 {
		return procRSS(e.cmd.Process.Pid)
	}
	for _, pid := range e.pids() {
		r, p := procRSS(pid)
		rss, peak = rss+r, peak+p
	}
	return rss, peak
}

// procRSS is one process's VmRSS and VmHWM, in MiB.
func procRSS(pid int) (rss, peak float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}

func (e *env) rssString() string {
	rss, peak := e.rss()
	return fmt.Sprintf("%.0f MiB (peak %.0f MiB)", rss, peak)
}

// cpuTime is a process's user+system CPU time so far (/proc/pid/stat;
// Linux counts it in ticks of 1/100 s).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// selfCPU is this process's (the clients') CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// getArray reads path (a JSON array) as token, or anonymously without one,
// and checks that it answers 200 with between lo and hi items.
func (e *env) getArray(path, token string, lo, hi int) error {
	status, body, err := e.request("GET", path, token, nil, "")
	if err != nil {
		return err
	}
	var items []json.RawMessage
	if status != 200 || json.Unmarshal(body, &items) != nil || len(items) < lo || len(items) > hi {
		return fmt.Errorf("GET %s: %d, %d items (want %d to %d): %.300s", path, status, len(items), lo, hi, body)
	}
	return nil
}

// getObject reads path (a JSON object) and decodes it into v.
func (e *env) getObject(path, token string, v any) error {
	status, body, err := e.request("GET", path, token, nil, "")
	if err != nil {
		return err
	}
	if status != 200 || len(body) == 0 || body[0] != '{' || json.Unmarshal(body, v) != nil {
		return fmt.Errorf("GET %s: %d %.300s", path, status, body)
	}
	return nil
}

// clientsName names a sub-benchmark by its client count.
func clientsName(n int) string {
	if n == 1 {
		return "1_client"
	}
	return strconv.Itoa(n) + "_clients"
}

// both runs op as name at BENCH_CLIENTS clients and as name_1_client at one.
func (e *env) both(b *testing.B, name string, op func(rng *mrand.Rand) error) {
	b.Run(name, func(b *testing.B) { e.measure(b, e.clients, op) })
	b.Run(name+"_1_client", func(b *testing.B) { e.measure(b, 1, op) })
}

// BenchmarkCeiling is the hello-world server under the same clients and
// requests as every other benchmark: the most requests per second this
// machine serves over loopback HTTP right now. srv_cpu_ms/op is the
// hello-world process's.
func BenchmarkCeiling(b *testing.B) {
	e := getEnv(b)
	for _, n := range []int{e.clients, 1} {
		b.Run(clientsName(n), func(b *testing.B) { e.load(b, n, []int{e.hello.Process.Pid}, e.helloOp) })
	}
}

// BenchmarkStartup reports the server's one start in setup, on the seeded
// dataset: ready_ms from exec to the first 200 from GET /readyz, and
// idle_rss_MiB, its RSS right then. Its loop does nothing, so the count of
// iterations means nothing.
func BenchmarkStartup(b *testing.B) {
	e := getEnv(b)
	for range b.N {
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(e.readyIn.Microseconds())/1000, "ready_ms")
	b.ReportMetric(e.idleRSS, "idle_rss_MiB")
}

// BenchmarkInstance reads GET /api/v1/instance and /api/v2/instance, with no
// token, as every client does on start.
func BenchmarkInstance(b *testing.B) {
	e := getEnv(b)
	e.both(b, "v1", func(*mrand.Rand) error {
		var v struct{ URI string }
		if err := e.getObject("/api/v1/instance", "", &v); err != nil {
			return err
		}
		if v.URI != domain {
			return fmt.Errorf("instance v1: uri %q", v.URI)
		}
		return nil
	})
	e.both(b, "v2", func(*mrand.Rand) error {
		var v struct{ Domain string }
		if err := e.getObject("/api/v2/instance", "", &v); err != nil {
			return err
		}
		if v.Domain != domain {
			return fmt.Errorf("instance v2: domain %q", v.Domain)
		}
		return nil
	})
}

// BenchmarkVerifyCredentials reads GET /api/v1/accounts/verify_credentials
// as random users.
func BenchmarkVerifyCredentials(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	e.both(b, "random_users", func(rng *mrand.Rand) error {
		u := users[rng.IntN(len(users))]
		var v struct{ ID, Username string }
		if err := e.getObject("/api/v1/accounts/verify_credentials", u.Token, &v); err != nil {
			return err
		}
		if v.ID != strconv.FormatInt(u.ID, 10) || v.Username != u.Username {
			return fmt.Errorf("verify_credentials as %s: %s %s", u.Username, v.ID, v.Username)
		}
		return nil
	})
}

// BenchmarkHomeTimeline reads GET /api/v1/timelines/home?limit=20 with
// concurrent clients: as random users, as the most followed user, and as a
// user following 150 accounts; and as random users one request at a time
// (latency without queueing).
func BenchmarkHomeTimeline(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	random := func(rng *mrand.Rand) error { return e.home(users[rng.IntN(len(users))].Token) }
	b.Run("random_users", func(b *testing.B) { e.measure(b, e.clients, random) })
	b.Run("random_users_1_client", func(b *testing.B) { e.measure(b, 1, random) })
	b.Run("most_followed_user", func(b *testing.B) {
		tok := users[e.mostFollowed].Token
		e.measure(b, e.clients, func(*mrand.Rand) error { return e.home(tok) })
	})
	b.Run("following_150", func(b *testing.B) {
		tok := users[e.following150].Token
		e.measure(b, e.clients, func(*mrand.Rand) error { return e.home(tok) })
	})
}

// BenchmarkPublicTimeline reads GET /api/v1/timelines/public?limit=20 as
// random users and anonymously: a full page either way.
func BenchmarkPublicTimeline(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	path := "/api/v1/timelines/public?limit=" + strconv.Itoa(timelineLimit)
	e.both(b, "random_users", func(rng *mrand.Rand) error {
		return e.getArray(path, users[rng.IntN(len(users))].Token, timelineLimit, timelineLimit)
	})
	e.both(b, "anonymous", func(*mrand.Rand) error { return e.getArray(path, "", timelineLimit, timelineLimit) })
}

// BenchmarkLocalTimeline reads GET /api/v1/timelines/public?local=true&limit=20
// as random users (every seeded status is local; the filter is not free).
func BenchmarkLocalTimeline(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	path := "/api/v1/timelines/public?local=true&limit=" + strconv.Itoa(timelineLimit)
	e.both(b, "random_users", func(rng *mrand.Rand) error {
		return e.getArray(path, users[rng.IntN(len(users))].Token, timelineLimit, timelineLimit)
	})
}

// BenchmarkTagTimeline reads GET /api/v1/timelines/tag/<tag>?limit=20 for
// the hashtag on the most public statuses, as random users.
func BenchmarkTagTimeline(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	path := "/api/v1/timelines/tag/" + e.commonTag() + "?limit=" + strconv.Itoa(timelineLimit)
	e.both(b, "random_users", func(rng *mrand.Rand) error {
		return e.getArray(path, users[rng.IntN(len(users))].Token, timelineLimit, timelineLimit)
	})
}

// BenchmarkAccountStatuses reads GET /api/v1/accounts/:id/statuses?limit=20
// of random authors as random users. Authors are those with at least two
// pages of statuses, so that every answer is a full page at both dataset
// sizes (a page costs what its statuses cost, not what the author has).
func BenchmarkAccountStatuses(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	var authors []benchUser
	for _, u := range users {
		if u.Statuses >= 2*timelineLimit {
			authors = append(authors, u)
		}
	}
	if len(authors) == 0 {
		b.Fatal("no author with two pages of statuses")
	}
	e.both(b, "random_users", func(rng *mrand.Rand) error {
		a := authors[rng.IntN(len(authors))]
		path := "/api/v1/accounts/" + strconv.FormatInt(a.ID, 10) + "/statuses?limit=" + strconv.Itoa(timelineLimit)
		return e.getArray(path, users[rng.IntN(len(users))].Token, timelineLimit, timelineLimit)
	})
}

// BenchmarkStatus reads GET /api/v1/statuses/:id of random public statuses
// (dataset.json's sample) as random users.
func BenchmarkStatus(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	e.both(b, "random_users", func(rng *mrand.Rand) error {
		id := strconv.FormatInt(e.data.Public[rng.IntN(len(e.data.Public))], 10)
		var v struct{ ID string }
		if err := e.getObject("/api/v1/statuses/"+id, users[rng.IntN(len(users))].Token, &v); err != nil {
			return err
		}
		if v.ID != id {
			return fmt.Errorf("status %s: got %s", id, v.ID)
		}
		return nil
	})
}

// BenchmarkStatusContext reads GET /api/v1/statuses/:id/context of random
// mid-thread statuses (a reply with a reply: ancestors and descendants for
// anyone) as random users.
func BenchmarkStatusContext(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	threads := e.data.Threads
	if len(threads) == 0 {
		b.Fatal("the dataset has no reply with a reply")
	}
	e.both(b, "random_users", func(rng *mrand.Rand) error {
		id := strconv.FormatInt(threads[rng.IntN(len(threads))], 10)
		var v struct{ Ancestors, Descendants []json.RawMessage }
		if err := e.getObject("/api/v1/statuses/"+id+"/context", users[rng.IntN(len(users))].Token, &v); err != nil {
			return err
		}
		if len(v.Ancestors) == 0 || len(v.Descendants) == 0 {
			return fmt.Errorf("context of %s: %d ancestors, %d descendants", id, len(v.Ancestors), len(v.Descendants))
		}
		return nil
	})
}

// BenchmarkNotifications reads GET /api/v1/notifications?limit=20 as random
// users: a full page for whoever has 20 notifications or more.
func BenchmarkNotifications(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	path := "/api/v1/notifications?limit=" + strconv.Itoa(timelineLimit)
	e.both(b, "random_users", func(rng *mrand.Rand) error {
		u := users[rng.IntN(len(users))]
		return e.getArray(path, u.Token, min(timelineLimit, u.Notifications), timelineLimit)
	})
}

// BenchmarkPostStatus writes POST /api/v1/statuses with concurrent clients
// as random users, one at a time as random users, and with concurrent
// clients as the most followed user (the largest fan-out). fanout/op is the
// home_feed rows each post writes (followers + author).
func BenchmarkPostStatus(b *testing.B) {
	e := getEnv(b)
	users := e.data.Users
	random := func(b *testing.B, clients int) {
		var fan atomic.Int64
		e.measure(b, clients, func(rng *mrand.Rand) error {
			u := users[rng.IntN(len(users))]
			fan.Add(int64(u.Followers + 1))
			return e.post(rng, u.Token)
		})
		b.ReportMetric(float64(fan.Load())/float64(b.N), "fanout/op")
	}
	b.Run("random_users", func(b *testing.B) {
		random(b, e.clients)
		// The posts' fan-outs are jobs: how far behind the run left them.
		lag, err := e.feedLag(users[e.mostWritten])
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(lag.Microseconds())/1000, "lag_ms")
	})
	b.Run("random_users_1_client", func(b *testing.B) { random(b, 1) })
	b.Run("most_followed_user", func(b *testing.B) {
		u := users[e.mostFollowed]
		e.measure(b, e.clients, func(rng *mrand.Rand) error { return e.post(rng, u.Token) })
		b.ReportMetric(float64(u.Followers+1), "fanout/op")
		lag, err := e.feedLag(u)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(lag.Microseconds())/1000, "lag_ms")
	})
	// Home timelines of random users while the most followed account posts
	// beside them without pause (one client): the issue asks that home
	// throughput not fall below HomeTimeline/random_users's while posting
	// runs. posts/s is the posting that went on meanwhile.
	b.Run("home_while_most_followed_posts", func(b *testing.B) {
		u := users[e.mostFollowed]
		stop, done := make(chan struct{}), make(chan struct{})
		var posted atomic.Int64
		start := time.Now()
		go func() {
			defer close(done)
			rng := mrand.New(mrand.NewPCG(12, 12))
			for {
				select {
				case <-stop:
					return
				default:
				}
				if e.post(rng, u.Token) == nil {
					posted.Add(1)
				}
			}
		}()
		e.measure(b, e.clients, func(rng *mrand.Rand) error { return e.home(users[rng.IntN(len(users))].Token) })
		close(stop)
		<-done
		b.ReportMetric(float64(posted.Load())/time.Since(start).Seconds(), "posts/s")
	})
}

// feedLag posts once more as u, right after a run, and measures the time
// from the post's answer until it is in the home timeline of one of u's
// followers: all of them are written by one fan-out job, after any the run
// left queued, so this is the lag from a post to its last follower's feed
// (the issue's "followers' feeds follow within seconds").
func (e *env) feedLag(u benchUser) (time.Duration, error) {
	var followers []struct{ Username string }
	status, body, err := e.request("GET", "/api/v1/accounts/"+strconv.FormatInt(u.ID, 10)+"/followers?limit=1", u.Token, nil, "")
	if err != nil || status != 200 || json.Unmarshal(body, &followers) != nil || len(followers) == 0 {
		return 0, fmt.Errorf("followers of %s: %d %v %.200s", u.Username, status, err, body)
	}
	var token string
	for _, f := range e.data.Users {
		if f.Username == followers[0].Username {
			token = f.Token
		}
	}
	status, body, err = e.request("POST", "/api/v1/statuses", u.Token, url.Values{"status": {"how long until my followers see this?"}}, "")
	posted := time.Now()
	var st struct{ ID string }
	if err != nil || status != 200 || json.Unmarshal(body, &st) != nil {
		return 0, fmt.Errorf("post: %d %v", status, err)
	}
	for time.Since(posted) < 5*time.Minute {
		status, body, err := e.request("GET", "/api/v1/timelines/home?limit=40", token, nil, "")
		if err != nil || status != 200 {
			return 0, fmt.Errorf("home: %d %v", status, err)
		}
		if bytes.Contains(body, []byte(`"id":"`+st.ID+`"`)) {
			return time.Since(posted), nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("the post was not in a follower's home after 5 minutes")
}

// ---- Seeding ----

// zipf samples indexes 0..n-1 with a power law: the item of rank r (ranks
// assigned by a random permutation) has weight 1/(r+v)^s.
type zipf struct {
	cum  []float64
	perm []int
}

func newZipf(rng *mrand.Rand, n int, s, v float64) *zipf {
	z := &zipf{cum: make([]float64, n), perm: rng.Perm(n)}
	total := 0.0
	for r := range n {
		total += 1 / math.Pow(float64(r)+v, s)
		z.cum[r] = total
	}
	for r := range z.cum {
		z.cum[r] /= total
	}
	return z
}

func (z *zipf) sample(rng *mrand.Rand) int {
	r := sort.SearchFloat64s(z.cum, rng.Float64())
	return z.perm[min(r, len(z.perm)-1)]
}

// interaction is a notification the seeding owes (typ: follow, reblog,
// mention or favourite) from one user to another; a favourite's own row is
// written with it.
type interaction struct {
	at       time.Time
	to, from int // indexes in the users
	typ      string
	status   int64 // 0 for a follow
}

// seed fills the database at dbPath and returns its description.
func seed(ctx context.Context, dbPath, base string, numStatuses int) (*dataset, error) {
	start := time.Now()
	logf("seeding %d users, %d statuses into %s", numUsers, numStatuses, dbPath)
	st, err := store.OpenSQLite(ctx, dbPath, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	// Closed once: a second Close panics (the checkpointer's stop channel).
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	// The store checkpoints in the background, PASSIVE, which never catches
	// up with a writer that never pauses: the WAL would grow by all that the
	// seeding writes (it filled the disk at about 80 GB). The seeding is one
	// goroutine, so between two writes a TRUNCATE checkpoint on a connection
	// of its own empties the WAL.
	ckpt, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: dbPath}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer ckpt.Close()
	truncateWAL := func() error {
		var busy, log, done int
		if err := ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &done); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		return nil // busy: the next one will do
	}
	rng := mrand.New(mrand.NewPCG(2026, 1)) // the same graph and texts every time
	ids := id.NewGenerator()
	d := &dataset{Version: seedVersion, Users: make([]benchUser, numUsers), Visibility: map[string]int{}, Phases: map[string]float64{}}
	now := time.Now().UTC()
	phase := func(name string, t time.Time) {
		d.Phases[name] = time.Since(t).Seconds()
		logf("  %s: %.1f s", name, d.Phases[name])
	}

	// Accounts. Bench data: one password hash and one key pair for all.
	t := time.Now()
	hash, err := password.NewHasher(password.Default, 1).Hash(ctx, "bench password, not a secret")
	if err != nil {
		return nil, err
	}
	pub, priv, err := accounts.NewKeyPair()
	if err != nil {
		return nil, err
	}
	edPriv, err := accounts.NewEd25519Key()
	if err != nil {
		return nil, err
	}
	accounts := make([]*store.Account, numUsers)
	byName := map[string]int{}
	joined := now.Add(-120 * 24 * time.Hour)
	for i := range numUsers {
		name := fmt.Sprintf("user%04d", i)
		a := &store.Account{ID: ids.Next(), Username: name, URI: base + "/users/" + name, URL: base + "/@" + name,
			DisplayName: "Bench User " + strconv.Itoa(i), Note: sentence(rng, 8, 20), Discoverable: true,
			PublicKeyPEM: pub, PrivateKeyPEM: priv, Ed25519PrivateKeyPEM: edPriv, CreatedAt: joined, UpdatedAt: joined}
		u := &store.User{Email: name + "@" + domain, PasswordHash: hash, Role: "user", Approved: true, Locale: "en",
			DefaultPrivacy: "public", CreatedAt: joined}
		if err := st.CreateLocalAccount(ctx, a, u); err != nil {
			return nil, err
		}
		accounts[i], byName[name] = a, i
		d.Users[i] = benchUser{ID: a.ID, Username: name}
	}
	phase("accounts", t)

	// Follows: each user follows 20–150 accounts (log-uniform, so most
	// follow few), one user exactly 150. Targets are 80% drawn by
	// popularity (a power law: a few accounts gather hundreds of
	// followers), 20% uniformly (the long tail has some followers too).
	t = time.Now()
	popular := newZipf(rng, numUsers, 1.0, 3)
	following := make([][]int, numUsers)
	heavy := rng.IntN(numUsers)
	for i := range numUsers {
		k := int(math.Round(minFollowing * math.Pow(float64(maxFollowing)/minFollowing, rng.Float64())))
		if i == heavy {
			k = maxFollowing
		}
		seen := map[int]bool{i: true}
		for len(following[i]) < k {
			var j int
			if rng.Float64() < 0.8 {
				j = popular.sample(rng)
			} else {
				j = rng.IntN(numUsers)
			}
			if !seen[j] {
				seen[j] = true
				following[i] = append(following[i], j)
			}
		}
	}
	followedAt := now.Add(-100 * 24 * time.Hour)
	for i, targets := range following {
		for _, j := range targets {
			if _, err := st.Follow(ctx, ids.Next(), accounts[i].ID, accounts[j].ID, store.FollowOptions{ShowReblogs: true}, followedAt); err != nil {
				return nil, err
			}
			d.Users[i].Following++
			d.Users[j].Followers++
			d.Follows++
			if d.Follows%10_000 == 0 {
				if err := truncateWAL(); err != nil {
					return nil, err
				}
			}
		}
	}
	phase("follows", t)

	// Statuses over the last 90 days, oldest first, by authors drawn from
	// another power law (independent of popularity): a few people post a
	// lot. Ids follow created_at (id.Floor), as ids made at the time would.
	// The notifications the server would have made along the way (and the
	// favourites) are collected here and written after, in time order.
	t = time.Now()
	active := newZipf(rng, numUsers, 1.0, 10)
	tagURL := func(tag string) string { return base + "/tags/" + tag }
	resolve := func(m text.MentionRef) (text.Resolved, bool) {
		i, ok := byName[strings.ToLower(m.Username)]
		if !ok || (m.Domain != "" && m.Domain != domain) {
			return text.Resolved{}, false
		}
		return text.Resolved{ID: accounts[i].ID, URL: accounts[i].URL, Acct: accounts[i].Username}, true
	}
	userOf := make(map[int64]int, numUsers)
	for i, a := range accounts {
		userOf[a.ID] = i
	}
	// Following someone notifies them (social.Follow), at the follow's time.
	var events []interaction
	for i, targets := range following {
		for _, j := range targets {
			events = append(events, interaction{at: followedAt, to: j, from: i, typ: "follow"})
		}
	}
	type recent struct {
		id     int64
		author int
		depth  int // 0 for an original, 1 for a reply to one, and so on
	}
	var originals []recent // public and unlisted originals, newest last: reblogged
	var replyable []recent // public and unlisted originals and replies, newest last: replied to
	trim := func(r []recent) []recent {
		if len(r) > 4000 {
			return append(r[:0], r[len(r)-2000:]...)
		}
		return r
	}
	reblogged := map[[2]int64]bool{}
	threads := map[int64]bool{}
	var public []int64
	d.Tags = map[string]int{}
	// Favourites draw from their own generator, so that the statuses are
	// the same ones whatever the favourites do.
	frng := mrand.New(mrand.NewPCG(2026, 2))
	span := 90 * 24 * time.Hour
	first := now.Add(-span - time.Hour)
	step := float64(span) / float64(numStatuses)
	var chars int64
	for n := range numStatuses {
		at := first.Add(time.Duration(step * (float64(n) + 0.5*rng.Float64())))
		author := active.sample(rng)
		a := accounts[author]
		s := &store.Status{ID: id.Floor(at), AccountID: a.ID, Local: true, Language: "en", CreatedAt: at}
		s.URI = a.URI + "/statuses/" + strconv.FormatInt(s.ID, 10)
		s.URL = a.URL + "/" + strconv.FormatInt(s.ID, 10)
		ns := store.NewStatus{Status: s}
		var parent recent
		roll := rng.Float64()
		switch {
		case roll < reblogShare && len(originals) > 0:
			// A reblog of a recent public or unlisted status by someone else.
			o := originals[len(originals)-1-rng.IntN(min(len(originals), 1000))]
			if o.author == author || reblogged[[2]int64{o.id, a.ID}] {
				break
			}
			reblogged[[2]int64{o.id, a.ID}] = true
			s.ReblogOfID, s.Visibility, s.Language = o.id, store.Public, ""
			s.URI += "/activity"
			s.URL = s.URI
			d.Reblogs++
			events = append(events, interaction{at: at, to: o.author, from: author, typ: "reblog", status: o.id})
		case roll < reblogShare+replyShare && len(replyable) > 0:
			// A reply to a recent status (a reply itself at times, so
			// threads grow deeper), starting with its author's handle.
			parent = replyable[len(replyable)-1-rng.IntN(min(len(replyable), 200))]
			s.InReplyToID, s.InReplyToAccountID = parent.id, accounts[parent.author].ID
			s.Text = "@" + accounts[parent.author].Username + " " + statusText(rng, "")
			d.Replies++
		}
		if s.ReblogOfID == 0 {
			if s.Text == "" {
				mention := ""
				if rng.Float64() < 0.08 {
					mention = accounts[rng.IntN(numUsers)].Username
				}
				s.Text = statusText(rng, mention)
			}
			s.Visibility = visibilityNamed(pickVisibility(rng))
			var html string
			html, ns.MentionIDs, ns.Tags = text.Render(s.Text, tagURL, resolve)
			s.Content = html
			ns.Words = social.SearchTerms(s.Text)
			chars += int64(len([]rune(s.Text)))
			for _, m := range ns.MentionIDs {
				events = append(events, interaction{at: at, to: userOf[m], from: author, typ: "mention", status: s.ID})
			}
			if s.Visibility != store.Private {
				if s.InReplyToID == 0 {
					originals = trim(append(originals, recent{s.ID, author, 0}))
				} else if parent.depth > 0 && !threads[parent.id] {
					threads[parent.id] = true
					d.Threads = append(d.Threads, parent.id)
				}
				depth := 0
				if s.InReplyToID != 0 {
					depth = parent.depth + 1
					d.ThreadDepth = max(d.ThreadDepth, depth)
				}
				replyable = trim(append(replyable, recent{s.ID, author, depth}))
			}
			if s.Visibility == store.Public {
				public = append(public, s.ID)
				for _, tag := range ns.Tags {
					d.Tags[tag]++
				}
				if frng.Float64() < favouriteShare {
					// Others favourite it within the hour.
					fans := map[int]bool{author: true}
					for range 1 + frng.IntN(3) {
						f := frng.IntN(numUsers)
						if fans[f] {
							continue
						}
						fans[f] = true
						events = append(events, interaction{at: at.Add(time.Duration(frng.Int64N(int64(time.Hour)))),
							to: author, from: f, typ: "favourite", status: s.ID})
					}
				}
			}
		}
		d.Visibility[social.VisibilityName(s.Visibility)]++
		if err := st.CreateStatus(ctx, ns); err != nil {
			return nil, fmt.Errorf("status %d: %w", n, err)
		}
		d.Users[author].Statuses++
		d.Statuses++
		if (n+1)%1000 == 0 {
			if err := truncateWAL(); err != nil {
				return nil, err
			}
		}
		if (n+1)%10_000 == 0 {
			logf("  %d statuses, %.0f/s", n+1, float64(n+1)/time.Since(t).Seconds())
		}
	}
	d.MeanChars = float64(chars) / float64(d.Statuses-d.Reblogs)
	for i := range d.Users {
		d.Users[i].HomeFeed = d.Users[i].Statuses
		for _, j := range following[i] {
			d.Users[i].HomeFeed += d.Users[j].Statuses
		}
	}
	for i := range min(publicSample, len(public)) {
		d.Public = append(d.Public, public[i*len(public)/min(publicSample, len(public))])
	}
	phase("statuses", t)

	// Favourites and notifications, oldest first so that their ids (made
	// now) follow created_at as live ones would, written as social does:
	// store.AddMark, then store.CreateNotification, never to oneself.
	t = time.Now()
	slices.SortStableFunc(events, func(x, y interaction) int { return x.at.Compare(y.at) })
	d.Notifications = map[string]int{}
	favourited := map[int64]bool{}
	for i, ev := range events {
		if (i+1)%10_000 == 0 {
			if err := truncateWAL(); err != nil {
				return nil, err
			}
		}
		if ev.typ == "favourite" {
			created, err := st.AddMark(ctx, store.Favourite, ids.Next(), accounts[ev.from].ID, ev.status, ev.at)
			if err != nil {
				return nil, err
			}
			if !created {
				continue
			}
			d.Favourites++
			if !favourited[ev.status] {
				favourited[ev.status] = true
				d.Favourited++
			}
		}
		if ev.to == ev.from {
			continue
		}
		if _, err := st.CreateNotification(ctx, &store.Notification{ID: ids.Next(), AccountID: accounts[ev.to].ID,
			FromAccountID: accounts[ev.from].ID, Type: ev.typ, StatusID: ev.status, CreatedAt: ev.at}); err != nil {
			return nil, err
		}
		d.Notifications[ev.typ]++
		d.Users[ev.to].Notifications++
	}
	phase("interactions", t)

	// A token per user, as the OAuth service issues them.
	t = time.Now()
	oa := oauth.New(st, ids, []byte("bench rate-limit key"))
	app, _, err := oa.RegisterApp(ctx, oauth.AppParams{Name: "rampart-bench", RedirectURIs: []string{oauth.OOB}, Scopes: "read write follow"})
	if err != nil {
		return nil, err
	}
	scopes, _ := oauth.ParseScopes("read write follow")
	for i := range d.Users {
		tok, err := oa.IssueForAccount(ctx, app.ID, d.Users[i].ID, scopes)
		if err != nil {
			return nil, err
		}
		d.Users[i].Token = tok.Token
	}
	phase("tokens", t)
	if err := ckpt.Close(); err != nil {
		return nil, err
	}
	closed = true
	if err := st.Close(); err != nil {
		return nil, err
	}
	d.SeedSeconds = time.Since(start).Seconds()
	d.SeededAt = now

	// What the seeding wrote (outside the timing).
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: dbPath}).EscapedPath()+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM home_feed").Scan(&d.HomeFeedRows); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dbPath); err == nil {
		d.DBBytes = fi.Size()
	}
	return d, nil
}

func loadDataset(dir string, statuses int) (*dataset, error) {
	b, err := os.ReadFile(filepath.Join(dir, "dataset.json"))
	if err != nil {
		return nil, err
	}
	var d dataset
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if d.Version != seedVersion || len(d.Users) != numUsers {
		return nil, fmt.Errorf("dataset version %d, want %d", d.Version, seedVersion)
	}
	if d.Statuses != statuses {
		return nil, fmt.Errorf("dataset of %d statuses, want %d", d.Statuses, statuses)
	}
	if _, err := os.Stat(filepath.Join(dir, "rampart.db")); err != nil {
		return nil, err
	}
	return &d, nil
}

// saveDataset writes dataset.json last: its presence marks a complete seed.
func saveDataset(dir string, d *dataset) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "dataset.json"), b, 0o600)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ---- Status texts ----

var words = strings.Fields(`the a and of to in is it that for on with as was at be this have from or by not but what all
were we when your can said there use an each which she do how their if will up other about out many then them these so some
her would make like him into time has look two more write go see number no way could people my than first been call who
its now find long down day did get come made may part today just really think new good know back after work year also
well still right over thing little world great while morning coffee release server instance timeline federation post
weekend garden train city night music album book reading finally again never always maybe everyone anyone something
nothing weather rain sun snow walk bike code bug fix deploy database query index cache memory disk network friends
family dinner lunch breakfast tea cat dog bird photo picture film movie show episode season game play learn teach class
open source community project issue patch review merge build test ship late early small big quiet loud happy tired busy
strange lovely nice awful funny honest simple hard easy`)

var tagPool = []string{"rampart", "fediverse", "mastodon", "golang", "sqlite", "photography", "caturday", "music",
	"books", "coffee", "linux", "selfhosting", "opensource", "security", "privacy", "gardening", "cycling", "art",
	"science", "introduction"}

func sentence(rng *mrand.Rand, minWords, maxWords int) string {
	n := minWords + rng.IntN(maxWords-minWords+1)
	var b strings.Builder
	for i := range n {
		w := words[rng.IntN(len(words))]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	b.WriteString([]string{".", ".", ".", "!", "?"}[rng.IntN(5)])
	return b.String()
}

// statusText is a status of realistic length: whole sentences up to a
// log-normal target (median 110 characters, at most 480), 180 characters on
// average in the seeded set; some carry hashtags, a link or a mention.
func statusText(rng *mrand.Rand, mention string) string {
	target := int(math.Min(480, math.Max(12, math.Exp(math.Log(110)+0.75*rng.NormFloat64()))))
	var b strings.Builder
	if mention != "" {
		b.WriteString("@" + mention + " ")
	}
	for b.Len() < target {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
			b.WriteByte(' ')
		}
		b.WriteString(sentence(rng, 4, 16))
	}
	if rng.Float64() < 0.10 {
		fmt.Fprintf(&b, " https://example.org/articles/%d", rng.IntN(100_000))
	}
	if rng.Float64() < 0.20 {
		for range 1 + rng.IntN(3) {
			b.WriteString(" #" + tagPool[rng.IntN(len(tagPool))])
		}
	}
	return b.String()
}

// pickVisibility is mostly public, with some unlisted and followers-only.
func pickVisibility(rng *mrand.Rand) string {
	switch r := rng.Float64(); {
	case r < 0.80:
		return "public"
	case r < 0.92:
		return "unlisted"
	default:
		return "private"
	}
}

func visibilityNamed(name string) store.Visibility {
	switch name {
	case "unlisted":
		return store.Unlisted
	case "private":
		return store.Private
	}
	return store.Public
}
