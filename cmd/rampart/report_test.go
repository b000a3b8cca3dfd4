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
