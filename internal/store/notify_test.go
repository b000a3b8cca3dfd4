package store

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testutil"

	"github.com/rampart-social/rampart/internal/testdb"
)

// postgresOnly skips a test of PostgreSQL's own features in a SQLite run.
func postgresOnly(t testing.TB, what string) {
	t.Helper()
	if !testdb.Postgres() {
		t.Skip("PostgreSQL only (" + what + "): scripts/test's PostgreSQL pass runs it, with " + testdb.EnvPostgres + " set")
	}
}

// openLogged opens the store for path (PostgreSQL) with its log in buf.
func openLogged(t *testing.T, path string, buf *testutil.SyncBuffer) *Store {
	t.Helper()
	s, err := OpenPostgres(context.Background(), testdb.For(t, path), testPostgresOptions, slog.New(slog.NewTextHandler(buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// listener runs Listen on s until the test ends; heard gets each payload,
// up each time it listens.
type listener struct {
	heard chan string
	up    chan struct{}
	done  chan error
}

func listen(t *testing.T, s *Store, channel string) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{heard: make(chan string, 1000), up: make(chan struct{}, 10), done: make(chan error, 1)}
	go func() {
		l.done <- s.Listen(ctx, channel, func() { l.up <- struct{}{} }, func(p string) { l.heard <- p })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-l.done; err != nil {
			t.Errorf("Listen: %v", err)
		}
	})
	l.waitUp(t)
	return l
}

func (l *listener) waitUp(t *testing.T) {
	t.Helper()
	select {
	case <-l.up:
	case <-time.After(20 * time.Second):
		t.Fatal("not listening after 20 s")
	}
}

func (l *listener) expect(t *testing.T, want ...string) {
	t.Helper()
	for i, w := range want {
		select {
		case got := <-l.heard:
			if got != w {
				t.Fatalf("payload %d: got %.60q…, want %.60q…", i, got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("payload %d (%.60q) not heard within 10 s", i, w)
		}
	}
	select {
	case got := <-l.heard:
		t.Fatalf("heard %.60q more than was sent", got)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestNotifyAndListenNeedPostgreSQL(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "r.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Notify(context.Background(), "c", "x"); err == nil {
		t.Error("Notify on SQLite: no error")
	}
	if err := s.Listen(context.Background(), "c", func() {}, func(string) {}); err == nil {
		t.Error("Listen on SQLite: no error")
	}
}

// Two stores on one database stand for two processes: what either notifies,
// both hear, each payload once and in the order sent; several payloads of
// one Notify come together.
func TestListenHearsEveryProcessInOrder(t *testing.T) {
	postgresOnly(t, "LISTEN/NOTIFY")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	var logA, logB testutil.SyncBuffer
	a, b := openLogged(t, path, &logA), openLogged(t, path, &logB)
	la, lb := listen(t, a, "rampart_test"), listen(t, b, "rampart_test")
	other := listen(t, a, "rampart_other")

	var sent []string
	for i := range 20 {
		p := strings.Repeat("x", i) + "é" // UTF-8 text crosses as it is
		from := a
		if i%2 == 1 {
			from = b
		}
		if err := from.Notify(ctx, "rampart_test", p); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, p)
	}
	// One transaction's payloads, the longest the server takes among them;
	// a repeated one would be delivered once, so parts must differ.
	long := strings.Repeat("y", 7999)
	batch := []string{"p1", long, "p3"}
	if err := b.Notify(ctx, "rampart_test", batch...); err != nil {
		t.Fatal(err)
	}
	sent = append(sent, batch...)
	la.expect(t, sent...)
	lb.expect(t, sent...)
	other.expect(t)

	// 8000 bytes is past the server's limit: refused, and nothing of the
	// transaction is sent.
	if err := a.Notify(ctx, "rampart_test", "first", strings.Repeat("z", 8000)); err == nil {
		t.Fatal("a payload of 8000 bytes was sent")
	}
	la.expect(t)
	if strings.Contains(logA.String()+logB.String(), "lost") {
		t.Errorf("a connection was lost:\n%s\n%s", logA.String(), logB.String())
	}
}

// A listening connection the server ends (a restart, an administrator) is
// replaced: what is sent afterwards is heard, the gap is logged, and no
// connection listens once Listen has returned.
func TestListenReconnectsAfterItsBackendIsTerminated(t *testing.T) {
	postgresOnly(t, "LISTEN/NOTIFY")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	var logB testutil.SyncBuffer
	a, b := open(t, path), openLogged(t, path, &logB)
	defer a.Close()
	lctx, stop := context.WithCancel(ctx)
	l := &listener{heard: make(chan string, 100), up: make(chan struct{}, 10), done: make(chan error, 1)}
	go func() {
		l.done <- b.Listen(lctx, "rampart_test", func() { l.up <- struct{}{} }, func(p string) { l.heard <- p })
	}()
	l.waitUp(t)
	if err := a.Notify(ctx, "rampart_test", "before"); err != nil {
		t.Fatal(err)
	}
	l.expect(t, "before")

	for round := range 2 {
		var n int
		if err := a.read.db.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, ListenerName).Scan(&n); err != nil || n != 1 {
			t.Fatalf("round %d: terminated %d listening backends (%v), want 1", round, n, err)
		}
		l.waitUp(t)
		if err := a.Notify(ctx, "rampart_test", "after"); err != nil {
			t.Fatal(err)
		}
		l.expect(t, "after")
	}
	log := logB.String()
	if strings.Count(log, "listening connection lost") != 2 || strings.Count(log, "were missed") != 2 {
		t.Errorf("the losses and gaps are not logged twice each:\n%s", log)
	}

	stop()
	if err := <-l.done; err != nil {
		t.Fatalf("Listen: %v", err)
	}
	// The server ends a closed connection's backend a moment after the
	// client closes it.
	var left int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := a.read.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, ListenerName).Scan(&left)
		if err == nil && left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d listening connections after Listen returned (%v)", left, err)
		}
	}
	// The pool it came from still serves.
	if err := b.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// A connection that hears nothing for a while is pinged and kept: a quiet
// channel is not a lost connection.
func TestListenSurvivesIdleSpells(t *testing.T) {
	postgresOnly(t, "LISTEN/NOTIFY")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	a, b := open(t, path), open(t, path)
	defer a.Close()
	defer b.Close()
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	heard, up := make(chan string, 10), make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		_, err := b.listenOnce(lctx, "rampart_test", 20*time.Millisecond, func() { up <- struct{}{} }, func(p string) { heard <- p })
		done <- err
	}()
	<-up
	for i := range 3 {
		time.Sleep(150 * time.Millisecond) // several idle spells, each ending in a ping
		if err := a.Notify(ctx, "rampart_test", "still here"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-heard:
		case err := <-done:
			t.Fatalf("round %d: the connection ended: %v", i, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: nothing heard", i)
		}
	}
	stop()
	if err := <-done; err != context.Canceled {
		t.Fatalf("listenOnce ended with %v, want context.Canceled", err)
	}
}
