package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/sanitize"
	"github.com/rampart-social/rampart/internal/store"
)

// hostile is markup a remote server could send in any field. Each payload
// that could run would set window.__pwned (and open a dialog), which the
// Chromium test watches; the words between them are the visible text.
const hostile = `<p>bio words <b>bold</b><script>window.__pwned=1;alert(1)</script>` +
	`<img src=x onerror="window.__pwned=2;alert(2)">` +
	`<a href="javascript:window.__pwned=3">js link</a>` +
	`<style>body{display:none}</style>` +
	`<iframe src="https://evil.example/frame"></iframe>` +
	`<svg onload="window.__pwned=4"><circle r="5"></circle></svg>` +
	`<form action="https://evil.example/steal"><input name="x"><button>send</button></form>` +
	`<span style="position:fixed;inset:0">styled words</span>` +
	`<a href="https://evil.example/ok">fine link</a></p>`

// hostileMarks are what must not reach a page as markup (checked in the
// HTML the server sends). Hostile text in plain-text fields is escaped, so
// "onerror" may be there as text, never inside a tag (liveAttr).
var hostileMarks = []string{"<script", "javascript:", "<style", "<iframe", "<svg", "<form",
	"<input", "<img src=x", "evil.example/frame", "evil.example/steal"}

// liveAttr is an event handler or style attribute inside a real tag.
var liveAttr = regexp.MustCompile(`<[a-zA-Z][^<>]*\s(on[a-z]+|style)\s*=`)

// remoteFixture is what storeRemote wrote: bob@remote.example stored as
// federation stores a fetched actor and note (sanitized first), and
// eve@raw.example stored raw, as if the storage rule were bypassed.
type remoteFixture struct {
	bob, eve                      int64
	bobPublic, bobPrivate, bobRaw string // statuses: sanitized public, sanitized private, raw public
	evePublic                     string
}

// storeRemote writes the fixture through the store, the path the federation
// code uses (remote.Accounts sanitizes with sanitize.HTML/Text, then calls
// UpsertRemoteAccount; CreateRemoteStatus stores a note as given).
func storeRemote(t *testing.T, st *store.Store) remoteFixture {
	t.Helper()
	ctx := context.Background()
	ids := id.NewGenerator()
	now := time.Now().UTC().Add(-time.Hour)
	var f remoteFixture
	var err error
	f.bob, err = st.UpsertRemoteAccount(ctx, &store.RemoteAccount{Account: store.Account{
		Username: "bob", Domain: "remote.example", URI: "https://remote.example/users/bob", URL: "https://remote.example/@bob",
		DisplayName: sanitize.Text(`Bob <script>window.__pwned=5</script><img src=x onerror="window.__pwned=6">Remote`),
		Note:        sanitize.HTML(hostile),
		Fields: []store.Field{{Name: sanitize.Text(`<b onmouseover="window.__pwned=7">Site</b>`), Value: sanitize.HTML(hostile)},
			{Name: "Plain", Value: sanitize.HTML(`<a href="https://remote.example/bob">remote.example/bob</a>`)}},
		Discoverable:    true,
		AvatarRemoteURL: "https://remote.example/avatar.png", HeaderRemoteURL: "https://remote.example/header.png",
		CreatedAt: now}, InboxURL: "https://remote.example/users/bob/inbox", FetchedAt: now}, ids.Next())
	if err != nil {
		t.Fatalf("store bob: %v", err)
	}
	// eve's fields are stored exactly as a hostile server would send them.
	f.eve, err = st.UpsertRemoteAccount(ctx, &store.RemoteAccount{Account: store.Account{
		Username: "eve", Domain: "raw.example", URI: "https://raw.example/users/eve", URL: "javascript:window.__pwned=8",
		DisplayName: `Eve <script>window.__pwned=9</script><img src=x onerror="window.__pwned=10">Raw`,
		Note:        hostile, Fields: []store.Field{{Name: `<img src=x onerror="window.__pwned=11">Site`, Value: hostile}},
		AvatarRemoteURL: "https://raw.example/avatar.png",
		CreatedAt:       now}, InboxURL: "https://raw.example/users/eve/inbox", FetchedAt: now}, ids.Next())
	if err != nil {
		t.Fatalf("store eve: %v", err)
	}
	status := func(author int64, uri, url, content, spoiler string, vis store.Visibility) string {
		t.Helper()
		sid, _, err := st.CreateRemoteStatus(ctx, store.NewStatus{Status: &store.Status{ID: ids.Next(), URI: uri, URL: url,
			AccountID: author, Content: content, SpoilerText: spoiler, Visibility: vis, CreatedAt: now}})
		if err != nil {
			t.Fatalf("store %s: %v", uri, err)
		}
		return strconv.FormatInt(sid, 10)
	}
	f.bobPublic = status(f.bob, "https://remote.example/users/bob/statuses/1", "https://remote.example/@bob/1",
		sanitize.HTML(strings.ReplaceAll(hostile, "bio words", "status words")),
		sanitize.Text(`warning words <script>window.__pwned=12</script><img src=x onerror="window.__pwned=13">`), store.Public)
	f.bobPrivate = status(f.bob, "https://remote.example/users/bob/statuses/2", "https://remote.example/@bob/2",
		sanitize.HTML("<p>followers-only words</p>"), "", store.Private)
	f.bobRaw = status(f.bob, "https://remote.example/users/bob/statuses/3", "javascript:window.__pwned=14",
		strings.ReplaceAll(hostile, "bio words", "raw status words"), "", store.Unlisted)
	f.evePublic = status(f.eve, "https://raw.example/users/eve/statuses/1", "https://raw.example/@eve/1",
		strings.ReplaceAll(hostile, "bio words", "eve status words"),
		`eve warning <script>window.__pwned=15</script><img src=x onerror="window.__pwned=16">`, store.Public)
	return f
}

