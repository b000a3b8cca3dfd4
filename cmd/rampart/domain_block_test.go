package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/store"
)

// blockOK runs a `admin domain` command that must succeed quietly (nothing on stderr).
func blockOK(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, env, append([]string{"admin", "domain"}, args...)...)
	if code != 0 || errOut != "" {
		t.Fatalf("admin domain %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

// blockFails checks a failing `admin domain` command: the exit status, one
// stderr line, nothing on stdout.
func blockFails(t *testing.T, env []string, wantCode int, want string, args ...string) {
	t.Helper()
	out, errOut, code := run(t, env, append([]string{"admin", "domain"}, args...)...)
	oneErrorLine(t, errOut, code, want)
	if code != wantCode {
		t.Errorf("admin domain %v: exit %d, want %d (%s)", args, code, wantCode, errOut)
	}
	if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
		t.Errorf("admin domain %v: want one stderr line, got:\n%s", args, errOut)
	}
	if out != "" {
		t.Errorf("admin domain %v: failed but printed %q", args, out)
	}
}

type domainBlockRow struct {
	Domain      string    `json:"domain"`
	Severity    string    `json:"severity"`
	RejectMedia bool      `json:"reject_media"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"created_at"`
}

func domainBlocks(t *testing.T, env []string) []domainBlockRow {
	t.Helper()
	var list []domainBlockRow
	if err := json.Unmarshal([]byte(blockOK(t, env, "list", "--json")), &list); err != nil {
		t.Fatalf("list --json: %v", err)
	}
	return list
}

func TestDomainBlockCommands(t *testing.T) {
	env := adminEnv(t) // the instance is example.test, its media media.example.test

	if out := blockOK(t, env, "list"); !strings.Contains(out, "no blocked domains") {
		t.Errorf("empty list: %q", out)
	}
	if out := blockOK(t, env, "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty list --json: %q", out)
	}

	// The domain is lower-cased; the flag may come before or after it.
	if out := blockOK(t, env, "block", "Bad.Example", "--reason", "spam and abuse"); strings.TrimSpace(out) != "blocked bad.example and its subdomains" {
		t.Errorf("add: %q", out)
	}
	if out := blockOK(t, env, "block", "--reason", "worse", "bad.example."); strings.TrimSpace(out) != `bad.example was already blocked; reason set to "worse"` {
		t.Errorf("add again: %q", out)
	}
	blockOK(t, env, "block", "other.example")
	list := domainBlocks(t, env)
	if len(list) != 2 || list[0].Domain != "bad.example" || list[0].Reason != "worse" || time.Since(list[0].CreatedAt) > time.Minute ||
		list[1].Domain != "other.example" || list[1].Reason != "" {
		t.Fatalf("list --json: %+v", list)
	}
	lines := strings.Split(strings.TrimSpace(blockOK(t, env, "list")), "\n")
	today := time.Now().UTC().Format(time.DateOnly)
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "DOMAIN SEVERITY MEDIA CREATED REASON" ||
		strings.Join(strings.Fields(lines[1]), " ") != "bad.example suspend - "+today+" worse" {
		t.Errorf("list table:\n%s", strings.Join(lines, "\n"))
	}

	// A silence with media rejected, and a bad severity.
	if out := blockOK(t, env, "block", "loud.example", "--severity", "silence", "--reject-media"); !strings.HasPrefix(out, "silenced, media rejected, loud.example and its subdomains") {
		t.Errorf("silence: %q", out)
	}
	for _, b := range domainBlocks(t, env) {
		if b.Domain == "loud.example" && (b.Severity != "silence" || !b.RejectMedia) {
			t.Errorf("the silence in the list: %+v", b)
		}
	}
	blockFails(t, env, 2, `--severity "mute": want suspend, silence or noop`, "block", "x.example", "--severity", "mute")
	blockOK(t, env, "unblock", "loud.example")

	// Bad input, and blocks of this instance's own hosts, change nothing.
	for _, bad := range []string{"https://bad2.example/", "bad2.example:443", "*.bad2.example", "bad2.example/path", "bad_2.example"} {
		blockFails(t, env, 2, "is not a domain name: give a host name such as example.net", "block", bad)
	}
	blockFails(t, env, 2, "a domain is required", "block", "--reason", "x")
	blockFails(t, env, 2, "a domain is required", "unblock")
	blockFails(t, env, 2, `unexpected argument "b.example"`, "block", "a.example", "b.example")
	for _, own := range []string{"example.test", "EXAMPLE.test", "test", "media.example.test"} {
		blockFails(t, env, 1, "would block this instance's own host", "block", own)
	}
	if got := domainBlocks(t, env); len(got) != 2 {
		t.Errorf("failed adds changed the list: %+v", got)
	}

	// Removing: only what is blocked itself.
	blockFails(t, env, 1, "sub.bad.example is not blocked itself: the block of bad.example covers it", "unblock", "sub.bad.example")
	blockFails(t, env, 1, "rampart admin domain unblock: never.example is not blocked", "unblock", "never.example")
	if out := blockOK(t, env, "unblock", "BAD.example"); !strings.HasPrefix(out, "unblocked bad.example") {
		t.Errorf("remove: %q", out)
	}
	if got := domainBlocks(t, env); len(got) != 1 || got[0].Domain != "other.example" {
		t.Errorf("after remove: %+v", got)
	}
}

