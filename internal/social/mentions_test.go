package social

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/remote"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

// knownRemote answers lookups from the accounts a test put in the store,
// standing in for the network (remote.Accounts is tested against real
// servers in internal/remote and internal/instance; mentions take a port-less
// host name, which a test server on loopback cannot have).
type knownRemote struct {
	st      *store.Store
	lookups int
}

func (k *knownRemote) Resolve(ctx context.Context, _ int64, acct remote.Acct) (*store.Account, error) {
	k.lookups++
	a, err := k.st.AccountByUsername(ctx, acct.User, acct.Host)
	if err != nil {
		return nil, remote.ErrNotFound
	}
	return a, nil
}

func (k *knownRemote) ResolveURL(context.Context, int64, *url.URL) (int64, int64, error) {
	return 0, 0, remote.ErrNotFound
}

// A post that mentions @user@host links the remote account and stores the
// mention (part 2 delivers to it), tells nobody here about it, and gives up
// on lookups past the post's budget.
func TestRemoteMentionsResolveAndAreStored(t *testing.T) {
	ctx := context.Background()
	cfg := testutil.ProdConfig(t, t.TempDir())
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := id.NewGenerator()
	now := time.Now()
	alice := &store.Account{ID: ids.Next(), Username: "alice", URI: "https://example.test/users/alice", URL: "https://example.test/@alice", CreatedAt: now, UpdatedAt: now}
	u := &store.User{Email: "a@example.test", PasswordHash: "x", Role: "user", Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: now}
	if err := st.CreateLocalAccount(ctx, alice, u); err != nil {
		t.Fatal(err)
	}
	bobID, err := st.UpsertRemoteAccount(ctx, &store.RemoteAccount{Account: store.Account{Username: "bob", Domain: "b.example",
		URI: "https://b.example/users/bob", URL: "https://b.example/@bob", CreatedAt: now}, FetchedAt: now}, ids.Next())
	if err != nil {
		t.Fatal(err)
	}
	k := &knownRemote{st: st}
	s := New(cfg, st, ids, k)
	text := "hi @bob@b.example and @nobody@c.example"
	for i := range maxRemoteMentions + 2 {
		text += " @x" + string(rune('a'+i)) + "@d.example"
	}
	posted, err := s.Post(ctx, alice, u, PostParams{Text: text, Visibility: "direct"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(posted.Content, `href="https://b.example/@bob"`) || strings.Contains(posted.Content, `href="https://c.example`) {
		t.Errorf("content %s", posted.Content)
	}
	mentions, err := st.MentionedAccounts(ctx, []int64{posted.ID})
	if err != nil || len(mentions[posted.ID]) != 1 || mentions[posted.ID][0] != bobID {
		t.Fatalf("stored mentions %v, %v; want bob's account", mentions, err)
	}
	if k.lookups != maxRemoteMentions {
		t.Errorf("%d remote lookups for one post; the budget is %d", k.lookups, maxRemoteMentions)
	}
	if n, _ := st.Notifications(ctx, bobID, store.NotificationFilter{}, store.Page{Limit: 10}); len(n) != 0 {
		t.Errorf("a remote account was given %d notifications here", len(n))
	}
}
