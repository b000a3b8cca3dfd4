package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// ---------------------------------------------------------------------------
// Social fixture: the env of entities_test.go, plus a scenario played through
// the API with user tokens, so every entity below is what a client receives.

type socialFixture struct {
	*env
	aliceTok, bobTok string
	aliceID, bobID   string
	// Status ids of the scenario.
	parent   string // bob's public status
	reply    string // alice's reply to it: mention, hashtag, link, spoiler, language
	bobReply string // bob's answer to alice (a descendant of reply)
	reblog   string // bob's reblog of reply
	edited   string // alice's status, edited once
	// bob's reblog of edited, his latest status
	editedReblog string
	// names maps every id string the scenario made to its placeholder.
	names map[string]string
}

// newSocialPair is the env with tokens for alice and bob and their ids
// named, before anything happened between them.
func newSocialPair(t *testing.T) *socialFixture {
	t.Helper()
	e := newEnv(t)
	f := &socialFixture{env: e, names: map[string]string{}}
	f.aliceTok = e.userToken(t, e.alice, "read write follow")
	f.bobTok = e.userToken(t, e.bob, "read write follow")
	f.aliceID, f.bobID = idString(e.alice.ID), idString(e.bob.ID)
	f.name(f.aliceID, "ALICE_ID")
	f.name(f.bobID, "BOB_ID")
	return f
}

// newSocialFixture is newSocialPair after the scenario.
func newSocialFixture(t *testing.T) *socialFixture {
	t.Helper()
	f := newSocialPair(t)
	f.name(idString(f.carol.ID), "CAROL_ID")

	// alice follows bob (unlocked), asking to be told of his posts: bob gets "follow".
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/follow", url.Values{"notify": {"true"}})
	// bob asks to follow alice (locked): alice gets "follow_request"; it stays pending.
	rel := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/follow", nil)
	if x, _ := lookup(rel, "requested"); x != true {
		t.Fatalf("following a locked account: %v", rel)
	}
	// bob posts: alice gets "status".
	f.parent = f.postStatus(t, f.bobTok, "STATUS_PARENT", url.Values{"status": {"Hello from bob #Rampart #BobsWorld"}, "visibility": {"public"}})
	// alice replies with everything a status can carry as text: bob gets "mention".
	f.reply = f.postStatus(t, f.aliceTok, "STATUS_REPLY", url.Values{
		"status":         {"@bob welcome! Read https://example.org/guide?x=1 #Rampart"},
		"spoiler_text":   {"Long thread"},
		"language":       {"fr"},
		"visibility":     {"public"},
		"in_reply_to_id": {f.parent},
	})
	// bob answers (unlisted): alice gets "mention".
	f.bobReply = f.postStatus(t, f.bobTok, "STATUS_BOB_REPLY", url.Values{"status": {"@alice merci"}, "visibility": {"unlisted"}, "in_reply_to_id": {f.reply}})
	// bob favourites, reblogs and bookmarks alice's reply: alice gets "favourite" and "reblog".
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/statuses/"+f.reply+"/favourite", nil)
	rb := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/statuses/"+f.reply+"/reblog", nil)
	f.reblog, _ = rb.(map[string]any)["id"].(string)
	f.name(f.reblog, "STATUS_REBLOG")
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/statuses/"+f.reply+"/bookmark", nil)
	// alice pins and bookmarks her reply and favourites bob's status: bob gets "favourite".
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses/"+f.reply+"/pin", nil)
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses/"+f.reply+"/bookmark", nil)
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses/"+f.parent+"/favourite", nil)
	// alice posts, bob reblogs, alice edits: bob gets "update".
	f.edited = f.postStatus(t, f.aliceTok, "STATUS_EDITED", url.Values{"status": {"First version"}, "visibility": {"public"}})
	rb = f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/statuses/"+f.edited+"/reblog", nil)
	f.editedReblog, _ = rb.(map[string]any)["id"].(string)
	f.name(f.editedReblog, "STATUS_EDITED_REBLOG")
	f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/statuses/"+f.edited, url.Values{"status": {"Second version #Edits"}, "spoiler_text": {"now with a warning"}})
	return f
}

// name registers a placeholder for an id string.
func (f *socialFixture) name(id, placeholder string) {
	if id == "" || !idRe.MatchString(id) {
		panic("not an id: " + id)
	}
	f.names[id] = "<" + placeholder + ">"
}

// call sends a form (or nothing) with an optional bearer token.
func (f *socialFixture) call(t *testing.T, tok, method, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var headers []string
	if tok != "" {
		headers = append(headers, bearerHeader(tok)...)
	}
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
		headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
	}
	if body == nil {
		return f.do(t, method, target, nil, headers...)
	}
	return f.do(t, method, target, body, headers...)
}

// okJSON expects 200 and decodes any JSON value (object or array), numbers as json.Number.
func (f *socialFixture) okJSON(t *testing.T, tok, method, target string, form url.Values) any {
	t.Helper()
	rec := f.call(t, tok, method, target, form)
	return decodeAny(t, rec, http.StatusOK)
}