// `admin federation status` shows the job queue as the store holds it:
// pending (running and retrying among them) and dead jobs, the oldest
// pending one, the blocked domains, and the hosts whose deliveries fail.
func TestAdminFederationStatus(t *testing.T) {
	dataDir := t.TempDir()
	env := []string{"RAMPART_CONFIG=" + prodConfig(t), "RAMPART_DATA_DIR=" + dataDir}
	out, errOut, code := run(t, env, "admin", "federation", "status")
	if code != 0 || errOut != "" || !strings.Contains(out, "jobs pending:          0") || !strings.Contains(out, "oldest pending job:    none") {
		t.Fatalf("an empty queue: %d %q %q", code, out, errOut)
	}
	// Two jobs pending, one of them a minute old, and one buried.
	ctx := context.Background()
	st, err := storetest.OpenErr(t, filepath.Join(dataDir, "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if err := st.Enqueue(ctx, store.NewJob{Kind: k, Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := st.ClaimJobs(ctx, time.Now().Add(time.Second), time.Minute, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := st.BuryJob(ctx, claimed[0].ID, "gave up"); err != nil {
		t.Fatal(err)
	}
	// One claimed and running, one failing host, one unavailable.
	if claimed, err := st.ClaimJobs(ctx, time.Now().Add(time.Second), time.Hour, 1); err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	week := time.Now().Add(-8 * 24 * time.Hour)
	for _, f := range []struct {
		host string
		at   time.Time
	}{{"down.example", time.Now()}, {"gone.example", week}, {"gone.example", time.Now()}} {
		if _, err := st.HostFailed(ctx, f.host, f.at); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	out, _, _ = run(t, env, "admin", "federation", "status")
	if !strings.Contains(out, "(running 1, retrying 0)") || !strings.Contains(out, "failing hosts:         2") ||
		!regexp.MustCompile(`gone\.example +unavailable`).MatchString(out) || !regexp.MustCompile(`down\.example +failing`).MatchString(out) {
		t.Errorf("status with failing hosts:\n%s", out)
	}
	blockOK(t, env, "block", "spam.example")
	out, errOut, code = run(t, env, "admin", "federation", "status", "--json")
	var got struct {
		JobsPending   int64      `json:"jobs_pending"`
		JobsDead      int64      `json:"jobs_dead"`
		OldestPending *time.Time `json:"oldest_pending"`
		DomainBlocks  int        `json:"domain_blocks"`
		JobsRunning   int64      `json:"jobs_running"`
		FailingHosts  []struct {
			Host        string
			Unavailable bool
		} `json:"failing_hosts"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("--json: %d %q %q", code, out, errOut)
	}
	if got.JobsPending != 2 || got.JobsDead != 1 || got.OldestPending == nil || time.Since(*got.OldestPending) > time.Minute || got.DomainBlocks != 1 ||
		got.JobsRunning != 1 || len(got.FailingHosts) != 2 || got.FailingHosts[0].Host != "gone.example" || !got.FailingHosts[0].Unavailable {
		t.Fatalf("status %+v", got)
	}
}

// The allow-list commands: allow, list (with a note while the mode is not
// "allowlist"), disallow, and the errors of a domain not on the list.
func TestDomainAllowCommands(t *testing.T) {
	env := adminEnv(t)
	if out := blockOK(t, env, "allowed"); !strings.HasPrefix(out, "no allowed domains") || !strings.Contains(out, `federation.mode is "blocklist"`) {
		t.Errorf("empty allow-list: %q", out)
	}
	if out := blockOK(t, env, "allow", "Friends.Example"); !strings.HasPrefix(out, "allowed friends.example and its subdomains") {
		t.Errorf("allow: %q", out)
	}
	var list []struct{ Domain string }
	if err := json.Unmarshal([]byte(blockOK(t, env, "allowed", "--json")), &list); err != nil || len(list) != 1 || list[0].Domain != "friends.example" {
		t.Fatalf("allowed --json: %+v %v", list, err)
	}
	allowEnv := append(env, "RAMPART_FEDERATION_MODE=allowlist")
	if out := blockOK(t, allowEnv, "allowed"); !strings.Contains(out, "friends.example") || strings.Contains(out, "federation.mode is") {
		t.Errorf("allowed in allow-list mode: %q", out)
	}
	blockFails(t, env, 1, "other.example is not on the allow-list", "disallow", "other.example")
	blockFails(t, env, 2, "not a domain name", "allow", "https://x.example/")
	if out := blockOK(t, env, "disallow", "friends.example"); !strings.HasPrefix(out, "friends.example is no longer allowed") {
		t.Errorf("disallow: %q", out)
	}
}
