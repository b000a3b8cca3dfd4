//go:build linux

package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/store"
)

// The streaming benchmark (issue 13): 10,000 idle authenticated WebSockets
// on one server, then posts fanned out to 1,000 subscribers of the public
// stream. Environment, besides BENCH_BINARY and the BENCH_PROFILE* trio:
//
//	BENCH_STREAM_CONNS        WebSockets to open (default 10000)
//	BENCH_STREAM_SUBSCRIBERS  of them, subscribers of the public stream, each another user's (default 1000)
//	BENCH_STREAM_POSTS        posts fanned out to them, one after another (default 10)
//	BENCH_STREAM_DIALERS      handshakes in flight at once (default 64)
//	BENCH_STREAM_SETTLE       wait between the last handshake and the RSS reading
//	                          (default: the ping interval and 5 s, so a round of pings is in it)
const (
	defaultStreamConns       = 10_000
	defaultStreamSubscribers = 1000
	defaultStreamPosts       = 10
	defaultStreamDialers     = 64
	// streamWait bounds one post's deliveries, and each handshake.
	streamWait = 30 * time.Second
)

// streamSock is one client WebSocket, read by a goroutine of its own (it
// must read: the server's pings are answered from the read loop).
type streamSock struct {
	conn   *websocket.Conn
	public bool
	done   chan struct{} // closed when the socket has ended
}

// arrival is one frame a public subscriber received, and when.
type arrival struct {
	sock int
	at   time.Time
	msg  []byte
}

// procStatus is the part of /proc/<pid>/status the benchmark reads, in KiB
// (Threads is a count).
type procStatus struct {
	VmRSS, VmHWM, RssAnon, RssFile, Threads float64
}

func readProcStatus(pid int) (procStatus, error) {
	var p procStatus
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			p.VmRSS = v
		case "VmHWM:":
			p.VmHWM = v
		case "RssAnon:":
			p.RssAnon = v
		case "RssFile:":
			p.RssFile = v
		case "Threads:":
			p.Threads = v
		}
	}
	return p, sc.Err()
}

func (p procStatus) String() string {
	return fmt.Sprintf("VmRSS %.1f MiB (anon %.1f, file %.1f), VmHWM %.1f MiB, %0.f threads",
		p.VmRSS/1024, p.RssAnon/1024, p.RssFile/1024, p.VmHWM/1024, p.Threads)
}

// streamResult is what one run of the scenario measured; both
// sub-benchmarks report from it.
type streamResult struct {
	conns, users, subscribers, dialers int
	limits                             config.Streaming
	settle                             time.Duration

	// Opening the sockets.
	accept     time.Duration
	handshakes []time.Duration
	acceptCPU  time.Duration // the server's
	clientCPU  time.Duration // this process's
	// The server before the first socket (after a warm-up) and after the
	// settle; the largest VmRSS sampled during the settle.
	before, after procStatus
	// Right after the last handshake; VmRSS every 5 s of the settle (MiB);
	// the server's CPU while idle, per second.
	afterAccept  procStatus
	settleRSS    []float64
	settleMaxRSS float64
	idleCPU      time.Duration
	// Go's own accounting (BENCH_PROFILE=1 only): MemStats before and
	// after, and the goroutines after.
	memBefore, memAfter map[string]float64
	goroutines          int

	// The fan-outs: per post, each subscriber's latency from the POST's
	// start; the POST's own answer time; the server's CPU per post.
	posts      [][]time.Duration
	answers    []time.Duration
	postCPU    time.Duration
	afterPosts procStatus
}

// streamRun is the scenario's live state: the server and the sockets stay
// up from the first sub-benchmark to the end of BenchmarkStreaming.
type streamRun struct {
	r   *streamResult
	e   *env
	d   *streamDialer
	pid int

	posts                 int
	pprofBase, profileDir string
	profileSeconds        int
	posterToken           string

	idleDone, fanoutDone bool
	err                  error
	cleanup              []func()
}

// stop ends the server, closes the sockets and removes the run's files.
func (s *streamRun) stop() {
	for _, f := range slices.Backward(s.cleanup) {
		f()
	}
	s.cleanup = nil
}