func (f *socialFixture) postStatus(t *testing.T, tok, placeholder string, form url.Values) string {
	t.Helper()
	v := f.okJSON(t, tok, http.MethodPost, "/api/v1/statuses", form)
	id, _ := v.(map[string]any)["id"].(string)
	f.name(id, placeholder)
	return id
}

func (f *socialFixture) get(t *testing.T, tok, target string) any {
	t.Helper()
	return f.okJSON(t, tok, http.MethodGet, target, nil)
}

func asList(t *testing.T, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("want a JSON array, got %#v", v)
	}
	return l
}

// ---------------------------------------------------------------------------
// Normalisation by field name and by known id, and golden files.

var (
	longNumberRe = regexp.MustCompile(`\d{12,}`)
	dayRe        = regexp.MustCompile(`^\d{4}-\d\d-\d\d$`)
	hourRe       = regexp.MustCompile(`-\d{1,9}$`)
)

// norm replaces the scenario's ids (whole values, or inside URIs, URLs and
// group keys) with their names, timestamps with <DATE>, days with <DAY>, and
// any other long number with <ID>.
func (f *socialFixture) norm(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, y := range x {
			out[k] = f.norm(y, k)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = f.norm(y, key)
		}
		return out
	case string:
		if ph, ok := f.names[x]; ok {
			return ph
		}
		switch key {
		case "created_at", "edited_at", "expires_at", "updated_at", "latest_page_notification_at":
			return "<DATE>"
		case "group_key": // the hour a group began
			x = hourRe.ReplaceAllString(x, "-<HOUR>")
		case "last_status_at":
			return "<DAY>"
		}
		for id, ph := range f.names {
			x = strings.ReplaceAll(x, id, ph)
		}
		return longNumberRe.ReplaceAllString(x, "<ID>")
	default:
		return v
	}
}

// golden is compareGolden after norm; entities_test.go's golden would fold
// every named id to <ID>.
func (f *socialFixture) golden(t *testing.T, name string, v any) {
	t.Helper()
	compareGolden(t, name, f.norm(v, ""))
}

// diff lists the lines of the normalised, indented JSON only in a (-) or only in b (+).
func (f *socialFixture) diff(a, b any) string {
	enc := func(v any) string {
		out, _ := json.MarshalIndent(f.norm(v, ""), "", "  ")
		return string(out)
	}
	if x, y := enc(a), enc(b); x != y {
		return lineDiff(x, y)
	}
	return ""
}

// ---------------------------------------------------------------------------
// Mastodon's contract for the social entities, on raw responses.

// checkSocialContract walks any response: dates with milliseconds and Z
// (last_status_at a plain date), no "" URL fields, ids and *_id fields numeric
// strings (or null for *_id), nothing nested that checkContract would reject.
func checkSocialContract(t *testing.T, what string, v any) {
	t.Helper()
	walkFields(v, func(p, parent, k string, x any) {
		s, isStr := x.(string)
		switch {
		case k == "last_status_at":
			if x != nil && (!isStr || !dayRe.MatchString(s)) {
				t.Errorf("%s%s = %#v, want null or YYYY-MM-DD", what, p, x)
			}
		case k == "created_at" || k == "edited_at" || dateKeys[k]:
			if x == nil {
				if k == "created_at" {
					t.Errorf("%s%s is null", what, p)
				}
			} else if !isStr || !dateRe.MatchString(s) {
				t.Errorf("%s%s = %#v, not Mastodon's date format", what, p, x)
			}
		case strings.HasSuffix(k, "_id") && k != "client_id":
			if x != nil && (!isStr || !idRe.MatchString(s)) {
				t.Errorf("%s%s = %#v, want null or a numeric string", what, p, x)
			}
		default:
			checkURLOrID(t, what, p, parent, k, x)
		}
	})
}

func isNumber(x any) bool { _, ok := x.(json.Number); return ok }
func isBool(x any) bool   { _, ok := x.(bool); return ok }
func isArray(x any) bool  { _, ok := x.([]any); return ok }
func isObject(x any) bool { _, ok := x.(map[string]any); return ok }
func isString(x any) bool { _, ok := x.(string); return ok }

// checkSocialAccount holds for every Account with counters.
func checkSocialAccount(t *testing.T, what string, a any) {
	t.Helper()
	if !isObject(a) {
		t.Errorf("%s = %#v, want an Account", what, a)
		return
	}
	for _, k := range []string{"id", "username", "acct", "url", "uri", "display_name", "note", "avatar", "avatar_static", "header", "header_static", "created_at"} {
		if x := wantPresent(t, what, a, k); !isString(x) {
			t.Errorf("%s: %s = %#v, want a string", what, k, x)
		}
	}
	for _, k := range []string{"locked", "bot", "group"} {
		if x := wantPresent(t, what, a, k); !isBool(x) {
			t.Errorf("%s: %s = %#v, want a boolean", what, k, x)
		}
	}
	checkAccountListsAndCounters(t, what, a)
	wantPresent(t, what, a, "last_status_at")
	wantPresent(t, what, a, "discoverable")
	wantPresent(t, what, a, "noindex")
}

