package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testdb"
	"github.com/rampart-social/rampart/internal/testutil"
)

// sqliteEnv keeps a run of the binary on SQLite in a PostgreSQL run too
// (databaseEnv points it at PostgreSQL; the last value of a variable wins).
var sqliteEnv = []string{"RAMPART_DATABASE_DRIVER=sqlite", "RAMPART_DATABASE_DSN="}

// apiGet is a bearer-token GET of the client API: its status and body.
func apiGet(t *testing.T, server, token, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", server+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// fetch is a plain GET: the status and the bytes.
func fetch(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// An instance seeded through the binary and the client API on SQLite,
// stopped, moved with `admin db migrate`, and served again from
// PostgreSQL shows the same accounts, statuses, follows and media, to the
// same tokens.
func TestMoveAnInstanceToPostgres(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("the move needs a PostgreSQL server (TEST_POSTGRES): this test runs in scripts/test's PostgreSQL pass")
	}
	data := t.TempDir()
	port := freePort(t)
	addr, server, media := "127.0.0.1:"+port, "http://localhost:"+port, "http://127.0.0.1:"+port
	cfg := filepath.Join(data, "rampart.toml")
	p := startProc(t, sqliteEnv, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	for _, u := range []string{"kim", "lee"} {
		if _, stderr, code := runStdin(t, sqliteEnv, socialPassword+"\n", "admin", "user", "create", "--config", cfg,
			"--username", u, "--email", u+"@example.test", "--password-stdin"); code != 0 {
			t.Fatalf("admin user create %s: %s", u, stderr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const clientName = "move test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write follow"})
	if err != nil {
		t.Fatal(err)
	}
	kim := signInThroughBrowser(t, ctx, server, app, clientName, "kim")
	lee := signInThroughBrowser(t, ctx, server, app, clientName, "lee")
	kimAcct, err := kim.GetAccountCurrentUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leeAcct, err := lee.GetAccountCurrentUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	att, err := kim.UploadMediaFromMedia(ctx, &mastodon.Media{File: bytes.NewReader(testutil.GradientPNG(t, 40, 24)), Description: "a gradient"})
	if err != nil {
		t.Fatal(err)
	}
	pic, err := kim.PostStatus(ctx, &mastodon.Toot{Status: "a picture #moving", MediaIDs: []mastodon.ID{att.ID}, Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lee.AccountFollow(ctx, kimAcct.ID); err != nil {
		t.Fatal(err)
	}
	reply, err := lee.PostStatus(ctx, &mastodon.Toot{Status: "@kim nice", InReplyToID: pic.ID, Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lee.Favourite(ctx, pic.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := kim.PostStatus(ctx, &mastodon.Toot{Status: "for my followers", Visibility: "private"}); err != nil {
		t.Fatal(err)
	}
	if _, err := lee.Reblog(ctx, pic.ID); err != nil {
		t.Fatal(err)
	}

	// What the API shows, read with the two people's tokens.
	kimToken, leeToken := kim.Config.AccessToken, lee.Config.AccessToken
	views := []struct{ token, path string }{
		{kimToken, "/api/v1/accounts/verify_credentials"},
		{leeToken, "/api/v1/accounts/verify_credentials"},
		{leeToken, "/api/v1/accounts/" + string(kimAcct.ID)},
		{leeToken, "/api/v1/accounts/" + string(kimAcct.ID) + "/statuses"},
		{kimToken, "/api/v1/accounts/" + string(leeAcct.ID) + "/statuses"},
		{kimToken, "/api/v1/accounts/" + string(kimAcct.ID) + "/followers"},
		{leeToken, "/api/v1/accounts/" + string(leeAcct.ID) + "/following"},
		{leeToken, "/api/v1/accounts/relationships?id[]=" + string(kimAcct.ID)},
		{leeToken, "/api/v1/statuses/" + string(pic.ID)},
		{kimToken, "/api/v1/statuses/" + string(pic.ID) + "/context"},
		{leeToken, "/api/v1/timelines/home"},
		{kimToken, "/api/v1/notifications"},
		{kimToken, "/api/v1/timelines/tag/moving"},
		{kimToken, "/api/v1/media/" + string(att.ID)},
	}
	before := make([]string, len(views))
	for i, v := range views {
		code, body := apiGet(t, server, v.token, v.path)
		if code != 200 {
			t.Fatalf("GET %s on SQLite: %d %s", v.path, code, body)
		}
		before[i] = body
	}
	if !strings.Contains(before[9], `"id":"`+string(reply.ID)+`"`) {
		t.Fatalf("the reply is not in the thread:\n%s", before[9])
	}
	code, file := fetch(t, att.URL)
	if code != 200 || !strings.HasPrefix(att.URL, media+"/") {
		t.Fatalf("the upload %s: %d", att.URL, code)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("quickstart exit %d", code)
	}

	// The move. The DSN is read from a file: never on the command line.
	dsn := testdb.NewPostgres(t)
	dsnFile := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(dsnFile, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(data, "rampart.db")
	stdout, stderr, code := run(t, nil, "admin", "db", "migrate", "--from", "sqlite:"+src, "--to", "postgres:", "--to-dsn-file", dsnFile)
	if code != 0 {
		t.Fatalf("admin db migrate: %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "every table's rows match") || strings.Contains(stderr, "WARNING") {
		t.Errorf("admin db migrate said:\n%s\n%s", stdout, stderr)
	}
	for _, table := range []string{"accounts", "users", "statuses", "follows", "media_attachments", "oauth_tokens", "sessions", "jobs", "instance_settings"} {
		if !strings.Contains(stdout, "\n"+table+" ") && !strings.Contains(stdout, " "+table+" ") {
			t.Errorf("no row count for %s:\n%s", table, stdout)
		}
	}
	t.Logf("admin db migrate:\n%s", stdout)

	// Moving again into the now full database is refused, in one line.
	_, stderr, code = run(t, nil, "admin", "db", "migrate", "--from", "sqlite:"+src, "--to", "postgres:", "--to-dsn-file", dsnFile)
	oneErrorLine(t, stderr, code, "the target database is not empty")

	// The SQLite file goes aside: what the server shows now can only come
	// from PostgreSQL.
	if err := os.Rename(src, src+".moved"); err != nil {
		t.Fatal(err)
	}
	pgEnv := []string{"RAMPART_DATABASE_DRIVER=postgres", "RAMPART_DATABASE_DSN=" + dsn}
	p = startProc(t, pgEnv, "serve", "--config", cfg)
	waitReady(t, p, addr, "localhost:"+port)
	if _, err := os.Stat(src); err == nil {
		t.Fatal("the server made a new SQLite database: it is not on PostgreSQL")
	}
	for i, v := range views {
		code, body := apiGet(t, server, v.token, v.path)
		if code != 200 || body != before[i] {
			t.Errorf("GET %s on PostgreSQL: %d\n%s\nwas on SQLite:\n%s", v.path, code, body, before[i])
		}
	}
	if code, moved := fetch(t, att.URL); code != 200 || !bytes.Equal(moved, file) {
		t.Errorf("the upload from PostgreSQL's row: %d, %d bytes (was %d)", code, len(moved), len(file))
	}

	// Writing goes on: a new post with a new tag, counted once.
	if _, err := kim.PostStatus(ctx, &mastodon.Toot{Status: "moved #postgres", Visibility: "public"}); err != nil {
		t.Fatalf("posting on PostgreSQL: %v", err)
	}
	me, err := kim.GetAccountCurrentUser(ctx)
	if err != nil || me.StatusesCount != kimAcct.StatusesCount+3 || me.FollowersCount != 1 {
		t.Errorf("kim after one more post: %d statuses, %d followers (%v); want %d and 1", me.StatusesCount, me.FollowersCount, err, kimAcct.StatusesCount+3)
	}
}

// Wrong forms, a missing file and a target that does not answer are one
// line each, and change nothing. (No PostgreSQL needed.)
func TestMigrateRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "rampart.db")
	st, err := store.OpenSQLite(context.Background(), src, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	before, _ := os.ReadFile(src)
	for _, c := range []struct {
		env  []string
		args []string
		want string
		code int
	}{
		{nil, []string{"--from", src, "--to", "postgres://u@h/db"}, "only an SQLite database can be moved", 2},
		{nil, []string{"--from", "sqlite:" + src, "--to", "sqlite:" + src}, "the target must be PostgreSQL", 2},
		{nil, []string{"--from", "sqlite:" + src, "--to", "postgres:"}, "--to postgres: names no DSN", 2},
		{[]string{"RAMPART_DATABASE_DSN=postgres://u:pw@127.0.0.1:1/db"}, []string{"--from", "sqlite:" + filepath.Join(dir, "absent.db"), "--to", "postgres:"},
			"the source: stat " + filepath.Join(dir, "absent.db") + ": no such file or directory", 1},
		{[]string{"RAMPART_DATABASE_DSN=postgres://u:secret@127.0.0.1:1/db?connect_timeout=5"}, []string{"--from", "sqlite:" + src, "--to", "postgres:"},
			"the target: connect to PostgreSQL: failed to connect", 1},
	} {
		stdout, stderr, code := run(t, c.env, append([]string{"admin", "db", "migrate"}, c.args...)...)
		oneErrorLine(t, stderr, code, c.want)
		if code != c.code || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || strings.Contains(stdout+stderr, "secret") {
			t.Errorf("%v: exit %d (want %d)\n%s%s", c.args, code, c.code, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "absent.db")); err == nil {
		t.Error("a missing source was created")
	}
	if after, _ := os.ReadFile(src); !bytes.Equal(before, after) {
		t.Error("a refused move changed the source")
	}
}

// `admin db backup` copies the database of a running instance while it
// writes: the copy opens, holds what was posted before it, and is 0600; an
// existing file is refused; a PostgreSQL config is told about pg_dump.
func TestBackupWhileServing(t *testing.T) {
	data := t.TempDir()
	port := freePort(t)
	addr, server := "127.0.0.1:"+port, "http://localhost:"+port
	cfg := filepath.Join(data, "rampart.toml")
	p := startProc(t, sqliteEnv, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	if _, stderr, code := runStdin(t, sqliteEnv, socialPassword+"\n", "admin", "user", "create", "--config", cfg,
		"--username", "bea", "--email", "bea@example.test", "--password-stdin"); code != 0 {
		t.Fatalf("admin user create: %s", stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: "backup test", Scopes: "read write"})
	if err != nil {
		t.Fatal(err)
	}
	bea := signInThroughBrowser(t, ctx, server, app, "backup test", "bea")
	first, err := bea.PostStatus(ctx, &mastodon.Toot{Status: "before the backup", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	// Posts keep coming while the backup runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var posted atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := bea.PostStatus(ctx, &mastodon.Toot{Status: fmt.Sprintf("during %d", i), Visibility: "public"}); err != nil {
				t.Errorf("posting during the backup: %v", err)
				return
			}
			posted.Add(1)
		}
	}()
	for posted.Load() < 3 {
		time.Sleep(10 * time.Millisecond)
	}
	dest := filepath.Join(t.TempDir(), "rampart-backup.db")
	stdout, stderr, code := run(t, sqliteEnv, "admin", "db", "backup", "--config", cfg, "--to", dest)
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(stdout, "backed up ") || !strings.Contains(stdout, dest) {
		t.Fatalf("admin db backup: %d\n%s\n%s", code, stdout, stderr)
	}
	fi, err := os.Stat(dest)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the backup: %v %v, want mode 0600", fi, err)
	}
	b, err := store.OpenSQLite(ctx, dest, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer b.Close()
	a, err := b.AccountByUsername(ctx, "bea", "")
	if err != nil {
		t.Fatalf("bea in the backup: %v", err)
	}
	var id int64
	fmt.Sscan(string(first.ID), &id)
	if st, err := b.StatusByID(ctx, id); err != nil || st.AccountID != a.ID || st.Text != "before the backup" {
		t.Errorf("the first post in the backup: %+v %v", st, err)
	}
	stats, err := b.StatsFor(ctx, []int64{a.ID})
	if err != nil || stats[a.ID].Statuses < 4 || stats[a.ID].Statuses > posted.Load()+1 {
		t.Errorf("bea's statuses in the backup: %d (%v); posted %d and 1 before", stats[a.ID].Statuses, err, posted.Load())
	}

	_, stderr, code = run(t, sqliteEnv, "admin", "db", "backup", "--config", cfg, "--to", dest)
	oneErrorLine(t, stderr, code, "exists already")

	other := filepath.Join(t.TempDir(), "pg.db")
	_, stderr, code = run(t, []string{"RAMPART_DATABASE_DRIVER=postgres", "RAMPART_DATABASE_DSN=postgres://u:secret@127.0.0.1:1/db"},
		"admin", "db", "backup", "--config", cfg, "--to", other)
	oneErrorLine(t, stderr, code, "pg_dump --format=custom")
	if _, err := os.Stat(other); err == nil || strings.Contains(stderr, "secret") {
		t.Errorf("a PostgreSQL config's backup wrote a file (%v) or showed the password:\n%s", err, stderr)
	}
}