// BenchmarkStreaming measures the streaming API on a server of its own
// (not the seeded one), in two steps that share the server and its
// sockets:
//
//   - idle_websockets: BENCH_STREAM_CONNS (10,000) authenticated WebSockets
//     opened by a bounded pool of dialers, then left idle. accept_s is the
//     time to open them all; KiB/conn the growth of the server's VmRSS per
//     socket, from before the first to after the settle (goal ≤ 16).
//   - public_fanout: then BENCH_STREAM_POSTS public posts, one after
//     another, by an account nobody follows, each fanned out to
//     BENCH_STREAM_SUBSCRIBERS (1,000) of those sockets, subscribed to the
//     public stream, each another user's; p50_ms and p99_ms are over every
//     subscriber of every post, from the POST's start to the socket's
//     receipt of the update (goal p99 ≤ 100 ms).
//
// The rest of the sockets subscribe to their user's home stream (as
// clients do), so every post is also routed past them. Each step runs once
// per process whatever b.N is; the count of iterations means nothing.
func BenchmarkStreaming(b *testing.B) {
	if os.Getenv("BENCH_BINARY") == "" {
		b.Skip("BENCH_BINARY is not set; run scripts/bench")
	}
	skipOnPostgres(b)
	s := &streamRun{}
	defer s.stop()
	run := func(b *testing.B, step func() error) *streamResult {
		if err := step(); err != nil {
			b.Fatal(err)
		}
		for range b.N {
		}
		b.ReportMetric(0, "ns/op")
		return s.r
	}
	b.Run("idle_websockets", func(b *testing.B) {
		r := run(b, s.idle)
		n := float64(r.conns)
		b.ReportMetric(n, "conns")
		b.ReportMetric(r.accept.Seconds(), "accept_s")
		b.ReportMetric(n/r.accept.Seconds(), "conns/s")
		b.ReportMetric(percentileMs(r.handshakes, 0.50), "handshake_p50_ms")
		b.ReportMetric(percentileMs(r.handshakes, 0.99), "handshake_p99_ms")
		b.ReportMetric(float64(r.acceptCPU.Microseconds())/1000/n, "srv_cpu_ms/conn")
		b.ReportMetric(r.before.VmRSS/1024, "rss_before_MiB")
		b.ReportMetric(r.after.VmRSS/1024, "rss_MiB")
		b.ReportMetric((r.after.VmRSS-r.before.VmRSS)/n, "KiB/conn")
		b.ReportMetric((r.after.RssAnon-r.before.RssAnon)/n, "anon_KiB/conn")
		b.ReportMetric(r.after.VmHWM/1024, "peak_rss_MiB")
		b.ReportMetric(r.after.Threads, "threads")
		b.ReportMetric(float64(r.idleCPU.Microseconds())/1000, "idle_cpu_ms/s")
		if r.goroutines > 0 {
			b.ReportMetric(float64(r.goroutines), "goroutines")
		}
	})
	b.Run("public_fanout", func(b *testing.B) {
		r := run(b, s.fanout)
		var all []time.Duration
		for _, p := range r.posts {
			all = append(all, p...)
		}
		b.ReportMetric(float64(r.subscribers), "subscribers")
		b.ReportMetric(float64(len(r.posts)), "posts")
		b.ReportMetric(percentileMs(all, 0.50), "p50_ms")
		b.ReportMetric(percentileMs(all, 0.99), "p99_ms")
		b.ReportMetric(percentileMs(all, 1), "max_ms")
		b.ReportMetric(percentileMs(r.answers, 0.50), "post_p50_ms")
		b.ReportMetric(float64(r.postCPU.Microseconds())/1000/float64(len(r.posts)), "srv_cpu_ms/post")
		b.ReportMetric(r.afterPosts.VmRSS/1024, "rss_MiB")
		b.ReportMetric(r.afterPosts.VmHWM/1024, "peak_rss_MiB")
	})
}

// durationEnv reads a positive duration from the environment.
func durationEnv(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration such as 35s", name, v)
	}
	return d, nil
}

// raiseNoFile lets this process, and the server it starts, hold need file
// descriptors: the soft RLIMIT_NOFILE goes up to need (the hard one too,
// which root may raise). Setrlimit is called even when nothing changes:
// only then does a child inherit the raised soft limit rather than the one
// this process started with (Go restores that one in children otherwise).
func raiseNoFile(need uint64) (syscall.Rlimit, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return rl, err
	}
	if rl.Max < need {
		rl.Max = need // only root may; the error below says so otherwise
	}
	rl.Cur = max(rl.Cur, need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return rl, fmt.Errorf("RLIMIT_NOFILE to %d: %w (raise the hard limit: ulimit -Hn)", need, err)
	}
	return rl, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
}