var statusNullable = []string{"url", "in_reply_to_id", "in_reply_to_account_id", "reblog", "poll", "card", "language", "edited_at"}

var viewerFields = []string{"favourited", "reblogged", "muted", "bookmarked"}

// checkStatus holds for every Status seen by viewer (an account id, "" when
// anonymous): every documented field, nullable ones present as null, viewer
// fields only for a signed-in viewer, pinned and application only on the
// viewer's own statuses.
func checkStatus(t *testing.T, what string, s any, viewer string) {
	t.Helper()
	if !isObject(s) {
		t.Fatalf("%s = %#v, want a Status", what, s)
	}
	own := viewer != "" && mustLookup(s, "account", "id") == viewer
	for _, k := range []string{"id", "uri", "created_at", "content", "visibility", "spoiler_text"} {
		if x := wantPresent(t, what, s, k); !isString(x) {
			t.Errorf("%s: %s = %#v, want a string", what, k, x)
		}
	}
	for _, k := range statusNullable {
		wantPresent(t, what, s, k)
	}
	for _, k := range []string{"url", "language", "edited_at"} {
		if x, _ := lookup(s, k); x != nil && !isString(x) {
			t.Errorf("%s: %s = %#v, want a string or null", what, k, x)
		}
	}
	if p, _ := lookup(s, "poll"); p != nil {
		checkPoll(t, what+" poll", p, viewer)
	}
	wantNull(t, what, s, "card")
	if x := wantPresent(t, what, s, "sensitive"); !isBool(x) {
		t.Errorf("%s: sensitive = %#v", what, x)
	}
	for _, k := range []string{"media_attachments", "mentions", "tags", "emojis"} {
		if x, _ := lookup(s, k); !isArray(x) {
			t.Errorf("%s: %s = %#v, want an array", what, k, x)
		}
	}
	for _, k := range []string{"reblogs_count", "favourites_count", "replies_count"} {
		if x, _ := lookup(s, k); !isNumber(x) {
			t.Errorf("%s: %s = %#v, want a number", what, k, x)
		}
	}
	switch v, _ := lookup(s, "visibility"); v {
	case "public", "unlisted", "private", "direct":
	default:
		t.Errorf("%s: visibility = %#v", what, v)
	}
	if x, ok := lookup(s, "text"); ok && x != nil && !isString(x) {
		t.Errorf("%s: text = %#v, want a string or null", what, x)
	}
	if app, ok := lookup(s, "application"); ok {
		if !own {
			t.Errorf("%s: application %v shown on a status the viewer did not write", what, app)
		}
		if !isObject(app) {
			t.Errorf("%s: application = %#v", what, app)
		} else {
			if x, _ := lookup(app, "name"); !isString(x) {
				t.Errorf("%s: application.name = %#v", what, x)
			}
			if x := wantPresent(t, what, app, "website"); x != nil && (!isString(x) || x == "") {
				t.Errorf("%s: application.website = %#v", what, x)
			}
		}
	}
	reblog, _ := lookup(s, "reblog")
	if (s.(map[string]any)["in_reply_to_id"] == nil) != (s.(map[string]any)["in_reply_to_account_id"] == nil) {
		t.Errorf("%s: in_reply_to_id and in_reply_to_account_id disagree", what)
	}
	for i, m := range s.(map[string]any)["mentions"].([]any) {
		for _, k := range []string{"id", "username", "url", "acct"} {
			if x, _ := lookup(m, k); !isString(x) || x == "" {
				t.Errorf("%s: mentions[%d].%s = %#v", what, i, k, x)
			}
		}
	}
	for i, tag := range s.(map[string]any)["tags"].([]any) {
		for _, k := range []string{"name", "url"} {
			if x, _ := lookup(tag, k); !isString(x) || x == "" {
				t.Errorf("%s: tags[%d].%s = %#v", what, i, k, x)
			}
		}
	}
	acc, _ := lookup(s, "account")
	checkSocialAccount(t, what+" account", acc)
	if viewer != "" {
		for _, k := range viewerFields {
			if x := wantPresent(t, what, s, k); !isBool(x) {
				t.Errorf("%s: %s = %#v, want a boolean for a signed-in viewer", what, k, x)
			}
		}
		x, ok := lookup(s, "pinned")
		if own && reblog == nil && (!ok || !isBool(x)) {
			t.Errorf("%s: pinned = %#v, want a boolean on the viewer's own status", what, x)
		} else if !own && ok {
			t.Errorf("%s: pinned is present on someone else's status", what)
		}
	} else {
		for _, k := range append(viewerFields, "pinned", "filtered") {
			wantAbsent(t, what, s, k)
		}
	}
	if reblog != nil {
		if c, _ := lookup(s, "content"); c != "" {
			t.Errorf("%s: a reblog's content = %#v, want \"\"", what, c)
		}
		if x, _ := lookup(s, "in_reply_to_id"); x != nil {
			t.Errorf("%s: a reblog replies to %v", what, x)
		}
		checkStatus(t, what+" reblog", reblog, viewer)
	}
	checkSocialContract(t, what, s)
}

