package text

import (
	"html"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func tagURL(tag string) string { return "https://rampart.example/tags/" + url.PathEscape(tag) }

// accounts is what the test resolver knows.
var accounts = map[MentionRef]Resolved{
	{"alice", ""}:                {ID: 1, URL: "https://rampart.example/@alice", Acct: "alice"},
	{"bob", "remote.example"}:    {ID: 2, URL: "https://remote.example/users/bob", Acct: "bob@remote.example"},
	{"first.last", "pl.example"}: {ID: 3, URL: "https://pl.example/users/first.last", Acct: "first.last@pl.example"},
	{"evil", ""}:                 {ID: 4, URL: "javascript:alert(1)", Acct: "evil"},
	{"q", ""}:                    {ID: 5, URL: `https://rampart.example/@q?a=1&b="x"`, Acct: "q"},
}

func resolve(m MentionRef) (Resolved, bool) {
	r, ok := accounts[MentionRef{strings.ToLower(m.Username), m.Domain}]
	return r, ok
}

const linkOpen = `" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">`

func link(href, scheme, shown, class, hidden string) string {
	return `<a href="` + html.EscapeString(href) + linkOpen + scheme + `</span><span class="` + class + `">` +
		html.EscapeString(shown) + `</span><span class="invisible">` + html.EscapeString(hidden) + `</span></a>`
}

func mention(href, user string) string {
	return `<span class="h-card" translate="no"><a href="` + html.EscapeString(href) + `" class="u-url mention">@<span>` + user + `</span></a></span>`
}

func hashtag(lower, written string) string {
	return `<a href="` + tagURL(lower) + `" class="mention hashtag" rel="tag">#<span>` + written + `</span></a>`
}

func TestRender(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		ids            []int64
		tags           []string
	}{
		{name: "empty", in: "", want: ""},
		{name: "blank", in: " \r\n\t\n ", want: ""},
		{name: "plain", in: "hello world", want: "<p>hello world</p>"},
		{name: "markup is text", in: `<script>alert("x")</script> &amp; <b>bold</b>`,
			want: `<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp;amp; &lt;b&gt;bold&lt;/b&gt;</p>`},
		{name: "quotes", in: `it's "fine"`, want: `<p>it&#39;s &#34;fine&#34;</p>`},
		{name: "paragraphs and breaks", in: "  one\r\ntwo\n\n\nthree\n\nfour\n ", want: "<p>one<br>two</p><p>three</p><p>four</p>"},
		{name: "lone CR", in: "a\rb", want: "<p>a<br>b</p>"},
		{name: "invalid UTF-8", in: "a\xffb", want: "<p>a\uFFFDb</p>"},

		{name: "short URL", in: "see https://example.com/a?b=1&c=2 now",
			want: "<p>see " + link("https://example.com/a?b=1&c=2", "https://", "example.com/a?b=1&c=2", "", "") + " now</p>"},
		{name: "http URL", in: "http://example.com",
			want: "<p>" + link("http://example.com", "http://", "example.com", "", "") + "</p>"},
		{name: "long URL", in: "https://example.com/a/very/long/path/that/goes/on",
			want: "<p>" + link("https://example.com/a/very/long/path/that/goes/on", "https://", "example.com/a/very/long/path/t", "ellipsis", "hat/goes/on") + "</p>"},
		{name: "exactly 30", in: "https://example.com/0123456789abcdefg",
			want: "<p>" + link("https://example.com/0123456789abcdefg", "https://", "example.com/0123456789abcdefg", "", "") + "</p>"},
		{name: "long URL counts runes", in: "https://例え.jp/ああああああああああああああああああああああああああ",
			want: "<p>" + link("https://例え.jp/ああああああああああああああああああああああああああ", "https://", "例え.jp/ああああああああああああああああああああああああ", "ellipsis", "ああ") + "</p>"},
		{name: "trailing punctuation", in: "Look: https://example.com/x. And https://example.com/y?! Or 'https://example.com/z'",
			want: "<p>Look: " + link("https://example.com/x", "https://", "example.com/x", "", "") + ". And " +
				link("https://example.com/y", "https://", "example.com/y", "", "") + "?! Or &#39;" +
				link("https://example.com/z", "https://", "example.com/z", "", "") + "&#39;</p>"},
		{name: "URL in parentheses", in: "(https://example.com/x)",
			want: "<p>(" + link("https://example.com/x", "https://", "example.com/x", "", "") + ")</p>"},
		{name: "balanced parentheses kept", in: "(see https://en.wikipedia.org/wiki/Go_(language))",
			want: "<p>(see " + link("https://en.wikipedia.org/wiki/Go_(language)", "https://", "en.wikipedia.org/wiki/Go_(lang", "ellipsis", "uage)") + ")</p>"},
		{name: "URL in brackets", in: "[https://example.com]",
			want: "<p>[" + link("https://example.com", "https://", "example.com", "", "") + "]</p>"},
		{name: "URL in angle brackets", in: "<https://example.com>",
			want: "<p>&lt;" + link("https://example.com", "https://", "example.com", "", "") + "&gt;</p>"},
		{name: "quote ends URL", in: `https://example.com/"onmouseover="alert(1)`,
			want: "<p>" + link("https://example.com/", "https://", "example.com/", "", "") + `&#34;onmouseover=&#34;alert(1)</p>`},
		{name: "apostrophe inside URL escaped", in: "https://example.com/it's",
			want: "<p>" + link("https://example.com/it's", "https://", "example.com/it's", "", "") + "</p>"},
		{name: "upper-case scheme", in: "HTTPS://Example.com",
			want: "<p>" + link("https://Example.com", "https://", "Example.com", "", "") + "</p>"},
		{name: "CJK full stop", in: "見てhttps://example.com/x。",
			want: "<p>見て" + link("https://example.com/x", "https://", "example.com/x", "", "") + "。</p>"},
		{name: "javascript not linked", in: "javascript:alert(1)", want: "<p>javascript:alert(1)</p>"},
		{name: "bare domain not linked", in: "example.com www.example.com", want: "<p>example.com www.example.com</p>"},
		{name: "no host", in: "https:// and https://. and https://-", want: "<p>https:// and https://. and https://-</p>"},
		{name: "glued to a word", in: "xhttps://example.com/#tag", want: "<p>xhttps://example.com/#tag</p>"},
		{name: "control character", in: "https://exa\x01mple.com/@alice", want: "<p>https://exa\x01mple.com/@alice</p>"},
		{name: "bidi override", in: "https://example.com/\u202egnp.exe", want: "<p>https://example.com/\u202egnp.exe</p>"},
		{name: "bad port", in: "https://example.com:port/", want: "<p>https://example.com:port/</p>"},

		{name: "local mention", in: "hi @alice!", want: "<p>hi " + mention("https://rampart.example/@alice", "alice") + "!</p>", ids: []int64{1}},
		{name: "mention keeps case as written", in: "@Alice", want: "<p>" + mention("https://rampart.example/@alice", "Alice") + "</p>", ids: []int64{1}},
		{name: "remote mention", in: "@bob@Remote.Example: hi",
			want: "<p>" + mention("https://remote.example/users/bob", "bob") + ": hi</p>", ids: []int64{2}},
		{name: "remote mention with dot in name", in: "cc @first.last@pl.example.",
			want: "<p>cc " + mention("https://pl.example/users/first.last", "first.last") + ".</p>", ids: []int64{3}},
		{name: "mentions unique", in: "@alice @bob@remote.example @ALICE",
			want: "<p>" + mention("https://rampart.example/@alice", "alice") + " " + mention("https://remote.example/users/bob", "bob") + " " +
				mention("https://rampart.example/@alice", "ALICE") + "</p>", ids: []int64{1, 2}},
		{name: "unresolved", in: "@carol and @bob@elsewhere.example <3", want: "<p>@carol and @bob@elsewhere.example &lt;3</p>"},
		{name: "unsafe profile URL", in: "@evil", want: "<p>@evil</p>", ids: []int64{4}},
		{name: "profile URL escaped", in: "@q", want: "<p>" + mention(`https://rampart.example/@q?a=1&b="x"`, "q") + "</p>", ids: []int64{5}},
		{name: "e-mail is not a mention", in: "mail alice@rampart.example or x@bob@remote.example", want: "<p>mail alice@rampart.example or x@bob@remote.example</p>"},
		{name: "mention in URL", in: "https://rampart.example/@alice",
			want: "<p>" + link("https://rampart.example/@alice", "https://", "rampart.example/@alice", "", "") + "</p>"},
		{name: "mention in bare path", in: "rampart.example/@alice", want: "<p>rampart.example/@alice</p>"},
		{name: "mention with bad domain", in: "@alice@ @alice@nodot @alice@-x.example", want: "<p>@alice@ @alice@nodot @alice@-x.example</p>"},
		{name: "mention glued to letters", in: "@aliceé @@alice", want: "<p>@aliceé @@alice</p>"},
		{name: "username too long", in: "@" + strings.Repeat("a", 31), want: "<p>@" + strings.Repeat("a", 31) + "</p>"},
		{name: "mention after markup", in: "<b>@alice</b>",
			want: "<p>&lt;b&gt;" + mention("https://rampart.example/@alice", "alice") + "&lt;/b&gt;</p>", ids: []int64{1}},

		{name: "hashtags", in: "#Go and #go, #café #日本語 #snake_case.",
			want: "<p>" + hashtag("go", "Go") + " and " + hashtag("go", "go") + ", " + hashtag("café", "café") + " " +
				hashtag("日本語", "日本語") + " " + hashtag("snake_case", "snake_case") + ".</p>",
			tags: []string{"go", "café", "日本語", "snake_case"}},
		{name: "combining marks", in: "#हिन्दी", want: "<p>" + hashtag("हिन्दी", "हिन्दी") + "</p>", tags: []string{"हिन्दी"}},
		{name: "all digits", in: "#2024 #1st", want: "<p>#2024 " + hashtag("1st", "1st") + "</p>", tags: []string{"1st"}},
		{name: "typed entity", in: "it&#39;s &#x27;q&#x27; &#tag", want: "<p>it&amp;#39;s &amp;#x27;q&amp;#x27; &amp;#tag</p>"},
		{name: "tag in URL fragment", in: "https://example.com/page#section example.com/#frag x.example/?q=#v",
			want: "<p>" + link("https://example.com/page#section", "https://", "example.com/page#section", "", "") + " example.com/#frag x.example/?q=#v</p>"},
		{name: "tag glued to word", in: "C#sharp a#b", want: "<p>C#sharp a#b</p>"},
		{name: "tag too long", in: "#" + strings.Repeat("x", 101), want: "<p>#" + strings.Repeat("x", 101) + "</p>"},
		{name: "tag max length", in: "#" + strings.Repeat("x", 100),
			want: "<p>" + hashtag(strings.Repeat("x", 100), strings.Repeat("x", 100)) + "</p>", tags: []string{strings.Repeat("x", 100)}},

		{name: "everything", in: "@alice look at #Rampart\n\nhttps://example.com/@bob@remote.example#Tag <3",
			want: "<p>" + mention("https://rampart.example/@alice", "alice") + " look at " + hashtag("rampart", "Rampart") + "</p><p>" +
				link("https://example.com/@bob@remote.example#Tag", "https://", "example.com/@bob@remote.exampl", "ellipsis", "e#Tag") + " &lt;3</p>",
			ids: []int64{1}, tags: []string{"rampart"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ids, tags := Render(c.in, tagURL, resolve)
			if got != c.want {
				t.Errorf("Render(%q)\n got %s\nwant %s", c.in, got, c.want)
			}
			if !reflect.DeepEqual(ids, c.ids) {
				t.Errorf("ids = %v, want %v", ids, c.ids)
			}
			if !reflect.DeepEqual(tags, c.tags) {
				t.Errorf("tags = %q, want %q", tags, c.tags)
			}
		})
	}
}