// procNoFile is a process's soft open-files limit (/proc/<pid>/limits).
func procNoFile(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				return strconv.ParseUint(fields[0], 10, 64)
			}
		}
	}
	return 0, errors.New("no Max open files line")
}

// idle starts the server and opens the sockets, once: they stay open for
// fanout, until BenchmarkStreaming ends.
func (s *streamRun) idle() error {
	if !s.idleDone {
		s.idleDone = true
		s.err = s.openIdle()
	}
	return s.err
}

func (s *streamRun) openIdle() (err error) {
	ctx := context.Background()
	r := &streamResult{}
	s.r = r
	if r.conns, err = positiveInt("BENCH_STREAM_CONNS", defaultStreamConns); err != nil {
		return err
	}
	if r.subscribers, err = positiveInt("BENCH_STREAM_SUBSCRIBERS", defaultStreamSubscribers); err != nil {
		return err
	}
	if s.posts, err = positiveInt("BENCH_STREAM_POSTS", defaultStreamPosts); err != nil {
		return err
	}
	if r.dialers, err = positiveInt("BENCH_STREAM_DIALERS", defaultStreamDialers); err != nil {
		return err
	}
	if r.subscribers > r.conns {
		return fmt.Errorf("BENCH_STREAM_SUBSCRIBERS (%d) is more than BENCH_STREAM_CONNS (%d)", r.subscribers, r.conns)
	}
	binary, err := filepath.Abs(os.Getenv("BENCH_BINARY"))
	if err != nil {
		return err
	}
	// Each process holds a descriptor per socket, and a few hundred more.
	rl, err := raiseNoFile(uint64(r.conns) + 4096)
	if err != nil {
		return err
	}
	logf("streaming: RLIMIT_NOFILE %d (hard %d), for this process and the server", rl.Cur, rl.Max)

	if os.Getenv("BENCH_PROFILE") == "1" {
		if s.profileSeconds, err = positiveInt("BENCH_PROFILE_SECONDS", 10); err != nil {
			return err
		}
		if s.profileDir = os.Getenv("BENCH_PROFILE_DIR"); s.profileDir == "" {
			if s.profileDir, err = os.MkdirTemp("/var/tmp", "rampart-bench-profiles-"); err != nil {
				return err
			}
		} else if err := os.MkdirAll(s.profileDir, 0o700); err != nil {
			return err
		}
		logf("streaming: profiles go to %s", s.profileDir)
	}

	runDir, err := os.MkdirTemp("", "rampart-bench-streaming-")
	if err != nil {
		return err
	}
	s.cleanup = append(s.cleanup, func() { os.RemoveAll(runDir) })
	var out, errOut bytes.Buffer
	gen := exec.Command(binary, "gen", "config", "--domain", domain, "--media-domain", "media."+domain)
	gen.Env, gen.Stdout, gen.Stderr = cleanEnv(), &out, &errOut
	if err := gen.Run(); err != nil {
		return fmt.Errorf("rampart gen config: %v: %s", err, errOut.String())
	}
	cfgPath := filepath.Join(runDir, "rampart.toml")
	if err := os.WriteFile(cfgPath, out.Bytes(), 0o600); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	dataDir := filepath.Join(runDir, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return err
	}
	serverEnv := []string{"RAMPART_HTTP_LISTEN=" + addr, "RAMPART_DATA_DIR=" + dataDir}
	if os.Geteuid() == 0 {
		serverEnv = append(serverEnv, "RAMPART_SECURITY_ALLOW_ROOT=true")
	}
	if r.conns > config.Defaults().Streaming.MaxConnections {
		// More than the default allows: the instance's bound, raised to fit.
		serverEnv = append(serverEnv, "RAMPART_STREAMING_MAX_CONNECTIONS="+strconv.Itoa(r.conns))
	}
	cfg, err := config.Load(cfgPath, serverEnv)
	if err != nil {
		return err
	}
	if s.profileDir != "" {
		pprofAddr, err := freeAddr()
		if err != nil {
			return err
		}
		serverEnv = append(serverEnv, "RAMPART_DEBUG_PPROF_LISTEN="+pprofAddr)
		s.pprofBase = "http://" + pprofAddr
	}
	// The streaming limits stay as configured (the defaults: 8 per token,
	// 16 per account, 10,000 in all): the sockets are spread over enough
	// users, one token each, that no user holds more than a token may.
	r.limits = cfg.Streaming
	perUser := min(r.limits.MaxPerToken, r.limits.MaxPerAccount)
	r.users = max((r.conns+perUser-1)/perUser, r.subscribers)
	if r.conns > r.limits.MaxConnections {
		return fmt.Errorf("%d sockets do not fit streaming.max_connections = %d", r.conns, r.limits.MaxConnections)
	}
	if r.settle, err = durationEnv("BENCH_STREAM_SETTLE", r.limits.PingInterval.D()+5*time.Second); err != nil {
		return err
	}
	logf("streaming: limits max_per_token %d, max_per_account %d, max_connections %d, send_queue %d, ping_interval %s",
		r.limits.MaxPerToken, r.limits.MaxPerAccount, r.limits.MaxConnections, r.limits.SendQueue, r.limits.PingInterval.D())

	t := time.Now()
	tokens, poster, err := seedStreamUsers(ctx, cfg.DatabasePath(), strings.TrimSuffix(cfg.InstanceURL().String(), "/"), r.users)
	if err != nil {
		return err
	}
	s.posterToken = poster
	logf("streaming: seeded %d users with a token each, and a poster nobody follows, in %.1f s", r.users, time.Since(t).Seconds())

	e := &env{runDir: runDir, logPath: filepath.Join(runDir, "server.log"), base: "http://" + addr,
		client: &http.Client{Timeout: time.Minute}}
	logFile, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	e.cmd = exec.Command(binary, "serve", "--config", cfgPath)
	e.cmd.Env = append(cleanEnv(), serverEnv...)
	e.cmd.Stdout, e.cmd.Stderr = logFile, logFile
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := e.cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	e.exited = make(chan struct{})
	go func() { e.cmd.Wait(); logFile.Close(); close(e.exited) }()
	s.e = e
	s.cleanup = append(s.cleanup, func() { stopProcess(e.cmd, e.exited) })
	if err := e.waitReady(e.base, e.exited); err != nil {
		return err
	}
	pid := e.cmd.Process.Pid
	s.pid = pid
	nofile, err := procNoFile(pid)
	if err != nil || nofile < uint64(r.conns)+100 {
		return fmt.Errorf("the server may open %d files (%v); it needs %d and more", nofile, err, r.conns)
	}
	logf("streaming: server pid %d on %s, RLIMIT_NOFILE %d", pid, addr, nofile)
	d := &streamDialer{addr: addr, arrivals: make(chan arrival, 4*r.subscribers)}
	s.d = d
	s.cleanup = append(s.cleanup, d.closeAll)

	// Warm-up: the code paths and pools of a socket and of a fan-out, used
	// once before the baseline, so that the growth is the sockets' own.
	if err := d.warmUp(e, s.posterToken); err != nil {
		return s.fail("streaming warm-up: %v", err)
	}
	time.Sleep(2 * time.Second)
	if r.before, err = readProcStatus(pid); err != nil {
		return err
	}
	if s.pprofBase != "" {
		if r.memBefore, err = memStats(s.pprofBase); err != nil {
			return err
		}
	}
	logf("streaming: before the sockets: %s", r.before)

	// The sockets: socket i is user i mod users's, so the first users
	// sockets are one per user; the first subscribers of them subscribe to
	// the public stream at connect, the others to their user's home stream.
	srv0, cli0 := cpuTime(pid), selfCPU()
	start := time.Now()
	r.handshakes, err = d.open(r.conns, r.dialers, func(i int) (string, bool) {
		return tokens[i%r.users], i < r.subscribers
	})
	r.accept = time.Since(start)
	r.acceptCPU, r.clientCPU = cpuTime(pid)-srv0, selfCPU()-cli0
	if err != nil {
		return s.fail("opening the sockets: %v", err)
	}
	if r.afterAccept, err = readProcStatus(pid); err != nil {
		return err
	}
	logf("streaming: %d WebSockets (%d users, %d dialers at once) open in %.2f s: %.0f/s, handshake p50 %.2f ms, p99 %.2f ms; server CPU %.3f ms, client CPU %.3f ms per socket",
		r.conns, r.users, r.dialers, r.accept.Seconds(), float64(r.conns)/r.accept.Seconds(),
		percentileMs(r.handshakes, 0.5), percentileMs(r.handshakes, 0.99),
		float64(r.acceptCPU.Microseconds())/1000/float64(r.conns), float64(r.clientCPU.Microseconds())/1000/float64(r.conns))

	// The settle: the sockets idle (the server pings them all every
	// ping_interval); VmRSS sampled each second.
	srv0 = cpuTime(pid)
	settleStart := time.Now()
	for i := 0; time.Since(settleStart) < r.settle; i++ {
		p, err := readProcStatus(pid)
		if err != nil {
			return s.fail("the server: %v", err)
		}
		r.settleMaxRSS = max(r.settleMaxRSS, p.VmRSS)
		if i%5 == 0 {
			r.settleRSS = append(r.settleRSS, p.VmRSS/1024)
		}
		time.Sleep(time.Second)
	}
	r.idleCPU = time.Duration(float64(cpuTime(pid)-srv0) / time.Since(settleStart).Seconds())
	if n := d.ended(); n > 0 {
		return s.fail("%d sockets ended while idle (the first: %v)", n, d.firstEnd())
	}
	if r.after, err = readProcStatus(pid); err != nil {
		return err
	}
	grow := r.after.VmRSS - r.before.VmRSS
	series := make([]string, len(r.settleRSS))
	for i, v := range r.settleRSS {
		series[i] = fmt.Sprintf("%.0f", v)
	}
	logf("streaming: right after the last handshake: %s (%.2f KiB per socket over the baseline)",
		r.afterAccept, (r.afterAccept.VmRSS-r.before.VmRSS)/float64(r.conns))
	logf("streaming: idle: VmRSS every 5 s (MiB): %s; the server's CPU %.1f ms per second (token sweeps, pings)",
		strings.Join(series, " "), float64(r.idleCPU.Microseconds())/1000)
	logf("streaming: after %s idle: %s; VmRSS grew %.1f MiB, %.2f KiB per socket (anon %.2f KiB); largest VmRSS while idle %.1f MiB",
		r.settle, r.after, grow/1024, grow/float64(r.conns), (r.after.RssAnon-r.before.RssAnon)/float64(r.conns), r.settleMaxRSS/1024)

	if s.pprofBase != "" {
		if err := r.profileIdle(s.pprofBase, s.profileDir, pid); err != nil {
			return err
		}
	}
	return nil
}