// Mastodon's notification types (4.x), and which carry a status.
var mastodonNotificationTypes = map[string]bool{
	"mention": true, "status": true, "reblog": true, "follow": true, "follow_request": true, "favourite": true,
	"poll": true, "update": true, "admin.sign_up": true, "admin.report": true, "severed_relationships": true,
	"moderation_warning": true, "quote": true, "quoted_update": true,
}

var notificationWithStatus = map[string]bool{"mention": true, "status": true, "reblog": true, "favourite": true, "poll": true, "update": true}

func checkNotification(t *testing.T, what string, n any, recipient string) {
	t.Helper()
	typ, _ := lookup(n, "type")
	s, _ := typ.(string)
	if !mastodonNotificationTypes[s] {
		t.Errorf("%s: type %#v is not one of Mastodon's", what, typ)
	}
	if x, _ := lookup(n, "group_key"); !isString(x) || x == "" {
		t.Errorf("%s: group_key = %#v", what, x)
	}
	acc, _ := lookup(n, "account")
	checkSocialAccount(t, what+" account", acc)
	st, hasStatus := lookup(n, "status")
	if notificationWithStatus[s] {
		if !hasStatus || st == nil {
			t.Errorf("%s: a %s notification without a status", what, s)
		} else {
			checkStatus(t, what+" status", st, recipient)
		}
	} else if hasStatus && st != nil {
		t.Errorf("%s: a %s notification carries a status", what, s)
	}
	checkSocialContract(t, what, n)
}

// ---------------------------------------------------------------------------
// Entities.

func TestStatusEntity(t *testing.T) {
	t.Parallel()
	f := newSocialFixture(t)
	target := "/api/v1/statuses/" + f.reply

	t.Run("author", func(t *testing.T) {
		s := f.get(t, f.aliceTok, target)
		checkStatus(t, "status (author)", s, f.aliceID)
		for k, want := range map[string]string{"id": f.reply, "in_reply_to_id": f.parent, "in_reply_to_account_id": f.bobID,
			"visibility": "public", "spoiler_text": "Long thread", "language": "fr",
			"uri": "https://example.test/users/alice/statuses/" + f.reply, "url": "https://example.test/@alice/" + f.reply} {
			wantString(t, "status", s, want, k)
		}
		for k, want := range map[string]any{"sensitive": true, "favourited": false, "reblogged": false, "bookmarked": true,
			"pinned": true, "muted": false, "favourites_count": json.Number("1"), "reblogs_count": json.Number("1"),
			"replies_count": json.Number("1")} {
			if x, _ := lookup(s, k); x != want {
				t.Errorf("status: %s = %#v, want %#v", k, x, want)
			}
		}
		wantNull(t, "status", s, "edited_at")
		wantNull(t, "status", s, "reblog")
		wantAbsent(t, "status", s, "text")
		wantString(t, "status", s, "Fixture", "application", "name")
		wantNull(t, "status", s, "application", "website")
		content, _ := lookup(s, "content")
		for _, part := range []string{
			`<a href="https://example.test/@bob" class="u-url mention">`,
			`href="https://example.test/tags/rampart"`,
			`<a href="https://example.org/guide?x=1"`,
			`rel="nofollow noopener noreferrer"`,
		} {
			if !strings.Contains(fmt.Sprint(content), part) {
				t.Errorf("content %q lacks %q", content, part)
			}
		}
		mentions, _ := lookup(s, "mentions")
		if l, _ := mentions.([]any); len(l) != 1 {
			t.Errorf("mentions = %v", mentions)
		} else {
			wantString(t, "mention", l[0], f.bobID, "id")
			wantString(t, "mention", l[0], "bob", "acct")
			wantString(t, "mention", l[0], "https://example.test/@bob", "url")
		}
		tags, _ := lookup(s, "tags")
		if l, _ := tags.([]any); len(l) != 1 {
			t.Errorf("tags = %v", tags)
		} else {
			wantString(t, "tag", l[0], "rampart", "name")
			wantString(t, "tag", l[0], "https://example.test/tags/rampart", "url")
		}
		f.golden(t, "status_author", s)
	})

	t.Run("anonymous", func(t *testing.T) {
		s := f.get(t, "", target)
		checkStatus(t, "status (anonymous)", s, "")
		wantAbsent(t, "status", s, "application")
		f.golden(t, "status_anonymous", s)
	})

	t.Run("other viewer", func(t *testing.T) {
		s := f.get(t, f.bobTok, target)
		checkStatus(t, "status (bob)", s, f.bobID)
		for k, want := range map[string]any{"favourited": true, "reblogged": true, "bookmarked": true} {
			if x, _ := lookup(s, k); x != want {
				t.Errorf("status as bob: %s = %#v, want %#v", k, x, want)
			}
		}
	})

	t.Run("reblog", func(t *testing.T) {
		s := f.get(t, f.bobTok, "/api/v1/statuses/"+f.reblog)
		checkStatus(t, "reblog", s, f.bobID)
		wantString(t, "reblog", s, "", "content")
		wantString(t, "reblog", s, f.reply, "reblog", "id")
		wantString(t, "reblog", s, "bob", "account", "username")
		wantString(t, "reblog", s, "alice", "reblog", "account", "username")
		wantNull(t, "reblog", s, "language")
		if x, _ := lookup(s, "reblog", "reblogged"); x != true {
			t.Errorf("reblog.reblogged = %#v, want true for the reblogger", x)
		}
		f.golden(t, "status_reblog", s)
	})

	t.Run("edited", func(t *testing.T) {
		s := f.get(t, f.aliceTok, "/api/v1/statuses/"+f.edited)
		checkStatus(t, "edited", s, f.aliceID)
		if x, _ := lookup(s, "edited_at"); !isString(x) {
			t.Errorf("edited_at = %#v, want a date", x)
		}
		wantString(t, "edited", s, "now with a warning", "spoiler_text")
		wantString(t, "edited", s, "en", "language") // alice's default, kept through the edit
		f.golden(t, "status_edited", s)

		h := asList(t, f.get(t, "", "/api/v1/statuses/"+f.edited+"/history"))
		if len(h) != 2 {
			t.Fatalf("history has %d versions, want 2", len(h))
		}
		for i, v := range h {
			what := fmt.Sprintf("history[%d]", i)
			checkSocialContract(t, what, v)
			for _, k := range []string{"content", "spoiler_text", "sensitive", "created_at", "account", "media_attachments", "emojis"} {
				wantPresent(t, what, v, k)
			}
			acc, _ := lookup(v, "account")
			checkSocialAccount(t, what+" account", acc)
		}
		wantString(t, "history[0]", h[0], "<p>First version</p>", "content")
		wantString(t, "history[1]", h[1], "now with a warning", "spoiler_text")
		// Alice's posting default is "sensitive" (the fixture sets it) and the post did not say otherwise.
		if x, _ := lookup(h[0], "sensitive"); x != true {
			t.Errorf("history[0].sensitive = %#v, want alice's default (true)", x)
		}
		if h0, _ := lookup(h[0], "created_at"); fmt.Sprint(h0) > fmt.Sprint(mustLookup(h[1], "created_at")) {
			t.Errorf("history is not oldest first")
		}
		if e, _ := lookup(s, "edited_at"); mustLookup(h[1], "created_at") != e {
			t.Errorf("the last version's created_at %v is not the status's edited_at %v", mustLookup(h[1], "created_at"), e)
		}
		f.golden(t, "status_history", h)
	})

	t.Run("delete answers the source text", func(t *testing.T) {
		id := f.postStatus(t, f.bobTok, "STATUS_DELETED", url.Values{"status": {"short-lived <b>"}, "visibility": {"public"}})
		s := f.okJSON(t, f.bobTok, http.MethodDelete, "/api/v1/statuses/"+id, nil)
		checkStatus(t, "deleted", s, f.bobID)
		wantString(t, "deleted", s, "short-lived <b>", "text")
		rec := f.call(t, f.bobTok, http.MethodGet, "/api/v1/statuses/"+id, nil)
		wantJSON(t, rec, http.StatusNotFound)
	})
}

