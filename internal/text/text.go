// Package text turns the plain text of a status, as a Mastodon client posts
// it, into the sanitized HTML Mastodon clients expect, and finds the mentions
// and hashtags in it. Whatever the client sends is text: every character that
// is not part of a link, mention or hashtag is HTML-escaped, so markup the user
// typed is shown, never interpreted. The functions are pure.
//
// Extract, Render and Length share one tokenizer, so the entities that get a
// length concession are exactly the ones that are rendered as such.
package text

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// URLLength is what every link counts for in Length, however long it is.
const URLLength = 23

const (
	maxUsername = 30  // runes
	maxTag      = 100 // runes
	maxLabel    = 63  // bytes of one hostname label
	maxHost     = 253 // bytes of a hostname
	urlVisible  = 30  // runes of a link shown after the scheme
)

// MentionRef is an @mention as written: @user or @user@domain (domain
// lower-cased, "" when absent).
type MentionRef struct{ Username, Domain string }

// Resolved is what the caller knows about a mentioned account. URL is the
// profile URL the mention links to.
type Resolved struct {
	ID   int64
	URL  string
	Acct string
}

// Resolver looks a mention up; ok=false leaves it as plain text.
type Resolver func(MentionRef) (Resolved, bool)

// Extract finds the mentions and hashtags of s. Mentions are unique (user
// names compared without regard to case) and tags lower-cased, without '#',
// unique; both in order of appearance.
func Extract(s string) (mentions []MentionRef, tags []string) {
	var seenM map[string]bool
	var seenT map[string]bool
	scan(normalize(s), func(t token) {
		switch t.kind {
		case kMention:
			if seenM == nil {
				seenM = map[string]bool{}
			}
			if k := mentionKey(t.ref); !seenM[k] {
				seenM[k] = true
				mentions = append(mentions, t.ref)
			}
		case kTag:
			if seenT == nil {
				seenT = map[string]bool{}
			}
			if k := strings.ToLower(t.tag); !seenT[k] {
				seenT[k] = true
				tags = append(tags, k)
			}
		}
	})
	return mentions, tags
}

// Render returns the HTML of s, the ids of its resolved mentions (unique, in
// order) and its tags (as Extract returns them).
//
// Paragraphs (separated by blank lines) become <p>, single line breaks <br>.
// Links to http and https URLs, resolved mentions and hashtags become <a>
// elements shaped like Mastodon's; everything else is escaped text. tagURL
// gives the href of a tag's page from its lower-cased name; when tagURL is nil
// tags stay text. resolve may be nil (no mention resolves). A resolved
// account whose profile URL is not http(s) is still counted as mentioned but
// is not linked. Each distinct mention is resolved once.
func Render(s string, tagURL func(tag string) string, resolve Resolver) (htmlOut string, mentionIDs []int64, tags []string) {
	s = normalize(s)
	if s == "" {
		return "", nil, nil
	}
	type lookup struct {
		r  Resolved
		ok bool
	}
	cache := map[string]lookup{}
	seenID := map[int64]bool{}
	seenTag := map[string]bool{}

	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	emit := func(t token) {
		switch t.kind {
		case kURL:
			writeLink(&b, t, relLink)
		case kMention:
			k := mentionKey(t.ref)
			l, done := cache[k]
			if !done {
				if resolve != nil {
					l.r, l.ok = resolve(t.ref)
				}
				cache[k] = l
			}
			if !l.ok {
				b.WriteString(html.EscapeString(t.raw))
				return
			}
			if !seenID[l.r.ID] {
				seenID[l.r.ID] = true
				mentionIDs = append(mentionIDs, l.r.ID)
			}
			if !isHTTPURL(l.r.URL) {
				b.WriteString(html.EscapeString(t.raw))
				return
			}
			b.WriteString(`<span class="h-card" translate="no"><a href="`)
			b.WriteString(html.EscapeString(l.r.URL))
			b.WriteString(`" class="u-url mention">@<span>`)
			b.WriteString(html.EscapeString(t.ref.Username))
			b.WriteString(`</span></a></span>`)
		case kTag:
			lower := strings.ToLower(t.tag)
			if !seenTag[lower] {
				seenTag[lower] = true
				tags = append(tags, lower)
			}
			if tagURL == nil {
				b.WriteString(html.EscapeString(t.raw))
				return
			}
			b.WriteString(`<a href="`)
			b.WriteString(html.EscapeString(tagURL(lower)))
			b.WriteString(`" class="mention hashtag" rel="tag">#<span>`)
			b.WriteString(html.EscapeString(t.tag))
			b.WriteString(`</span></a>`)
		default:
			b.WriteString(html.EscapeString(t.raw))
		}
	}
	for _, para := range paragraphBreak.Split(s, -1) {
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			scan(line, emit)
		}
		b.WriteString("</p>")
	}
	return b.String(), mentionIDs, tags
}