// fail is an error with the end of the server's log.
func (s *streamRun) fail(format string, args ...any) error {
	return fmt.Errorf(format+"\nserver log:\n%s", append(args, s.e.serverLog())...)
}

// fanout makes the posts, once, on the sockets idle opened.
func (s *streamRun) fanout() error {
	if err := s.idle(); err != nil {
		return err
	}
	if !s.fanoutDone {
		s.fanoutDone = true
		s.err = s.postAll()
	}
	return s.err
}

func (s *streamRun) postAll() (err error) {
	r, e, d, pid, posts := s.r, s.e, s.d, s.pid, s.posts
	poster := &streamPoster{e: e, d: d, token: s.posterToken, subscribers: r.subscribers,
		rng: mrand.New(mrand.NewPCG(13, uint64(time.Now().UnixNano())))}
	if s.pprofBase != "" {
		if err := poster.profile(s.pprofBase, s.profileDir, s.profileSeconds); err != nil {
			return s.fail("profiling the fan-out: %v", err)
		}
	}
	srv0 := cpuTime(pid)
	for k := range posts {
		lat, answer, err := poster.once()
		if err != nil {
			return s.fail("post %d: %v", k+1, err)
		}
		r.posts = append(r.posts, lat)
		r.answers = append(r.answers, answer)
		logf("streaming: post %d/%d answered in %.1f ms; its update reached %d public subscribers: first %.1f ms, p50 %.1f ms, p99 %.1f ms, last %.1f ms after the POST's start",
			k+1, posts, float64(answer.Microseconds())/1000, len(lat), percentileMs(lat, 0), percentileMs(lat, 0.5), percentileMs(lat, 0.99), percentileMs(lat, 1))
		// Between posts, the writers end and the sockets idle again.
		time.Sleep(time.Second)
	}
	// The seconds of pause are in it: the idle server's own CPU (the token
	// sweeps, the pings; idle_cpu_ms/s) counts with the posts'.
	r.postCPU = cpuTime(pid) - srv0
	if n := d.ended(); n > 0 {
		return s.fail("%d sockets ended during the posts (the first: %v)", n, d.firstEnd())
	}
	if n := d.unexpected.Load(); n > 0 {
		return s.fail("%d frames reached sockets that subscribe to no stream the posts are on", n)
	}
	if r.afterPosts, err = readProcStatus(pid); err != nil {
		return err
	}
	var all []time.Duration
	for _, p := range r.posts {
		all = append(all, p...)
	}
	logf("streaming: %d posts to %d public subscribers: p50 %.1f ms, p99 %.1f ms, max %.1f ms from the POST's start; server CPU %.1f ms per post (with its second of pause); %s",
		posts, r.subscribers, percentileMs(all, 0.5), percentileMs(all, 0.99), percentileMs(all, 1),
		float64(r.postCPU.Microseconds())/1000/float64(posts), r.afterPosts)
	return nil
}