func mustLookup(v any, keys ...string) any {
	x, _ := lookup(v, keys...)
	return x
}

func TestAccountEntityWithCounters(t *testing.T) {
	t.Parallel()
	f := newSocialFixture(t)
	a := f.get(t, "", "/api/v1/accounts/"+f.bobID)
	checkSocialContract(t, "account", a)
	checkSocialAccount(t, "account", a)
	// bob: his status, his answer and two reblogs; alice follows him; his request to alice is pending.
	for k, want := range map[string]string{"statuses_count": "4", "followers_count": "1", "following_count": "0"} {
		if x, _ := lookup(a, k); x != json.Number(want) {
			t.Errorf("%s = %#v, want %s", k, x, want)
		}
	}
	// The day (UTC) of his latest status, the reblog of alice's edited status.
	latest := fmt.Sprint(mustLookup(f.get(t, "", "/api/v1/statuses/"+f.editedReblog), "created_at"))
	if x, _ := lookup(a, "last_status_at"); len(latest) < 10 || x != latest[:10] {
		t.Errorf("last_status_at = %#v, want %s as YYYY-MM-DD", x, latest)
	}
	f.golden(t, "account_counters", a)

	// The same counters wherever the account is rendered.
	me := f.get(t, f.bobTok, "/api/v1/accounts/verify_credentials")
	for _, k := range []string{"statuses_count", "followers_count", "following_count", "last_status_at"} {
		if mustLookup(me, k) != mustLookup(a, k) {
			t.Errorf("verify_credentials %s = %v, account %s = %v", k, mustLookup(me, k), k, mustLookup(a, k))
		}
	}
	s := f.get(t, "", "/api/v1/statuses/"+f.parent)
	for _, k := range []string{"statuses_count", "followers_count", "following_count", "last_status_at"} {
		if mustLookup(s, "account", k) != mustLookup(a, k) {
			t.Errorf("status.account %s = %v, account %s = %v", k, mustLookup(s, "account", k), k, mustLookup(a, k))
		}
	}
}

