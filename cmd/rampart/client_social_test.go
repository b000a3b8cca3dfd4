package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
)

// The quickstart and the sign-in through the pages that the client tests
// (TestMastodonClientLibraryAgainstQuickstart and those below) share; several
// people can sign in to one instance.

const socialPassword = "a long test password"

// startQuickstartWithUsers runs `rampart quickstart` and creates each user
// with `rampart admin user create`; it returns the server's base URL.
func startQuickstartWithUsers(t *testing.T, users ...string) string {
	t.Helper()
	data := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	p := startProc(t, nil, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	cfg := filepath.Join(data, "rampart.toml")
	for _, u := range users {
		cmd := []string{"admin", "user", "create", "--config", cfg, "--username", u, "--email", u + "@example.test", "--password-stdin"}
		if _, stderr, code := runStdin(t, nil, socialPassword+"\n", cmd...); code != 0 {
			t.Fatalf("admin user create %s: %d %s", u, code, stderr)
		}
	}
	return "http://localhost:" + port
}

// signInThroughBrowser has username sign in and approve app in the pages, as
// a browser without JavaScript does, and returns the library's client with
// the token it obtained.
func signInThroughBrowser(t *testing.T, ctx context.Context, server string, app *mastodon.Application, clientName, username string) *mastodon.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: localhostJar{jar}, Timeout: 10 * time.Second}
	read := func(resp *http.Response, err error, what string) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, b)
		}
		return string(b)
	}
	post := func(path string, form url.Values) string {
		t.Helper()
		resp, err := browser.PostForm(server+path, form)
		return read(resp, err, "POST "+path)
	}
	resp, err := browser.Get(app.AuthURI) // redirected to the sign-in page
	signIn := read(resp, err, "GET "+app.AuthURI)
	form := formFields(signIn)
	form.Set("username", username)
	form.Set("password", socialPassword)
	consent := post("/auth/sign_in", form) // back to the consent page
	if !strings.Contains(consent, clientName) {
		t.Fatalf("not the consent page:\n%s", consent)
	}
	approve := formFields(consent)
	approve.Set("decision", "approve")
	codePage := post("/oauth/authorize", approve)
	m := regexp.MustCompile(`id="code">([^<]+)<`).FindStringSubmatch(codePage)
	if m == nil {
		t.Fatalf("no code shown:\n%s", codePage)
	}
	c := mastodon.NewClient(&mastodon.Config{Server: server, ClientID: app.ClientID, ClientSecret: app.ClientSecret})
	if err := c.AuthenticateToken(ctx, m[1], "urn:ietf:wg:oauth:2.0:oob"); err != nil {
		t.Fatalf("AuthenticateToken for %s: %v", username, err)
	}
	return c
}

func statusIDs(list []*mastodon.Status) []mastodon.ID {
	out := make([]mastodon.ID, 0, len(list))
	for _, s := range list {
		out = append(out, s.ID)
	}
	return out
}

func hasStatus(list []*mastodon.Status, id mastodon.ID) bool {
	return slices.Contains(statusIDs(list), id)
}

func accountIDs(list []*mastodon.Account) []mastodon.ID {
	out := make([]mastodon.ID, 0, len(list))
	for _, a := range list {
		out = append(out, a.ID)
	}
	return out
}

// rawStatus is what go-mastodon's Status drops: the application's name.
type rawStatus struct {
	ID      string `json:"id"`
	Account struct {
		ID string `json:"id"`
	} `json:"account"`
	Application *struct {
		Name string `json:"name"`
	} `json:"application"`
	Reblog *rawStatus `json:"reblog"`
}

// rawStatuses runs call with c's JSON copied aside and decodes the statuses
// it answered (one or a list), reblogged ones included.
func rawStatuses(t *testing.T, c *mastodon.Client, call func()) []rawStatus {
	t.Helper()
	var buf bytes.Buffer
	c.JSONWriter = &buf
	defer func() { c.JSONWriter = nil }()
	call()
	var list []rawStatus
	if err := json.Unmarshal(buf.Bytes(), &list); err != nil {
		var one rawStatus
		if err := json.Unmarshal(buf.Bytes(), &one); err != nil {
			t.Fatalf("not statuses: %v\n%s", err, buf.Bytes())
		}
		list = []rawStatus{one}
	}
	for i := 0; i < len(list); i++ {
		if list[i].Reblog != nil {
			list = append(list, *list[i].Reblog)
		}
	}
	return list
}