// seedStreamUsers makes n users with one token each (read write), and a
// poster nobody follows, straight in the database as the main seed does.
func seedStreamUsers(ctx context.Context, dbPath, base string, n int) (tokens []string, poster string, err error) {
	st, err := store.OpenSQLite(ctx, dbPath, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	ids := id.NewGenerator()
	now := time.Now().UTC()
	pub, priv, err := accounts.NewKeyPair()
	if err != nil {
		return nil, "", err
	}
	hash, err := password.NewHasher(password.Default, 1).Hash(ctx, "bench password, not a secret")
	if err != nil {
		return nil, "", err
	}
	oa := oauth.New(st, ids, []byte("bench rate-limit key"))
	app, _, err := oa.RegisterApp(ctx, oauth.AppParams{Name: "rampart-bench", RedirectURIs: []string{oauth.OOB}, Scopes: "read write"})
	if err != nil {
		return nil, "", err
	}
	scopes, _ := oauth.ParseScopes("read write")
	for i := range n + 1 {
		name := fmt.Sprintf("s%05d", i)
		if i == n {
			name = "poster"
		}
		a := &store.Account{ID: ids.Next(), Username: name, URI: base + "/users/" + name, URL: base + "/@" + name,
			DisplayName: "Stream " + name, Discoverable: true, PublicKeyPEM: pub, PrivateKeyPEM: priv, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateLocalAccount(ctx, a, &store.User{Email: name + "@" + domain, PasswordHash: hash, Role: "user",
			Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
			return nil, "", err
		}
		tok, err := oa.IssueForAccount(ctx, app.ID, a.ID, scopes)
		if err != nil {
			return nil, "", err
		}
		if i == n {
			poster = tok.Token
		} else {
			tokens = append(tokens, tok.Token)
		}
	}
	return tokens, poster, nil
}

// streamDialer opens the client sockets and reads them.
type streamDialer struct {
	addr     string
	arrivals chan arrival // the public subscribers' frames

	mu    sync.Mutex
	socks []*streamSock
	// closing: the benchmark is closing the sockets; their ends are not
	// failures then.
	closing    atomic.Bool
	endedN     atomic.Int64
	unexpected atomic.Int64 // frames on a socket that subscribes to no stream the posts are on
	endMu      sync.Mutex
	firstErr   error
}

func (d *streamDialer) ended() int64 { return d.endedN.Load() }

func (d *streamDialer) firstEnd() error {
	d.endMu.Lock()
	defer d.endMu.Unlock()
	return d.firstErr
}

// dial opens one socket as token, subscribed to the public stream or to
// the user's home stream, and starts its reader.
func (d *streamDialer) dial(token string, public bool) (*streamSock, error) {
	dialer := websocket.Dialer{
		NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", d.addr)
		},
		HandshakeTimeout: streamWait,
		ReadBufferSize:   4096,
		WriteBufferSize:  256, // the client writes pongs and a close frame
	}
	stream := "user"
	if public {
		stream = "public"
	}
	u := "ws://" + domain + "/api/v1/streaming?" + url.Values{"access_token": {token}, "stream": {stream}}.Encode()
	conn, resp, err := dialer.Dial(u, nil)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			return nil, fmt.Errorf("%v: %s %s", err, resp.Status, body)
		}
		return nil, err
	}
	s := &streamSock{conn: conn, public: public, done: make(chan struct{})}
	d.mu.Lock()
	i := len(d.socks)
	d.socks = append(d.socks, s)
	d.mu.Unlock()
	go d.read(i, s)
	return s, nil
}

