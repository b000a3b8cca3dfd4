package instance

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/testutil"
)

func TestRootIsRefusedInProdUnlessAllowed(t *testing.T) {
	dev, err := config.Parse([]byte(`env = "dev"
url = "http://localhost:8080"
media_url = "http://127.0.0.1:8080"
data_dir = "`+t.TempDir()+`"
secret_key = "`+testutil.Secret+`"
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	prod := testutil.ProdConfig(t, t.TempDir())
	allowed := testutil.ProdConfig(t, t.TempDir(), "[security]", "allow_root = true")
	for _, tc := range []struct {
		name           string
		euid           int
		cfg            *config.Config
		refused, warns bool
	}{
		{"prod as root", 0, prod, true, false},
		{"prod as root, allowed", 0, allowed, false, true},
		{"dev as root", 0, dev, false, true},
		{"prod as a user", 1000, prod, false, false},
		{"allowed, as a user", 1000, allowed, false, false},
		{"dev as a user", 1000, dev, false, false},
	} {
		warning, err := checkUser(tc.cfg, tc.euid)
		if (err != nil) != tc.refused || (warning != "") != tc.warns {
			t.Errorf("%s: refused %v (%v), warning %q; want refused %v, a warning %v", tc.name, err != nil, err, warning, tc.refused, tc.warns)
		}
		if err != nil && !strings.Contains(err.Error(), "security.allow_root = true") {
			t.Errorf("%s: the refusal does not say how to allow it: %v", tc.name, err)
		}
	}
}

// A process whose real or saved uid is root can make its effective uid root
// again at any time (setuid(0) is allowed when the real or saved uid is 0), so
// it is root for the rule: `setpriv --euid=65534 rampart serve` started as
// root must not pass as a user.
func TestRootAsRealOrSavedUIDCountsAsRoot(t *testing.T) {
	for _, tc := range []struct {
		ruid, euid, suid int
		root             bool
	}{
		{0, 0, 0, true},
		{0, 65534, 65534, true}, // setpriv --euid=65534, run by root
		{1000, 1000, 0, true},
		{1000, 0, 1000, true},
		{1000, 1000, 1000, false},
		{1000, 65534, 1000, false},
	} {
		if got := uidToCheck(tc.ruid, tc.euid, tc.suid) == 0; got != tc.root {
			t.Errorf("real %d, effective %d, saved %d: root %v, want %v", tc.ruid, tc.euid, tc.suid, got, tc.root)
		}
	}
	prod := testutil.ProdConfig(t, t.TempDir())
	if _, err := checkUser(prod, uidToCheck(0, 65534, 65534)); err == nil {
		t.Error("prod started with a real uid of root")
	}
}

// Serve returns only when the work it started has ended, and Close only
// when background uploads have: nothing writes into the data directory
// after them. (A janitor round that outlived Serve once kept a database
// connection open past Close, and its late checkpoint raced the removal of
// test directories.) The janitor is held inside its first round: its first
// query fails (its table is gone) and the log line it then writes waits for
// the test, whatever the context says.
func TestServeAndCloseLeaveNoWorkRunning(t *testing.T) {
	cfg := testutil.ProdConfig(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gate := &gatedLog{Handler: slog.NewJSONHandler(io.Discard, nil), match: "removing expired sessions",
		release: make(chan struct{}), reached: make(chan struct{})}
	inst, err := Open(ctx, cfg, slog.New(gate), Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := testdb.Open(t, cfg.DatabasePath())
	if _, err := db.Exec("DROP TABLE sessions"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- inst.Serve(ctx, ln) }()
	select {
	case <-gate.reached:
	case <-time.After(20 * time.Second):
		t.Fatal("the janitor never reached its log line")
	}
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) while its janitor was still in its round:\n%s", err, stacks())
	case <-time.After(500 * time.Millisecond):
	}
	close(gate.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
	if s := stacks(); strings.Contains(s, "(*Instance).janitor") {
		t.Fatalf("Serve returned while its janitor still ran:\n%s", s)
	}
	if err := inst.Close(); err != nil {
		t.Fatal(err)
	}
	if s := stacks(); strings.Contains(s, "(*Service).Upload") || strings.Contains(s, "startCheckpoints") {
		t.Fatalf("work still running after Close:\n%s", s)
	}
}

// gatedLog holds a log record whose message contains match until release
// closes; other records pass (it holds no lock another record needs).
type gatedLog struct {
	slog.Handler
	match            string
	release, reached chan struct{}
	once             sync.Once
}

func (g *gatedLog) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, g.match) {
		g.once.Do(func() { close(g.reached) })
		<-g.release
	}
	return g.Handler.Handle(ctx, r)
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// Close waits for an upload still being processed in the background: the
// upload finishes (its row and files complete) before the store closes.
func TestCloseWaitsForBackgroundUploads(t *testing.T) {
	cfg := testutil.ProdConfig(t, t.TempDir(), "[media]", `sync_limit_bytes = "1KiB"`)
	ctx := context.Background()
	inst, err := Open(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	acct, _, err := inst.Accounts().Create(ctx, accounts.NewParams{Username: "up", Email: "up@example.test", Password: "a long enough password", Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := inst.Media().Upload(ctx, acct.ID, media.UploadParams{Data: testutil.GradientPNG(t, 1600, 1600), Async: true})
	if err != nil || m.State != "processing" {
		t.Fatalf("upload: %v %+v, want it processing in the background", err, m)
	}
	if err := inst.Close(); err != nil {
		t.Fatal(err)
	}
	if s := stacks(); strings.Contains(s, "(*Service).Upload") {
		t.Fatalf("an upload still processing after Close:\n%s", s)
	}
	// Its files are complete on disk: nothing is written after Close.
	entries, err := os.ReadDir(cfg.MediaDir())
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".upload-") {
			t.Errorf("a temporary file %s is left after Close", e.Name())
		}
		files++
	}
	if files != 2 {
		t.Errorf("%d files in the media directory after Close, want the upload and its preview", files)
	}
}
