package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Reports through their life on both engines: filters, pages, category,
// assignment, resolution by a moderator, reopening.
func TestAdminReportsLifecycle(t *testing.T) {
	f := newCounterFixture(t, 4) // user3 is pending
	ctx := context.Background()
	s := f.s
	mod, reporter, target := f.accounts[0], f.accounts[1], f.accounts[2]
	if err := s.SetUserFlags(ctx, mod, "moderator", true, false); err != nil {
		t.Fatal(err)
	}
	base := time.UnixMilli(1_700_000_000_000)
	var ids []int64
	for i := range 5 {
		r := &Report{ID: 5000 + int64(i), AccountID: reporter, TargetID: target, StatusIDs: []int64{1, 2}, Comment: fmt.Sprint(i),
			Category: "spam", CreatedAt: base.Add(time.Duration(i) * time.Second)}
		if i == 4 {
			r.AccountID, r.TargetID, r.Category = target, reporter, ""
		}
		if err := s.CreateReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	got, err := s.ReportByID(ctx, ids[4])
	if err != nil || got.Category != "other" || !got.UpdatedAt.Equal(got.CreatedAt) || len(got.RuleIDs) != 0 || got.AssignedID != 0 {
		t.Fatalf("report: %+v %v", got, err)
	}
	if _, err := s.ReportByID(ctx, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("no report: %v", err)
	}

	page := func(f ReportFilter, p Page) []int64 {
		t.Helper()
		list, err := s.AdminReports(ctx, f, p)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, r := range list {
			out = append(out, r.ID-5000)
		}
		return out
	}
	no := false
	for name, c := range map[string]struct {
		f    ReportFilter
		p    Page
		want string
	}{
		"all":           {ReportFilter{}, Page{Limit: 10}, "[4 3 2 1 0]"},
		"first page":    {ReportFilter{}, Page{Limit: 2}, "[4 3]"},
		"next page":     {ReportFilter{}, Page{Limit: 2, MaxID: ids[3]}, "[2 1]"},
		"min_id":        {ReportFilter{}, Page{Limit: 2, MinID: ids[0]}, "[2 1]"},
		"by target":     {ReportFilter{TargetID: target}, Page{Limit: 10}, "[3 2 1 0]"},
		"by reporter":   {ReportFilter{AccountID: target}, Page{Limit: 10}, "[4]"},
		"open, by both": {ReportFilter{Resolved: &no, AccountID: reporter, TargetID: target}, Page{Limit: 10}, "[3 2 1 0]"},
	} {
		if got := fmt.Sprint(page(c.f, c.p)); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}

	at := base.Add(time.Hour)
	if err := s.UpdateReport(ctx, ids[0], "legal", nil, at); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignReport(ctx, ids[0], mod, at); err != nil {
		t.Fatal(err)
	}
	if err := s.ResolveReportBy(ctx, ids[0], mod, at); err != nil {
		t.Fatal(err)
	}
	// A second resolution keeps the first.
	if err := s.ResolveReportBy(ctx, ids[0], reporter, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.ReportByID(ctx, ids[0])
	if got.Category != "legal" || got.AssignedID != mod || got.ResolvedBy != mod || !got.ResolvedAt.Equal(at) || !got.UpdatedAt.After(at) {
		t.Errorf("after update, assign, resolve: %+v", got)
	}
	yes := true
	if got := fmt.Sprint(page(ReportFilter{Resolved: &yes}, Page{Limit: 10})); got != "[0]" {
		t.Errorf("resolved: %s", got)
	}
	if err := s.ReopenReport(ctx, ids[0], at); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignReport(ctx, ids[0], 0, at); err != nil {
		t.Fatal(err)
	}
	got, _ = s.ReportByID(ctx, ids[0])
	if !got.ResolvedAt.IsZero() || got.ResolvedBy != 0 || got.AssignedID != 0 {
		t.Errorf("reopened and unassigned: %+v", got)
	}
	if err := s.AssignReport(ctx, 1, mod, at); !errors.Is(err, ErrNotFound) {
		t.Errorf("assigning no report: %v", err)
	}

	// admin.report notifications name their report.
	if err := s.CreateReportNotifications(ctx, ids[1], reporter, []int64{mod}, []int64{7001}, at); err != nil {
		t.Fatal(err)
	}
	byNote, err := s.NotificationReports(ctx, []int64{7001, 7002})
	if err != nil || len(byNote) != 1 || byNote[7001].ID != ids[1] || byNote[7001].TargetID != target {
		t.Errorf("notification reports: %+v %v", byNote, err)
	}
	notes, err := s.Notifications(ctx, mod, NotificationFilter{}, Page{Limit: 10})
	if err != nil || len(notes) != 1 || notes[0].Type != "admin.report" || notes[0].FromAccountID != reporter {
		t.Errorf("the moderator's notifications: %+v %v", notes, err)
	}

	staff, err := s.StaffAccountIDs(ctx)
	if err != nil || fmt.Sprint(staff) != fmt.Sprint([]int64{mod}) {
		t.Errorf("staff: %v %v", staff, err)
	}
}

func TestAdminAccountsFilters(t *testing.T) {
	f := newCounterFixture(t, 5) // user4 is pending
	ctx := context.Background()
	s := f.s
	if err := s.SetUserFlags(ctx, f.accounts[0], "admin", true, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserFlags(ctx, f.accounts[1], "user", true, true); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	remote, err := s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "Far_Away", Domain: "remote.example",
		URI: "https://remote.example/users/far", DisplayName: "Someone 100%", CreatedAt: now}, FetchedAt: now}, f.id())
	if err != nil {
		t.Fatal(err)
	}
	names := func(fl AdminAccountFilter) string {
		t.Helper()
		list, err := s.AdminAccounts(ctx, fl, Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range list {
			out = append(out, x.Account.Username)
			if (x.User == nil) != (x.Account.Domain != "") {
				t.Errorf("%s: user %+v", x.Account.Username, x.User)
			}
		}
		return fmt.Sprint(out)
	}
	for _, c := range []struct {
		f    AdminAccountFilter
		want string
	}{
		{AdminAccountFilter{}, "[Far_Away user4 user3 user2 user1 user0]"},
		{AdminAccountFilter{Origin: "local"}, "[user4 user3 user2 user1 user0]"},
		{AdminAccountFilter{Origin: "remote"}, "[Far_Away]"},
		{AdminAccountFilter{Status: "pending"}, "[user4]"},
		{AdminAccountFilter{Status: "disabled"}, "[user1]"},
		{AdminAccountFilter{Status: "active"}, "[Far_Away user3 user2 user0]"},
		{AdminAccountFilter{Staff: true}, "[user0]"},
		{AdminAccountFilter{Username: "USER2"}, "[user2]"},
		{AdminAccountFilter{Username: "far_"}, "[Far_Away]"},
		{AdminAccountFilter{Username: "far%"}, "[]"},
		{AdminAccountFilter{DisplayName: "100%", Domain: "REMOTE.example"}, "[Far_Away]"},
		{AdminAccountFilter{Email: "3@example"}, "[user3]"},
		{AdminAccountFilter{Status: "suspended"}, "[]"},
	} {
		if got := names(c.f); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
	// A local account is silenced here; a remote one only by its domain.
	if err := s.SetLocalSilenced(ctx, f.accounts[2], true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLocalSilenced(ctx, remote, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("silencing a remote account: %v", err)
	}
	if got := names(AdminAccountFilter{Status: "silenced"}); got != "[user2]" {
		t.Errorf("silenced: %s", got)
	}
	x, err := s.AdminAccountByID(ctx, remote)
	if err != nil || x.User != nil || x.Account.Domain != "remote.example" {
		t.Errorf("remote admin account: %+v %v", x, err)
	}
	byID, err := s.AdminAccountsByIDs(ctx, []int64{f.accounts[0], remote})
	if err != nil || len(byID) != 2 || byID[f.accounts[0]].User.Role != "admin" {
		t.Errorf("by ids: %+v %v", byID, err)
	}
}