// read reads s until it ends: a public subscriber's frames go to
// arrivals, with the time each was read; any other frame is counted.
func (d *streamDialer) read(i int, s *streamSock) {
	defer close(s.done)
	for {
		_, msg, err := s.conn.ReadMessage()
		at := time.Now()
		if err != nil {
			if !d.closing.Load() {
				d.endedN.Add(1)
				d.endMu.Lock()
				if d.firstErr == nil {
					d.firstErr = err
				}
				d.endMu.Unlock()
			}
			return
		}
		if s.public {
			d.arrivals <- arrival{sock: i, at: at, msg: msg}
		} else {
			d.unexpected.Add(1)
		}
	}
}

// open opens n sockets with dialers handshakes at most in flight; which
// says each one's token and whether it subscribes to the public stream. It
// returns each handshake's time.
func (d *streamDialer) open(n, dialers int, which func(i int) (string, bool)) ([]time.Duration, error) {
	var next atomic.Int64
	var failed atomic.Bool
	lats := make([]time.Duration, n)
	errs := make([]error, dialers)
	var wg sync.WaitGroup
	for w := range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				token, public := which(i)
				t := time.Now()
				if _, err := d.dial(token, public); err != nil {
					errs[w] = fmt.Errorf("socket %d: %w", i, err)
					failed.Store(true)
					return
				}
				lats[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	return lats, errors.Join(errs...)
}

// warmUp opens a few sockets as the poster, on the public stream, has one
// post reach them, and closes them again.
func (d *streamDialer) warmUp(e *env, token string) error {
	var socks []*streamSock
	for range 4 {
		s, err := d.dial(token, true)
		if err != nil {
			return err
		}
		socks = append(socks, s)
	}
	status, body, err := e.request("POST", "/api/v1/statuses", token, url.Values{"status": {"warming up"}, "visibility": {"public"}}, "")
	if err != nil || status != 200 {
		return fmt.Errorf("post: %d %v %.300s", status, err, body)
	}
	for range socks {
		select {
		case <-d.arrivals:
		case <-time.After(streamWait):
			return errors.New("the warm-up post did not reach its sockets")
		}
	}
	d.closing.Store(true)
	for _, s := range socks {
		s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		<-s.done
		s.conn.Close()
	}
	d.closing.Store(false)
	d.mu.Lock()
	d.socks = d.socks[:0]
	d.mu.Unlock()
	return nil
}

func (d *streamDialer) closeAll() {
	d.closing.Store(true)
	d.mu.Lock()
	socks := slices.Clone(d.socks)
	d.mu.Unlock()
	for _, s := range socks {
		s.conn.Close()
	}
	for _, s := range socks {
		<-s.done
	}
}

// streamPoster posts as the poster and collects the subscribers' updates.
type streamPoster struct {
	e           *env
	d           *streamDialer
	token       string
	subscribers int
	rng         *mrand.Rand
}

// once makes one public post and waits for its update on every public
// subscriber; it returns each one's latency from the POST's start, and the
// POST's answer time.
func (p *streamPoster) once() ([]time.Duration, time.Duration, error) {
	form := url.Values{"status": {statusText(p.rng, "")}, "visibility": {"public"}, "language": {"en"}}
	start := time.Now()
	status, body, err := p.e.request("POST", "/api/v1/statuses", p.token, form, "")
	answer := time.Since(start)
	if err != nil || status != 200 {
		return nil, 0, fmt.Errorf("post: %d %v %.300s", status, err, body)
	}
	var posted struct{ ID string }
	if err := json.Unmarshal(body, &posted); err != nil || posted.ID == "" {
		return nil, 0, fmt.Errorf("post: %v %.300s", err, body)
	}
	// Only the arrivals are taken while the fan-out runs: decoding waits
	// until every subscriber has its frame, so that this process takes as
	// little CPU from the server as it can meanwhile.
	got := make([]arrival, 0, p.subscribers)
	deadline := time.After(streamWait)
	for len(got) < p.subscribers {
		select {
		case a := <-p.d.arrivals:
			got = append(got, a)
		case <-deadline:
			return nil, 0, fmt.Errorf("status %s reached %d of %d public subscribers within %s", posted.ID, len(got), p.subscribers, streamWait)
		}
	}
	seen := map[int]bool{}
	lat := make([]time.Duration, 0, len(got))
	for _, a := range got {
		var f struct {
			Stream  []string `json:"stream"`
			Event   string   `json:"event"`
			Payload string   `json:"payload"`
		}
		var s struct{ ID, Visibility string }
		if json.Unmarshal(a.msg, &f) != nil || f.Event != "update" || !slices.Equal(f.Stream, []string{"public"}) ||
			json.Unmarshal([]byte(f.Payload), &s) != nil || s.ID != posted.ID || s.Visibility != "public" {
			return nil, 0, fmt.Errorf("socket %d: not the update of status %s: %.300s", a.sock, posted.ID, a.msg)
		}
		if seen[a.sock] {
			return nil, 0, fmt.Errorf("socket %d had status %s twice", a.sock, posted.ID)
		}
		seen[a.sock] = true
		lat = append(lat, a.at.Sub(start))
	}
	return lat, answer, nil
}

// profile posts one after another for profileSeconds and a second more
// while fetching a CPU and a delta allocation profile of that window.
func (p *streamPoster) profile(pprofBase, dir string, seconds int) error {
	name := "Streaming-public_fanout"
	secs := strconv.Itoa(seconds)
	kinds := []string{"cpu", "allocs"}
	paths := []string{"/debug/pprof/profile?seconds=" + secs, "/debug/pprof/allocs?seconds=" + secs}
	errs := make([]error, len(kinds)+1)
	var wg sync.WaitGroup
	for i := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fetchProfile(pprofBase+paths[i], filepath.Join(dir, name+"."+kinds[i]+".pprof"), time.Duration(seconds+60)*time.Second)
		}()
	}
	n := 0
	for until := time.Now().Add(time.Duration(seconds+1) * time.Second); time.Now().Before(until); n++ {
		if _, _, err := p.once(); err != nil {
			errs[len(kinds)] = err
			break
		}
	}
	wg.Wait()
	logf("streaming: profiled %d posts: %s/%s.{cpu,allocs}.pprof", n, dir, name)
	return errors.Join(errs...)
}

