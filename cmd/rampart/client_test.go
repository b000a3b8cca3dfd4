package main

import (
	"context"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
)

// localhostJar stores and sends cookies for http://localhost as browsers do:
// localhost counts as a secure context, so Secure (and __Host-) cookies work.
type localhostJar struct{ *cookiejar.Jar }

func secureURL(u *url.URL) *url.URL {
	c := *u
	c.Scheme = "https"
	return &c
}

func (j localhostJar) SetCookies(u *url.URL, c []*http.Cookie) { j.Jar.SetCookies(secureURL(u), c) }
func (j localhostJar) Cookies(u *url.URL) []*http.Cookie       { return j.Jar.Cookies(secureURL(u)) }

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// formFields returns a page's hidden form fields.
func formFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// A third-party Mastodon client library registers, has a person sign in
// through the pages, and reads verify_credentials from `rampart quickstart`.
func TestMastodonClientLibraryAgainstQuickstart(t *testing.T) {
	server := startQuickstartWithUsers(t, "frank")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: "go-mastodon test", Scopes: "read write", Website: "https://example.test"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}

	// The person's part, as a browser without JavaScript does it; then the
	// library exchanges the code it was shown for a token.
	c := signInThroughBrowser(t, ctx, server, app, "go-mastodon test", "frank")

	// Back to the library.
	me, err := c.GetAccountCurrentUser(ctx)
	if err != nil {
		t.Fatalf("GetAccountCurrentUser: %v", err)
	}
	if me.Username != "frank" || me.Acct != "frank" || me.Avatar == "" || string(me.ID) == "" {
		t.Errorf("account: %+v", me)
	}
	inst, err := c.GetInstance(ctx)
	if err != nil {
		t.Fatalf("GetInstance: %v", err)
	}
	if !strings.Contains(inst.Version, "(compatible; Rampart ") || inst.URLs["streaming_api"] != "ws://"+strings.TrimPrefix(server, "http://") {
		t.Errorf("instance: version %q urls %v", inst.Version, inst.URLs)
	}
	if _, err := c.VerifyAppCredentials(ctx); err != nil {
		t.Errorf("VerifyAppCredentials: %v", err)
	}
}