// TestRemotePages: stored remote accounts and statuses have pages at
// /@user@host and /@user@host/:id; what they show is escaped or sanitized
// at render, whether or not it was sanitized before it was stored.
func TestRemotePages(t *testing.T) {
	s := openSite(t)
	s.user("alice")
	alicePost := s.post(s.token("alice"), "alice's words")
	f := storeRemote(t, s.inst.Store())

	clean := func(target, body string) {
		t.Helper()
		for _, m := range hostileMarks {
			if strings.Contains(body, m) {
				t.Errorf("%s carries %q:\n%s", target, m, body)
			}
		}
		if m := liveAttr.FindString(body); m != "" {
			t.Errorf("%s carries the attribute in %q:\n%s", target, m, body)
		}
		for _, m := range []string{"remote.example/avatar.png", "remote.example/header.png", "raw.example/avatar.png"} {
			if strings.Contains(body, m) {
				t.Errorf("%s names the remote image %s", target, m)
			}
		}
		if !strings.Contains(body, noindex) {
			t.Errorf("%s is not noindex", target)
		}
		if strings.Contains(body, `rel="alternate"`) {
			t.Errorf("%s advertises an alternate document", target)
		}
		if strings.Contains(target, "profile") && !strings.Contains(body, `<img class="avatar" src="/static/avatar.png"`) {
			t.Errorf("%s does not show the default avatar", target)
		}
	}

	body := s.page("/@bob@remote.example", http.StatusOK)
	clean("bob's profile", body)
	for _, want := range []string{
		"<h1>Bob Remote</h1>", "@bob@remote.example",
		`<div class="note remote"><p>bio words <b>bold</b>`, // allowed markup stays
		`<a href="https://evil.example/ok" rel="nofollow noreferrer noopener" target="_blank">fine link</a>`,
		`<dt>Site</dt>`, "styled words",
		`<p class="original"><a href="https://remote.example/@bob" rel="nofollow noopener noreferrer">View on the original server</a></p>`,
		`<a class="when" href="/@bob@remote.example/` + f.bobPublic + `"`,
		`<a class="original" href="https://remote.example/@bob/1" rel="nofollow noopener noreferrer">Original</a>`,
		`<a class="when" href="/@bob@remote.example/` + f.bobRaw + `"`,
		`<summary>warning words</summary>`, "raw status words", `<a class="author" href="/@bob@remote.example">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("bob's profile lacks %q:\n%s", want, body)
		}
	}
	// The store's visibility rule, as for local accounts; counts that would
	// be only this instance's view of a remote account are not shown.
	for _, not := range []string{"followers-only words", f.bobPrivate, "</strong> followers"} {
		if strings.Contains(body, not) {
			t.Errorf("bob's profile shows %q", not)
		}
	}
	// The profile is served case-insensitively by username and host, like a lookup.
	s.page("/@Bob@Remote.Example", http.StatusOK)

	body = s.page("/@bob@remote.example/"+f.bobPublic, http.StatusOK)
	clean("bob's status", body)
	for _, want := range []string{"status words <b>bold</b>", "<title>Bob Remote: “warning words” · example.test</title>",
		`<a class="original" href="https://remote.example/@bob/1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("bob's status page lacks %q:\n%s", want, body)
		}
	}
	// The raw status: its javascript: url leaves no Original link; its uri stands in.
	body = s.page("/@bob@remote.example/"+f.bobRaw, http.StatusOK)
	clean("bob's raw status", body)
	if !strings.Contains(body, `<a class="original" href="https://remote.example/users/bob/statuses/3"`) {
		t.Errorf("the raw status does not link its uri:\n%s", body)
	}

	// eve, stored raw: the page is as inert as bob's.
	body = s.page("/@eve@raw.example", http.StatusOK)
	clean("eve's profile", body)
	for _, want := range []string{
		`<h1>Eve &lt;script&gt;window.__pwned=9&lt;/script&gt;&lt;img src=x onerror=&#34;window.__pwned=10&#34;&gt;Raw</h1>`,
		`<dt>&lt;img src=x onerror=&#34;window.__pwned=11&#34;&gt;Site</dt>`,
		`<a href="https://raw.example/users/eve" rel="nofollow noopener noreferrer">View on the original server</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("eve's profile lacks %q:\n%s", want, body)
		}
	}
	s.page("/@eve@raw.example/"+f.evePublic, http.StatusOK)

	// Unknown remote accounts, statuses under another author, and what the
	// visibility rule hides are the 404 page; nothing is fetched.
	for _, target := range []string{
		"/@nobody@remote.example",
		"/@bob@other.example",
		"/@bob@remote.example/" + alicePost, // a local status under bob
		"/@bob@remote.example/" + f.evePublic,
		"/@eve@raw.example/" + f.bobPublic,
		"/@alice/" + f.bobPublic, // bob's status under alice
		"/@bob@remote.example/" + f.bobPrivate,
		"/@nobody@remote.example/" + f.bobPublic,
		"/@bob@",
		"/@@remote.example",
		"/@bob@remote.example@x",
		"/@bob@remote_example",
		"/@bob@remote.example:x",
		"/@b%20ob@remote.example",
		"/@bob@example.test", // this instance's host holds no remote account
	} {
		if body := s.page(target, http.StatusNotFound); !strings.Contains(body, "<title>Not found · example.test</title>") {
			t.Errorf("GET %s: not the 404 page:\n%s", target, body)
		}
	}

	// An ActivityPub client asking for a remote page gets the HTML page:
	// the remote actor is not this instance's to redirect to.
	req := httptest.NewRequest(http.MethodGet, "/@bob@remote.example", nil)
	req.Host = s.host
	req.Header.Set("Accept", "application/activity+json")
	rec := httptest.NewRecorder()
	s.inst.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("AP request for a remote profile: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
