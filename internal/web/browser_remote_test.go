package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pageEvents records, from DevTools, every request the browser made and
// every JavaScript dialog a page opened.
type pageEvents struct {
	mu       sync.Mutex
	requests []string
	dialogs  []string
}

func (p *pageEvents) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			p.requests = append(p.requests, ev.Request.URL)
		}
	case *page.EventJavascriptDialogOpening:
		p.dialogs = append(p.dialogs, string(ev.Type)+": "+ev.Message)
	}
}

func (p *pageEvents) snapshot() (requests, dialogs []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...), append([]string(nil), p.dialogs...)
}

// inertChecks are evaluated on every remote page; each must be true. They
// look at the DOM the browser built, not at the HTML the server sent.
var inertChecks = []struct{ what, js string }{
	{"no payload ran", `window.__pwned === undefined`},
	{"no script, style, frame, svg, form or embedded element",
		`document.querySelectorAll('script, style, iframe, frame, svg, form, input, button, object, embed, base, meta[http-equiv]').length === 0`},
	{"no style attribute", `document.querySelectorAll('[style]').length === 0`},
	{"no event handler attribute", `!Array.from(document.querySelectorAll('*')).some(e => Array.from(e.attributes).some(a => a.name.toLowerCase().startsWith('on')))`},
	{"every link is http(s)", `Array.from(document.querySelectorAll('a')).every(a => a.protocol === 'http:' || a.protocol === 'https:')`},
	{"every link off this instance is nofollow noopener noreferrer",
		`Array.from(document.querySelectorAll('a')).filter(a => a.origin !== location.origin).every(a => ['nofollow', 'noopener', 'noreferrer'].every(r => a.relList.contains(r)))`},
	{"the only images are the default avatar", `Array.from(document.images).every(i => new URL(i.src).pathname === '/static/avatar.png' && new URL(i.src).origin === location.origin)`},
}

// TestBrowserRemotePagesAreInert: headless Chromium loads the profile and
// status pages of remote accounts whose names, bios, fields, statuses and
// content warnings carry hostile markup — bob's sanitized before storage as
// federation stores them, eve's and one of bob's statuses stored raw. No CSP
// violation is reported, no payload runs and no dialog opens, the hostile
// elements are not in the DOM, the text is, no image or request leaves the
// instance, and remote links go to their origin only as marked links.
func TestBrowserRemotePagesAreInert(t *testing.T) {
	browserPath := requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	dev := startDevInstance(t, ctx)
	base := dev.base
	f := storeRemote(t, dev.inst.Store())

	events := &pageEvents{}
	b := newHeadless(t, ctx, browserPath, dev.log, events.listen)
	defer b.stop()
	var pageViolations []map[string]any
	b.more = func() {
		requests, dialogs := events.snapshot()
		t.Logf("securitypolicyviolation events (%d): %v", len(pageViolations), pageViolations)
		t.Logf("requests (%d): %s", len(requests), strings.Join(requests, "\n\t"))
		t.Logf("dialogs (%d): %v", len(dialogs), dialogs)
	}
	b.watch()
	eval := func(what, js string) bool {
		t.Helper()
		sctx, done := b.step()
		defer done()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[bool](js))
		if err != nil {
			b.fatal("%s: %v", what, err)
		}
		return v
	}

	pages := []struct {
		path string
		text []string // must be in the DOM's text
	}{
		{"/@bob@remote.example", []string{"Bob Remote", "@bob@remote.example", "bio words", "bold", "styled words", "fine link",
			"Site", "View on the original server", "warning words", "raw status words"}},
		{"/@bob@remote.example/" + f.bobPublic, []string{"Bob Remote", "warning words", "status words", "fine link", "Original"}},
		{"/@bob@remote.example/" + f.bobRaw, []string{"Bob Remote", "raw status words", "styled words", "fine link"}},
		// eve's plain-text fields were never stripped: their markup is text.
		{"/@eve@raw.example", []string{`Eve <script>window.__pwned=9</script>`, `<img src=x onerror="window.__pwned=11">Site`,
			"bio words", "fine link", "eve status words", "eve warning <script>", "View on the original server"}},
		{"/@eve@raw.example/" + f.evePublic, []string{"eve warning <script>", "eve status words", "styled words"}},
	}
	for _, pg := range pages {
		if r := b.load(pg.path, chromedp.Navigate(base+pg.path)); r.Status != http.StatusOK {
			b.fatal("%s: status %d", pg.path, r.Status)
		}
		// Open every content warning, as a reader would (no script needed).
		sctx, done := b.step()
		_, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`document.querySelectorAll('details').forEach(d => d.open = true), true`))
		done()
		if err != nil {
			b.fatal("%s: open the content warnings: %v", pg.path, err)
		}
		// Give a payload that could run the time to run.
		if err := chromedp.Do(b.ctx, chromedp.Sleep(100*time.Millisecond)); err != nil {
			b.fatal("%v", err)
		}
		for _, c := range inertChecks {
			if !eval(pg.path+": "+c.what, c.js) {
				b.fatal("%s: not so: %s", pg.path, c.what)
			}
		}
		for _, want := range pg.text {
			if !eval(pg.path+": text", `document.body.innerText.includes(`+strconv.Quote(want)+`)`) {
				b.fatal("%s: the text %q is not shown", pg.path, want)
			}
		}
		if !eval(pg.path+": robots", `document.querySelector('meta[name="robots"]').content === 'noindex'`) {
			b.fatal("%s: not noindex", pg.path)
		}
		sctx, done = b.step()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[[]map[string]any](`window.__csp || []`))
		done()
		if err != nil {
			b.fatal("%s: reading window.__csp: %v", pg.path, err)
		}
		pageViolations = append(pageViolations, v...)
	}
	// A remote profile links its statuses to their pages here.
	if r := b.load("bob's profile", chromedp.Navigate(base+"/@bob@remote.example")); r.Status != http.StatusOK {
		b.fatal("bob's profile: status %d", r.Status)
	}
	if r := b.load("a status link", chromedp.Click(chromedp.CSS(`#s`+f.bobPublic+` a.when`))); r.Status != http.StatusOK {
		b.fatal("the status link: status %d", r.Status)
	}
	sctx, done := b.step()
	loc, err := chromedp.Run(sctx, chromedp.Location())
	done()
	if err != nil || loc != base+"/@bob@remote.example/"+f.bobPublic {
		b.fatal("the status link led to %s (%v)", loc, err)
	}

	if err := chromedp.Do(b.ctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
		b.fatal("%v", err)
	}
	csp, errs, _ := b.problems.snapshot()
	requests, dialogs := events.snapshot()
	var away []string
	for _, r := range requests {
		if u, err := url.Parse(r); err != nil || u.Scheme != "data" && u.Host != dev.appHost {
			away = append(away, r)
		}
	}
	if len(csp) > 0 || len(pageViolations) > 0 || len(errs) > 0 || len(dialogs) > 0 || len(away) > 0 {
		b.dump()
		t.Errorf("%d CSP issues, %d securitypolicyviolation events, %d errors, %d dialogs, %d requests off the app host %v (listed above)",
			len(csp), len(pageViolations), len(errs), len(dialogs), len(away), away)
	}
	if strings.Contains(dev.log.String(), `"level":"ERROR"`) {
		b.dump()
		t.Error("the server logged an error")
	}
}
