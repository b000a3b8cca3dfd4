package moderation

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

type fixture struct {
	s              *Service
	st             *store.Store
	acc            *accounts.Service
	log            *bytes.Buffer
	admin, mod     Moderator
	user, other    *store.Account
	userID, report int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testutil.ProdConfig(t, dir)
	st := storetest.Open(t, filepath.Join(dir, "rampart.db"), slog.New(slog.DiscardHandler))
	t.Cleanup(func() { st.Close() })
	acc := accounts.New(cfg, st, id.NewGenerator(), password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}, 2))
	var buf bytes.Buffer
	f := &fixture{st: st, acc: acc, log: &buf, s: New(st, acc, slog.New(slog.NewTextHandler(&buf, nil)))}
	create := func(name, role string) Moderator {
		a, u, err := acc.Create(ctx, accounts.NewParams{Username: name, Email: name + "@example.test", Password: "a long test password",
			Role: role, Approved: true})
		if err != nil {
			t.Fatal(err)
		}
		return Moderator{Account: a, User: u}
	}
	f.admin, f.mod = create("root", accounts.RoleAdmin), create("mod", accounts.RoleModerator)
	f.user, f.other = create("user", accounts.RoleUser).Account, create("other", accounts.RoleUser).Account
	f.report = 900
	if err := st.CreateReport(ctx, &store.Report{ID: f.report, AccountID: f.other.ID, TargetID: f.user.ID, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return f
}

// Every change logs one INFO line naming who did what to whom; a refused
// one logs nothing and changes nothing.
func TestActionsLogOneLineEach(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.s.Action(ctx, f.mod, f.user.ID, ActionParams{Type: "suspend", ReportID: f.report}); !errors.As(err, new(*UnsupportedError)) {
		t.Fatalf("suspend: %v", err)
	}
	if f.log.Len() != 0 {
		t.Errorf("a refused action logged: %s", f.log)
	}
	if err := f.s.Action(ctx, f.mod, f.user.ID, ActionParams{Type: "disable", ReportID: f.report, Text: "spam"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(f.log.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines: %s", len(lines), f.log)
	}
	for _, want := range []string{"level=INFO", `msg="admin action"`, "moderator=mod", "action=account.action.disable", "target=user", "report=900"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %q lacks %q", lines[0], want)
		}
	}
	r, err := f.st.ReportByID(ctx, f.report)
	if err != nil || r.ResolvedAt.IsZero() || r.ResolvedBy != f.mod.Account.ID {
		t.Errorf("the report named: %+v %v", r, err)
	}
	u, _ := f.st.UserByAccountID(ctx, f.user.ID)
	if !u.Disabled {
		t.Error("not disabled")
	}
}

// Who may do what: only staff; a moderator not to an admin or moderator;
// nobody to themselves; a report named must be about the account.
func TestWhoMayModerate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	plain, _ := f.st.UserByAccountID(ctx, f.other.ID)
	if _, err := f.s.Reports(ctx, Moderator{Account: f.other, User: plain}, store.ReportFilter{}, store.Page{Limit: 10}); !errors.Is(err, ErrForbidden) {
		t.Errorf("a plain user listed reports: %v", err)
	}
	if err := f.s.Action(ctx, f.mod, f.admin.Account.ID, ActionParams{Type: "disable"}); !errors.Is(err, ErrForbidden) {
		t.Errorf("a moderator disabled an admin: %v", err)
	}
	if err := f.s.Action(ctx, f.admin, f.admin.Account.ID, ActionParams{Type: "disable"}); !errors.Is(err, ErrForbidden) {
		t.Errorf("an admin disabled themselves: %v", err)
	}
	if err := f.s.Action(ctx, f.admin, f.mod.Account.ID, ActionParams{Type: "none", ReportID: f.report}); !errors.Is(err, ErrNotFound) {
		t.Errorf("a report about someone else: %v", err)
	}
	if err := f.s.Action(ctx, f.admin, f.user.ID, ActionParams{Type: "bogus"}); !errors.As(err, new(*ValidationError)) {
		t.Errorf("an unknown action: %v", err)
	}
	if err := f.s.Action(ctx, f.admin, f.mod.Account.ID, ActionParams{Type: "disable"}); err != nil {
		t.Errorf("an admin disabling a moderator: %v", err)
	}
	if f.s.Delete(ctx, f.admin, f.user.ID) == nil {
		t.Error("deleted an account that is not suspended")
	}
	disabled := *f.mod.User
	disabled.Disabled = true
	if Staff(&disabled) || Staff(nil) || !Staff(f.admin.User) {
		t.Error("Staff")
	}
}
