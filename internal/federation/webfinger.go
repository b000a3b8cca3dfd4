package federation

import (
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/remote"
	"github.com/rampart-social/rampart/internal/social"
)

// localUsername names the local account a WebFinger resource asks for: an
// acct on this instance's host, or the URL of an actor or profile page here
// (scheme and host as the instance's, any case). instance is true for the
// instance actor: acct:host@host or its /actor URL.
func (f *Federation) localUsername(resource string) (name string, instance bool, ok bool) {
	if strings.HasPrefix(resource, "https://") || strings.HasPrefix(resource, "http://") {
		u, err := url.Parse(resource)
		self := f.cfg.InstanceURL()
		if err != nil || u.Scheme != self.Scheme || !strings.EqualFold(u.Host, f.host) || u.RawQuery != "" || u.Fragment != "" {
			return "", false, false
		}
		if u.Path == instanceActorPath {
			return "", true, true
		}
		if n, ok := strings.CutPrefix(u.Path, "/users/"); ok && n != "" && !strings.Contains(n, "/") {
			return n, false, true
		}
		if n, ok := strings.CutPrefix(u.Path, "/@"); ok && n != "" && !strings.Contains(n, "/") {
			return n, false, true
		}
		return "", false, false
	}
	a, ok := remote.ParseAcct(resource)
	if !ok || a.Host != strings.ToLower(f.host) {
		return "", false, false
	}
	return a.User, strings.EqualFold(a.User, f.hostname()), true
}

// jrd is a JSON Resource Descriptor (RFC 7033).
type jrd struct {
	Subject string    `json:"subject"`
	Aliases []string  `json:"aliases"`
	Links   []jrdLink `json:"links"`
}

type jrdLink struct {
	Rel  string `json:"rel"`
	Type string `json:"type,omitempty"`
	Href string `json:"href"`
}

// webfinger is GET /.well-known/webfinger: an account found by acct or by
// URL. Unknown, pending and disabled accounts get the same 404.
func (f *Federation) webfinger(w http.ResponseWriter, r *http.Request) {
	// Any site may look an account up (Mastodon allows it too): the answer
	// is public.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	resource := r.URL.Query().Get("resource")
	if resource == "" {
		http.Error(w, "resource is required", http.StatusBadRequest)
		return
	}
	name, instance, ok := f.localUsername(resource)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if instance {
		// The instance actor, as Mastodon names it: acct:host@host.
		writeDocument(w, "application/jrd+json; charset=utf-8", jrd{
			Subject: "acct:" + f.hostname() + "@" + strings.ToLower(f.host),
			Aliases: []string{f.base + instanceActorPath},
			Links: []jrdLink{{Rel: "self", Type: activitypub.ContentType, Href: f.base + instanceActorPath},
				{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: f.base + "/"}},
		})
		return
	}
	acc, err := f.accounts.LocalAccount(r.Context(), name)
	if errors.Is(err, social.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		f.fail(w, "webfinger", err)
		return
	}
	doc := jrd{
		Subject: "acct:" + acc.Username + "@" + strings.ToLower(f.host),
		Aliases: []string{acc.URL, acc.URI},
		Links: []jrdLink{
			{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: acc.URL},
			{Rel: "self", Type: activitypub.ContentType, Href: acc.URI},
		},
	}
	writeDocument(w, "application/jrd+json; charset=utf-8", doc)
}

// hostMeta is GET /.well-known/host-meta: the LRDD template peers fall back
// to (Mastodon does, when WebFinger answers 404).
func (f *Federation) hostMeta(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xrd+xml; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">` + "\n" +
		`  <Link rel="lrdd" template="` + html.EscapeString(f.base) + `/.well-known/webfinger?resource={uri}"/>` + "\n" +
		`</XRD>` + "\n"))
}
