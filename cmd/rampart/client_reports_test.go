package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
)

// go-mastodon's Report, GetAdminReports, GetAdminAccount,
// AdminReportAssignToSelf, AdminAccountPerformAction and AdminReportResolve
// against the real binary: a user reports another's status, a moderator
// (with the admin scopes) finds it, takes it, disables the account with the
// report named, and the account's token stops working.
func TestMastodonClientReportsAndModeration(t *testing.T) {
	data := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	p := startProc(t, nil, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	cfg := filepath.Join(data, "rampart.toml")
	for _, u := range [][]string{{"kim"}, {"lee"}, {"mod", "--moderator"}} {
		cmd := append([]string{"admin", "user", "create", "--config", cfg, "--username", u[0], "--email", u[0] + "@example.test", "--password-stdin"}, u[1:]...)
		if _, stderr, code := runStdin(t, nil, socialPassword+"\n", cmd...); code != 0 {
			t.Fatalf("admin user create %s: %d %s", u[0], code, stderr)
		}
	}
	server := "http://localhost:" + port
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const clientName = "Moderation client"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write admin:read admin:write"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	kim := signInThroughBrowser(t, ctx, server, app, clientName, "kim")
	lee := signInThroughBrowser(t, ctx, server, app, clientName, "lee")
	mod := signInThroughBrowser(t, ctx, server, app, clientName, "mod")

	kimAcc, err := kim.GetAccountCurrentUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := kim.PostStatus(ctx, &mastodon.Toot{Status: "cheap pills here", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := lee.Report(ctx, kimAcc.ID, []mastodon.ID{st.ID}, "spam again")
	if err != nil || rep.ID == "" || rep.ActionTaken {
		t.Fatalf("Report: %+v %v", rep, err)
	}
	if _, err := lee.GetAdminReports(ctx, nil); err == nil {
		t.Error("a plain user with admin scopes listed the reports")
	}

	reports, err := mod.GetAdminReports(ctx, nil)
	if err != nil || len(reports) != 1 || reports[0].ID != rep.ID {
		t.Fatalf("GetAdminReports: %+v %v", reports, err)
	}
	r := reports[0]
	if r.Comment != "spam again" || r.Category != "other" || r.Account.Username != "lee" || r.TargetAccount.Username != "kim" ||
		len(r.Statuses) != 1 || r.Statuses[0].ID != st.ID || r.ActionTakenAt != nil {
		t.Errorf("the report as listed: %+v", r)
	}
	if r, err = mod.AdminReportAssignToSelf(ctx, rep.ID); err != nil || r.AssignedAccount == nil || r.AssignedAccount.Username != "mod" {
		t.Errorf("AdminReportAssignToSelf: %+v %v", r, err)
	}
	if a, err := mod.GetAdminAccount(ctx, kimAcc.ID); err != nil || a.Email != "kim@example.test" || a.Disabled || !a.Approved {
		t.Errorf("GetAdminAccount: %+v %v", a, err)
	}
	if err := mod.AdminAccountPerformAction(ctx, kimAcc.ID, &mastodon.AdminAccountAction{Type: "disable", ReportID: rep.ID, Text: "no spam"}); err != nil {
		t.Fatalf("AdminAccountPerformAction: %v", err)
	}
	r, err = mod.GetAdminReport(ctx, rep.ID)
	if err != nil || !r.ActionTaken || r.ActionTakenAt == nil || r.ActionTakenByAccount == nil || !r.TargetAccount.Disabled {
		t.Errorf("the report after the action: %+v %v", r, err)
	}
	if _, err := kim.GetAccountCurrentUser(ctx); err == nil {
		t.Error("the disabled account's token still works")
	}
	if r, err = mod.AdminReportReopen(ctx, rep.ID); err != nil || r.ActionTaken {
		t.Errorf("AdminReportReopen: %+v %v", r, err)
	}
	if r, err = mod.AdminReportResolve(ctx, rep.ID); err != nil || !r.ActionTaken {
		t.Errorf("AdminReportResolve: %+v %v", r, err)
	}
	if a, err := mod.AdminAccountEnable(ctx, kimAcc.ID); err != nil || a.Disabled {
		t.Errorf("AdminAccountEnable: %+v %v", a, err)
	}
}
