package instance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/httpsig"
)

// getJSON GETs path on p with token and decodes the answer into out.
func getJSON(t *testing.T, p *peer, token, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", p.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode
}

// Bob posts on B; alice on A looks him up and sees his public and unlisted
// posts through the Mastodon API, read from his outbox with a signed GET;
// a post of his found by its URL is fetched and shown too. His private and
// direct posts never leave B.
func TestRemotePostsAreShownThroughTheAPI(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	bobTok := tokenFor(t, b, "bob")
	_, public := post(t, b, bobTok, url.Values{"status": {"hello from B #fedi"}, "visibility": {"public"}})
	_, unlisted := post(t, b, bobTok, url.Values{"status": {"quiet on B"}, "visibility": {"unlisted"}})
	_, private := post(t, b, bobTok, url.Values{"status": {"friends only on B"}, "visibility": {"private"}})
	post(t, b, bobTok, url.Values{"status": {"just us on B"}, "visibility": {"direct"}})

	// B's outbox: 401 unsigned (authorized fetch); signed by A's instance
	// actor, the public and unlisted posts as Create activities.
	if status, _ := getActor(t, b, "/users/bob/outbox?page=true", nil); status != http.StatusUnauthorized {
		t.Errorf("unsigned outbox page: %d; want 401", status)
	}
	aKey, _, err := a.inst.Accounts().InstanceKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	signedByA := func(r *http.Request) {
		if err := httpsig.SignCavage(r, nil, httpsig.Key{ID: a.base + "/actor#main-key", Private: aKey}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	status, coll := getActor(t, b, "/users/bob/outbox", signedByA)
	if status != http.StatusOK || coll["type"] != "OrderedCollection" || coll["first"] != b.base+"/users/bob/outbox?page=true" {
		t.Fatalf("outbox: %d %v", status, coll)
	}
	status, page := getActor(t, b, "/users/bob/outbox?page=true", signedByA)
	items, _ := page["orderedItems"].([]any)
	if status != http.StatusOK || len(items) != 2 {
		t.Fatalf("outbox page: %d, %d items; want the public and unlisted posts\n%v", status, len(items), page)
	}
	if s := fmt.Sprint(items); strings.Contains(s, "friends only") || strings.Contains(s, "just us") {
		t.Errorf("the outbox shows a private or direct post: %s", s)
	}

	aliceTok := tokenFor(t, a, "alice")
	var found struct {
		Accounts []struct{ ID, Acct string } `json:"accounts"`
		Statuses []struct {
			ID, URI, URL, Content string
			Account               struct{ Acct string }
		} `json:"statuses"`
	}
	acct := "bob@localhost:" + portB
	getJSON(t, a, aliceTok, "/api/v2/search?resolve=true&q="+url.QueryEscape("@"+acct), &found)
	if len(found.Accounts) != 1 || found.Accounts[0].Acct != acct {
		t.Fatalf("search: %+v\nA's log:\n%s", found, a.logs.String())
	}
	var posts []struct {
		URI, URL, Content, Visibility string
		Account                       struct{ Acct string }
	}
	if status := getJSON(t, a, aliceTok, "/api/v1/accounts/"+found.Accounts[0].ID+"/statuses", &posts); status != http.StatusOK {
		t.Fatalf("account statuses: %d", status)
	}
	if len(posts) != 2 {
		t.Fatalf("bob's posts on A: %+v\nA's log:\n%s", posts, a.logs.String())
	}
	byURI := map[string]int{}
	for i, p := range posts {
		byURI[p.URI] = i
		if p.Account.Acct != acct || !strings.HasPrefix(p.URL, b.base+"/@bob/") {
			t.Errorf("post %d: acct %q url %q", i, p.Account.Acct, p.URL)
		}
	}
	if i, ok := byURI[public]; !ok || !strings.Contains(posts[i].Content, "hello from B") || posts[i].Visibility != "public" {
		t.Errorf("the public post: %+v", posts)
	}
	if i, ok := byURI[unlisted]; !ok || posts[i].Visibility != "unlisted" {
		t.Errorf("the unlisted post: %+v", posts)
	}

	// A post made since, looked up by its URL.
	_, later := post(t, b, bobTok, url.Values{"status": {"a later post"}, "visibility": {"public"}})
	found.Statuses = nil
	getJSON(t, a, aliceTok, "/api/v2/search?type=statuses&resolve=true&q="+url.QueryEscape(later), &found)
	if len(found.Statuses) != 1 || found.Statuses[0].URI != later || !strings.Contains(found.Statuses[0].Content, "a later post") ||
		found.Statuses[0].Account.Acct != acct {
		t.Fatalf("search by URL: %+v\nA's log:\n%s", found.Statuses, a.logs.String())
	}
	// B does not give A's instance actor the private post.
	found.Statuses = nil
	getJSON(t, a, aliceTok, "/api/v2/search?type=statuses&resolve=true&q="+url.QueryEscape(private), &found)
	if len(found.Statuses) != 0 {
		t.Errorf("a private post was found by its URL: %+v", found.Statuses)
	}
}
