package main

import (
	"bytes"
	"context"
	"html"
	"image"
	_ "image/jpeg" // decodes the previews
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/rampart-social/rampart/internal/testutil"
)

// attachmentRe finds an image attachment on a page: the link to the full
// file, the <img> source and its alt text.
var attachmentRe = regexp.MustCompile(`<a class="attachment image" href="([^"]+)"[^>]*><img src="([^"]+)" alt="([^"]*)"`)

// A Mastodon client library uploads an image with a description, attaches
// it to a status, and the status page shows it from the media origin.
func TestMastodonClientLibraryMedia(t *testing.T) {
	server := startQuickstartWithUsers(t, "grace")
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	mediaOrigin := "http://127.0.0.1:" + u.Port() // quickstart's media origin: the same listener, another host

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const clientName = "go-mastodon media test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write", Website: "https://example.test"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	c := signInThroughBrowser(t, ctx, server, app, clientName, "grace")

	// Upload (go-mastodon v0.0.13 posts to /api/v2/media). A file this small
	// is processed before the answer, so the URLs are there at once.
	const description = `A gradient: red → "blue" & <green>`
	att, err := c.UploadMediaFromMedia(ctx, &mastodon.Media{File: bytes.NewReader(testutil.GradientPNG(t, 48, 32)), Description: description})
	if err != nil {
		t.Fatalf("UploadMediaFromMedia: %v", err)
	}
	if att.Type != "image" || att.Description != description || string(att.ID) == "" ||
		!strings.HasPrefix(att.URL, mediaOrigin+"/") || !strings.HasPrefix(att.PreviewURL, mediaOrigin+"/") ||
		att.Meta.Original.Width != 48 || att.Meta.Original.Height != 32 {
		t.Fatalf("attachment: %+v, want an image on %s described %q", att, mediaOrigin, description)
	}

	st, err := c.PostStatus(ctx, &mastodon.Toot{Status: "a picture", MediaIDs: []mastodon.ID{att.ID}, Visibility: "public"})
	if err != nil {
		t.Fatalf("PostStatus: %v", err)
	}
	if len(st.MediaAttachments) != 1 || st.MediaAttachments[0].ID != att.ID || st.MediaAttachments[0].URL != att.URL ||
		st.MediaAttachments[0].Description != description {
		t.Fatalf("the status's attachments: %+v, want the upload %+v", st.MediaAttachments, att)
	}
	got, err := c.GetStatus(ctx, st.ID)
	if err != nil || len(got.MediaAttachments) != 1 || got.MediaAttachments[0].PreviewURL != att.PreviewURL {
		t.Fatalf("GetStatus: %v %+v", err, got)
	}

	// The public status page, as anyone's browser gets it.
	plain := &http.Client{Timeout: 10 * time.Second}
	resp, err := plain.Get(server + "/@grace/" + string(st.ID))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status page: %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: blob: "+mediaOrigin) {
		t.Errorf("the status page's CSP does not let it show images from %s: %q", mediaOrigin, csp)
	}
	found := attachmentRe.FindAllStringSubmatch(string(body), -1)
	if len(found) != 1 {
		t.Fatalf("the status page shows %d image attachments, want 1:\n%s", len(found), body)
	}
	href, src, alt := html.UnescapeString(found[0][1]), html.UnescapeString(found[0][2]), html.UnescapeString(found[0][3])
	if href != att.URL || src != att.PreviewURL || alt != description {
		t.Errorf("the page's attachment: link %q, img %q, alt %q; want link %q, img %q, alt %q", href, src, alt, att.URL, att.PreviewURL, description)
	}
	if !strings.HasPrefix(src, mediaOrigin+"/") || !strings.HasPrefix(href, mediaOrigin+"/") {
		t.Errorf("the page's attachment is not on the media origin %s: link %q, img %q", mediaOrigin, href, src)
	}

	// Both files, from the media origin: images, inert, no cookies.
	for _, f := range []struct {
		url, ctype string
		w, h       int
	}{{att.URL, "image/png", 48, 32}, {att.PreviewURL, "image/jpeg", 48, 32}} {
		resp, err := plain.Get(f.url)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != http.StatusOK || h.Get("Content-Type") != f.ctype {
			t.Errorf("GET %s: %d %q, want 200 %s", f.url, resp.StatusCode, h.Get("Content-Type"), f.ctype)
			continue
		}
		if h.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'; sandbox" || h.Get("X-Content-Type-Options") != "nosniff" ||
			len(h.Values("Set-Cookie")) > 0 {
			t.Errorf("GET %s: CSP %q, nosniff %q, Set-Cookie %q", f.url, h.Get("Content-Security-Policy"), h.Get("X-Content-Type-Options"), h.Values("Set-Cookie"))
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || "image/"+format != f.ctype || cfg.Width != f.w || cfg.Height != f.h {
			t.Errorf("GET %s: %s %dx%d (%v), want a %dx%d %s", f.url, format, cfg.Width, cfg.Height, err, f.w, f.h, f.ctype)
		}
	}
}
