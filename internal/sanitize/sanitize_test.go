package sanitize

import (
	"regexp"
	"strings"
	"testing"
)

func TestHostileMarkupIsRemoved(t *testing.T) {
	for _, in := range []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href="JaVaScRiPt:alert(1)">x</a>`,
		`<a href="jav&#x09;ascript:alert(1)">x</a>`,
		`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
		`<a href="vbscript:msgbox(1)">x</a>`,
		`<p style="background:url(javascript:alert(1))">x</p>`,
		`<iframe src="https://evil.example/"></iframe>`,
		`<svg onload=alert(1)><circle/></svg>`,
		`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
		`<form action="https://evil.example/"><input name=password></form>`,
		`<object data="x.swf"></object><embed src="x.swf">`,
		`<meta http-equiv="refresh" content="0;url=https://evil.example/">`,
		`<base href="https://evil.example/">`,
		`<link rel=stylesheet href="https://evil.example/x.css">`,
		`<style>body{display:none}</style>`,
		`<span onclick="alert(1)" class="mention">x</span>`,
		`<a href="https://ok.example/" onmouseover="alert(1)">x</a>`,
		`<p><!--<script>-->alert(1)<!--</script>--></p>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	} {
		out := HTML(in)
		for _, bad := range []*regexp.Regexp{
			regexp.MustCompile(`(?i)<\s*(script|img|iframe|svg|math|form|input|object|embed|meta|base|link|style|noscript)`),
			regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
			regexp.MustCompile(`(?i)(javascript|vbscript|data):`),
			regexp.MustCompile(`(?i)style\s*=`),
		} {
			if bad.MatchString(out) {
				t.Errorf("HTML(%q) = %q: matches %s", in, out, bad)
			}
		}
	}
}

func TestWhatPeersSendSurvives(t *testing.T) {
	for in, want := range map[string]string{
		`<p>Hello <span class="h-card"><a href="https://b.example/@bob" class="u-url mention">@<span>bob</span></a></span></p>`: `<p>Hello <span class="h-card"><a href="https://b.example/@bob" class="u-url mention" rel="nofollow noreferrer noopener" target="_blank">@<span>bob</span></a></span></p>`,
		`<p>line<br>break</p>`: `<p>line<br>break</p>`,
		`<p><a href="https://b.example/tags/go" class="mention hashtag" rel="tag">#<span>go</span></a></p>`: `<p><a href="https://b.example/tags/go" class="mention hashtag" rel="nofollow noreferrer noopener" target="_blank">#<span>go</span></a></p>`,
		`<p><span class="invisible">https://</span><span class="ellipsis">example.com/long</span></p>`:      `<p><span class="invisible">https://</span><span class="ellipsis">example.com/long</span></p>`,
		`<blockquote><p>quoted</p></blockquote><ul><li>one</li></ul><ol start="3"><li>three</li></ol>`:      `<blockquote><p>quoted</p></blockquote><ul><li>one</li></ul><ol start="3"><li>three</li></ol>`,
		`<p class="evil">x</p>`:               `<p>x</p>`,
		`<h1>Title</h1><p>body</p>`:           `Title<p>body</p>`,
		`<span class="mention evil">x</span>`: `<span>x</span>`,
	} {
		if got := HTML(in); got != want {
			t.Errorf("HTML(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

func TestTextKeepsNoMarkup(t *testing.T) {
	for in, want := range map[string]string{
		`Bob <script>alert(1)</script>`:         `Bob`,
		`<b>Bob</b> &amp; co`:                   `Bob & co`,
		`  plain  `:                             `plain`,
		`a &lt;b&gt; c`:                         `a  c`,
		`&lt;img src=x onerror=alert(1)&gt;Bob`: `Bob`,
		`&amp;lt;script&amp;gt;x`:               ``,
		`1 < 2 > 0`:                             `1  2  0`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInputIsBounded(t *testing.T) {
	in := "<p>" + strings.Repeat("é", MaxInput) + "</p>"
	out := HTML(in)
	if len(out) > MaxInput+64 {
		t.Fatalf("%d bytes out of %d in; the input is cut at %d", len(out), len(in), MaxInput)
	}
	if !strings.HasPrefix(out, "<p>é") || strings.ContainsRune(out, '\uFFFD') {
		t.Fatalf("the cut broke a character: %q…", out[:16])
	}
}

// FuzzHTML: whatever comes in, what goes out has no script, no event
// handler, no dangerous URL scheme, and sanitizing it again changes nothing.
func FuzzHTML(f *testing.F) {
	for _, s := range []string{
		`<p>Hello <a href="https://b.example/">x</a></p>`, `<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`,
		`<a href="javascript:alert(1)">x</a>`, `<svg><a xlink:href="javascript:alert(1)">x</a></svg>`, `<<p>>`, `<p title="a>b">`,
	} {
		f.Add(s)
	}
	script := regexp.MustCompile(`(?i)<\s*(script|img|iframe|svg|math|style|object|embed|form|meta|base|link)`)
	handler := regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	scheme := regexp.MustCompile(`(?i)href="\s*(javascript|vbscript|data):`)
	f.Fuzz(func(t *testing.T, in string) {
		out := HTML(in)
		if script.MatchString(out) || handler.MatchString(out) || scheme.MatchString(out) {
			t.Fatalf("HTML(%q) = %q", in, out)
		}
		if again := HTML(out); again != out {
			t.Fatalf("not stable: %q → %q → %q", in, out, again)
		}
	})
}
