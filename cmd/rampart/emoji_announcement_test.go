package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/rampart-social/rampart/internal/testutil"
)

// announcementSeen is the part of the Announcement entity the test reads.
type announcementSeen struct {
	ID        string           `json:"id"`
	Content   string           `json:"content"`
	EndsAt    *string          `json:"ends_at"`
	Read      bool             `json:"read"`
	Emojis    []mastodon.Emoji `json:"emojis"`
	Reactions []struct {
		Name      string `json:"name"`
		Count     int    `json:"count"`
		Me        bool   `json:"me"`
		URL       string `json:"url"`
		StaticURL string `json:"static_url"`
	} `json:"reactions"`
}

// An admin adds a custom emoji with the real binary; it is listed by
// /api/v1/custom_emojis, its image served by the media origin, and a status
// using it names it; images that are not PNG, GIF or WebP, or too large, are
// refused with a clear line. An announcement the admin adds is listed,
// dismissed (read) and reacted to through the API, then removed. Removing
// the emoji stops its file being served. go-mastodon v0.0.13 has no calls
// for custom emojis or announcements: raw requests with its token and its
// Emoji type stand in.
func TestCustomEmojisAndAnnouncementsThroughTheBinary(t *testing.T) {
	data := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	p := startProc(t, nil, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	cfg := filepath.Join(data, "rampart.toml")
	if _, stderr, code := runStdin(t, nil, socialPassword+"\n", "admin", "user", "create", "--config", cfg, "--username", "ada",
		"--email", "ada@example.test", "--password-stdin"); code != 0 {
		t.Fatalf("admin user create: %d %s", code, stderr)
	}
	server, mediaOrigin := "http://localhost:"+port, "http://127.0.0.1:"+port
	admin := func(args ...string) string {
		t.Helper()
		out, stderr, code := run(t, nil, append(append([]string{"admin"}, args...), "--config", cfg)...)
		if code != 0 || stderr != "" {
			t.Fatalf("admin %v: exit %d\n%s%s", args, code, out, stderr)
		}
		return out
	}
	adminRefused := func(want string, args ...string) {
		t.Helper()
		out, stderr, code := run(t, nil, append(append([]string{"admin"}, args...), "--config", cfg)...)
		oneErrorLine(t, stderr, code, want)
		if code != 1 || out != "" {
			t.Errorf("admin %v: exit %d, stdout %q; want 1 and nothing", args, code, out)
		}
	}
	file := func(name string, b []byte) string {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	// The emoji, and what is refused.
	pngPath := file("blob.png", testutil.GradientPNG(t, 32, 32))
	if out := admin("emoji", "add", "blob_cat", pngPath, "--category", "Blobs"); !strings.Contains(out, "added :blob_cat: (image/png) at "+mediaOrigin+"/") {
		t.Errorf("emoji add printed %q", out)
	}
	adminRefused("must be a PNG, GIF or WebP image; this file is none of them", "emoji", "add", "notes", file("notes.png", []byte("just some text, named .png")))
	adminRefused("must be a PNG, GIF or WebP image, not image/jpeg", "emoji", "add", "photo", file("photo.jpg", testutil.FlatJPEG(8, 8, nil, false, -1, 0)))
	adminRefused("may be at most 256 KiB", "emoji", "add", "huge", file("huge.png", append(testutil.GradientPNG(t, 8, 8), make([]byte, 300<<10)...)))
	adminRefused("taken", "emoji", "add", "Blob_Cat", pngPath)
	out, stderr, code := run(t, nil, "admin", "emoji", "add", "bad-name", pngPath, "--config", cfg)
	oneErrorLine(t, stderr, code, "use 2 to 64 letters")
	if code != 1 || out != "" {
		t.Errorf("a bad shortcode: exit %d, stdout %q", code, out)
	}
	var listed []struct{ Shortcode, URL string }
	if err := json.Unmarshal([]byte(admin("emoji", "list", "--json")), &listed); err != nil || len(listed) != 1 || listed[0].Shortcode != "blob_cat" {
		t.Fatalf("emoji list --json: %+v, %v", listed, err)
	}

	// Listed by the API, without a token; the image on the media origin.
	code, body := apiCall(t, http.MethodGet, server, "", "/api/v1/custom_emojis")
	var emojis []struct {
		mastodon.Emoji
		Category string `json:"category"`
	}
	if err := json.Unmarshal(body, &emojis); code != http.StatusOK || err != nil || len(emojis) != 1 {
		t.Fatalf("GET /api/v1/custom_emojis: %d %s", code, body)
	}
	blob := emojis[0]
	if blob.ShortCode != "blob_cat" || blob.Category != "Blobs" || !blob.VisibleInPicker || blob.URL != listed[0].URL ||
		!strings.HasPrefix(blob.URL, mediaOrigin+"/") || blob.StaticURL != blob.URL {
		t.Fatalf("the emoji: %+v", blob)
	}
	code, img := fetch(t, blob.URL)
	if c, format, err := image.DecodeConfig(bytes.NewReader(img)); code != http.StatusOK || err != nil || format != "png" || c.Width != 32 {
		t.Fatalf("GET %s: %d, %s %dx%d (%v)", blob.URL, code, format, c.Width, c.Height, err)
	}
	if code, _ := fetch(t, server+strings.TrimPrefix(blob.URL, mediaOrigin)); code != http.StatusNotFound {
		t.Errorf("the emoji's path on the app host: %d, want 404", code)
	}

	// A client: a status using the emoji names it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const clientName = "go-mastodon emoji test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write", Website: "https://example.test"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	c := signInThroughBrowser(t, ctx, server, app, clientName, "ada")
	st, err := c.PostStatus(ctx, &mastodon.Toot{Status: "purr :blob_cat:", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Emojis) != 1 || st.Emojis[0].ShortCode != "blob_cat" || st.Emojis[0].URL != blob.URL {
		t.Errorf("the status's emojis: %+v", st.Emojis)
	}

	// The announcement.
	ends := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	if out := admin("announcement", "add", "Maintenance <tonight> :blob_cat: #news", "--ends-at", ends); !strings.Contains(out, "published") {
		t.Errorf("announcement add printed %q", out)
	}
	adminRefused("--ends-at is in the past", "announcement", "add", "too late", "--ends-at", "2001-01-01")
	tok := c.Config.AccessToken
	announcements := func() []announcementSeen {
		t.Helper()
		code, body := apiCall(t, http.MethodGet, server, tok, "/api/v1/announcements")
		var list []announcementSeen
		if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil {
			t.Fatalf("GET /api/v1/announcements: %d %s", code, body)
		}
		return list
	}
	list := announcements()
	if len(list) != 1 || list[0].Read || list[0].EndsAt == nil || !strings.Contains(list[0].Content, "Maintenance &lt;tonight&gt;") ||
		len(list[0].Emojis) != 1 || list[0].Emojis[0].URL != blob.URL {
		t.Fatalf("announcements: %+v", list)
	}
	id := list[0].ID
	for _, call := range []struct{ method, path string }{
		{http.MethodPost, "/api/v1/announcements/" + id + "/dismiss"},
		{http.MethodPut, "/api/v1/announcements/" + id + "/reactions/" + url.PathEscape("🎉")},
		{http.MethodPut, "/api/v1/announcements/" + id + "/reactions/blob_cat"},
	} {
		if code, body := apiCall(t, call.method, server, tok, call.path); code != http.StatusOK || string(bytes.TrimSpace(body)) != "{}" {
			t.Errorf("%s %s: %d %s", call.method, call.path, code, body)
		}
	}
	if code, body := apiCall(t, http.MethodPut, server, tok, "/api/v1/announcements/"+id+"/reactions/nope"); code != http.StatusUnprocessableEntity {
		t.Errorf("an unknown reaction: %d %s, want 422", code, body)
	}
	list = announcements()
	if len(list) != 1 || !list[0].Read || len(list[0].Reactions) != 2 {
		t.Fatalf("after dismissing and reacting: %+v", list)
	}
	for _, r := range list[0].Reactions {
		if r.Count != 1 || !r.Me || (r.Name == "blob_cat") != (r.URL == blob.URL) {
			t.Errorf("reaction %+v", r)
		}
	}
	var rows []struct{ ID string }
	if err := json.Unmarshal([]byte(admin("announcement", "list", "--json")), &rows); err != nil || len(rows) != 1 || rows[0].ID != id {
		t.Fatalf("announcement list --json: %+v, %v", rows, err)
	}
	admin("announcement", "remove", id)
	if list := announcements(); len(list) != 0 {
		t.Errorf("a removed announcement is listed: %+v", list)
	}

	// Removed, the emoji's file is no longer served.
	admin("emoji", "remove", "blob_cat")
	if code, _ := fetch(t, blob.URL); code != http.StatusNotFound {
		t.Errorf("a removed emoji's file: %d, want 404", code)
	}
	if code, body := apiCall(t, http.MethodGet, server, "", "/api/v1/custom_emojis"); code != http.StatusOK || string(bytes.TrimSpace(body)) != "[]" {
		t.Errorf("custom emojis after the removal: %d %s", code, body)
	}
	adminRefused("no custom emoji :blob_cat:", "emoji", "remove", "blob_cat")
}
