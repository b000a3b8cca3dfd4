package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/store"
)

// `admin report list` shows the open reports (with --all the resolved
// ones too), and `admin report resolve` closes one.
func TestAdminReportCommands(t *testing.T) {
	env := adminEnv(t)
	dataDir := strings.TrimPrefix(env[1], "RAMPART_DATA_DIR=")
	if out, _, code := run(t, env, "admin", "report", "list"); code != 0 || !strings.Contains(out, "no open reports") {
		t.Fatalf("no reports: %d %q", code, out)
	}
	adminOK(t, env, socialPassword+"\n", "create", "--username", "kim", "--email", "kim@example.net", "--password-stdin")
	ctx := context.Background()
	st, err := storetest.OpenErr(t, filepath.Join(dataDir, "rampart.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	kim, err := st.AccountByUsername(ctx, "kim", "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	spammer, err := st.UpsertRemoteAccount(ctx, &store.RemoteAccount{Account: store.Account{Username: "mod", Domain: "other.example",
		URI: "https://other.example/users/mod", CreatedAt: now}, FetchedAt: now}, 42)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateReport(ctx, &store.Report{ID: 7, URI: "https://other.example/flag/1", AccountID: spammer, TargetID: kim.ID,
		StatusIDs: []int64{99}, Comment: "spam", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, errOut, code := run(t, env, "admin", "report", "list")
	if code != 0 || !strings.Contains(out, "mod@other.example") || !strings.Contains(out, "kim") || !strings.Contains(out, `"spam"`) {
		t.Fatalf("list: %d %q %q", code, out, errOut)
	}
	if out, _, code := run(t, env, "admin", "report", "resolve", "7"); code != 0 || out != "report 7 resolved\n" {
		t.Errorf("resolve: %d %q", code, out)
	}
	_, errOut, code = run(t, env, "admin", "report", "resolve", "7")
	oneErrorLine(t, errOut, code, "no open report 7")
	out, _, _ = run(t, env, "admin", "report", "list", "--all", "--json")
	var list []struct {
		ID         string
		StatusIDs  []string   `json:"status_ids"`
		ResolvedAt *time.Time `json:"resolved_at"`
	}
	if json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].ID != "7" || list[0].ResolvedAt == nil || len(list[0].StatusIDs) != 1 {
		t.Errorf("list --all --json: %q", out)
	}
}

// `admin report show` prints one report whole: reporter, target, the
// reported statuses' text, the comment, the category and its state; `list`
// names the category.
func TestAdminReportShow(t *testing.T) {
	env := adminEnv(t)
	dataDir := strings.TrimPrefix(env[1], "RAMPART_DATA_DIR=")
	adminOK(t, env, socialPassword+"\n", "create", "--username", "kim", "--email", "kim@example.net", "--password-stdin")
	adminOK(t, env, socialPassword+"\n", "create", "--username", "lee", "--email", "lee@example.net", "--password-stdin")
	ctx := context.Background()
	st, err := storetest.OpenErr(t, filepath.Join(dataDir, "rampart.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	kim, err := st.AccountByUsername(ctx, "kim", "")
	if err != nil {
		t.Fatal(err)
	}
	lee, err := st.AccountByUsername(ctx, "lee", "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.CreateStatus(ctx, store.NewStatus{Status: &store.Status{ID: 31, URI: "https://example.test/users/kim/statuses/31",
		AccountID: kim.ID, Local: true, Text: "cheap pills here", Content: "<p>cheap pills here</p>", CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateReport(ctx, &store.Report{ID: 8, AccountID: lee.ID, TargetID: kim.ID, StatusIDs: []int64{31, 32},
		Comment: "pills again", Category: "spam", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, errOut, code := run(t, env, "admin", "report", "show", "8")
	for _, want := range []string{"report:    8\n", "reporter:  lee\n", "target:    kim\n", "category:  spam\n", "state:     open\n",
		`comment:   "pills again"`, "statuses:  2\n", `  31: "cheap pills here"`, "  32: (deleted)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("show: %d, missing %q in\n%s%s", code, want, out, errOut)
		}
	}
	if out, _, code := run(t, env, "admin", "report", "list"); code != 0 || !strings.Contains(out, "CATEGORY") || !strings.Contains(out, " spam ") {
		t.Errorf("list: %d %q", code, out)
	}
	if _, _, code := run(t, env, "admin", "report", "resolve", "8"); code != 0 {
		t.Fatalf("resolve: %d", code)
	}
	if out, _, _ := run(t, env, "admin", "report", "show", "8"); !strings.Contains(out, "state:     resolved ") {
		t.Errorf("show after resolve: %q", out)
	}
	_, errOut, code = run(t, env, "admin", "report", "show", "9")
	oneErrorLine(t, errOut, code, "no report 9")
	_, _, code = run(t, env, "admin", "report", "show")
	if code != 2 {
		t.Errorf("show without an id: exit %d, want 2", code)
	}
}
