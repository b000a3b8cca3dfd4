package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A direct status makes a conversation for each participant: Mastodon's
// entity, unread for the recipient, the others as accounts; read and
// removed per person; a blocked author's statuses never shown.
func TestConversationEntity(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	dm := f.postStatus(t, f.aliceTok, "STATUS_DM", url.Values{"status": {"@bob just between us"}, "visibility": {"direct"}})

	l := asList(t, f.get(t, f.bobTok, "/api/v1/conversations"))
	if len(l) != 1 {
		t.Fatalf("bob's conversations: %v", f.norm(l, ""))
	}
	c := l[0]
	checkSocialContract(t, "conversation", c)
	if mustLookup(c, "id") != dm || mustLookup(c, "unread") != true || mustLookup(c, "last_status", "id") != dm {
		t.Errorf("bob's: %v", f.norm(c, ""))
	}
	accs := asList(t, mustLookup(c, "accounts"))
	if len(accs) != 1 || mustLookup(accs[0], "id") != f.aliceID {
		t.Errorf("accounts: %v", f.norm(accs, ""))
	}
	checkStatus(t, "conversation.last_status", mustLookup(c, "last_status"), f.bobID)
	f.golden(t, "conversation", c)

	mine := asList(t, f.get(t, f.aliceTok, "/api/v1/conversations"))
	if len(mine) != 1 || mustLookup(mine[0], "unread") != false || len(asList(t, mustLookup(mine[0], "accounts"))) != 1 ||
		mustLookup(asList(t, mustLookup(mine[0], "accounts"))[0], "id") != f.bobID {
		t.Errorf("alice's: %v", f.norm(mine, ""))
	}

	read := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/conversations/"+dm+"/read", nil)
	if mustLookup(read, "unread") != false || mustLookup(read, "id") != dm {
		t.Errorf("after read: %v", f.norm(read, ""))
	}
	if rec := f.call(t, f.bobTok, http.MethodPost, "/api/v1/conversations/123/read", nil); rec.Code != 404 {
		t.Errorf("reading an unknown one: %d", rec.Code)
	}

	// Bob blocks alice: the thread holds nothing he may see.
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/block", nil)
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/conversations")); len(l) != 0 {
		t.Errorf("bob sees a blocked author's conversation: %v", f.norm(l, ""))
	}
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/unblock", nil)

	// Removing is bob's alone.
	f.okJSON(t, f.bobTok, http.MethodDelete, "/api/v1/conversations/"+dm, nil)
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/conversations")); len(l) != 0 {
		t.Errorf("after removing: %v", l)
	}
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/conversations")); len(l) != 1 {
		t.Errorf("bob's removal took alice's: %v", l)
	}
	if rec := f.call(t, f.bobTok, http.MethodDelete, "/api/v1/conversations/"+dm, nil); rec.Code != 404 {
		t.Errorf("removed twice: %d", rec.Code)
	}
	// Bob's answer in the thread brings it back, read for him, unread for alice.
	ans := f.postStatus(t, f.bobTok, "STATUS_ANSWER", url.Values{"status": {"@alice ok"}, "visibility": {"direct"}, "in_reply_to_id": {dm}})
	l = asList(t, f.get(t, f.bobTok, "/api/v1/conversations"))
	if len(l) != 1 || mustLookup(l[0], "id") != dm || mustLookup(l[0], "last_status", "id") != ans || mustLookup(l[0], "unread") != false {
		t.Errorf("bob's after answering: %v", f.norm(l, ""))
	}
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/conversations")); len(l) != 1 || mustLookup(l[0], "unread") != true {
		t.Errorf("alice's after the answer: %v", f.norm(l, ""))
	}
}

// Conversations page with Link headers by their newest status; listing
// needs read:statuses, reading and removing write:conversations.
func TestConversationsPageAndScopes(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, f.postStatus(t, f.aliceTok, fmt.Sprintf("DM%d", i), url.Values{"status": {"@bob " + fmt.Sprint(i)}, "visibility": {"direct"}}))
	}
	rec := f.call(t, f.bobTok, http.MethodGet, "/api/v1/conversations?limit=2", nil)
	l := asList(t, decodeAny(t, rec, 200))
	if len(l) != 2 || mustLookup(l[0], "id") != ids[4] || mustLookup(l[1], "id") != ids[3] {
		t.Fatalf("page 1: %v", f.norm(l, ""))
	}
	link := rec.Header().Get("Link")
	if !strings.Contains(link, "max_id="+ids[3]) || !strings.Contains(link, "min_id="+ids[4]) {
		t.Errorf("Link: %s", link)
	}
	l = asList(t, f.get(t, f.bobTok, "/api/v1/conversations?limit=2&max_id="+ids[3]))
	if len(l) != 2 || mustLookup(l[0], "id") != ids[2] || mustLookup(l[1], "id") != ids[1] {
		t.Errorf("page 2: %v", f.norm(l, ""))
	}

	read := f.userToken(t, f.bob, "read:statuses")
	write := f.userToken(t, f.bob, "write:conversations")
	statuses := f.userToken(t, f.bob, "read write:statuses")
	for _, tc := range []struct {
		tok, method, path string
		want              int
	}{
		{write, http.MethodGet, "/api/v1/conversations", 403},
		{read, http.MethodGet, "/api/v1/conversations", 200},
		{statuses, http.MethodPost, "/api/v1/conversations/" + ids[0] + "/read", 403},
		{statuses, http.MethodDelete, "/api/v1/conversations/" + ids[0], 403},
		{write, http.MethodPost, "/api/v1/conversations/" + ids[0] + "/read", 200},
		{write, http.MethodDelete, "/api/v1/conversations/" + ids[0], 200},
		{"", http.MethodGet, "/api/v1/conversations", 401},
	} {
		if rec := f.call(t, tc.tok, tc.method, tc.path, nil); rec.Code != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}