func TestRelationshipEntity(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)

	check := func(t *testing.T, what string, r any, want map[string]bool) {
		t.Helper()
		checkSocialContract(t, what, r)
		for _, k := range []string{"following", "showing_reblogs", "notifying", "followed_by", "blocking", "blocked_by",
			"muting", "muting_notifications", "requested", "requested_by", "domain_blocking", "endorsed"} {
			x := wantPresent(t, what, r, k)
			if !isBool(x) {
				t.Errorf("%s: %s = %#v, want a boolean", what, k, x)
			} else if x != want[k] {
				t.Errorf("%s: %s = %v, want %v", what, k, x, want[k])
			}
		}
		wantPresent(t, what, r, "languages")
		if x, _ := lookup(r, "note"); !isString(x) {
			t.Errorf("%s: note = %#v", what, x)
		}
	}
	rels := func(tok, id string) any {
		l := asList(t, f.get(t, tok, "/api/v1/accounts/relationships?id[]="+id))
		if len(l) != 1 {
			t.Fatalf("relationships = %v", l)
		}
		return l[0]
	}

	// bob asks to follow alice (locked).
	r := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/follow", nil)
	check(t, "requested", r, map[string]bool{"requested": true})
	wantString(t, "requested", r, f.aliceID, "id")
	f.golden(t, "relationship_requested", r)
	check(t, "requested_by", rels(f.aliceTok, f.bobID), map[string]bool{"requested_by": true})

	// alice follows bob (unlocked).
	r = f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/follow", url.Values{"notify": {"true"}})
	follow := map[string]bool{"following": true, "showing_reblogs": true, "notifying": true, "requested_by": true}
	check(t, "follow", r, follow)
	f.golden(t, "relationship_follow", r)
	check(t, "follow, as listed", rels(f.aliceTok, f.bobID), follow)
	check(t, "followed_by", rels(f.bobTok, f.aliceID), map[string]bool{"followed_by": true, "requested": true})

	// alice mutes bob (notifications too, by default).
	r = f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/mute", nil)
	check(t, "mute", r, map[string]bool{"following": true, "showing_reblogs": true, "notifying": true, "requested_by": true,
		"muting": true, "muting_notifications": true})
	f.golden(t, "relationship_mute", r)

	// alice blocks bob: the follow and the request end.
	r = f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/block", nil)
	check(t, "block", r, map[string]bool{"blocking": true, "muting": true, "muting_notifications": true})
	f.golden(t, "relationship_block", r)
	check(t, "blocked_by", rels(f.bobTok, f.aliceID), map[string]bool{"blocked_by": true})
	rec := f.call(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/follow", nil)
	wantJSON(t, rec, http.StatusForbidden)
}

func TestNotificationEntities(t *testing.T) {
	t.Parallel()
	f := newSocialFixture(t)
	lists := map[string][]any{
		"alice": asList(t, f.get(t, f.aliceTok, "/api/v1/notifications")),
		"bob":   asList(t, f.get(t, f.bobTok, "/api/v1/notifications")),
	}
	for who, l := range lists {
		for i, n := range l {
			checkNotification(t, fmt.Sprintf("%s's notifications[%d]", who, i), n, map[string]string{"alice": f.aliceID, "bob": f.bobID}[who])
		}
	}
	find := func(who, typ, from, status string) any {
		t.Helper()
		for _, n := range lists[who] {
			if mustLookup(n, "type") == typ && mustLookup(n, "account", "id") == from &&
				(status == "" || mustLookup(n, "status", "id") == status) {
				return n
			}
		}
		t.Fatalf("%s has no %s notification from %s (status %s)", who, typ, from, status)
		return nil
	}
	for _, c := range []struct{ who, typ, from, status string }{
		{"bob", "follow", f.aliceID, ""},
		{"alice", "follow_request", f.bobID, ""},
		{"alice", "status", f.bobID, f.parent},
		{"bob", "mention", f.aliceID, f.reply},
		{"alice", "mention", f.bobID, f.bobReply},
		{"alice", "favourite", f.bobID, f.reply},
		{"bob", "favourite", f.aliceID, f.parent},
		{"alice", "reblog", f.bobID, f.reply},
		{"bob", "update", f.aliceID, f.edited},
	} {
		t.Run(c.who+" "+c.typ, func(t *testing.T) {
			n := find(c.who, c.typ, c.from, c.status)
			id := mustLookup(n, "id").(string)
			f.name(id, "NOTIFICATION_ID")
			// Favourites and reblogs of one status, and follows, are grouped by
			// the hour their group began (Mastodon 4.3); the rest are not.
			want := "^ungrouped-" + id + "$"
			switch c.typ {
			case "favourite", "reblog":
				want = "^" + c.typ + "-" + c.status + `-\d{6,}$`
			case "follow":
				want = `^follow-\d{6,}$`
			}
			if key, _ := lookup(n, "group_key"); !regexp.MustCompile(want).MatchString(fmt.Sprint(key)) {
				t.Errorf("%s: group_key %v, want %s", c.typ, key, want)
			}
			// The single notification reads the same as in the list.
			one := f.get(t, map[string]string{"alice": f.aliceTok, "bob": f.bobTok}[c.who], "/api/v1/notifications/"+id)
			if d := f.diff(n, one); d != "" {
				t.Errorf("GET /api/v1/notifications/%s differs from the list's entry (- list, + single):\n%s", id, d)
			}
			if c.who == "bob" && c.typ == "favourite" || c.who == "alice" && c.typ == "mention" {
				return // covered by the other notification of the type
			}
			f.golden(t, "notification_"+c.typ, one)
		})
	}
	if t.Failed() {
		return
	}
	// types[] and exclude_types[] filter; an unknown type matches nothing.
	only := asList(t, f.get(t, f.aliceTok, "/api/v1/notifications?types[]=favourite"))
	if len(only) != 1 || mustLookup(only[0], "type") != "favourite" {
		t.Errorf("types[]=favourite: %v", only)
	}
	for _, n := range asList(t, f.get(t, f.aliceTok, "/api/v1/notifications?exclude_types[]=mention&exclude_types[]=status")) {
		if typ := mustLookup(n, "type"); typ == "mention" || typ == "status" {
			t.Errorf("exclude_types let %v through", typ)
		}
	}
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/notifications?types[]=nonsense")); len(l) != 0 {
		t.Errorf("types[]=nonsense: %v", l)
	}
}