func TestRenderNilCallbacks(t *testing.T) {
	got, ids, tags := Render("@alice #Go", nil, nil)
	if got != "<p>@alice #Go</p>" || ids != nil || !reflect.DeepEqual(tags, []string{"go"}) {
		t.Errorf("got %q %v %q", got, ids, tags)
	}
}

func TestResolverCalledOncePerMention(t *testing.T) {
	calls := 0
	Render("@alice @Alice @alice @bob@remote.example @bob@REMOTE.example", tagURL, func(m MentionRef) (Resolved, bool) {
		calls++
		return resolve(m)
	})
	if calls != 2 {
		t.Errorf("resolver called %d times, want 2", calls)
	}
}

func TestSameAccountTwoWays(t *testing.T) {
	_, ids, _ := Render("@alice @alice@rampart.example", tagURL, func(m MentionRef) (Resolved, bool) {
		return Resolved{ID: 7, URL: "https://rampart.example/@alice"}, true
	})
	if !reflect.DeepEqual(ids, []int64{7}) {
		t.Errorf("ids = %v", ids)
	}
}

func TestExtract(t *testing.T) {
	for _, c := range []struct {
		in       string
		mentions []MentionRef
		tags     []string
	}{
		{in: ""},
		{in: "no entities here, me@example.com"},
		{in: "#B @zed #a #b @Alice@Example.COM #A @zed @alice@example.com https://x.example/#c @amy",
			mentions: []MentionRef{{"zed", ""}, {"Alice", "example.com"}, {"amy", ""}},
			tags:     []string{"b", "a"}},
		{in: "#Über #über #ÜBER #日本語", tags: []string{"über", "日本語"}},
		{in: "@a@b.example @a", mentions: []MentionRef{{"a", "b.example"}, {"a", ""}}},
	} {
		m, tags := Extract(c.in)
		if !reflect.DeepEqual(m, c.mentions) || !reflect.DeepEqual(tags, c.tags) {
			t.Errorf("Extract(%q) = %v %q, want %v %q", c.in, m, tags, c.mentions, c.tags)
		}
	}
}

