package social

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

// A remote account's Move carries its local followers over: each asks to
// follow the new account (a Follow for its server) and stops following the
// old one (an Undo for that server); the new account's own followers and
// other accounts are left as they were.
func TestAMoveCarriesLocalFollowersOver(t *testing.T) {
	ctx := context.Background()
	cfg := testutil.ProdConfig(t, t.TempDir())
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := id.NewGenerator()
	now := time.Now()
	local := func(name string) *store.Account {
		a := &store.Account{ID: ids.Next(), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateLocalAccount(ctx, a, &store.User{Email: name + "@example.test", PasswordHash: "x", Role: "user", Approved: true,
			Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		return a
	}
	remoteAcc := func(name, host string) *store.Account {
		uri := "https://" + host + "/users/" + name
		rid, err := st.UpsertRemoteAccount(ctx, &store.RemoteAccount{Account: store.Account{Username: name, Domain: host, URI: uri, CreatedAt: now},
			InboxURL: uri + "/inbox", FetchedAt: now}, ids.Next())
		if err != nil {
			t.Fatal(err)
		}
		a, _ := st.AccountByID(ctx, rid)
		return a
	}
	old, moved := remoteAcc("bob", "old.example"), remoteAcc("bob", "new.example")
	fan, other := local("fan"), local("other")
	s := New(cfg, st, ids, nil)
	if err := s.Follow(ctx, fan, old.ID, FollowOptions{ShowReblogs: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.FollowAccepted(ctx, old, fan); err != nil {
		t.Fatal(err)
	}
	before, _ := st.JobStats(ctx)
	if err := s.RemoteMove(ctx, old, moved); err != nil {
		t.Fatal(err)
	}
	rel, err := st.Relationships(ctx, fan.ID, []int64{old.ID, moved.ID})
	if err != nil {
		t.Fatal(err)
	}
	if rel[old.ID].Following || rel[old.ID].Requested || !rel[moved.ID].Requested {
		t.Errorf("after the move: old %+v, new %+v; want the old one left and the new one asked", rel[old.ID], rel[moved.ID])
	}
	if after, _ := st.JobStats(ctx); after.Pending != before.Pending+2 {
		t.Errorf("jobs: %d before, %d after; want a Follow and an Undo", before.Pending, after.Pending)
	}
	if r, _ := st.Relationships(ctx, other.ID, []int64{moved.ID}); r[moved.ID].Requested || r[moved.ID].Following {
		t.Error("an account that did not follow the old one follows the new one")
	}
	if err := s.RemoteMove(ctx, old, old); err == nil {
		t.Error("a move to itself was carried out")
	}
	// Moving again within a week is refused: two accounts naming each
	// other cannot bounce followers back and forth.
	if err := s.RemoteMove(ctx, old, moved); err == nil {
		t.Error("a second move within a week was carried out")
	}
	s.now = func() time.Time { return now.Add(8 * 24 * time.Hour) }
	if err := s.RemoteMove(ctx, old, moved); err != nil {
		t.Errorf("a move a week later: %v", err)
	}
}