// wantAPIStatus expects err to be the library's APIError with code.
func wantAPIStatus(t *testing.T, what string, err error, code int) {
	t.Helper()
	var apiErr *mastodon.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("%s: err = %v, want HTTP %d", what, err, code)
	} else if apiErr.StatusCode != code {
		t.Errorf("%s: HTTP %d (%v), want %d", what, apiErr.StatusCode, err, code)
	}
}

// Two people on one instance do, through a third-party Mastodon client
// library, everything issue 4 covers: post, reply, read threads, favourite,
// reblog, bookmark, follow, read timelines (with pagination), notifications
// and search, delete, block, mute, and follow requests on a locked account.
func TestMastodonClientLibrarySocial(t *testing.T) {
	server := startQuickstartWithUsers(t, "alice", "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const clientName = "go-mastodon social test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write follow"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	alice := signInThroughBrowser(t, ctx, server, app, clientName, "alice")
	bob := signInThroughBrowser(t, ctx, server, app, clientName, "bob")
	anon := mastodon.NewClient(&mastodon.Config{Server: server}) // no token at all
	me := func(c *mastodon.Client) *mastodon.Account {
		t.Helper()
		a, err := c.GetAccountCurrentUser(ctx)
		if err != nil {
			t.Fatalf("GetAccountCurrentUser: %v", err)
		}
		return a
	}
	meA, meB := me(alice), me(bob)
	if meA.Username != "alice" || meB.Username != "bob" || meA.ID == meB.ID {
		t.Fatalf("accounts: %s/%s, %s/%s", meA.ID, meA.Username, meB.ID, meB.Username)
	}
	rel := func(c *mastodon.Client, id mastodon.ID) *mastodon.Relationship {
		t.Helper()
		rs, err := c.GetAccountRelationships(ctx, []string{string(id)})
		if err != nil || len(rs) != 1 || rs[0].ID != id {
			t.Fatalf("GetAccountRelationships: %v %v", rs, err)
		}
		return rs[0]
	}
	home := func(c *mastodon.Client) []*mastodon.Status {
		t.Helper()
		l, err := c.GetTimelineHome(ctx, &mastodon.Pagination{Limit: 40})
		if err != nil {
			t.Fatalf("GetTimelineHome: %v", err)
		}
		return l
	}
	notification := func(c *mastodon.Client, typ string, from mastodon.ID, status mastodon.ID) *mastodon.Notification {
		t.Helper()
		ns, err := c.GetNotifications(ctx, nil)
		if err != nil {
			t.Fatalf("GetNotifications: %v", err)
		}
		for _, n := range ns {
			if n.Type == typ && n.Account.ID == from && (status == "" || n.Status != nil && n.Status.ID == status) {
				return n
			}
		}
		return nil
	}

	// bob follows alice; both sides see it.
	r, err := bob.AccountFollow(ctx, meA.ID)
	if err != nil || !r.Following || r.Requested || !r.ShowingReblogs {
		t.Fatalf("AccountFollow: %+v %v", r, err)
	}
	if r := rel(alice, meB.ID); !r.FollowedBy || r.Following {
		t.Errorf("alice's relationship to bob: %+v", r)
	}
	if n := notification(alice, "follow", meB.ID, ""); n == nil {
		t.Errorf("alice has no follow notification from bob")
	}

	// alice posts; bob sees it at home.
	var s1 *mastodon.Status
	raw := rawStatuses(t, alice, func() {
		s1, err = alice.PostStatus(ctx, &mastodon.Toot{Status: "Hello fediverse from alice #RampartClient", Visibility: "public", Language: "en"})
	})
	if err != nil {
		t.Fatalf("PostStatus: %v", err)
	}
	if s1.Visibility != "public" || s1.Language != "en" || s1.Account.ID != meA.ID || s1.InReplyToID != nil ||
		len(s1.Tags) != 1 || s1.Tags[0].Name != "rampartclient" || !strings.Contains(s1.Content, "Hello fediverse") ||
		s1.CreatedAt.IsZero() || !s1.EditedAt.IsZero() {
		t.Errorf("posted status: %+v", s1)
	}
	if raw[0].Application == nil || raw[0].Application.Name != clientName {
		t.Errorf("posted status's application = %+v, want %q", raw[0].Application, clientName)
	}
	if !hasStatus(home(bob), s1.ID) {
		t.Errorf("bob's home timeline lacks alice's status after following her")
	}

	// bob replies, unlisted, behind a content warning.
	reply, err := bob.PostStatus(ctx, &mastodon.Toot{Status: "@alice nice to see you here", InReplyToID: s1.ID, Visibility: "unlisted", SpoilerText: "a reply"})
	if err != nil {
		t.Fatalf("PostStatus reply: %v", err)
	}
	if fmt.Sprint(reply.InReplyToID) != string(s1.ID) || fmt.Sprint(reply.InReplyToAccountID) != string(meA.ID) ||
		reply.Visibility != "unlisted" || reply.SpoilerText != "a reply" || !reply.Sensitive ||
		len(reply.Mentions) != 1 || reply.Mentions[0].ID != meA.ID || reply.Mentions[0].Acct != "alice" {
		t.Errorf("reply: %+v", reply)
	}
	var got *mastodon.Status
	raw = rawStatuses(t, alice, func() { got, err = alice.GetStatus(ctx, reply.ID) })
	if err != nil || got.ID != reply.ID || got.SpoilerText != "a reply" || got.Account.ID != meB.ID {
		t.Errorf("GetStatus(reply): %+v %v", got, err)
	}
	if raw[0].Application != nil {
		t.Errorf("alice sees the application of bob's status: %+v", raw[0].Application)
	}
	if got, err := alice.GetStatus(ctx, s1.ID); err != nil || got.RepliesCount != 1 {
		t.Errorf("GetStatus(s1): replies_count %v, err %v", got, err)
	}
	th, err := alice.GetStatusContext(ctx, s1.ID)
	if err != nil || len(th.Ancestors) != 0 || len(th.Descendants) != 1 || th.Descendants[0].ID != reply.ID {
		t.Errorf("GetStatusContext(s1): %+v %v", th, err)
	}
	th, err = anon.GetStatusContext(ctx, reply.ID)
	if err != nil || len(th.Ancestors) != 1 || th.Ancestors[0].ID != s1.ID || len(th.Descendants) != 0 {
		t.Errorf("anonymous GetStatusContext(reply): %+v %v", th, err)
	}
	if n := notification(alice, "mention", meB.ID, reply.ID); n == nil {
		t.Errorf("alice has no mention notification for bob's reply")
	}

	// Favourite and unfavourite.
	fav, err := bob.Favourite(ctx, s1.ID)
	if err != nil || fav.ID != s1.ID || fav.Favourited != true || fav.FavouritesCount != 1 {
		t.Errorf("Favourite: %+v %v", fav, err)
	}
	if favs, err := bob.GetFavourites(ctx, nil); err != nil || !slices.Equal(statusIDs(favs), []mastodon.ID{s1.ID}) {
		t.Errorf("GetFavourites: %v %v", statusIDs(favs), err)
	}
	if n := notification(alice, "favourite", meB.ID, s1.ID); n == nil {
		t.Errorf("alice has no favourite notification")
	}
	if by, err := alice.GetFavouritedBy(ctx, s1.ID, nil); err != nil || !slices.Equal(accountIDs(by), []mastodon.ID{meB.ID}) {
		t.Errorf("GetFavouritedBy: %v %v", accountIDs(by), err)
	}
	unfav, err := bob.Unfavourite(ctx, s1.ID)
	if err != nil || unfav.Favourited != false || unfav.FavouritesCount != 0 {
		t.Errorf("Unfavourite: %+v %v", unfav, err)
	}
	if favs, err := bob.GetFavourites(ctx, nil); err != nil || len(favs) != 0 {
		t.Errorf("GetFavourites after Unfavourite: %v %v", statusIDs(favs), err)
	}

	// Reblog and unreblog.
	rb, err := bob.Reblog(ctx, s1.ID)
	if err != nil {
		t.Fatalf("Reblog: %v", err)
	}
	if rb.ID == s1.ID || rb.Account.ID != meB.ID || rb.Content != "" || rb.Reblog == nil || rb.Reblog.ID != s1.ID ||
		rb.Reblog.Reblogged != true || rb.Reblog.ReblogsCount != 1 {
		t.Errorf("Reblog: %+v (reblog %+v)", rb, rb.Reblog)
	}
	if n := notification(alice, "reblog", meB.ID, s1.ID); n == nil {
		t.Errorf("alice has no reblog notification")
	}
	if by, err := alice.GetRebloggedBy(ctx, s1.ID, nil); err != nil || !slices.Equal(accountIDs(by), []mastodon.ID{meB.ID}) {
		t.Errorf("GetRebloggedBy: %v %v", accountIDs(by), err)
	}
	if bs, err := bob.GetAccountStatuses(ctx, meB.ID, nil); err != nil || !hasStatus(bs, rb.ID) {
		t.Errorf("bob's statuses lack his reblog: %v %v", statusIDs(bs), err)
	}
	unrb, err := bob.Unreblog(ctx, s1.ID)
	if err != nil || unrb.ID != s1.ID || unrb.Reblogged != false || unrb.ReblogsCount != 0 {
		t.Errorf("Unreblog: %+v %v", unrb, err)
	}
	if _, err := bob.GetStatus(ctx, rb.ID); err == nil {
		t.Errorf("the reblog still exists after Unreblog")
	}

	// Bookmarks are private to bob.
	bm, err := bob.Bookmark(ctx, s1.ID)
	if err != nil || bm.Bookmarked != true {
		t.Errorf("Bookmark: %+v %v", bm, err)
	}
	if bms, err := bob.GetBookmarks(ctx, nil); err != nil || !slices.Equal(statusIDs(bms), []mastodon.ID{s1.ID}) {
		t.Errorf("GetBookmarks: %v %v", statusIDs(bms), err)
	}
	if bms, err := alice.GetBookmarks(ctx, nil); err != nil || len(bms) != 0 {
		t.Errorf("alice's bookmarks: %v %v", statusIDs(bms), err)
	}
	if got, _ := alice.GetStatus(ctx, s1.ID); got == nil || got.Bookmarked != false {
		t.Errorf("alice sees bob's bookmark: %+v", got)
	}

	// Public and hashtag timelines, for a person and for nobody in particular.
	for name, c := range map[string]*mastodon.Client{"bob": bob, "anonymous": anon} {
		pub, err := c.GetTimelinePublic(ctx, false, nil)
		if err != nil || !hasStatus(pub, s1.ID) || hasStatus(pub, reply.ID) {
			t.Errorf("%s GetTimelinePublic: %v %v (want alice's public status, not bob's unlisted reply)", name, statusIDs(pub), err)
		}
		local, err := c.GetTimelinePublic(ctx, true, nil)
		if err != nil || !hasStatus(local, s1.ID) {
			t.Errorf("%s GetTimelinePublic(local): %v %v", name, statusIDs(local), err)
		}
		tag, err := c.GetTimelineHashtag(ctx, "RampartClient", false, nil)
		if err != nil || !slices.Equal(statusIDs(tag), []mastodon.ID{s1.ID}) {
			t.Errorf("%s GetTimelineHashtag: %v %v", name, statusIDs(tag), err)
		}
	}

	// Search: go-mastodon's Search calls /api/v2/search.
	res, err := bob.Search(ctx, "alice", false)
	if err != nil || !slices.Contains(accountIDs(res.Accounts), meA.ID) || !hasStatus(res.Statuses, reply.ID) {
		t.Errorf("Search(alice): accounts %v statuses %v, err %v", accountIDs(res.Accounts), statusIDs(res.Statuses), err)
	}
	res, err = bob.Search(ctx, "#rampartclient", false)
	if err != nil || len(res.Hashtags) != 1 || res.Hashtags[0].Name != "rampartclient" || !strings.HasSuffix(res.Hashtags[0].URL, "/tags/rampartclient") {
		t.Errorf("Search(#rampartclient): %+v %v", res, err)
	}
	res, err = bob.Search(ctx, "fediverse", false)
	if err != nil || !slices.Equal(statusIDs(res.Statuses), []mastodon.ID{s1.ID}) {
		t.Errorf("Search(fediverse): %v %v", statusIDs(res.Statuses), err)
	}

	// Account statuses and counters.
	as, err := anon.GetAccountStatuses(ctx, meA.ID, nil)
	if err != nil || !slices.Equal(statusIDs(as), []mastodon.ID{s1.ID}) {
		t.Errorf("GetAccountStatuses(alice): %v %v", statusIDs(as), err)
	}
	if a, err := anon.GetAccount(ctx, meA.ID); err != nil || a.StatusesCount != 1 || a.FollowersCount != 1 || a.FollowingCount != 0 {
		t.Errorf("GetAccount(alice): %+v %v", a, err)
	}
	if a, err := anon.GetAccount(ctx, meB.ID); err != nil || a.StatusesCount != 1 || a.FollowersCount != 0 || a.FollowingCount != 1 {
		t.Errorf("GetAccount(bob): %+v %v", a, err)
	}

	// Home timeline pagination: go-mastodon follows the Link header.
	more := []mastodon.ID{}
	for i := range 5 {
		s, err := alice.PostStatus(ctx, &mastodon.Toot{Status: fmt.Sprintf("status %d", i), Visibility: "public"})
		if err != nil {
			t.Fatalf("PostStatus %d: %v", i, err)
		}
		more = append(more, s.ID)
	}
	full := statusIDs(home(bob))
	if len(full) != 7 { // s1, the reply, five more
		t.Fatalf("bob's home timeline has %d statuses, want 7: %v", len(full), full)
	}
	if !slices.IsSortedFunc(full, func(a, b mastodon.ID) int {
		return -strings.Compare(fmt.Sprintf("%030s", a), fmt.Sprintf("%030s", b))
	}) {
		t.Errorf("home timeline is not newest first: %v", full)
	}
	var paged []mastodon.ID
	pg := &mastodon.Pagination{Limit: 2}
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatalf("pagination does not end: %v", paged)
		}
		l, err := bob.GetTimelineHome(ctx, pg)
		if err != nil {
			t.Fatalf("GetTimelineHome page %d: %v", page, err)
		}
		paged = append(paged, statusIDs(l)...)
		if len(l) == 2 && (pg.MaxID != l[1].ID || pg.Limit != 2) {
			t.Fatalf("after a full page, Pagination = %+v, want MaxID %s and Limit 2", pg, l[1].ID)
		}
		if pg.MaxID == "" {
			break
		}
	}
	if !slices.Equal(paged, full) {
		t.Errorf("paged home timeline %v, want %v", paged, full)
	}

	// Deleting takes the status away everywhere.
	if err := alice.DeleteStatus(ctx, more[0]); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	_, err = bob.GetStatus(ctx, more[0])
	wantAPIStatus(t, "GetStatus of a deleted status", err, http.StatusNotFound)
	if hasStatus(home(bob), more[0]) {
		t.Errorf("the deleted status is still in bob's home timeline")
	}
	if err := bob.DeleteStatus(ctx, s1.ID); err == nil {
		t.Errorf("bob deleted alice's status")
	}

	// Unfollow: alice's statuses leave bob's home timeline.
	r, err = bob.AccountUnfollow(ctx, meA.ID)
	if err != nil || r.Following {
		t.Errorf("AccountUnfollow: %+v %v", r, err)
	}
	for _, s := range home(bob) {
		if s.Account.ID == meA.ID {
			t.Errorf("bob's home timeline still has alice's status %s after unfollowing", s.ID)
		}
	}
	if rel(alice, meB.ID).FollowedBy {
		t.Errorf("alice is still followed by bob")
	}

	// Mute: alice disappears from bob's public timeline until unmuted.
	r, err = bob.AccountMute(ctx, meA.ID)
	if err != nil || !r.Muting || !r.MutingNotifications {
		t.Errorf("AccountMute: %+v %v", r, err)
	}
	if mutes, err := bob.GetMutes(ctx, nil); err != nil || !slices.Equal(accountIDs(mutes), []mastodon.ID{meA.ID}) {
		t.Errorf("GetMutes: %v %v", accountIDs(mutes), err)
	}
	if pub, err := bob.GetTimelinePublic(ctx, false, nil); err != nil || hasStatus(pub, s1.ID) {
		t.Errorf("bob's public timeline shows muted alice: %v %v", statusIDs(pub), err)
	}
	if r, err = bob.AccountUnmute(ctx, meA.ID); err != nil || r.Muting {
		t.Errorf("AccountUnmute: %+v %v", r, err)
	}
	if pub, err := bob.GetTimelinePublic(ctx, false, nil); err != nil || !hasStatus(pub, s1.ID) {
		t.Errorf("bob's public timeline after unmuting: %v %v", statusIDs(pub), err)
	}

	// Block: neither sees the other's statuses, and following is refused.
	r, err = alice.AccountBlock(ctx, meB.ID)
	if err != nil || !r.Blocking {
		t.Errorf("AccountBlock: %+v %v", r, err)
	}
	_, err = bob.GetStatus(ctx, s1.ID)
	wantAPIStatus(t, "bob reads a status of alice, who blocks him", err, http.StatusNotFound)
	_, err = alice.GetStatus(ctx, reply.ID)
	wantAPIStatus(t, "alice reads a status of bob, whom she blocks", err, http.StatusNotFound)
	_, err = bob.AccountFollow(ctx, meA.ID)
	wantAPIStatus(t, "bob follows alice, who blocks him", err, http.StatusForbidden)
	if blocks, err := alice.GetBlocks(ctx, nil); err != nil || !slices.Equal(accountIDs(blocks), []mastodon.ID{meB.ID}) {
		t.Errorf("GetBlocks: %v %v", accountIDs(blocks), err)
	}
	if r, err = alice.AccountUnblock(ctx, meB.ID); err != nil || r.Blocking {
		t.Errorf("AccountUnblock: %+v %v", r, err)
	}
	if _, err := bob.GetStatus(ctx, s1.ID); err != nil {
		t.Errorf("GetStatus after unblocking: %v", err)
	}

	// A locked account: following becomes a request alice decides on.
	yes := true
	acc, err := alice.AccountUpdate(ctx, &mastodon.Profile{Locked: &yes})
	if err != nil || !acc.Locked {
		t.Fatalf("AccountUpdate(Locked): %+v %v", acc, err)
	}
	r, err = bob.AccountFollow(ctx, meA.ID)
	if err != nil || r.Following || !r.Requested {
		t.Errorf("AccountFollow of a locked account: %+v %v", r, err)
	}
	reqs, err := alice.GetFollowRequests(ctx, nil)
	if err != nil || !slices.Equal(accountIDs(reqs), []mastodon.ID{meB.ID}) {
		t.Errorf("GetFollowRequests: %v %v", accountIDs(reqs), err)
	}
	if n := notification(alice, "follow_request", meB.ID, ""); n == nil {
		t.Errorf("alice has no follow_request notification")
	}
	if err := alice.FollowRequestAuthorize(ctx, meB.ID); err != nil {
		t.Fatalf("FollowRequestAuthorize: %v", err)
	}
	if r := rel(bob, meA.ID); !r.Following || r.Requested {
		t.Errorf("bob's relationship after authorisation: %+v", r)
	}
	if reqs, err := alice.GetFollowRequests(ctx, nil); err != nil || len(reqs) != 0 {
		t.Errorf("GetFollowRequests after authorising: %v %v", accountIDs(reqs), err)
	}
	priv, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "for my followers", Visibility: "private"})
	if err != nil || priv.Visibility != "private" {
		t.Fatalf("PostStatus private: %+v %v", priv, err)
	}
	if !hasStatus(home(bob), priv.ID) {
		t.Errorf("bob, now a follower, lacks alice's private status at home")
	}
	_, err = anon.GetStatus(ctx, priv.ID)
	wantAPIStatus(t, "anonymous GetStatus of a private status", err, http.StatusNotFound)

	// Notifications, read back through the library: only Mastodon's types, each with what it needs.
	ns, err := alice.GetNotifications(ctx, nil)
	if err != nil || len(ns) == 0 {
		t.Fatalf("GetNotifications: %v %v", ns, err)
	}
	for _, n := range ns {
		switch n.Type {
		case "mention", "status", "reblog", "favourite", "update":
			if n.Status == nil {
				t.Errorf("%s notification %s without a status", n.Type, n.ID)
			}
		case "follow", "follow_request":
			if n.Status != nil {
				t.Errorf("%s notification %s with a status", n.Type, n.ID)
			}
		default:
			t.Errorf("notification type %q", n.Type)
		}
		if n.Account.ID == "" || n.CreatedAt.IsZero() {
			t.Errorf("notification %+v", n)
		}
	}

	// Others' statuses never carry the application they were posted with.
	for _, s := range rawStatuses(t, bob, func() { home(bob) }) {
		if s.Account.ID != string(meB.ID) && s.Application != nil {
			t.Errorf("bob's home timeline shows the application of alice's status %s: %+v", s.ID, *s.Application)
		}
	}
}

// An empty bearer token (what go-mastodon sends without one) reads public
// resources like no token at all.
func TestMastodonClientWithoutToken(t *testing.T) {
	server := startQuickstartWithUsers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	anon := mastodon.NewClient(&mastodon.Config{Server: server})
	if _, err := anon.GetTimelinePublic(ctx, false, nil); err != nil {
		t.Errorf("GetTimelinePublic without a token: %v", err)
	}
	// A plain request with no Authorization header at all works too.
	resp, err := http.Get(server + "/api/v1/timelines/public?" + url.Values{"limit": {"1"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("public timeline without Authorization: %d", resp.StatusCode)
	}
}