func TestLength(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("x", 200)
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"  hello  ", 5},
		{"a\r\nb", 3},
		{"héllo 日本語 🎉", 11},
		{"https://x.co", 23},
		{long, 23},
		{"see " + long + ".", 4 + 23 + 1},
		{"javascript:alert(1)", 19},
		{"example.com", 11},
		{"@alice@remote.example hi", len("@alice hi")},
		{"@alice hi", 9},
		{"a@remote.example", 16},                    // not a mention
		{"https://x.example/@a@remote.example", 23}, // one URL
		{"<&>", 3},
	} {
		if got := Length(c.in); got != c.want {
			t.Errorf("Length(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// tagPatterns are every tag Render emits; what is left once they are removed
// must be escaped text.
var (
	tagPatterns = regexp.MustCompile(`<p>|</p>|<br>|</a>|</span>|<span>|` +
		`<span class="(?:invisible|ellipsis|)">|<span class="h-card" translate="no">|` +
		`<a href="[^"<>]*"(?: target="_blank" rel="nofollow noopener noreferrer" translate="no"| class="u-url mention"| class="mention hashtag" rel="tag")>`)
	anchor = regexp.MustCompile(`<a href="([^"]*)"( [^>]*)>`)
	markup = regexp.MustCompile(`<[^>]*>`)
)

func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"", "hello", "<script>alert(1)</script>", "a\n\nb\nc", "a\r\n\r\nb",
		"https://example.com/a/very/long/path/that/goes/on?x=1&y=2#frag",
		"(https://example.com/x)", "https://example.com/\"><script>", "javascript:alert(1)",
		"@alice @bob@remote.example @evil @q a@b.example https://x.example/@alice",
		"#Go #café #日本語 #2024 &#39; &#tag https://x.example/#tag",
		"HTTP://X.EXAMPLE/ÄÖÜ", "@first.last@pl.example.", "\xff\xfe#tag", "https://exa\x01mple.com",
		"見てhttps://example.com/x。", "#हिन्दी @aliceé",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		profiles := map[string]bool{}
		tagURLs := map[string]bool{}
		fuzzResolve := func(m MentionRef) (Resolved, bool) {
			if r, ok := resolve(m); ok {
				profiles[r.URL] = true
				return r, true
			}
			switch strings.ToLower(m.Username)[0] {
			case 'a': // resolves, local or remote
				u := "https://" + m.Domain + "/@" + m.Username
				profiles[u] = true
				return Resolved{ID: int64(len(m.Username)), URL: u}, true
			case 'r': // resolves to a relative URL: counted, not linked
				return Resolved{ID: 100, URL: "/@" + m.Username}, true
			}
			return Resolved{}, false
		}
		relTag := func(tag string) string {
			u := "/tags/" + url.PathEscape(tag)
			tagURLs[u] = true
			return u
		}

		out, ids, tags := Render(s, relTag, fuzzResolve)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 in %q", out)
		}
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatalf("<script in %q", out)
		}
		if rest := tagPatterns.ReplaceAllString(out, ""); strings.ContainsAny(rest, `<>"`) {
			t.Fatalf("stray markup %q in %q", rest, out)
		}
		if (out == "") != (normalize(s) == "") {
			t.Fatalf("Render(%q) = %q", s, out)
		}
		for _, m := range anchor.FindAllStringSubmatch(out, -1) {
			href := html.UnescapeString(m[1])
			switch {
			case strings.Contains(m[2], "hashtag"):
				if !tagURLs[href] {
					t.Fatalf("tag href %q not from tagURL in %q", href, out)
				}
			case strings.Contains(m[2], "u-url mention"):
				if !profiles[href] || !(strings.HasPrefix(href, "https://") || strings.HasPrefix(href, "http://")) {
					t.Fatalf("mention href %q in %q", href, out)
				}
			default:
				if !strings.HasPrefix(href, "https://") && !strings.HasPrefix(href, "http://") {
					t.Fatalf("link href %q in %q", href, out)
				}
			}
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("duplicate id %d", id)
			}
			seen[id] = true
		}
		mentions, etags := Extract(s)
		if !reflect.DeepEqual(tags, etags) {
			t.Fatalf("Render tags %q, Extract tags %q", tags, etags)
		}
		if len(ids) > len(mentions) {
			t.Fatalf("%d ids from %d mentions", len(ids), len(mentions))
		}
		if n := Length(s); n < 0 {
			t.Fatalf("Length(%q) = %d", s, n)
		}

		// Nothing is lost or added: with only local mentions resolved (a
		// remote one shows without its domain), the text of the HTML is the
		// input without its line breaks.
		local, _, _ := Render(s, relTag, func(m MentionRef) (Resolved, bool) {
			if m.Domain != "" {
				return Resolved{}, false
			}
			return fuzzResolve(m)
		})
		visible := html.UnescapeString(markup.ReplaceAllString(local, ""))
		if want := strings.ReplaceAll(normalize(s), "\n", ""); !strings.EqualFold(visible, want) {
			t.Fatalf("text of %q is %q, want %q", local, visible, want)
		}
	})
}