// memStats reads the server's runtime.MemStats, as its heap profile's text
// form prints them (no collection first), in bytes.
func memStats(pprofBase string) (map[string]float64, error) {
	resp, err := (&http.Client{Timeout: time.Minute}).Get(pprofBase + "/debug/pprof/heap?debug=1")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		inuse, sys, two := strings.Cut(v, " / ") // "Stack = inuse / sys"
		if f, err := strconv.ParseFloat(inuse, 64); err == nil {
			m[k] = f
			if two {
				if f, err := strconv.ParseFloat(sys, 64); err == nil {
					m[k+"Sys"] = f
				}
			}
		}
	}
	return m, sc.Err()
}

// profileIdle reads what Go says the idle sockets hold (MemStats against
// the baseline, the goroutines) and saves the goroutine profile and a heap
// profile taken after a collection. After the RSS reading: the collection
// changes it.
func (r *streamResult) profileIdle(pprofBase, dir string, pid int) error {
	var err error
	if r.memAfter, err = memStats(pprofBase); err != nil {
		return err
	}
	per := func(k string) float64 { return (r.memAfter[k] - r.memBefore[k]) / 1024 / float64(r.conns) }
	logf("streaming: Go's accounting, growth per socket: HeapInuse %.2f KiB, HeapAlloc %.2f KiB, StackInuse %.2f KiB, Sys %.2f KiB (MSpan %.2f KiB, GCSys %.2f KiB, OtherSys %.2f KiB); HeapObjects %.1f",
		per("HeapInuse"), per("HeapAlloc"), per("Stack"), per("Sys"), per("MSpan"), per("GCSys"), per("OtherSys"),
		(r.memAfter["HeapObjects"]-r.memBefore["HeapObjects"])/float64(r.conns))
	name := filepath.Join(dir, "Streaming-idle_websockets")
	if err := fetchProfile(pprofBase+"/debug/pprof/goroutine?debug=1", name+".goroutine.txt", time.Minute); err != nil {
		return err
	}
	if b, err := os.ReadFile(name + ".goroutine.txt"); err == nil {
		first, _, _ := strings.Cut(string(b), "\n")
		if n, err := strconv.Atoi(strings.TrimPrefix(first, "goroutine profile: total ")); err == nil {
			r.goroutines = n
		}
	}
	if err := fetchProfile(pprofBase+"/debug/pprof/heap?gc=1", name+".heap.pprof", time.Minute); err != nil {
		return err
	}
	gc, err := memStats(pprofBase)
	if err != nil {
		return err
	}
	p, _ := readProcStatus(pid)
	logf("streaming: %d goroutines in the server with %d sockets open; after a collection HeapInuse %.2f KiB per socket over the baseline, %s",
		r.goroutines, r.conns, (gc["HeapInuse"]-r.memBefore["HeapInuse"])/1024/float64(r.conns), p)
	logf("streaming: profiles: %s.goroutine.txt, %s.heap.pprof (go tool pprof -sample_index=inuse_space -top)", name, name)
	return nil
}
