// Package sanitize is the one rule for HTML that comes from other servers:
// statuses, bios and profile field values are cut down to an allow-list
// before they are stored, and the API and the public pages show only what
// passed. Display names and other plain-text fields lose all markup.
//
// The allow-list is Mastodon's strict one: paragraphs, line breaks, links,
// spans, and a few inline and block elements, with only the classes
// microformats and mentions use. Links keep http(s) and a few
// peer-to-peer schemes, and get rel="nofollow noopener noreferrer".
package sanitize

import (
	"html"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// MaxInput bounds what is sanitized: longer input is cut first. Remote
// statuses are limited far below it by the documents' own size limits; the
// bound keeps the parser's work linear in something small.
const MaxInput = 256 << 10

// classes are the class names kept: microformats (h-card, u-url, …) and
// Mastodon's mention, hashtag, ellipsis and invisible.
var classes = regexp.MustCompile(`^((h|p|u|dt|e)-[a-z0-9-]+|mention|hashtag|ellipsis|invisible)( ((h|p|u|dt|e)-[a-z0-9-]+|mention|hashtag|ellipsis|invisible))*$`)

// policy is built once and never changed: bluemonday policies are safe for
// concurrent use once built.
var policy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "a", "del", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("class").Matching(classes).OnElements("a", "span")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,6}$`)).OnElements("ol")
	p.AllowAttrs("reversed").Matching(regexp.MustCompile(`^(reversed)?$`)).OnElements("ol")
	p.AllowAttrs("value").Matching(regexp.MustCompile(`^[0-9]{1,6}$`)).OnElements("li")
	p.AllowURLSchemes("http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// textPolicy keeps no element at all.
var textPolicy = bluemonday.StrictPolicy()

// HTML returns remote HTML cut down to the allow-list.
func HTML(s string) string {
	return policy.Sanitize(clip(s))
}

// Text returns remote text with every tag removed and entities decoded: a
// display name or a field name, which the API and the pages escape when
// they show it.
func Text(s string) string {
	// Entities are decoded for the plain text, and what they decode to is
	// stripped again, until nothing changes: "&lt;img …&gt;" must not come
	// out as a live tag for a client that renders a name as HTML.
	out := clip(s)
	for range 4 {
		next := html.UnescapeString(textPolicy.Sanitize(out))
		if next == out {
			break
		}
		out = next
	}
	return strings.TrimSpace(strings.NewReplacer("<", "", ">", "").Replace(out))
}

// clip cuts s to MaxInput bytes on a UTF-8 boundary.
func clip(s string) string {
	if len(s) <= MaxInput {
		return s
	}
	s = s[:MaxInput]
	for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xc0 {
		s = s[:len(s)-1]
	}
	return s
}