func TestNoteHTML(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "",
		"  \n ":                        "",
		"hello":                        "<p>hello</p>",
		"a\nb":                         "<p>a<br>b</p>",
		"a\r\n\r\nb":                   "<p>a</p><p>b</p>",
		"a\n\n\n\nb":                   "<p>a</p><p>b</p>",
		"<script>x</script>\n\nline2":  "<p>&lt;script&gt;x&lt;/script&gt;</p><p>line2</p>",
		`"quoted" & 'single' <i>`:      "<p>&#34;quoted&#34; &amp; &#39;single&#39; &lt;i&gt;</p>",
		"<img src=x onerror=alert(1)>": "<p>&lt;img src=x onerror=alert(1)&gt;</p>",
	} {
		if got := NoteHTML(in); got != want {
			t.Errorf("NoteHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

// A profile field value: escaped text, its http(s) URLs linked with rel
// "me"; mentions, hashtags and other schemes stay text.
func TestFieldHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://example.org/me", `<a href="https://example.org/me" target="_blank" rel="nofollow noopener noreferrer me" translate="no">` +
			`<span class="invisible">https://</span><span class="">example.org/me</span><span class="invisible"></span></a>`},
		{"see http://x.example. & <b>", `see <a href="http://x.example" target="_blank" rel="nofollow noopener noreferrer me" translate="no">` +
			`<span class="invisible">http://</span><span class="">x.example</span><span class="invisible"></span></a>. &amp; &lt;b&gt;`},
		{`javascript:alert(1) "q" @bob #tag`, `javascript:alert(1) &#34;q&#34; @bob #tag`},
		{`https://a.example/"onmouseover="x`, `<a href="https://a.example/" target="_blank" rel="nofollow noopener noreferrer me" translate="no">` +
			`<span class="invisible">https://</span><span class="">a.example/</span><span class="invisible"></span></a>&#34;onmouseover=&#34;x`},
		{"", ""},
	} {
		if got := FieldHTML(tc.in); got != tc.want {
			t.Errorf("FieldHTML(%q)\n = %s\nwant %s", tc.in, got, tc.want)
		}
	}
}
