package doctor

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/rampart-social/rampart/internal/httpsec"
)

// The media host's root may answer Rampart's plain-text page; any other
// 200 there (the instance's home page, a JSON document) means the media host
// reaches something it must not, and S3 fails.
func TestMediaRootMayBeOnlyAPlainPage(t *testing.T) {
	media, _ := url.Parse("https://media.example.test")
	inst, _ := url.Parse("https://example.test")
	for _, tc := range []struct {
		status int
		ctype  string
		want   Verdict
	}{
		{200, "text/plain; charset=utf-8", Pass},
		{404, "text/plain; charset=utf-8", Pass},
		{200, "text/html; charset=utf-8", Fail},
		{200, "application/json", Fail},
		{200, "application/activity+json", Fail},
		{302, "text/plain; charset=utf-8", Fail},
	} {
		h := http.Header{}
		h.Set("Content-Type", tc.ctype)
		h.Set("Content-Security-Policy", httpsec.MediaCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		d := &doctor{checks: map[string]*checker{"S3": {id: "S3", name: "media origin"}}, cfgMedia: media, instURL: inst,
			probes: map[string]*fetched{pMedia: {url: "https://media.example.test/", path: "/", status: tc.status, header: h}}}
		d.checkMediaRemote()
		if got := d.checks["S3"].result(); got.Verdict != tc.want {
			t.Errorf("media / answering %d %s: S3 %s (%s), want %s", tc.status, tc.ctype, got.Verdict, got.Saw, tc.want)
		}
	}
}
