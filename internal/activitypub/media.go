// Package activitypub is ActivityStreams as Rampart reads and writes it:
// the media types, typed documents, and (as federation grows) a bounded
// decoder and the origin rules peers learned from attacks. Pure functions:
// no network, no store.
package activitypub

import (
	"mime"
	"slices"
	"strconv"
	"strings"
)

// ContentType is what Rampart serves its ActivityPub documents as.
const ContentType = "application/activity+json"

// activityStreamsProfile is the profile that makes application/ld+json
// ActivityPub.
const activityStreamsProfile = "https://www.w3.org/ns/activitystreams"

// IsContentType reports whether a Content-Type names an ActivityPub
// document: application/activity+json, or application/ld+json with the
// ActivityStreams profile. Plain application/json is not one (Mastodon's
// CVE-2024-23832 fix, mastodon#29709), and neither is a missing type.
func IsContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case ContentType:
		return true
	case "application/ld+json":
		return slices.Contains(strings.Fields(params["profile"]), activityStreamsProfile)
	}
	return false
}

// WantsActivityPub reports whether an Accept header asks for an ActivityPub
// document rather than a page: it names application/activity+json,
// application/ld+json or application/json with a quality above that of
// text/html (a browser's */* does not count). What is fetched is held to
// IsContentType, which is strict; what is served may be lenient.
func WantsActivityPub(accept string) bool {
	var ap, html float64 = -1, -1
	for part := range strings.SplitSeq(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		switch mt {
		// What is served is application/activity+json whichever was
		// asked for; Mastodon answers these JSON types with its documents
		// too, and some fetchers send them.
		case ContentType, "application/ld+json", "application/json":
			ap = max(ap, q)
		case "text/html":
			html = max(html, q)
		}
	}
	return ap > 0 && ap >= html
}