// Length counts s as Mastodon does against the character limit: after the
// same normalisation as Render (line endings, surrounding whitespace), every
// link counts as URLLength, a remote mention @user@domain as @user, and
// everything else one per Unicode code point.
func Length(s string) int {
	n := 0
	scan(normalize(s), func(t token) {
		switch {
		case t.kind == kURL:
			n += URLLength
		case t.kind == kMention && t.ref.Domain != "":
			n += 1 + utf8.RuneCountInString(t.ref.Username)
		default:
			n += utf8.RuneCountInString(t.raw)
		}
	})
	return n
}

var paragraphBreak = regexp.MustCompile(`\n\n+`)

// normalize makes s valid UTF-8, turns \r\n and lone \r into \n and trims
// surrounding whitespace.
func normalize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return strings.TrimSpace(s)
}

func mentionKey(m MentionRef) string { return strings.ToLower(m.Username) + "@" + m.Domain }

type kind uint8

const (
	kText kind = iota
	kURL
	kMention
	kTag
)

type token struct {
	kind   kind
	raw    string     // the source text of the token
	scheme string     // kURL: "http://" or "https://"
	href   string     // kURL: raw with the scheme lower-cased
	ref    MentionRef // kMention
	tag    string     // kTag: the tag as written, without '#'
}