func TestContextEntity(t *testing.T) {
	t.Parallel()
	f := newSocialFixture(t)
	c := f.get(t, "", "/api/v1/statuses/"+f.reply+"/context")
	checkSocialContract(t, "context", c)
	anc, _ := lookup(c, "ancestors")
	desc, _ := lookup(c, "descendants")
	al, dl := asList(t, anc), asList(t, desc)
	if len(al) != 1 || mustLookup(al[0], "id") != f.parent {
		t.Errorf("ancestors = %v, want bob's status", f.norm(al, ""))
	}
	if len(dl) != 1 || mustLookup(dl[0], "id") != f.bobReply {
		t.Errorf("descendants = %v, want bob's answer", f.norm(dl, ""))
	}
	for i, s := range append(al, dl...) {
		checkStatus(t, fmt.Sprintf("context[%d]", i), s, "")
	}
	f.golden(t, "context", c)

	// From the top of the thread, both replies are descendants, in thread order.
	top := f.get(t, f.bobTok, "/api/v1/statuses/"+f.parent+"/context")
	if l := asList(t, mustLookup(top, "ancestors")); len(l) != 0 {
		t.Errorf("the thread's top has ancestors: %v", l)
	}
	dl = asList(t, mustLookup(top, "descendants"))
	if len(dl) != 2 || mustLookup(dl[0], "id") != f.reply || mustLookup(dl[1], "id") != f.bobReply {
		t.Errorf("descendants of the top = %v", f.norm(dl, ""))
	}
}

func TestSearchAndTagEntities(t *testing.T) {
	t.Parallel()
	f := newSocialFixture(t)
	res := f.get(t, f.aliceTok, "/api/v2/search?q=bob")
	checkSocialContract(t, "search", res)
	for _, k := range []string{"accounts", "statuses", "hashtags"} {
		if x, _ := lookup(res, k); !isArray(x) {
			t.Fatalf("search: %s = %#v, want an array", k, x)
		}
	}
	accs := asList(t, mustLookup(res, "accounts"))
	if len(accs) != 1 || mustLookup(accs[0], "id") != f.bobID {
		t.Errorf("accounts = %v, want bob", f.norm(accs, ""))
	}
	for i, a := range accs {
		checkSocialAccount(t, fmt.Sprintf("search accounts[%d]", i), a)
	}
	sts := asList(t, mustLookup(res, "statuses"))
	var got []string
	for i, s := range sts {
		checkStatus(t, fmt.Sprintf("search statuses[%d]", i), s, f.aliceID)
		got = append(got, fmt.Sprint(f.norm(mustLookup(s, "id"), "")))
	}
	// Statuses with the word "bob", newest first.
	if want := "<STATUS_REPLY> <STATUS_PARENT>"; strings.Join(got, " ") != want {
		t.Errorf("statuses = %v, want %s", got, want)
	}
	tags := asList(t, mustLookup(res, "hashtags"))
	if len(tags) != 1 {
		t.Fatalf("hashtags = %v", tags)
	}
	checkTag(t, "search hashtags[0]", tags[0], "bobsworld")
	f.golden(t, "search", res)

	// A hashtag search; the Tag entity on its own.
	res = f.get(t, "", "/api/v2/search?q=%23ramp&type=hashtags")
	tags = asList(t, mustLookup(res, "hashtags"))
	if len(tags) != 1 {
		t.Fatalf("hashtags = %v", tags)
	}
	checkTag(t, "tag", tags[0], "rampart")
	f.golden(t, "tag", tags[0])
	if l := asList(t, mustLookup(res, "accounts")); len(l) != 0 {
		t.Errorf("type=hashtags found accounts: %v", l)
	}
	// Anonymous searches find no statuses, as on Mastodon without a token.
	res = f.get(t, "", "/api/v2/search?q=bob")
	if l := asList(t, mustLookup(res, "statuses")); len(l) != 0 {
		t.Errorf("anonymous search found statuses: %v", f.norm(l, ""))
	}
	rec := f.call(t, "", http.MethodGet, "/api/v2/search?q=bob&type=nonsense", nil)
	wantJSON(t, rec, http.StatusUnprocessableEntity)
}

