package instance

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/oauth"
)

// userToken signs name up (approved) and returns a token with scopes.
func (ti *tlsInstance) userToken(name, scopes string) (token, id string) {
	ti.t.Helper()
	ctx := context.Background()
	ti.createUser(name, "correct horse battery")
	acc, err := ti.inst.Store().AccountByUsername(ctx, name, "")
	if err != nil {
		ti.t.Fatal(err)
	}
	app, _, err := ti.inst.OAuth().RegisterApp(ctx, oauth.AppParams{Name: "t", RedirectURIs: []string{oauth.OOB}, Scopes: scopes})
	if err != nil {
		ti.t.Fatal(err)
	}
	sc, _ := oauth.ParseScopes(scopes)
	tok, err := ti.inst.OAuth().IssueForAccount(ctx, app.ID, acc.ID, sc)
	if err != nil {
		ti.t.Fatal(err)
	}
	return tok.Token, idString(acc.ID)
}

func idString(id int64) string { b, _ := json.Marshal(id); return string(b) }

func (r reply) list(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("not a JSON list (%d): %s", r.status, r.body)
	}
	return out
}

func TestTwoUsersPostFollowAndRead(t *testing.T) {
	ti := startTLS(t)
	alice, _ := ti.userToken("alice", "read write follow")
	bob, bobID := ti.userToken("bob", "read write follow")

	post := func(tok, text string, extra ...string) map[string]any {
		t.Helper()
		form := url.Values{"status": {text}}
		for i := 0; i+1 < len(extra); i += 2 {
			form.Set(extra[i], extra[i+1])
		}
		r := ti.call(ti.client, "POST", "/api/v1/statuses", form, tok)
		if r.status != 200 {
			t.Fatalf("post %q: %d %s", text, r.status, r.body)
		}
		return r.json(t)
	}
	if r := ti.call(ti.client, "POST", "/api/v1/accounts/"+bobID+"/follow", url.Values{}, alice); r.status != 200 || r.json(t)["following"] != true {
		t.Fatalf("follow: %d %s", r.status, r.body)
	}
	s1 := post(bob, "Hello <b>world</b> #Rampart https://example.org/x and @alice")
	if c := s1["content"].(string); !strings.Contains(c, "&lt;b&gt;world&lt;/b&gt;") || !strings.Contains(c, `class="mention hashtag"`) ||
		!strings.Contains(c, `class="u-url mention"`) || !strings.Contains(c, `rel="nofollow noopener noreferrer"`) {
		t.Errorf("content: %s", c)
	}
	home := ti.call(ti.client, "GET", "/api/v1/timelines/home", nil, alice).list(t)
	if len(home) != 1 || home[0]["id"] != s1["id"] {
		t.Fatalf("alice's home: %v", home)
	}
	notes := ti.call(ti.client, "GET", "/api/v1/notifications", nil, alice).list(t)
	if len(notes) != 1 || notes[0]["type"] != "mention" {
		t.Errorf("alice's notifications: %v", notes)
	}
	if r := ti.call(ti.client, "POST", "/api/v1/statuses/"+s1["id"].(string)+"/favourite", nil, alice); r.status != 200 || r.json(t)["favourited"] != true {
		t.Errorf("favourite: %d %s", r.status, r.body)
	}
	reply := post(alice, "@bob hi back", "in_reply_to_id", s1["id"].(string))
	ctxr := ti.call(ti.client, "GET", "/api/v1/statuses/"+s1["id"].(string)+"/context", nil, bob).json(t)
	if d := ctxr["descendants"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != reply["id"] {
		t.Errorf("context: %v", ctxr)
	}
	priv := post(bob, "followers only", "visibility", "private")
	if r := ti.call(ti.client, "GET", "/api/v1/statuses/"+priv["id"].(string), nil, ""); r.status != 404 {
		t.Errorf("anonymous saw a private status: %d", r.status)
	}
	if r := ti.call(ti.client, "GET", "/api/v1/statuses/"+priv["id"].(string), nil, alice); r.status != 200 {
		t.Errorf("follower cannot see a private status: %d", r.status)
	}
	bobNotes := ti.call(ti.client, "GET", "/api/v1/notifications", nil, bob).list(t)
	types := map[string]bool{}
	for _, n := range bobNotes {
		types[n["type"].(string)] = true
	}
	if !types["follow"] || !types["favourite"] || !types["mention"] {
		t.Errorf("bob's notification types: %v", types)
	}
	if r := ti.call(ti.client, "GET", "/api/v2/search?q=rampart", nil, alice).json(t); len(r["hashtags"].([]any)) != 1 || len(r["statuses"].([]any)) != 1 {
		t.Errorf("search: %v", r)
	}
	if r := ti.call(ti.client, "DELETE", "/api/v1/statuses/"+s1["id"].(string), nil, bob); r.status != 200 || !strings.HasPrefix(r.json(t)["text"].(string), "Hello <b>world</b>") {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if home := ti.call(ti.client, "GET", "/api/v1/timelines/home", nil, alice).list(t); len(home) != 2 {
		t.Errorf("after delete, alice's home has %d statuses (her reply and bob's private post expected)", len(home))
	}
}

func TestPrivateThingsStayPrivate(t *testing.T) {
	ti := startTLS(t)
	alice, _ := ti.userToken("alice", "read write follow")
	bob, _ := ti.userToken("bob", "read write follow")
	post := func(tok string, form url.Values) map[string]any {
		t.Helper()
		r := ti.call(ti.client, "POST", "/api/v1/statuses", form, tok)
		if r.status != 200 {
			t.Fatalf("post: %d %s", r.status, r.body)
		}
		return r.json(t)
	}
	pub := post(alice, url.Values{"status": {"hello world"}})
	// A followers-only reblog is not listed to strangers.
	if r := ti.call(ti.client, "POST", "/api/v1/statuses/"+pub["id"].(string)+"/reblog", url.Values{"visibility": {"private"}}, bob); r.status != 200 {
		t.Fatalf("reblog: %d %s", r.status, r.body)
	}
	if got := ti.call(ti.client, "GET", "/api/v1/statuses/"+pub["id"].(string)+"/reblogged_by", nil, "").list(t); len(got) != 0 {
		t.Errorf("an anonymous visitor sees a followers-only reblog: %v", got)
	}
	if got := ti.call(ti.client, "GET", "/api/v1/statuses/"+pub["id"].(string)+"/reblogged_by", nil, bob).list(t); len(got) != 1 {
		t.Errorf("the reblogger does not see their own reblog: %v", got)
	}
	// A hashtag used only in a direct message is not found by others.
	post(alice, url.Values{"status": {"@bob the #secretlaunchplan"}, "visibility": {"direct"}})
	if r := ti.call(ti.client, "GET", "/api/v2/search?type=hashtags&q=secretl", nil, "").json(t); len(r["hashtags"].([]any)) != 0 {
		t.Errorf("anonymous search finds a tag used only in a DM: %v", r["hashtags"])
	}
	if r := ti.call(ti.client, "GET", "/api/v2/search?type=hashtags&q=secretl", nil, bob).json(t); len(r["hashtags"].([]any)) != 1 {
		t.Errorf("the mentioned account cannot find the tag of a DM it can read: %v", r["hashtags"])
	}
}