// scan splits s into tokens, in order, covering all of s. Consecutive plain
// text comes as one kText token.
func scan(s string, emit func(token)) {
	text := 0 // start of pending plain text
	for i := 0; i < len(s); {
		var t token
		end := -1
		switch s[i] {
		case 'h', 'H':
			t, end = scanURL(s, i)
		case '@':
			t, end = scanMention(s, i)
		case '#':
			t, end = scanTag(s, i)
		}
		if end < 0 {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		if t.kind == kText { // a URL-like run we do not link: text, and nothing in it is a token
			i = end
			continue
		}
		if text < i {
			emit(token{kind: kText, raw: s[text:i]})
		}
		emit(t)
		i, text = end, end
	}
	if text < len(s) {
		emit(token{kind: kText, raw: s[text:]})
	}
}

// prev is the rune before s[i], or -1 at the start.
func prev(s string, i int) rune {
	if i == 0 {
		return -1
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

// isWord is a word character as in Ruby's [[:word:]]: letters, marks,
// decimal digits, connector punctuation.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || unicode.Is(unicode.Pc, r)
}

// urlStop are characters that end a URL wherever they are (they are never
// valid in one unescaped).
const urlStop = "<>\"`{}\\^"

// urlTrailing is punctuation that ends a sentence rather than a URL.
const urlTrailing = ".,;:!?'\""

// scanURL matches an http(s) URL at s[i]. It returns end < 0 when there is no
// scheme there; a kText token when there is one but the run is not linked
// (then the whole run up to whitespace is text).
func scanURL(s string, i int) (token, int) {
	var scheme string
	switch {
	case hasPrefixFold(s[i:], "https://"):
		scheme = "https://"
	case hasPrefixFold(s[i:], "http://"):
		scheme = "http://"
	default:
		return token{}, -1
	}
	end := i + len(scheme)
	for end < len(s) {
		r, n := utf8.DecodeRuneInString(s[end:])
		if unicode.IsSpace(r) || strings.ContainsRune(urlStop, r) {
			break
		}
		end += n
	}
	if p := prev(s, i); p >= 0 && (p < utf8.RuneSelf && isWord(p) || p == '@' || p == '#' || p == '$') {
		return token{kind: kText}, end
	}
	raw := trimURL(s[i:end])
	if !validURL(raw, scheme) {
		return token{kind: kText}, end
	}
	return token{kind: kURL, raw: raw, scheme: scheme, href: scheme + raw[len(scheme):]}, i + len(raw)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// trimURL drops trailing punctuation that is more likely the sentence's than
// the URL's, and closing brackets without an opening one in the URL.
func trimURL(u string) string {
	parens := strings.Count(u, "(") - strings.Count(u, ")")
	brackets := strings.Count(u, "[") - strings.Count(u, "]")
	for {
		r, n := utf8.DecodeLastRuneInString(u)
		switch {
		case r == ')' && parens < 0:
			parens++
		case r == ']' && brackets < 0:
			brackets++
		case r < utf8.RuneSelf && strings.ContainsRune(urlTrailing, r):
		case r >= utf8.RuneSelf && unicode.IsPunct(r): // 。、…»” and the like
		default:
			return u
		}
		u = u[:len(u)-n]
	}
}

// validURL reports whether raw (which starts with scheme) is a URL worth
// linking: something after the scheme, no control or invisible formatting
// characters, parseable, with a host name.
func validURL(raw, scheme string) bool {
	if len(raw) <= len(scheme) {
		return false
	}
	for _, r := range raw {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return false
	}
	return strings.IndexFunc(u.Hostname(), func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// isHTTPURL reports whether u is an absolute http(s) URL, fit for an href.
func isHTTPURL(u string) bool {
	return (hasPrefixFold(u, "https://") && len(u) > len("https://") ||
		hasPrefixFold(u, "http://") && len(u) > len("http://")) &&
		strings.IndexFunc(u, unicode.IsControl) < 0
}

// writeLink writes a URL as Mastodon does: the scheme hidden, the first
// urlVisible runes shown, the rest hidden behind an ellipsis.
func writeLink(b *strings.Builder, t token, rel string) {
	rest := t.href[len(t.scheme):]
	shown, hidden := rest, ""
	n := 0
	for i := range rest {
		if n == urlVisible {
			shown, hidden = rest[:i], rest[i:]
			break
		}
		n++
	}
	class := ""
	if hidden != "" {
		class = "ellipsis"
	}
	b.WriteString(`<a href="`)
	b.WriteString(html.EscapeString(t.href))
	b.WriteString(`" target="_blank" rel="`)
	b.WriteString(rel)
	b.WriteString(`" translate="no"><span class="invisible">`)
	b.WriteString(t.scheme)
	b.WriteString(`</span><span class="`)
	b.WriteString(class)
	b.WriteString(`">`)
	b.WriteString(html.EscapeString(shown))
	b.WriteString(`</span><span class="invisible">`)
	b.WriteString(html.EscapeString(hidden))
	b.WriteString(`</span></a>`)
}

func isUserChar(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// scanMention matches @user or @user@domain at s[i]. As in Mastodon, a user
// name may have dots and hyphens inside it (remote software allows them), and
// the mention must not follow a word character, '/' or '@' (e-mail addresses,
// paths).
func scanMention(s string, i int) (token, int) {
	if p := prev(s, i); isWord(p) || p == '/' || p == '@' {
		return token{}, -1
	}
	j := i + 1
	if j >= len(s) || !isUserChar(s[j]) {
		return token{}, -1
	}
	k := j
	for k < len(s) && (isUserChar(s[k]) || s[k] == '.' || s[k] == '-') {
		k++
	}
	for s[k-1] == '.' || s[k-1] == '-' {
		k--
	}
	if k-j > maxUsername {
		return token{}, -1
	}
	ref := MentionRef{Username: s[j:k]}
	end := k
	if k < len(s) && s[k] == '@' {
		e, ok := scanDomain(s, k+1)
		if !ok {
			return token{}, -1
		}
		ref.Domain = strings.ToLower(s[k+1 : e])
		end = e
	}
	if r, _ := utf8.DecodeRuneInString(s[end:]); end < len(s) && (isWord(r) || r == '@') {
		return token{}, -1
	}
	return token{kind: kMention, raw: s[i:end], ref: ref}, end
}

func isLabelRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
}

// scanDomain matches a host name of at least two labels at s[j]. A dot not
// followed by a label (the end of a sentence) is not part of it.
func scanDomain(s string, j int) (end int, ok bool) {
	labels := 0
	k := j
	for {
		start := k
		for k < len(s) {
			r, n := utf8.DecodeRuneInString(s[k:])
			if !isLabelRune(r) {
				break
			}
			k += n
		}
		label := s[start:k]
		if label == "" || len(label) > maxLabel || label[0] == '-' || label[len(label)-1] == '-' {
			return 0, false
		}
		labels++
		if k+1 < len(s) && s[k] == '.' {
			if r, _ := utf8.DecodeRuneInString(s[k+1:]); isLabelRune(r) && r != '-' {
				k++
				continue
			}
		}
		break
	}
	if labels < 2 || k-j > maxHost {
		return 0, false
	}
	return k, true
}

// scanTag matches #tag at s[i]: letters, marks, digits and underscores, not
// only digits, at most maxTag long, not after a word character or '&' (an
// entity such as &#39;), '/', '=' or ')' (fragments and queries of URLs
// written without a scheme).
func scanTag(s string, i int) (token, int) {
	if p := prev(s, i); isWord(p) || p == '&' || p == '/' || p == '=' || p == ')' {
		return token{}, -1
	}
	k, n, alpha := i+1, 0, false
	for k < len(s) {
		r, size := utf8.DecodeRuneInString(s[k:])
		if r == '_' || unicode.IsLetter(r) {
			alpha = true
		} else if !unicode.IsDigit(r) && !unicode.IsMark(r) {
			break
		}
		if n++; n > maxTag {
			return token{}, -1
		}
		k += size
	}
	if !alpha {
		return token{}, -1
	}
	return token{kind: kTag, raw: s[i:k], tag: s[i+1 : k]}, k
}

// The rel of a link in a status, and of one in a profile field: Mastodon
// marks the field's with "me", for the profile link verification that
// reads it (the verification itself is not done: verified_at stays null).
const (
	relLink  = "nofollow noopener noreferrer"
	relField = "nofollow noopener noreferrer me"
)

// FieldHTML turns a plain-text profile field value into HTML as Mastodon
// renders a local account's: escaped, with http(s) URLs as links (rel
// "me"). Mentions and hashtags stay text; line breaks are not kept (a
// field is one line).
func FieldHTML(s string) string {
	s = normalize(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	scan(s, func(t token) {
		if t.kind == kURL {
			writeLink(&b, t, relField)
			return
		}
		b.WriteString(html.EscapeString(t.raw))
	})
	return b.String()
}

// NoteHTML turns a plain-text bio into escaped paragraphs and line breaks:
// the one form a bio takes in the API and in actor documents.
func NoteHTML(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}

// SearchWords splits text into the lower-case words search matches on: at
// least two runes, at most 64 bytes, each once, at most 500.
func SearchWords(body string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(body), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) < 2 || len(w) > 64 || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == 500 {
			break
		}
	}
	return out
}
