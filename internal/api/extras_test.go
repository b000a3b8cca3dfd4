package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testdb"
)

// publishJobs lists the activities of the publish jobs waiting, in order.
func (e *env) publishJobs(t *testing.T) []store.Publish {
	t.Helper()
	db := testdb.Open(t, e.cfg.DatabasePath())
	rows, err := db.Query(`SELECT payload FROM jobs WHERE kind = ? ORDER BY id`, store.KindPublish)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []store.Publish
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var p store.Publish
		if err := json.Unmarshal(payload, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// remoteAccount stores an account of another server.
func (e *env) remoteAccount(t *testing.T, id int64, user, domain string) *store.Account {
	t.Helper()
	got, err := e.st.UpsertRemoteAccount(t.Context(), &store.RemoteAccount{Account: store.Account{Username: user, Domain: domain,
		URI: "https://" + domain + "/users/" + user, URL: "https://" + domain + "/@" + user, CreatedAt: time.Now()},
		InboxURL: "https://" + domain + "/users/" + user + "/inbox", FetchedAt: time.Now()}, id)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := e.st.AccountByID(t.Context(), got)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// A private note is the writer's alone: it shows as Relationship.note in
// the answer and in relationships, never to anyone else; empty removes it;
// over 2000 characters is refused.
func TestAccountNote(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	r := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/note", url.Values{"comment": {"Met at the meetup"}})
	checkSocialContract(t, "note", r)
	wantString(t, "note", r, "Met at the meetup", "note")
	wantString(t, "note", r, f.bobID, "id")
	f.golden(t, "relationship_note", r)
	rels := asList(t, f.get(t, f.aliceTok, "/api/v1/accounts/relationships?id[]="+f.bobID+"&id[]="+idString(f.carol.ID)))
	if len(rels) != 2 || mustLookup(rels[0], "note") != "Met at the meetup" || mustLookup(rels[1], "note") != "" {
		t.Errorf("alice's relationships: %v", rels)
	}
	if r := asList(t, f.get(t, f.bobTok, "/api/v1/accounts/relationships?id[]="+f.aliceID))[0]; mustLookup(r, "note") != "" {
		t.Errorf("bob sees a note on alice: %v", r)
	}
	// JSON bodies too; a note of 2000 characters is kept, of 2001 refused.
	long := strings.Repeat("é", 2000)
	rec := f.do(t, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/note", strings.NewReader(`{"comment":"`+long+`"}`),
		append(bearerHeader(f.aliceTok), "Content-Type", "application/json")...)
	if v := wantJSON(t, rec, http.StatusOK); v["note"] != long {
		t.Errorf("a note of 2000 characters: %.40v", v["note"])
	}
	rec = f.call(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/note", url.Values{"comment": {long + "x"}})
	if v := wantJSON(t, rec, http.StatusUnprocessableEntity); !strings.Contains(fmt.Sprint(v["error"]), "Comment") {
		t.Errorf("a note of 2001 characters: %v", v)
	}
	// Without a comment, the note goes.
	r = f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/note", nil)
	wantString(t, "note removed", r, "", "note")
	// Nobody to note: 404, as for carol, who waits for approval.
	for _, id := range []string{"999999", idString(f.carol.ID)} {
		wantJSON(t, f.call(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+id+"/note", url.Values{"comment": {"x"}}), http.StatusNotFound)
	}
}

// Removing a follower ends its follow as its unfollow would (its home loses
// the posts); a remote follower's server is sent a Reject of its Follow.
func TestRemoveFromFollowers(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	dave, daveTok := f.newUser(t, "dave")
	daveID := idString(dave.ID)
	f.okJSON(t, daveTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/follow", nil)
	post := f.postStatus(t, f.bobTok, "BOB_POST", url.Values{"status": {"for my followers"}, "visibility": {"private"}})
	if f.homeIDs(t, daveTok)[post] != 1 {
		t.Fatalf("dave's home lacks bob's post before")
	}
	r := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+daveID+"/remove_from_followers", nil)
	checkSocialContract(t, "removed", r)
	if mustLookup(r, "followed_by") != false || mustLookup(r, "id") != daveID {
		t.Errorf("after removal: %v", r)
	}
	if rel := asList(t, f.get(t, daveTok, "/api/v1/accounts/relationships?id[]="+f.bobID))[0]; mustLookup(rel, "following") != false {
		t.Errorf("dave still follows bob: %v", rel)
	}
	if f.homeIDs(t, daveTok)[post] != 0 {
		t.Errorf("dave's home still holds bob's followers-only post")
	}
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/accounts/"+f.bobID+"/followers")); len(l) != 0 {
		t.Errorf("bob's followers after: %v", l)
	}
	// Again, or someone who does not follow: the same answer, no error.
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+daveID+"/remove_from_followers", nil)
	wantJSON(t, f.call(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/remove_from_followers", nil), http.StatusForbidden)

	// A remote follower: the follow ends here, and its server hears a Reject
	// naming its Follow.
	rem := f.remoteAccount(t, 7000, "zed", "remote.test")
	if _, err := f.st.Follow(t.Context(), 7001, rem.ID, f.bob.ID, store.FollowOptions{ShowReblogs: true, URI: "https://remote.test/follows/1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	before := len(f.publishJobs(t))
	r = f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+idString(rem.ID)+"/remove_from_followers", nil)
	if mustLookup(r, "followed_by") != false {
		t.Errorf("the remote follower still follows: %v", r)
	}
	jobs := f.publishJobs(t)
	if len(jobs) != before+1 {
		t.Fatalf("%d publish jobs after removing a remote follower, want %d", len(jobs), before+1)
	}
	if j := jobs[len(jobs)-1]; j.Activity != "Reject" || j.Actor != f.bob.ID || j.Target != rem.ID || j.URI != "https://remote.test/follows/1" {
		t.Errorf("the job sent: %+v, want bob's Reject of the remote Follow", j)
	}
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+idString(rem.ID)+"/remove_from_followers", nil)
	if n := len(f.publishJobs(t)); n != before+1 {
		t.Errorf("removing again sent another activity (%d jobs)", n)
	}
}

// notificationTypes lists tok's notifications as "type status-id".
func (f *socialFixture) notificationTypes(t *testing.T, tok string) []string {
	t.Helper()
	var out []string
	for _, n := range asList(t, f.get(t, tok, "/api/v1/notifications?limit=40")) {
		st := ""
		if s, _ := lookup(n, "status"); s != nil {
			st = f.names[mustLookup(s, "id").(string)]
		}
		out = append(out, mustLookup(n, "type").(string)+" "+st)
	}
	sort.Strings(out)
	return out
}

// A muted conversation: the Status says muted to its muter only, for every
// status of the thread; nothing in it notifies the muter (replies,
// mentions, favourites, reblogs); unmuting brings them back. A status the
// caller may not see cannot be muted.
func TestConversationMute(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	_, daveTok := f.newUser(t, "dave")
	parent := f.postStatus(t, f.bobTok, "STATUS_PARENT", url.Values{"status": {"A thread"}, "visibility": {"public"}})
	reply := f.postStatus(t, f.aliceTok, "STATUS_REPLY", url.Values{"status": {"@bob a reply"}, "visibility": {"public"}, "in_reply_to_id": {parent}})
	other := f.postStatus(t, f.aliceTok, "STATUS_OTHER", url.Values{"status": {"Another thread"}, "visibility": {"public"}})
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/notifications/clear", nil)

	// alice mutes from her reply: the thread is named by bob's post.
	s := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses/"+reply+"/mute", nil)
	checkStatus(t, "muted", s, f.aliceID)
	if mustLookup(s, "muted") != true || mustLookup(s, "id") != reply {
		t.Fatalf("mute answered %v", s)
	}
	f.golden(t, "status_muted", s)
	for _, id := range []string{parent, reply} {
		if m := mustLookup(f.get(t, f.aliceTok, "/api/v1/statuses/"+id), "muted"); m != true {
			t.Errorf("alice's view of %s: muted %v", f.names[id], m)
		}
		if m := mustLookup(f.get(t, f.bobTok, "/api/v1/statuses/"+id), "muted"); m != false {
			t.Errorf("bob's view of %s: muted %v", f.names[id], m)
		}
	}
	if m := mustLookup(f.get(t, f.aliceTok, "/api/v1/statuses/"+other), "muted"); m != false {
		t.Errorf("another thread shows muted")
	}
	// In a list too (one query for the page).
	for _, s := range asList(t, f.get(t, f.aliceTok, "/api/v1/accounts/"+f.aliceID+"/statuses")) {
		if want := mustLookup(s, "id") == reply; mustLookup(s, "muted") != want {
			t.Errorf("alice's statuses: %s muted %v, want %v", f.names[mustLookup(s, "id").(string)], mustLookup(s, "muted"), want)
		}
	}

	// In the thread: bob favourites and reblogs alice's reply, dave replies
	// to it mentioning her; outside it, dave favourites her other post.
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/statuses/"+reply+"/favourite", nil)
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/statuses/"+reply+"/reblog", nil)
	f.postStatus(t, daveTok, "STATUS_DAVE", url.Values{"status": {"@alice deeper"}, "in_reply_to_id": {reply}})
	f.okJSON(t, daveTok, http.MethodPost, "/api/v1/statuses/"+other+"/favourite", nil)
	if got, want := f.notificationTypes(t, f.aliceTok), []string{"favourite <STATUS_OTHER>"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alice's notifications with the thread muted: %v, want %v", got, want)
	}
	// bob muted nothing: alice's reply, which mentions him, notified him.
	if got := f.notificationTypes(t, f.bobTok); fmt.Sprint(got) != "[mention <STATUS_REPLY>]" {
		t.Errorf("bob's notifications: %v", got)
	}

	// Unmuted (from the root this time): the thread notifies again.
	s = f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses/"+parent+"/unmute", nil)
	if mustLookup(s, "muted") != false {
		t.Errorf("unmute answered muted %v", mustLookup(s, "muted"))
	}
	if m := mustLookup(f.get(t, f.aliceTok, "/api/v1/statuses/"+reply), "muted"); m != false {
		t.Errorf("the reply after unmute: muted %v", m)
	}
	f.postStatus(t, daveTok, "STATUS_DAVE_AGAIN", url.Values{"status": {"@alice again"}, "in_reply_to_id": {reply}})
	if got := f.notificationTypes(t, f.aliceTok); fmt.Sprint(got) != "[favourite <STATUS_OTHER> mention <STATUS_DAVE_AGAIN>]" {
		t.Errorf("alice's notifications after unmute: %v", got)
	}

	// What alice may not see (dave's direct message to bob) is not found;
	// muting needs a user.
	secret := f.postStatus(t, daveTok, "STATUS_SECRET", url.Values{"status": {"@bob psst"}, "visibility": {"direct"}})
	wantJSON(t, f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses/"+secret+"/mute", nil), http.StatusNotFound)
	wantJSON(t, f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses/999999/mute", nil), http.StatusNotFound)
	wantJSON(t, f.call(t, "", http.MethodPost, "/api/v1/statuses/"+parent+"/mute", nil), http.StatusUnauthorized)
}

// Several accounts at once: in the order asked, each once, the hidden ones
// (waiting for approval, disabled, deleted, unknown) left out; anonymous
// callers too; at most 40.
func TestAccountsByID(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	dave, _ := f.newUser(t, "dave")
	erin, _ := f.newUser(t, "erin")
	frank, _ := f.newUser(t, "frank")
	if _, err := f.acc.Modify(t.Context(), dave.ID, accounts.Change{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := f.acc.Delete(t.Context(), erin.ID); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"id[]": {f.bobID, idString(f.carol.ID), idString(dave.ID), idString(erin.ID), "999999", f.aliceID, f.bobID, idString(frank.ID)}}
	for _, tok := range []string{f.aliceTok, ""} {
		list := asList(t, f.get(t, tok, "/api/v1/accounts?"+q.Encode()))
		var got []string
		for i, a := range list {
			checkSocialAccount(t, fmt.Sprintf("accounts[%d]", i), a)
			got = append(got, mustLookup(a, "id").(string))
		}
		if want := []string{f.bobID, f.aliceID, idString(frank.ID)}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("accounts (token %v): %v, want %v", tok != "", got, want)
		}
		if len(list) > 0 {
			if d := f.diff(list[0], f.get(t, tok, "/api/v1/accounts/"+f.bobID)); d != "" {
				t.Errorf("an account in the list differs from GET /accounts/:id:\n%s", d)
			}
		}
	}
	// The first 40 ids count.
	var many []string
	for range 40 {
		many = append(many, "999999")
	}
	if l := asList(t, f.get(t, "", "/api/v1/accounts?"+url.Values{"id[]": append(many, f.bobID)}.Encode())); len(l) != 0 {
		t.Errorf("the 41st id was read: %v", l)
	}
	if l := asList(t, f.get(t, "", "/api/v1/accounts")); len(l) != 0 {
		t.Errorf("no ids: %v", l)
	}
}

func ptr[T any](v T) *T { return &v }

// Removing the avatar or header: the default image shows, the answer is
// the CredentialAccount, and followers' servers get the new profile once;
// removing what is not there sends nothing.
func TestRemoveProfileImages(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	// A follower on another server, who is to hear of the change.
	rem := f.remoteAccount(t, 7000, "zed", "remote.test")
	if _, err := f.st.Follow(t.Context(), 7001, rem.ID, f.alice.ID, store.FollowOptions{URI: "https://remote.test/follows/1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	key := "a/" + strings.Repeat("1", 32) + ".png"
	if _, _, err := f.acc.UpdateProfile(t.Context(), f.alice.ID, accounts.ProfileUpdate{AvatarKey: &key, HeaderKey: &key}); err != nil {
		t.Fatal(err)
	}
	before := f.get(t, f.aliceTok, "/api/v1/accounts/verify_credentials").(map[string]any)
	if strings.HasSuffix(before["avatar"].(string), DefaultAvatarPath) || strings.HasSuffix(before["header"].(string), DefaultHeaderPath) {
		t.Fatalf("the images were not set: %v %v", before["avatar"], before["header"])
	}
	for _, c := range []struct {
		path, field, def, other string
	}{{"/api/v1/profile/avatar", "avatar", DefaultAvatarPath, "header"}, {"/api/v1/profile/header", "header", DefaultHeaderPath, "avatar"}} {
		jobs := len(f.publishJobs(t))
		v := f.okJSON(t, f.aliceTok, http.MethodDelete, c.path, nil)
		checkSocialAccount(t, c.path, v)
		wantPresent(t, c.path, v, "source")
		for _, k := range []string{c.field, c.field + "_static"} {
			if got := mustLookup(v, k).(string); !strings.HasSuffix(got, c.def) {
				t.Errorf("%s: %s = %s, want the default", c.path, k, got)
			}
		}
		if c.field == "avatar" && mustLookup(v, c.other) != before[c.other] {
			t.Errorf("%s changed the %s too", c.path, c.other)
		}
		if d := f.diff(v, f.get(t, f.aliceTok, "/api/v1/accounts/verify_credentials")); d != "" {
			t.Errorf("%s differs from verify_credentials:\n%s", c.path, d)
		}
		all := f.publishJobs(t)
		if len(all) != jobs+1 || all[len(all)-1].Activity != "UpdateActor" || all[len(all)-1].Actor != f.alice.ID {
			t.Errorf("%s: publish jobs %v, want one more UpdateActor of alice", c.path, all[jobs:])
		}
		f.okJSON(t, f.aliceTok, http.MethodDelete, c.path, nil)
		if n := len(f.publishJobs(t)); n != jobs+1 {
			t.Errorf("%s again sent an update (%d jobs)", c.path, n)
		}
	}
	wantJSON(t, f.call(t, "", http.MethodDelete, "/api/v1/profile/avatar", nil), http.StatusUnauthorized)
}

// identity_proofs: always empty for an account that exists; a user's token.
func TestIdentityProofs(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/accounts/"+f.bobID+"/identity_proofs")); len(l) != 0 {
		t.Errorf("identity proofs: %v", l)
	}
	wantJSON(t, f.call(t, f.aliceTok, http.MethodGet, "/api/v1/accounts/999999/identity_proofs", nil), http.StatusNotFound)
	wantJSON(t, f.call(t, "", http.MethodGet, "/api/v1/accounts/"+f.bobID+"/identity_proofs", nil), http.StatusUnauthorized)
}

// The instance's domain blocks: 404 unless federation.public_domain_blocks;
// then the silenced and suspended ones (not those only rejecting media),
// silenced first, each with its digest and reason.
func TestInstanceDomainBlocks(t *testing.T) {
	t.Parallel()
	block := func(e *env) {
		ctx := t.Context()
		if _, err := e.st.BlockDomain(ctx, "bad.example", "spam", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.LimitDomain(ctx, "loud.example", "too loud", true, false, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.LimitDomain(ctx, "pics.example", "", false, true, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	off := newEnv(t)
	block(off)
	wantJSON(t, off.do(t, http.MethodGet, "/api/v1/instance/domain_blocks", nil), http.StatusNotFound)

	on := newEnv(t, `[federation]`, `public_domain_blocks = true`)
	block(on)
	v := decodeAny(t, on.do(t, http.MethodGet, "/api/v1/instance/domain_blocks", nil), http.StatusOK)
	golden(t, "instance_domain_blocks", v)
	list := v.([]any)
	if len(list) != 2 {
		t.Fatalf("domain blocks: %v", list)
	}
	for _, b := range list {
		sum := sha256.Sum256([]byte(mustLookup(b, "domain").(string)))
		if mustLookup(b, "digest") != hex.EncodeToString(sum[:]) {
			t.Errorf("%v: digest is not the SHA-256 of the domain", b)
		}
	}
	if mustLookup(list[0], "domain") != "loud.example" || mustLookup(list[0], "severity") != "silence" ||
		mustLookup(list[1], "domain") != "bad.example" || mustLookup(list[1], "severity") != "suspend" {
		t.Errorf("order or severities: %v", list)
	}
}

// Each new write route refuses a token without its scope (403, nothing
// changed) and serves one with it.
func TestExtrasWriteScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bobTok := e.userToken(t, e.bob, "read write follow")
	e.call(t, bobTok, http.MethodPost, "/api/v1/accounts/"+idString(e.alice.ID)+"/follow") // a request: alice is locked
	posted := wantJSON(t, e.do(t, http.MethodPost, "/api/v1/statuses", strings.NewReader("status=hello+%40alice"),
		append(bearerHeader(bobTok), "Content-Type", "application/x-www-form-urlencoded")...), http.StatusOK)
	statusID, bobID := posted["id"].(string), idString(e.bob.ID)
	routes := []struct{ scope, method, path, body string }{
		{"write:accounts", http.MethodPost, "/api/v1/accounts/" + bobID + "/note", "comment=hi"},
		{"write:follows", http.MethodPost, "/api/v1/accounts/" + bobID + "/remove_from_followers", ""},
		{"write:mutes", http.MethodPost, "/api/v1/statuses/" + statusID + "/mute", ""},
		{"write:mutes", http.MethodPost, "/api/v1/statuses/" + statusID + "/unmute", ""},
		{"write:accounts", http.MethodDelete, "/api/v1/profile/avatar", ""},
		{"write:accounts", http.MethodDelete, "/api/v1/profile/header", ""},
	}
	allWrite := map[string]bool{}
	for _, s := range oauth.AllScopes() {
		if strings.HasPrefix(s, "write:") {
			allWrite[s] = true
		}
	}
	for _, rt := range routes {
		var others []string
		for s := range allWrite {
			if s != rt.scope {
				others = append(others, s)
			}
		}
		sort.Strings(others)
		send := func(tok string) int {
			var body io.Reader
			if rt.body != "" {
				body = strings.NewReader(rt.body)
			}
			return e.do(t, rt.method, rt.path, body, append(bearerHeader(tok), "Content-Type", "application/x-www-form-urlencoded")...).Code
		}
		for _, scopes := range []string{"read", strings.Join(others, " ")} {
			tok := e.userToken(t, e.alice, scopes)
			before := dbFingerprint(t, e.cfg.DatabasePath())
			if code := send(tok); code != http.StatusForbidden {
				t.Errorf("%s %s with %q: %d, want 403", rt.method, rt.path, scopes, code)
			}
			if dbFingerprint(t, e.cfg.DatabasePath()) != before {
				t.Errorf("%s %s with %q changed the database", rt.method, rt.path, scopes)
			}
		}
		if code := send(e.userToken(t, e.alice, rt.scope)); code != http.StatusOK {
			t.Errorf("%s %s with %s: %d", rt.method, rt.path, rt.scope, code)
		}
	}
	// The reads: read:accounts for identity proofs; the accounts list takes
	// any token with it, or none.
	if code := e.do(t, http.MethodGet, "/api/v1/accounts/"+bobID+"/identity_proofs", nil, bearerHeader(e.userToken(t, e.alice, "write"))...).Code; code != http.StatusForbidden {
		t.Errorf("identity_proofs with a write token: %d", code)
	}
	if code := e.do(t, http.MethodGet, "/api/v1/accounts?id[]="+bobID, nil, bearerHeader(e.userToken(t, e.alice, "write"))...).Code; code != http.StatusForbidden {
		t.Errorf("accounts with a write token: %d", code)
	}
}