func checkTag(t *testing.T, what string, tag any, name string) {
	t.Helper()
	checkSocialContract(t, what, tag)
	wantString(t, what, tag, name, "name")
	wantString(t, what, tag, "https://example.test/tags/"+name, "url")
	if x, _ := lookup(tag, "history"); !isArray(x) {
		t.Errorf("%s: history = %#v, want an array", what, x)
	}
}

// Every list endpoint answers entities that keep the contract.
func TestSocialListsKeepTheContract(t *testing.T) {
	t.Parallel()
	f := newSocialFixture(t)
	for _, c := range []struct{ tok, viewer, target string }{
		{f.aliceTok, f.aliceID, "/api/v1/timelines/home"},
		{f.bobTok, f.bobID, "/api/v1/timelines/home"},
		{"", "", "/api/v1/timelines/public"},
		{f.bobTok, f.bobID, "/api/v1/timelines/public?local=true"},
		{"", "", "/api/v1/timelines/tag/rampart"},
		{f.aliceTok, f.aliceID, "/api/v1/timelines/tag/rampart"},
		{"", "", "/api/v1/accounts/" + f.bobID + "/statuses"},
		{f.aliceTok, f.aliceID, "/api/v1/accounts/" + f.bobID + "/statuses"},
		{f.aliceTok, f.aliceID, "/api/v1/accounts/" + f.aliceID + "/statuses?pinned=true"},
		{f.bobTok, f.bobID, "/api/v1/favourites"},
		{f.bobTok, f.bobID, "/api/v1/bookmarks"},
		{f.aliceTok, f.aliceID, "/api/v1/bookmarks"},
		{f.aliceTok, f.aliceID, "/api/v1/favourites"},
	} {
		t.Run(string(f.norm(c.viewer, "").(string))+" "+c.target, func(t *testing.T) {
			l := asList(t, f.get(t, c.tok, c.target))
			if len(l) == 0 {
				t.Fatalf("empty list")
			}
			for i, s := range l {
				checkStatus(t, fmt.Sprintf("[%d]", i), s, c.viewer)
				// A list renders each status as GET /statuses/:id does for the same viewer.
				one := f.get(t, c.tok, "/api/v1/statuses/"+mustLookup(s, "id").(string))
				if d := f.diff(s, one); d != "" {
					t.Errorf("[%d] differs from GET /api/v1/statuses/%s (- list, + single):\n%s", i, f.norm(mustLookup(s, "id"), ""), d)
				}
			}
		})
	}
	for _, target := range []string{"/api/v1/statuses/" + f.reply + "/favourited_by", "/api/v1/statuses/" + f.reply + "/reblogged_by",
		"/api/v1/accounts/" + f.bobID + "/followers", "/api/v1/accounts/" + f.aliceID + "/following"} {
		l := asList(t, f.get(t, "", target))
		if len(l) != 1 {
			t.Errorf("%s: %d accounts, want 1", target, len(l))
		}
		for i, a := range l {
			checkSocialAccount(t, fmt.Sprintf("%s[%d]", target, i), a)
			checkSocialContract(t, target, a)
		}
	}
	l := asList(t, f.get(t, f.aliceTok, "/api/v1/follow_requests"))
	if len(l) != 1 || mustLookup(l[0], "id") != f.bobID {
		t.Errorf("follow_requests = %v", f.norm(l, ""))
	}

	// The home timeline pages with max_id and min_id and says so in Link.
	rec := f.call(t, f.bobTok, http.MethodGet, "/api/v1/timelines/home?limit=2", nil)
	first := asList(t, decodeAny(t, rec, http.StatusOK))
	link := rec.Header().Get("Link")
	if len(first) != 2 || !strings.Contains(link, `rel="next"`) || !strings.Contains(link, "max_id="+mustLookup(first[1], "id").(string)) ||
		!strings.Contains(link, "min_id="+mustLookup(first[0], "id").(string)) {
		t.Errorf("first page: %d statuses, Link %q", len(first), link)
	}
	ids := func(l []any) []string {
		var out []string
		for _, s := range l {
			out = append(out, mustLookup(s, "id").(string))
		}
		return out
	}
	next := asList(t, f.get(t, f.bobTok, "/api/v1/timelines/home?limit=2&max_id="+mustLookup(first[1], "id").(string)))
	all := asList(t, f.get(t, f.bobTok, "/api/v1/timelines/home?limit=40"))
	if len(all) < 4 || strings.Join(ids(next), ",") != strings.Join(ids(all[2:4]), ",") {
		t.Errorf("second page %v, want %v", ids(next), ids(all[2:min(4, len(all))]))
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool {
		a, b := ids(all)[i], ids(all)[j]
		return len(a) > len(b) || len(a) == len(b) && a > b
	}) {
		t.Errorf("home timeline is not newest first: %v", ids(all))
	}
}
