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
	if err := f.s.Action(ctx, f.mod, f.admin.Account.ID, ActionParams{Type: "suspend"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a moderator suspended an admin: %v", err)
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
	if _, err := f.s.Delete(ctx, f.admin, f.user.ID); err == nil {
		t.Error("deleted an account that is not suspended")
	}
	disabled := *f.mod.User
	disabled.Disabled = true
	if Staff(&disabled) || Staff(nil) || !Staff(f.admin.User) {
		t.Error("Staff")
	}
}

// Suspending a local account ends its tokens and sessions at once and
// keeps its user from signing in; unsuspending lets it in again with all
// its data; only a suspended account may be deleted. Each change logs one
// line.
func TestSuspendLocal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	if err := f.st.CreateSession(ctx, &store.Session{IDHash: "s1", AccountID: f.user.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Action(ctx, f.mod, f.user.ID, ActionParams{Type: "suspend", ReportID: f.report}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.SessionByHash(ctx, "s1", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session outlived the suspension: %v", err)
	}
	u, err := f.st.UserByAccountID(ctx, f.user.ID)
	if err != nil || !u.Suspended || !errors.Is(accounts.Usable(u), accounts.ErrSuspended) {
		t.Fatalf("suspended user: %+v %v", u, err)
	}
	if _, err := f.acc.Authenticate(ctx, accounts.SignIn{Login: "user", Password: "a long test password", ClientIP: "192.0.2.1"}); !errors.Is(err, accounts.ErrSuspended) {
		t.Errorf("a suspended user signed in: %v", err)
	}
	x, err := f.s.Account(ctx, f.mod, f.user.ID)
	if err != nil || x.Account.SuspendedAt.IsZero() {
		t.Fatalf("admin account: %+v %v", x, err)
	}
	if _, err := f.s.Undo(ctx, f.mod, f.user.ID, "unsuspend"); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.st.UserByAccountID(ctx, f.user.ID); u.Suspended || accounts.Usable(u) != nil {
		t.Errorf("unsuspended user still refused: %+v", u)
	}
	if _, err := f.acc.Authenticate(ctx, accounts.SignIn{Login: "user", Password: "a long test password", ClientIP: "192.0.2.1"}); err != nil {
		t.Errorf("an unsuspended user cannot sign in: %v", err)
	}
	if _, err := f.s.Delete(ctx, f.mod, f.user.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("deleted an unsuspended account: %v", err)
	}
	if err := f.s.Action(ctx, f.mod, f.user.ID, ActionParams{Type: "suspend"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Delete(ctx, f.mod, f.user.ID); err != nil {
		t.Fatal(err)
	}
	if deleted, err := f.st.AccountDeleted(ctx, f.user.ID); err != nil || !deleted {
		t.Errorf("not deleted: %v %v", deleted, err)
	}
	lines := strings.Split(strings.TrimSpace(f.log.String()), "\n")
	want := []string{"action=account.action.suspend", "action=account.unsuspend", "action=account.action.suspend", "action=account.delete"}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d: %s", len(lines), len(want), f.log)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) || !strings.Contains(lines[i], "level=INFO") {
			t.Errorf("line %d %q lacks %q", i, lines[i], w)
		}
	}
}

// A remote account is suspended and sensitized by its mark alone; the
// marks come off again. The command line suspends a local one by name.
func TestSuspendRemoteAndSensitive(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rid, err := f.st.UpsertRemoteAccount(ctx, &store.RemoteAccount{Account: store.Account{Username: "far", Domain: "far.example",
		URI: "https://far.example/users/far", CreatedAt: time.Now()}, InboxURL: "https://far.example/inbox"}, 7777)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"suspend", "sensitive"} {
		if err := f.s.Action(ctx, f.mod, rid, ActionParams{Type: typ}); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	x, err := f.s.Account(ctx, f.mod, rid)
	if err != nil || x.Account.SuspendedAt.IsZero() || x.Account.SensitizedAt.IsZero() {
		t.Fatalf("marks: %+v %v", x.Account, err)
	}
	if _, err := f.s.Delete(ctx, f.mod, rid); !errors.Is(err, ErrForbidden) {
		t.Errorf("deleted a remote account: %v", err)
	}
	for _, what := range []string{"unsuspend", "unsensitive"} {
		if _, err := f.s.Undo(ctx, f.mod, rid, what); err != nil {
			t.Fatal(err)
		}
	}
	if a, _ := f.st.AccountByID(ctx, rid); !a.SuspendedAt.IsZero() || !a.SensitizedAt.IsZero() {
		t.Errorf("marks left: %+v", a)
	}
	if _, already, err := f.s.SuspendByUsername(ctx, "other", true); err != nil || already {
		t.Fatal(err)
	}
	if u, _ := f.st.UserByAccountID(ctx, f.other.ID); !u.Suspended {
		t.Error("the command line did not suspend")
	}
	if _, already, err := f.s.SuspendByUsername(ctx, "other", false); err != nil || already {
		t.Fatal(err)
	}
	if u, _ := f.st.UserByAccountID(ctx, f.other.ID); u.Suspended {
		t.Error("the command line did not unsuspend")
	}
	if _, _, err := f.s.SuspendByUsername(ctx, "nobody", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("suspending nobody: %v", err)
	}
}
